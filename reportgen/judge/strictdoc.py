"""Small JSON and YAML documents (waiver files) read strictly, each value located by its line.

JSON parsers and YAML loaders keep the last of two equal keys without a word, and a YAML loader
turns unquoted text into dates, sets, binary data or shared (aliased) nodes. Here a document is
only what JSON can hold: objects with text keys given once, arrays, text, numbers, true, false
and null. Anything else is refused with its line. YAML timestamps stay the text they were
written as, so the schema that reads them judges them, and an impossible date is an error at
its line like any other invalid value.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import math
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

YAML_TAG = "tag:yaml.org,2002:"
SCALARS = {"str", "null", "bool", "int", "float", "timestamp"}
CONSTRUCT = SafeConstructor()


class DocumentError(ValueError):
    """A document that is not strict JSON or YAML, with the line of the problem when known."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class Located(dict[str, Any]):
    """An object whose values remember the line each was given on."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}


class LocatedList(list[Any]):
    """An array whose items remember the line each was given on."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []


def read_document(data: bytes) -> Any:
    """The document in the bytes: JSON if it parses as JSON, otherwise YAML."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DocumentError(data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None
    try:
        return read_text(text)
    except RecursionError:
        raise DocumentError(None, "nested too deeply") from None


def read_text(text: str) -> Any:
    """JSON if the text parses as JSON, otherwise YAML (of which JSON is nearly a part)."""
    try:
        return read_json(text)
    except json.JSONDecodeError:
        return read_yaml(text)


def line_of(document: Any, path: tuple[int | str, ...]) -> int | None:
    """The line of the deepest value on a path (as a validation error gives it) that is known."""
    line = None
    for part in path:
        if isinstance(document, Located) and isinstance(part, str) and part in document:
            line, document = document.lines[part], document[part]
        elif isinstance(document, LocatedList) and isinstance(part, int) and 0 <= part < len(document):
            line, document = document.lines[part], document[part]
        else:
            break
    return line


# --- JSON ----------------------------------------------------------------------------------------


def read_json(text: str) -> Any:
    """Strict JSON: Python's pure scanner, told where each value starts; NaN and Infinity refused."""
    breaks = [index for index, char in enumerate(text) if char == "\n"]

    def line(index: int) -> int:
        """The line a character of the text is on."""
        return bisect.bisect_left(breaks, index) + 1

    def refuse_constant(name: str) -> None:
        """NaN and Infinity: Python's JSON reads them, JSON has no such number."""
        raise DocumentError(None, f"{name} is not a JSON number")

    decoder = json.JSONDecoder(parse_constant=refuse_constant)
    decoder.parse_object = lambda s_end, strict, scan, *rest: json_object(s_end, strict, scan, line, rest[-1])
    decoder.parse_array = lambda s_end, scan: json_array(s_end, scan, line)
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    return decoder.decode(text)


def recording(scan: Callable[[str, int], Any], starts: list[int]) -> Callable[[str, int], Any]:
    """The scanner, noting where each value it is asked for starts."""

    def scan_value(text: str, index: int) -> Any:
        starts.append(index)
        return scan(text, index)

    return scan_value


def json_object(s_end: tuple[str, int], strict: bool, scan: Any, line: Callable[[int], int], memo: Any) -> Any:
    """One JSON object, its keys checked to be given once."""
    starts: list[int] = []
    pairs, end = json.decoder.JSONObject(s_end, strict, recording(scan, starts), None, list, memo)
    result = Located()
    for (key, value), start in zip(pairs, starts, strict=True):
        if key in result:
            raise DocumentError(line(start), f"key {key!r} is given twice in one object")
        result[key], result.lines[key] = value, line(start)
    return result, end


def json_array(s_end: tuple[str, int], scan: Any, line: Callable[[int], int]) -> Any:
    """One JSON array, each item located."""
    starts: list[int] = []
    values, end = json.decoder.JSONArray(s_end, recording(scan, starts))
    result = LocatedList()
    result.extend(values)
    result.lines.extend(line(start) for start in starts)
    return result, end


# --- YAML ----------------------------------------------------------------------------------------


def read_yaml(text: str) -> Any:
    """Strict YAML: one document, no anchors or aliases, only values JSON can hold."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise DocumentError(event.start_mark.line + 1, "YAML anchors and aliases (&, *) are not allowed")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(exc.problem or exc.context or "not YAML").split())
        raise DocumentError(mark.line + 1 if mark else None, f"not JSON or YAML: {reason}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise DocumentError(line, f"not JSON or YAML: the character U+{code:04X} is not allowed") from None
    except yaml.YAMLError as exc:
        raise DocumentError(None, f"not JSON or YAML: {' '.join(str(exc).split())}") from None
    return None if node is None else yaml_value(node)


def yaml_value(node: Node) -> Any:
    """A YAML node as the JSON value it stands for; any other kind of node is refused."""
    line = node.start_mark.line + 1
    kind = node.tag.removeprefix(YAML_TAG)
    if isinstance(node, MappingNode) and kind == "map":
        return yaml_mapping(node)
    if isinstance(node, SequenceNode) and kind == "seq":
        items = LocatedList()
        for child in node.value:
            items.append(yaml_value(child))
            items.lines.append(child.start_mark.line + 1)
        return items
    if isinstance(node, ScalarNode) and kind in SCALARS:
        return yaml_scalar(node, kind, line)
    shown = f"!!{kind}" if node.tag.startswith(YAML_TAG) else node.tag
    raise DocumentError(line, f"YAML type {shown} is not allowed: use text, numbers, true, false or null")


def yaml_mapping(node: MappingNode) -> Located:
    """A YAML mapping with text keys, each given once; merge keys (<<) refused."""
    result = Located()
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.tag == YAML_TAG + "merge":
            raise DocumentError(line, "YAML merge keys (<<) are not allowed")
        if not isinstance(key_node, ScalarNode) or key_node.tag != YAML_TAG + "str":
            raise DocumentError(line, "a key must be text")
        if key_node.value in result:
            raise DocumentError(line, f"key {key_node.value!r} is given twice in one mapping")
        result[key_node.value], result.lines[key_node.value] = yaml_value(value_node), line
    return result


def yaml_scalar(node: ScalarNode, kind: str, line: int) -> Any:
    """A YAML scalar as text, a number, a boolean or null; a timestamp as the text it was written as."""
    if kind in ("str", "timestamp"):
        return node.value
    try:
        value = getattr(CONSTRUCT, f"construct_yaml_{kind}")(node)
    except (ValueError, KeyError, yaml.YAMLError):  # an unknown boolean word is a KeyError
        raise DocumentError(line, f"{node.value!r} is not a valid {kind}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise DocumentError(line, f"{node.value!r} is not a JSON number")
    return value
