"""One place for units and labels: durations, ratios, shares, memory, the interpreter line.

Every table, report, plot title and claim formats through these, so that a figure reads the
same wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gilkit.model.results import CellRecord, RunResult


def format_build(python: Mapping[str, Any]) -> str:
    return "free-threaded build" if python["free_threaded_build"] else "GIL build"


def format_gil(python: Mapping[str, Any]) -> str:
    """`GIL enabled` or `GIL disabled`, with why when the user or an extension decided it."""
    state = "GIL enabled" if python["gil_enabled"] else "GIL disabled"
    if python.get("gil_forced"):
        return f"{state} (forced by {python['gil_forced']})"
    if python["free_threaded_build"] and python["gil_enabled"]:
        culprits = ", ".join(python.get("gil_reenabled_by") or []) or "an imported extension"
        return f"{state}: turned back on by {culprits} (not declared free-threading compatible)"
    return state


def format_python(python: Mapping[str, Any]) -> str:
    """The interpreter line: `CPython 3.13.5 (free-threaded build, GIL disabled)`."""
    return (
        f"{python['implementation']} {python['version']} "
        f"({format_build(python)}, {format_gil(python)})"
    )


def in_call_label(result: RunResult, impl: str) -> str:
    """The runner column of an impl parallel inside one call: whose threads, `openmp`, `numba`,
    or `in-call` for a user's impl."""
    threads = result.threads_of(impl)
    return "in-call" if threads == "its own" else threads.lower()


def runner_label(result: RunResult, record: CellRecord) -> str:
    """The runner as text names it: whose threads (`openmp`) for impls parallel inside one
    call (run on the serial runner), the start method after `processes`."""
    if result.in_call_parallel(record.impl):
        return in_call_label(result, record.impl)
    if record.runner == "processes" and record.start_method:
        return f"processes ({record.start_method})"
    return record.runner


def cell_name(result: RunResult, record: CellRecord) -> str:
    """A cell as the run's lines name it, its runner as the table shows it:
    `mandelbrot cython-prange × openmp × 2`, `squares python × processes (fork) × 2`."""
    return f"{record.kernel} {record.impl} × {runner_label(result, record)} × {record.n_workers}"


def cell_order(result: RunResult) -> Callable[[CellRecord], tuple[int, int, int]]:
    """Sort key for a run's cells: impls in the file's order, runners in the order the plan
    first used them (serial first), then workers."""
    impls = {impl: index for index, impl in enumerate(result.impls)}
    runners = {
        name: index for index, name in enumerate(dict.fromkeys(r.runner for r in result.cells))
    }

    def key(record: CellRecord) -> tuple[int, int, int]:
        return (
            impls.get(record.impl, len(impls)),
            runners.get(record.runner, len(runners)),
            record.n_workers,
        )

    return key
