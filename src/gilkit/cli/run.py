"""`gilkit run`: parse the options into a plan, run it with a progress bar, print the tables.

The measuring is gilkit.run_plan's; this module parses, shows progress, writes the file and
prints. Results are written even when the run is interrupted or a later step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from gilkit.calibrate import SizeError, check_sizes
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
from gilkit.impl_kinds import infer_kind, without_kind
from gilkit.kernels import IMPLS, KERNELS
from gilkit.machine import usable_cpus
from gilkit.plan import (
    DEFAULT_REPEATS,
    DEFAULT_RUNNERS,
    DEFAULT_WARMUPS,
    SCALINGS,
    Cell,
    Plan,
    cells_for,
    checks_for,
    default_workers,
    workers_for,
)
from gilkit.present.formatting import format_seconds
from gilkit.present.plot import plot_run
from gilkit.present.side_by_side import format_side_by_side
from gilkit.present.tables import format_run, format_sizing
from gilkit.results import RunResult, load, write_atomically
from gilkit.run import (
    CALL_LIMIT_FACTOR,
    EXIT_TIME_LIMIT,
    FIRST_CALL_LIMIT_S,
    MIN_CALL_LIMIT_S,
    RunInterrupted,
    run_plan,
)
from gilkit.runners import RUNNERS, START_METHODS, dask_cluster, default_start_method
from gilkit.runners.dask_runners import DaskRunner
from gilkit.sizing import PARTS_PER_CALL_COST, TARGET_PART_S, default_budget_s, machine_sizes
from gilkit.splitting import SPLITS
from gilkit.threadpools import pin_native_threads
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
    run.add_argument(
        "--impl",
        help=f"comma list of impls, {', '.join(IMPLS)}, or families, which select all their "
        f"impls: {options.families_text()}; or a kernel's own impls (default: "
        f"{','.join(options.DEFAULT_IMPLS)}, those built here)",
    )
    run.add_argument(
        "--runner",
        help=f"comma list of {', '.join(RUNNERS)} (default: {','.join(DEFAULT_RUNNERS)})",
    )
    here = ",".join(map(str, default_workers(usable_cpus())))
    run.add_argument("--workers", help=f"comma list of worker counts (default: {here} here)")
    run.add_argument(
        "--size",
        help="n for every kernel, kernel=n,... for some, or auto (the default): sized here so "
        f"that each worker's part lasts {TARGET_PART_S * 1e3:.0f} ms at the largest worker "
        f"count within the cpus ({PARTS_PER_CALL_COST}x a call's cost with joblib or dask "
        "runners, 200 ms), shortened to fit --budget",
    )
    run.add_argument(
        "--scaling",
        help="strong: one n for every worker count; weak: n grows with the workers, so each "
        "worker's part stays the same (default: strong)",
    )
    run.add_argument(
        "--budget",
        metavar="SECONDS",
        help="the time the default sizes aim the whole run at (default: "
        f"{default_budget_s(usable_cpus()):.0f} here)",
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


def plan_from(
    args: argparse.Namespace,
    size_here: bool = True,
    say: Callable[[str], None] = print,
    here: bool = True,
) -> Plan:
    """The plan the options ask for. Unless sizes are given, the built-in kernels are sized
    for this machine, once every option is checked (a few seconds, said through `say`;
    `size_here=False` skips it, to check the options alone). `here`: the plan is to run under
    this interpreter, so its runners must be usable on it (not so with --python, where each
    interpreter's own gilkit checks them)."""
    kernels = options.parse_kernels(args.kernel)
    impls, unavailable = options.parse_impls(args.impl, kernels)
    runners = options.parse_runners(args.runner, here)
    workers = options.parse_workers(args.workers, kernels)
    splits = options.parse_splits(args.split, kernels)
    scaling = options.one_of("--scaling", SCALINGS)(args.scaling or "strong")
    call_limit_s = options.parse_seconds("--timeout", args.timeout, None)
    n_repeats = options.parse_count("--repeat", args.repeat, DEFAULT_REPEATS, 1)
    n_warmups = options.parse_count("--warmup", args.warmup, DEFAULT_WARMUPS, 0)
    budget_s = options.parse_seconds("--budget", args.budget, None)
    cpus = usable_cpus()
    sizing = None
    start_method = options.parse_start_method(args.start_method)
    run_limit_s = options.parse_seconds("--max-time", args.max_time, DEFAULT_RUN_LIMIT_S)
    if args.size in (None, "auto") and size_here:
        say("sizing the kernels for this machine...")
        counts = {k: workers_for(KERNELS[k], workers, cpus) for k in kernels}
        sizing = machine_sizes(
            kernels,
            impls,
            splits,
            counts,
            cpus,
            runners=runners or DEFAULT_RUNNERS,
            scaling=scaling,
            n_rounds=n_repeats + n_warmups,
            budget_s=budget_s,
        )
        sizes = sizing.sizes
    else:
        sizes = options.parse_sizes(None if args.size == "auto" else args.size, kernels, impls)
        if args.size not in (None, "auto"):
            try:
                check_sizes(sizes, splits, call_limit_s or FIRST_CALL_LIMIT_S)
            except SizeError as error:
                raise UsageError(f"--size: {error}") from error
    cells = cells_for(kernels, impls, runners, workers, sizes, cpus, scaling)
    for cell in cells:
        if cell.size > KERNELS[cell.kernel].max_size():
            raise UsageError(
                f"--size: {cell.kernel} at n = {cell.size:,} ({cell.label}) is past its "
                f"largest n here; valid: 1 to {KERNELS[cell.kernel].max_size():,}"
            )
    plan = Plan(
        cells=tuple(cells),
        checks=tuple(checks_for(cells)),
        splits=splits,
        n_repeats=n_repeats,
        n_warmups=n_warmups,
        start_method=start_method,
        scheduler=options.parse_scheduler(args.scheduler, runners),
        unavailable=unavailable,
        call_limit_s=call_limit_s,
        run_limit_s=run_limit_s,
        measure_capacity=True,
        sizing=None if sizing is None else sizing.record(),
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
    console = make_console(stderr=True, quiet=args.quiet)
    # Every option, and a --scheduler's cluster, checked before the sizing's few seconds.
    check_cluster(plan_from(args, size_here=False))
    plan = plan_from(args, say=lambda line: console.print(line, markup=False))
    if plan.sizing is not None:
        console.print(format_sizing(plan.sizing), markup=False)
    out = make_console()
    for note in notes_for(plan):
        console.print(note, markup=False)
    infer_kinds(plan, console)

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


def infer_kinds(plan: Plan, console: Console) -> None:
    """Ask gilkit's probe what the kernels' own impls without a given kind do with the GIL."""
    cells = ((c.kernel, c.impl, c.size) for c in plan.cells)
    missing = without_kind(cells)
    if missing:
        pin_native_threads()  # as run_plan will: no BLAS threads of its own beside the probe
    for (kernel, impl), n in missing.items():

        def announce(seconds: float, impl: str = impl) -> None:
            console.print(
                f"{impl}: no kind given; asking gilkit's probe (about {format_seconds(seconds)})",
                markup=False,
                highlight=False,
            )

        console.print(
            infer_kind(kernel, impl, n, plan.splits[kernel], announce).line(), markup=False
        )


def run_interpreters(args: argparse.Namespace) -> int:
    """`--python A --python B`: check everything first, then run under each and merge."""
    if args.plot is not None:
        raise UsageError(
            "--plot: not with --python (one plot per run); valid: gilkit plot RESULT.json "
            "-o PNG on each result file"
        )
    json_path = json_path_from(args.json)
    # Bad options fail here, before any set-up; runners are checked by each interpreter.
    plan_from(args, size_here=False, here=False)
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
