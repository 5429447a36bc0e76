"""The package's modules import each other without a circle (type-only imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import iii

PACKAGE = Path(iii.__file__).resolve().parent


def _imports() -> dict[str, set[str]]:
    """Module name -> the sibling modules it imports (``from .x import``, ``from . import x``)."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("iii."):
                deps.add(node.module.split(".")[1])  # type: ignore[union-attr]
        graph[path.stem] = deps & modules - {path.stem}
    return graph


def test_no_import_circle() -> None:
    """A depth-first walk of the import graph never comes back to a module on its path."""
    graph = _imports()
    assert "bridge" in graph and "logger" in graph
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import circle: " + " -> ".join([*path, module]))
        if module in done:
            return
        for dep in sorted(graph[module]):
            walk(dep, [*path, module])
        done.add(module)

    for module in sorted(graph):
        if module != "__init__":
            walk(module, [])


def test_only_the_package_imports_the_bridge() -> None:
    """No part of the SDK depends on the facade (the logger reaches it through LogSink)."""
    graph = _imports()
    assert sorted(m for m, deps in graph.items() if "bridge" in deps) == ["__init__"]
