"""`gilkit`: parse, plan, measure, present. Bad input ends in one line and exit status 2."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gilkit import metadata, native, options
from gilkit.kernels import IMPLS, IN_CALL_PARALLEL, KERNELS, impl_unavailable_reason
from gilkit.machine import usable_cpus
from gilkit.measure import check_results, measure
from gilkit.options import UsageError
from gilkit.plan import (
    DEFAULT_REPEATS,
    DEFAULT_RUNNERS,
    DEFAULT_WARMUPS,
    Cell,
    Plan,
    cells_for,
    checks_for,
    default_workers,
)
from gilkit.report import format_run
from gilkit.results import RunResult, write_atomically
from gilkit.runners import RUNNERS, START_METHODS, default_start_method
from gilkit.splitting import SPLITS
from gilkit.stats import flag_noisy
from gilkit.threadpools import pin_native_threads

EXIT_OK, EXIT_WRONG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
RESULTS_DIR = Path("gilkit-results")


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block) through UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def make_console(stderr: bool = False, quiet: bool = False) -> Console:
    """Wide enough when piped or logged that table rows and notes are not wrapped."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, quiet=quiet, width=None if stream.isatty() else 150)


def build_parser() -> Parser:
    parser = Parser(prog="gilkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = commands.add_parser("run", help="measure the matrix and print a table per kernel")
    run.add_argument("--kernel", help=f"comma list of {', '.join(KERNELS)} (default: all)")
    run.add_argument("--impl", help=f"comma list of {', '.join(IMPLS)} (default: all built)")
    run.add_argument(
        "--runner",
        help=f"comma list of {', '.join(RUNNERS)} (default: {','.join(DEFAULT_RUNNERS)})",
    )
    here = ",".join(map(str, default_workers(usable_cpus())))
    run.add_argument("--workers", help=f"comma list of worker counts (default: {here} here)")
    run.add_argument("--size", help="n for every kernel, or kernel=n,... (default: per kernel)")
    run.add_argument(
        "--split", help=f"{' or '.join(SPLITS)}, for kernels that offer it (default: per kernel)"
    )
    run.add_argument("--repeat", help=f"timed calls per cell (default: {DEFAULT_REPEATS})")
    run.add_argument("--warmup", help=f"untimed calls per cell first (default: {DEFAULT_WARMUPS})")
    run.add_argument(
        "--start-method",
        help=f"for processes: {', '.join(START_METHODS)} (default: {default_start_method()})",
    )
    run.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help=f"where to write the results (default: {RESULTS_DIR}/run-DATE.json)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    commands.add_parser("list", help="kernels, impls and runners, and why any is unavailable")
    commands.add_parser("info", help="the interpreter, its GIL, the cpus and the build")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"run": cmd_run, "list": cmd_list, "info": cmd_info}[args.command](args)
    except UsageError as error:
        print(f"gilkit: error: {error}", file=sys.stderr)  # one line, never wrapped
        return EXIT_USAGE


def plan_from(args: argparse.Namespace) -> Plan:
    kernels = options.parse_kernels(args.kernel)
    impls, unavailable = options.parse_impls(args.impl)
    runners = options.parse_runners(args.runner, DEFAULT_RUNNERS)
    workers = options.parse_workers(args.workers, default_workers(usable_cpus()))
    sizes = options.parse_sizes(args.size, kernels, impls)
    cells = cells_for(kernels, impls, runners, workers, sizes)
    plan = Plan(
        cells=tuple(cells),
        checks=tuple(checks_for(cells)),
        splits=options.parse_splits(args.split, kernels),
        n_repeats=options.parse_count("--repeat", args.repeat, DEFAULT_REPEATS, 1),
        n_warmups=options.parse_count("--warmup", args.warmup, DEFAULT_WARMUPS, 0),
        start_method=options.parse_start_method(args.start_method),
        unavailable=unavailable,
    )
    if not plan.cells:
        raise UsageError("nothing to run: no selected kernel has the selected impls")
    return plan


def json_path_from(path: Path | None) -> Path:
    if path is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return RESULTS_DIR / f"run-{stamp}.json"
    if path.is_dir():
        raise UsageError(f"--json: {str(path)!r} is a directory; valid: a file path")
    parent = next((p for p in path.absolute().parents if p.exists()), Path("/"))
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--json: cannot write under {str(parent)!r}; valid: a writable path")
    return path


