"""`gilkit list`: the kernels, impls and runners here, and why any is unavailable."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from gilkit.cli.console import EXIT_OK, keep_whole, make_console
from gilkit.kernels import (
    IMPLS,
    KERNELS,
    SOURCES,
    impl_unavailable_reason,
    load_entry_points,
)
from gilkit.planning.matrix import DEFAULT_IMPLS
from gilkit.planning.values import families_text
from gilkit.runners import (
    RUNNER_SOURCES,
    RUNNERS,
    START_METHODS,
    default_start_method,
    load_runner_entry_points,
)


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
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
        own = [impl for impl in kernel.impls if impl not in IMPLS]
        kinds = ", ".join(f"{impl}: {kernel.kind_of(impl)}" for impl in own)
        kernels.add_row(
            kernel.name,
            kernel.unit,
            f"{kernel.python_size():,} / {kernel.native_size():,}",
            ", ".join(kernel.splits),
            SOURCES.get(kernel.name, "?"),
            kernel.summary + (f" (own impls: {kinds})" if own else ""),
        )
    for name, error in broken.items():  # the very line `gilkit run --kernel NAME` gives
        kernels.add_row(name, "", "", "", Text(f"broken: {error}", style="red"), "")
    impls = Table(
        "impl", "family", "kind", "what", "available", title="impls", title_justify="left"
    )
    for name, impl in IMPLS.items():
        reason = impl_unavailable_reason(name)
        note = f" (serial runner; workers = {impl.threads} threads)" if impl.threads else ""
        available = "yes" if reason is None else f"no: {reason}"
        impls.add_row(name, impl.family, impl.kind, impl.what + note, Text(available))
    broken_runners = load_runner_entry_points()
    runners = Table(
        "runner", "workers", "what", "from", "available", title="runners", title_justify="left"
    )
    for name, runner in RUNNERS.items():
        reason = runner.unavailable_reason()
        available = "yes" if reason is None else f"no: {reason}"
        where = runner.facts.workers.value
        runners.add_row(name, where, runner.description, RUNNER_SOURCES[name], Text(available))
    for name, error in broken_runners.items():
        runners.add_row(name, "", "", Text(f"broken: {error}", style="red"), "")
    out.print(keep_whole(kernels))
    out.print(keep_whole(impls))
    out.print(
        f"default run: {', '.join(DEFAULT_IMPLS)}; the others with --impl, by name or by "
        f"family ({families_text()})",
        highlight=False,
        markup=False,
    )
    out.print(keep_whole(runners))
    out.print(
        f"start methods for processes: {', '.join(START_METHODS)} "
        f"(default here: {default_start_method()})",
        highlight=False,
    )
    return EXIT_OK
