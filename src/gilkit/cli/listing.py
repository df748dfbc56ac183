"""`gilkit list`: the kernels, impls and runners here, and why any is unavailable."""

from __future__ import annotations

import argparse

from rich.table import Table

from gilkit.cli.console import EXIT_OK, make_console
from gilkit.kernels import (
    IMPLS,
    IN_CALL_PARALLEL,
    KERNELS,
    SOURCES,
    impl_unavailable_reason,
    load_entry_points,
)
from gilkit.runners import RUNNERS, START_METHODS, default_start_method


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    return commands.add_parser(
        "list", help="kernels, impls and runners, and why any is unavailable"
    )


def handle(args: argparse.Namespace) -> int:
    out = make_console()
    broken = load_entry_points()
    kernels = Table(
        "kernel",
        "n counts",
        "default n: python / others",
        "splits",
        "from",
        "what",
        title="kernels",
        title_justify="left",
    )
    for kernel in KERNELS.values():
        kernels.add_row(
            kernel.name,
            kernel.unit,
            f"{kernel.python_size():,} / {kernel.native_size():,}",
            ", ".join(kernel.splits),
            SOURCES.get(kernel.name, "?"),
            kernel.summary,
        )
    for name, error in broken.items():
        kernels.add_row(name, "", "", "", f"entry point, [red]broken: {error}[/]", "")
    impls = Table("impl", "what", "available", title="impls", title_justify="left")
    for impl, what in IMPLS.items():
        reason = impl_unavailable_reason(impl)
        note = " (serial runner; workers = OpenMP threads)" if impl in IN_CALL_PARALLEL else ""
        impls.add_row(impl, what + note, "yes" if reason is None else f"no: {reason}")
    runners = Table("runner", "what", "available", title="runners", title_justify="left")
    for runner in RUNNERS.values():
        reason = runner.unavailable_reason()
        runners.add_row(
            runner.name, runner.description, "yes" if reason is None else f"no: {reason}"
        )
    for table in (kernels, impls, runners):
        out.print(table)
    out.print(
        f"start methods for processes: {', '.join(START_METHODS)} "
        f"(default here: {default_start_method()})",
        highlight=False,
    )
    return EXIT_OK
