"""The data path reads top-down: cli -> front ends -> present -> planning -> gil -> engine ->
runners -> kernels -> bindings -> analysis -> model -> host. No module imports from a layer
above its own, at module level or inside a function, and no modules import each other in a
circle."""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

import pytest

import gilkit

PACKAGE = Path(gilkit.__file__).parent

# Top-down: each layer may import its own modules and those of the layers after it.
LAYERS = [
    ("cli", ["gilkit.cli", "gilkit.__main__"]),
    ("front ends", ["gilkit.claims", "gilkit.testing", "gilkit.advise", "gilkit.pytest_plugin"]),
    ("present", ["gilkit.present"]),
    ("planning", ["gilkit.planning"]),
    ("gil", ["gilkit.gil"]),
    ("engine", ["gilkit.engine"]),
    ("runners", ["gilkit.runners"]),
    ("kernels", ["gilkit.kernels"]),
    ("bindings", ["gilkit.bindings"]),
    ("analysis", ["gilkit.analysis"]),
    ("model", ["gilkit.model"]),
    ("host", ["gilkit.host"]),
]
# Layers that work from a result file alone: a user's kernel need not be importable to read
# its results, and the figures never depend on what is installed.
FROM_FILES_ALONE = {
    "gilkit.analysis": ("gilkit.model", "gilkit.analysis"),
    "gilkit.present": ("gilkit.model", "gilkit.analysis", "gilkit.present"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def is_module(name: str) -> bool:
    """Whether `name` is a module or package of gilkit's sources (not a name inside one)."""
    path = PACKAGE.parent / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path) -> set[str]:
    """gilkit modules that `path` imports anywhere: at module level and inside functions."""
    names = set()
    package = module_name(path)
    package = package if path.name == "__init__.py" else package.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            if not base.startswith("gilkit"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                names.add(sub if is_module(sub) else base)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("gilkit"))
    return {name for name in names if name != "gilkit"}


def layer_of(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


MODULES = sorted(set(PACKAGE.rglob("*.py")) - {PACKAGE / "__init__.py"})
GRAPH = {module_name(path): imports(path) for path in MODULES}


def test_every_module_has_a_layer() -> None:
    assert [m for m in GRAPH if layer_of(m) is None] == []


def test_the_top_of_the_package_holds_a_handful_of_modules() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= 6


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_from_a_layer_above(path: Path) -> None:
    module = module_name(path)
    mine = layer_of(module)
    assert mine is not None
    for imported in GRAPH[module]:
        theirs = layer_of(imported)
        assert theirs is not None, f"{module} imports {imported}, which has no layer"
        assert theirs >= mine, f"{module} ({LAYERS[mine][0]}) imports {imported} (above it)"


@pytest.mark.parametrize("layer", sorted(FROM_FILES_ALONE))
def test_analysis_and_present_read_result_files_only(layer: str) -> None:
    allowed = FROM_FILES_ALONE[layer]
    for module, imported in GRAPH.items():
        if module.startswith(layer + ".") or module == layer:
            bad = [i for i in imported if not i.startswith(allowed)]
            assert bad == [], f"{module} imports {bad}"


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of imports in `graph`, depth first, or None: imports inside functions count,
    and a package's __init__ importing its modules is an edge like any other."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done or module not in graph:
            return None
        path.append(module)
        for imported in sorted(graph[module]):
            circle = visit(imported)
            if circle:
                return circle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module)
        if circle:
            return circle
    return None


def test_no_modules_import_each_other_in_a_circle() -> None:
    circle = find_circle(GRAPH)
    assert circle is None, " -> ".join(circle or [])


def test_the_circle_check_finds_a_circle() -> None:
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": {"c"}, "d": {"a", "c"}}) is None
