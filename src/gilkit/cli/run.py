"""`gilkit run`: parse the options into a plan, run it with a progress bar, print the tables.

The measuring is gilkit.run_plan's; this module parses, shows progress, writes the file and
prints. Results are written even when the run is interrupted or a later step fails.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from gilkit.calibrate import calibrated_sizes
from gilkit.cli import options
from gilkit.cli.console import (
    EXIT_INTERRUPTED,
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
from gilkit.run import RunInterrupted, run_plan
from gilkit.runners import RUNNERS, START_METHODS, dask_cluster, default_start_method
from gilkit.runners.dask_runners import DaskRunner
from gilkit.splitting import SPLITS
from gilkit.venvs import InterpreterError, describe

RESULTS_DIR = Path("gilkit-results")


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
        "--scheduler",
        metavar="ADDRESS",
        help="for the dask runners: use the Dask cluster at tcp://HOST:PORT (or a scheduler "
        "file) instead of starting one; its workers must run this gilkit and Python",
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
    run.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    return run


def plan_from(args: argparse.Namespace) -> Plan:
    kernels = options.parse_kernels(args.kernel)
    impls, unavailable = options.parse_impls(args.impl)
    runners = options.parse_runners(args.runner)
    workers = options.parse_workers(args.workers)
    splits = options.parse_splits(args.split, kernels)
    if args.size == "auto":
        sizes = calibrated_sizes(kernels, impls, splits)
    else:
        sizes = options.parse_sizes(args.size, kernels, impls)
    cells = cells_for(kernels, impls, runners, workers, sizes, usable_cpus())
    plan = Plan(
        cells=tuple(cells),
        checks=tuple(checks_for(cells)),
        splits=splits,
        n_repeats=options.parse_count("--repeat", args.repeat, DEFAULT_REPEATS, 1),
        n_warmups=options.parse_count("--warmup", args.warmup, DEFAULT_WARMUPS, 0),
        start_method=options.parse_start_method(args.start_method),
        scheduler=options.parse_scheduler(args.scheduler, runners),
        unavailable=unavailable,
    )
    if not plan.cells:
        raise UsageError("nothing to run: no selected kernel has the selected impls")
    return plan


def check_cluster(plan: Plan) -> None:
    """--scheduler: refuse, before measuring, a cluster that cannot run the plan's cells."""
    if plan.scheduler is None:
        return
    try:
        cluster = dask_cluster.describe_cluster(plan.scheduler)
    except Exception as error:
        raise UsageError(
            f"--scheduler: cannot use {plan.scheduler!r} ({type(error).__name__}: {error}); "
            "valid: the address or scheduler file of a running Dask scheduler"
        ) from error
    problem = dask_cluster.cluster_problem(cluster)
    if problem is not None:
        raise UsageError(f"--scheduler: {problem}")
    nthreads = {address: facts["nthreads"] for address, facts in cluster["workers"].items()}
    for cell in plan.cells:
        runner = RUNNERS[cell.runner]
        if not issubclass(runner, DaskRunner):
            continue
        try:
            dask_cluster.choose_workers(nthreads, cell.n_workers, runner.one_process)
        except ValueError as error:
            most = max(nthreads.values()) if runner.one_process else len(nthreads)
            raise UsageError(
                f"--workers: {cell.runner} × {cell.n_workers} on {plan.scheduler}: {error}; "
                f"valid: up to {most} workers for {cell.runner} on this cluster"
            ) from error


def notes_for(plan: Plan) -> list[str]:
    """What the run leaves out, and why: impls not built, runners' missing cells."""
    notes = []
    for reason in sorted(set(plan.unavailable.values())):
        impls = [impl for impl, why in plan.unavailable.items() if why == reason]
        notes.append(f"note: {', '.join(impls)} not run: {reason}")
    runners = [r for r in dict.fromkeys(c.runner for c in plan.cells) if RUNNERS[r].min_workers > 1]
    if runners:
        notes.append(
            f"note: {', '.join(runners)} not run at 1 worker: joblib runs n_jobs=1 in the "
            "calling thread, without a pool, which the serial cells measure"
        )
    return notes


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
    check_cluster(plan)
    console = make_console(stderr=True, quiet=args.quiet)
    out = make_console()
    for note in notes_for(plan):
        console.print(note, markup=False)

    status = EXIT_OK
    progress = make_progress(console, 42)
    with progress:  # no refresh thread: forking a process that has threads is unsafe
        task = progress.add_task("starting", total=plan.n_calls)

        def on_call(cell: Cell) -> None:
            progress.update(task, advance=1, description=cell.label)
            progress.refresh()

        try:
            result = run_plan(plan, on_call)
        except RunInterrupted as interrupted:
            console.print("interrupted: keeping the cells measured so far", markup=False)
            result, status = interrupted.result, EXIT_INTERRUPTED
    result.options["argv"] = sys.argv[1:]
    unwritten = None
    try:
        with writing("--json", json_path):
            write_atomically(result, json_path)
    except UsageError as error:
        unwritten = error  # said after the tables, which keep what was measured on screen
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
    plan_from(args)  # bad options fail here, before any interpreter is set up
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