def options_record(plan: Plan, args: argparse.Namespace) -> dict[str, object]:
    return {
        "argv": sys.argv[1:],
        "sizes": sorted(plan.sizes),
        "splits": plan.splits,
        "n_repeats": plan.n_repeats,
        "n_warmups": plan.n_warmups,
        "start_method": plan.start_method or default_start_method(),
        "unavailable_impls": plan.unavailable,
    }


def cmd_run(args: argparse.Namespace) -> int:
    plan = plan_from(args)
    json_path = json_path_from(args.json)
    console = make_console(stderr=True, quiet=args.quiet)
    out = make_console()
    for reason in sorted(set(plan.unavailable.values())):
        impls = [impl for impl, why in plan.unavailable.items() if why == reason]
        console.print(f"note: {', '.join(impls)} not run: {reason}", markup=False)

    pinned = pin_native_threads()
    result = RunResult(metadata.collect_metadata(), options_record(plan, args))
    result.metadata["native_threads"] = pinned
    status = EXIT_OK
    progress = Progress(
        TextColumn("{task.description:<42}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    )
    try:
        with progress:  # no refresh thread: forking a process that has threads is unsafe
            task = progress.add_task("starting", total=plan.n_calls)

            def on_call(cell: Cell) -> None:
                progress.update(task, advance=1, description=cell.label)
                progress.refresh()

            measure(plan, result.cells, result.checks, on_call)
        result.complete = True
    except KeyboardInterrupt:
        console.print("interrupted: keeping the cells measured so far", markup=False)
        status = EXIT_INTERRUPTED
    finally:
        result.references = check_results(result.cells, result.checks)
        flag_noisy(result.cells)
        result.metadata["cpu"]["load_average_after"] = metadata.load_average()
        write_atomically(result, json_path)
    if result.cells:
        for renderable in format_run(result):
            out.print(renderable, markup=isinstance(renderable, Table), highlight=False)
    bad = [r for r in result.cells if not r.ok]
    if bad and status == EXIT_OK:
        console.print(f"[red]{len(bad)} cell(s) failed or disagree with the reference result[/]")
        status = EXIT_WRONG
    out.print(f"results: {json_path}", markup=False, highlight=False)
    return status


def cmd_list(args: argparse.Namespace) -> int:
    out = make_console()
    kernels = Table(
        "kernel",
        "n counts",
        "default n: python / others",
        "splits",
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
            kernel.summary,
        )
    impls = Table("impl", "what", "available", title="impls", title_justify="left")
    for impl, what in IMPLS.items():
        reason = impl_unavailable_reason(impl)
        note = " (serial runner; workers = OpenMP threads)" if impl in IN_CALL_PARALLEL else ""
        impls.add_row(impl, what + note, "yes" if reason is None else f"no: {reason}")
    runners = Table("runner", "what", title="runners", title_justify="left")
    for runner in RUNNERS.values():
        runners.add_row(runner.name, runner.description)
    for table in (kernels, impls, runners):
        out.print(table)
    out.print(
        f"start methods for processes: {', '.join(START_METHODS)} "
        f"(default here: {default_start_method()})",
        highlight=False,
    )
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    meta = metadata.collect_metadata()
    python, cpu, build = meta["python"], meta["cpu"], meta["build"]
    rows = [
        ("interpreter", f"{python['implementation']} {python['version']} ({python['executable']})"),
        ("build", "free-threaded (--disable-gil)" if python["free_threaded_build"] else "with GIL"),
        ("GIL now", "enabled" if python["gil_enabled"] else "disabled"),
        ("cpu", cpu["model"]),
        (
            "usable cpus",
            f"{cpu['usable_cpus']} of {cpu['logical_cpus']}: ideal speedup = "
            f"min(workers, {usable_cpus()})",
        ),
        ("last-level cache", f"{cpu['last_level_cache_bytes'] / 2**20:.0f} MiB"),
        ("numpy", build["numpy"] or "not installed"),
        (
            "extensions",
            build["extensions"]
            if not build["extensions_built_with"]
            else "built with Cython {cython}, {compile_args}".format(
                **build["extensions_built_with"]
            ),
        ),
        (
            "openmp",
            build["openmp"]
            if native.unavailable_reason("_prange")
            else f"built, {build['openmp_max_threads']} threads by default",
        ),
        ("compiler", build["cc"] or "unknown"),
        ("start method", default_start_method()),
    ]
    table = Table(show_header=False, box=None)
    for name, value in rows:
        table.add_row(f"[bold]{name}[/]", value)
    make_console().print(table, highlight=False)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
