"""The package's shape: four layers imported downwards only, no import circle, no module over 500 lines.

The same checks a reviewer can run by hand over `ast` (docs/architecture.md shows the command).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reportgen"
# Data flows evidence -> judge -> view -> output; the command line sits on top of all of them.
LAYERS = ("evidence", "judge", "view", "output", "cli")
MAX_LINES = 500


def module_name(path: Path) -> str:
    """The dotted name of a module file under reportgen/."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, name: str) -> set[str]:
    """The reportgen modules a file imports, anywhere in it (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    known = modules()
    return {target for target in found if target in known and target != name}


def layer(name: str) -> int:
    """The layer a module belongs to; the package's own __init__ and __main__ count as the top."""
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    if name == "reportgen":
        return 0
    return LAYERS.index("cli")


@functools.cache
def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (a package's own __init__ excluded as a target)."""
    known = modules()
    return {
        name: {t for t in imported(path, name) if not (known[t].name == "__init__.py" and t != "reportgen")}
        for name, path in known.items()
    }


def test_every_module_sits_in_a_layer_folder_or_is_the_command_line() -> None:
    top = {name for name in modules() if name.count(".") == 1 and name.split(".")[1] not in LAYERS}
    assert top <= {"reportgen.cli", "reportgen.__main__"}, top


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_imports_a_later_layer(name: str) -> None:
    upward = {t for t in graph()[name] if layer(t) > layer(name)}
    assert not upward, f"{name} (layer {LAYERS[layer(name)]}) imports {sorted(upward)}"


def test_there_is_no_import_circle() -> None:
    edges = graph()
    seen: dict[str, int] = {}  # 1: on the current path, 2: finished

    def visit(name: str, path: list[str]) -> None:
        seen[name] = 1
        for target in sorted(edges[name]):
            if seen.get(target) == 1:
                circle = path[path.index(target):] + [target]
                pytest.fail("import circle: " + " -> ".join(circle))
            if target not in seen:
                visit(target, [*path, target])
        seen[name] = 2

    for name in sorted(edges):
        if name not in seen:
            visit(name, [name])


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_is_under_500_lines(name: str) -> None:
    lines = modules()[name].read_text("utf-8").count("\n")
    assert lines < MAX_LINES, f"{name}: {lines} lines"
