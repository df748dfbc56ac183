"""`gilkit info`: the interpreter, its GIL, the cpus and how the extensions were built."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from rich.text import Text

from gilkit.cli.console import EXIT_OK, make_console
from gilkit.host import extensions as compiled
from gilkit.host import metadata
from gilkit.present.formatting import format_build, format_gil
from gilkit.runners import RUNNERS, default_start_method


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    return commands.add_parser("info", help="the interpreter, its GIL, the cpus and the build")


def handle(args: argparse.Namespace) -> int:
    meta = metadata.collect_metadata()
    python, cpu, build = meta["python"], meta["cpu"], meta["build"]
    built_with = build["extensions_built_with"]
    rows = [
        ("interpreter", f"{python['implementation']} {python['version']} ({python['executable']})"),
        ("build", format_build(python)),
        ("GIL now", format_gil(python)),
        ("cpu", cpu["model"]),
        (
            "usable cpus",
            f"{cpu['usable_cpus']} of {cpu['logical_cpus']}: ideal speedup = "
            f"min(workers, {cpu['usable_cpus']})",
        ),
        ("last-level cache", f"{cpu['last_level_cache_bytes'] / 2**20:.0f} MiB"),
        ("numpy", build["numpy"] or "not installed"),
        (
            "extensions",
            build["extensions"]
            if not built_with
            else "built with Cython {cython}, {compile_args}".format(**built_with),
        ),
        (
            "openmp",
            build["openmp"]
            if compiled.unavailable_reason("_prange")
            else f"built, {build['openmp_max_threads']} threads by default",
        ),
        *module_rows(build),
        ("numba", build["numba"] or "not installed"),
        ("compiler", f"{build['cc'] or 'unknown'}; C++: {build['cxx'] or 'unknown'}"),
        ("start method", default_start_method()),
        ("subinterpreters", format_interpreters()),
    ]
    table = Table(show_header=False, box=None)
    for name, value in rows:  # values are text, not markup: `gilkit[numba]` must show as is
        table.add_row(f"[bold]{name}[/]", Text(value))
    make_console().print(table, highlight=False)
    return EXIT_OK


def format_interpreters() -> str:
    """Whether the interpreters runner works here: a GIL per subinterpreter, and its pool."""
    reason = RUNNERS["interpreters"].unavailable_reason()
    return "the interpreters runner works here" if reason is None else f"unavailable: {reason}"


def module_rows(build: dict[str, Any]) -> list[tuple[str, str]]:
    """One row per module of the compiled impls: built, or why not, and what it is for."""
    rows = []
    for name, state in build["modules"].items():
        used_by = compiled.EXTENSIONS.get(name, "numba, numba-gil, numba-prange")
        rows.append((f"  {name}", f"{state} ({used_by})"))
    return rows
