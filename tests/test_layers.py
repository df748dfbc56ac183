"""The data path reads top-down: CLI -> plan -> run_plan (runners, kernels, measuring) ->
result file -> present. No module imports from a layer above its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gilkit

PACKAGE = Path(gilkit.__file__).parent

# Each layer may import its own modules and those of the layers after it, never before it.
LAYERS = [
    ("cli", ["gilkit.cli", "gilkit.__main__"]),
    (
        "front ends",
        [
            "gilkit.claims",
            "gilkit.probe",
            "gilkit.testing",
            "gilkit.calibrate",
            "gilkit.sizing",
            "gilkit.impl_kinds",
            "gilkit.granularity",
        ],
    ),
    ("present", ["gilkit.present"]),
    ("orchestration", ["gilkit.run", "gilkit.plan"]),
    (
        "measuring",
        [
            "gilkit.measure",
            "gilkit.gil_monitor",
            "gilkit.runners",
            "gilkit.kernels",
            "gilkit.in_interpreter",
        ],
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> set[str]:
    """gilkit modules imported at module level (a function may import lazily, on purpose)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gilkit"):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("gilkit"))
    return names


def layer_of(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None  # the core: results, stats, metadata, machine, ... usable by every layer


# The package's __init__ is the public facade over every layer.
MODULES = sorted(set(PACKAGE.rglob("*.py")) - {PACKAGE / "__init__.py"})


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_from_a_layer_above(path: Path) -> None:
    module = module_name(path)
    mine = layer_of(module)
    for imported in top_level_imports(path):
        theirs = layer_of(imported)
        if theirs is None:
            continue
        assert mine is not None, f"{module} (core) imports {imported} ({LAYERS[theirs][0]})"
        assert theirs >= mine, f"{module} ({LAYERS[mine][0]}) imports {imported} (above it)"


def test_present_reads_result_files_only() -> None:
    """A kernel need not be importable for its results to be shown."""
    forbidden = ("gilkit.kernels", "gilkit.runners", "gilkit.run", "gilkit.plan", "gilkit.measure")
    for path in (PACKAGE / "present").glob("*.py"):
        for imported in top_level_imports(path):
            assert not imported.startswith(forbidden), f"{module_name(path)} imports {imported}"
