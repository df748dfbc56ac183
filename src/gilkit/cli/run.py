"""`gilkit run`: parse the options into a plan, run it with a progress bar, print the tables.

The measuring is gilkit.run_plan's; this module parses, shows progress, writes the file and
prints. Results are written even when the run is interrupted or a later step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import sys
from pathlib import Path

from gilkit.calibrate import SizeError, calibrated_sizes, check_sizes
from gilkit.cli import options
from gilkit.cli.console import (
    EXIT_OK,
    EXIT_WRONG,
    make_console,
    make_progress,
    print_all,
    writable_path,
    writing,
)
from gilkit.cli.options import DEFAULT_KERNELS, UsageError
from gilkit.cli.run_many import run_each
from gilkit.kernels import IMPLS, KERNELS
from gilkit.machine import usable_cpus
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
from gilkit.present.plot import plot_run
from gilkit.present.side_by_side import format_side_by_side
from gilkit.present.tables import format_run
from gilkit.results import RunResult, load, write_atomically
from gilkit.run import (
    CALL_LIMIT_FACTOR,
    EXIT_TIME_LIMIT,
    FIRST_CALL_LIMIT_S,
    MIN_CALL_LIMIT_S,
    RunInterrupted,
    run_plan,
)
from gilkit.runners import RUNNERS, START_METHODS, default_start_method
from gilkit.splitting import SPLITS
from gilkit.venvs import InterpreterError, describe

RESULTS_DIR = Path("gilkit-results")
DEFAULT_RUN_LIMIT_S = 3600.0  # an hour: ten times a default run on 2 cores


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    run = commands.add_parser("run", help="measure the matrix and print a table per kernel")
    run.add_argument(
        "--kernel",
        help=f"comma list of {', '.join(KERNELS)} or module:attribute "
        f"(default: {','.join(DEFAULT_KERNELS)})",
    )
    run.add_argument("--impl", help=f"comma list of {', '.join(IMPLS)} (default: all built)")
    run.add_argument(
        "--runner",
        help=f"comma list of {', '.join(RUNNERS)} (default: {','.join(DEFAULT_RUNNERS)})",
    )
    here = ",".join(map(str, default_workers(usable_cpus())))
    run.add_argument("--workers", help=f"comma list of worker counts (default: {here} here)")
    run.add_argument(
        "--size",
        help="n for every kernel, kernel=n,... for some, or auto: sized so that serial pure "
        "Python takes ~0.3 s here (default: per kernel)",
    )
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
    run.add_argument("--plot", type=Path, metavar="PNG", help="also plot the speedups (matplotlib)")
    run.add_argument(
        "--python",
        action="append",
        metavar="PATH",
        help="run under this interpreter (repeat for several, e.g. a 3.13t beside this one); "
        "each gets a virtual environment in gilkit's cache",
    )
    run.add_argument(
        "--timeout",
        metavar="SECONDS",
        help="the most one call may take; a call past it is its cell's error (default: "
        f"{CALL_LIMIT_FACTOR:.0f}x the slowest call of the same kernel, impl and n so far, at "
        f"least {MIN_CALL_LIMIT_S:.0f} s; {FIRST_CALL_LIMIT_S:.0f} s for the first)",
    )
    run.add_argument(
        "--max-time",
        metavar="SECONDS",
        help=f"the most the whole run may take; then it stops as on Ctrl-C and exits "
        f"{EXIT_TIME_LIMIT} (default: {DEFAULT_RUN_LIMIT_S:.0f})",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    return run


def plan_from(args: argparse.Namespace, here: bool = True) -> Plan:
    """The plan the options describe; `here`: to be run under this interpreter (not --python)."""
    kernels = options.parse_kernels(args.kernel)
    impls, unavailable = options.parse_impls(args.impl)
    runners = options.parse_runners(args.runner, here)
    workers = options.parse_workers(args.workers, kernels)
    splits = options.parse_splits(args.split, kernels)
    call_limit_s = options.parse_seconds("--timeout", args.timeout, None)
    if args.size == "auto":
        sizes = calibrated_sizes(kernels, impls, splits)
    else:
        sizes = options.parse_sizes(args.size, kernels, impls)
    if args.size is not None and args.size != "auto":
        try:
            check_sizes(sizes, splits, call_limit_s or FIRST_CALL_LIMIT_S)
        except SizeError as error:
            raise UsageError(f"--size: {error}") from error
    cells = cells_for(kernels, impls, runners, workers, sizes, usable_cpus())
    plan = Plan(
        cells=tuple(cells),
        checks=tuple(checks_for(cells)),
        splits=splits,
        n_repeats=options.parse_count("--repeat", args.repeat, DEFAULT_REPEATS, 1),
        n_warmups=options.parse_count("--warmup", args.warmup, DEFAULT_WARMUPS, 0),
        start_method=options.parse_start_method(args.start_method),
        unavailable=unavailable,
        call_limit_s=call_limit_s,
        run_limit_s=options.parse_seconds("--max-time", args.max_time, DEFAULT_RUN_LIMIT_S),
    )
    if not plan.cells:
        raise UsageError("nothing to run: no selected kernel has the selected impls")
    return plan


def json_path_from(path: Path | None) -> Path:
    if path is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        return RESULTS_DIR / f"run-{stamp}.json"
    return writable_path("--json", path)


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise UsageError(
            '--plot needs matplotlib; install it with: pip install "gilkit[plot]"'
        ) from error


def handle(args: argparse.Namespace) -> int:
    if args.python:
        return run_interpreters(args)
    json_path = json_path_from(args.json)
    if args.plot is not None:
        writable_path("--plot", args.plot)
        require_matplotlib()
    plan = plan_from(args)
    console = make_console(stderr=True, quiet=args.quiet)
    out = make_console()
    for reason in sorted(set(plan.unavailable.values())):
        impls = [impl for impl, why in plan.unavailable.items() if why == reason]
        console.print(f"note: {', '.join(impls)} not run: {reason}", markup=False)

    status = EXIT_OK
    progress = make_progress(console, 42)
    with progress:  # no refresh thread: forking a process that has threads is unsafe
        task = progress.add_task("starting", total=plan.n_calls)

        def on_call(cell: Cell) -> None:
            progress.update(task, advance=1, description=cell.label)
            progress.refresh()

        def journal(result: RunResult) -> None:
            """After every round: a crash of this process loses at most the round in flight."""
            result.options["argv"] = sys.argv[1:]
            with contextlib.suppress(OSError):  # said at the end, when the last write fails too
                write_atomically(result, json_path)

        try:
            result = run_plan(plan, on_call, journal)
        except RunInterrupted as stopped:
            console.print(
                f"stopped ({stopped.reason}): keeping the cells measured so far", markup=False
            )
            result, status = stopped.result, stopped.exit_status
    result.options["argv"] = sys.argv[1:]
    unwritten = None
    try:
        with writing("--json", json_path):
            write_atomically(result, json_path)
    except UsageError as error:
        unwritten = error  # said after the tables, which keep what was measured on screen
    for label in result.metadata["abandoned_calls"]:
        console.print(
            f"note: {label}: a call is still running in a thread that cannot be "
            "killed; gilkit exits without waiting for it",
            markup=False,
        )
    if result.cells:
        print_all(out, format_run(result))
    if unwritten is not None:
        raise unwritten
    bad = [r for r in result.cells if not r.ok]
    if bad and status == EXIT_OK:
        console.print(f"[red]{len(bad)} cell(s) failed or disagree with the reference result[/]")
        status = EXIT_WRONG
    out.print(f"results: {json_path}", markup=False, highlight=False)
    if args.plot is not None and result.cells:
        with writing("--plot", args.plot):  # the results are written already
            out.print(f"plot: {plot_run(result, args.plot)}", markup=False, highlight=False)
    return status


def run_interpreters(args: argparse.Namespace) -> int:
    """`--python A --python B`: check everything first, then run under each and merge."""
    if args.plot is not None:
        raise UsageError(
            "--plot: not with --python (one plot per run); valid: gilkit plot RESULT.json "
            "-o PNG on each result file"
        )
    json_path = json_path_from(args.json)
    # Bad options fail here, before any interpreter is set up; runners are checked by each.
    plan_from(args, here=False)
    try:
        interpreters = [describe(path) for path in dict.fromkeys(args.python)]
    except InterpreterError as error:
        raise UsageError(f"--python: {error}; valid: paths of Python 3 interpreters") from error
    console = make_console(stderr=True, quiet=args.quiet)
    try:
        done, status = run_each(interpreters, args, json_path, console.print)
    except InterpreterError as error:
        console.print(f"gilkit: {error}", markup=False)
        return EXIT_WRONG
    if not done:
        return max(status, EXIT_WRONG)
    out = make_console()
    runs: list[tuple[str, RunResult]] = [(i.label, load(path)) for i, path in done]
    print_all(out, format_side_by_side(runs))
    for _, path in done:
        out.print(f"results: {path}", markup=False, highlight=False)
    return status
