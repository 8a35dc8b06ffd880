"""A model as orjson writes its dump (sorted keys, two-space indent), its long lists one item at a time.

A summary of a million records holds tens of thousands of open items and resolved chains. Dumping
the whole model to Python objects first (`model_dump`) holds every one of them at once, several
times the size of their JSON. Here a list of more than LONG models is left out of the dump and
written at its place item by item, with the indentation orjson gives it: the same bytes, and the
memory of one item's objects at a time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from pydantic import BaseModel

LONG = 1000
OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2
Path = tuple[str, ...]


def dumps(model: BaseModel, long: int = LONG) -> bytes:
    """The model's JSON, byte for byte `orjson.dumps(model.model_dump(mode="json"), option=OPTIONS)`."""
    paths = long_lists(model, long)
    if not paths:
        return orjson.dumps(model.model_dump(mode="json"), option=OPTIONS)
    skeleton = model.model_dump(mode="json", exclude=exclusion(paths))
    for number, path in enumerate(paths):
        place(skeleton, path, marker(number))
    text = orjson.dumps(skeleton, option=OPTIONS)
    found = sorted((text.index(orjson.dumps(marker(n))), n) for n in range(len(paths)))
    # Written as made, so only the JSON itself is held, not its pieces as well.
    out, at = io.BytesIO(), 0
    for start, number in found:
        line = text[text.rfind(b"\n", 0, start) + 1 : start]
        out.write(text[at:start])
        for piece in listed(items_at(model, paths[number]), len(line) - len(line.lstrip(b" "))):
            out.write(piece)
        at = start + len(orjson.dumps(marker(number)))
    out.write(text[at:])
    return out.getvalue()


def long_lists(model: BaseModel, long: int, prefix: Path = ()) -> list[Path]:
    """The paths of the model's fields (nested models' included) that hold more than LONG models."""
    paths: list[Path] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            paths += long_lists(value, long, (*prefix, name))
        elif isinstance(value, list) and len(value) > long and all(isinstance(v, BaseModel) for v in value):
            paths.append((*prefix, name))
    return paths


def exclusion(paths: Sequence[Path]) -> dict[str, Any]:
    """Pydantic's `exclude` for those paths."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = True
    return tree


def marker(number: int) -> str:
    """A string no summary holds, standing for a long list in the dump."""
    return f"\x00long list {number}\x00"


def place(dump: dict[str, Any], path: Path, value: str) -> None:
    """Put VALUE at PATH of a dump."""
    for name in path[:-1]:
        dump = dump[name]
    dump[path[-1]] = value


def items_at(model: BaseModel, path: Path) -> list[BaseModel]:
    """The list of models at PATH of the model."""
    value: Any = model
    for name in path:
        value = getattr(value, name)
    return value


def listed(items: Sequence[BaseModel], pad: int) -> Iterator[bytes]:
    """A list of models as orjson writes it at indentation PAD: '[', each item a line further in, ']'."""
    inner = b"\n" + b" " * (pad + 2)
    yield b"["
    for index, item in enumerate(items):
        body = orjson.dumps(item.model_dump(mode="json"), option=OPTIONS).replace(b"\n", inner)
        yield (b"," if index else b"") + inner + body
    yield b"\n" + b" " * pad + b"]"
