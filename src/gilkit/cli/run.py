"""`gilkit run`: parse the options into a plan, run it with a progress bar, print the tables.

The measuring is gilkit.run_plan's; this module parses, shows progress, writes the file and
prints. Results are written even when the run is interrupted or a later step fails.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import sys
from collections.abc import Sequence
from pathlib import Path

from gilkit.cli.console import (
    EXIT_OK,
    EXIT_WRONG,
    distinct_outputs,
    make_console,
    make_progress,
    output_path,
    plot_path,
    print_all,
    sole_writer,
    writable_path,
    writing,
)
from gilkit.cli.each_python import run_each
from gilkit.engine.defaults import n_calls
from gilkit.engine.descriptions import read_result
from gilkit.engine.session import (
    CALL_LIMIT_FACTOR,
    EXIT_TIME_LIMIT,
    FIRST_CALL_LIMIT_S,
    MIN_CALL_LIMIT_S,
    RunInterrupted,
    run_plan,
)
from gilkit.host.cpus import usable_cpus
from gilkit.host.venvs import InterpreterError, describe_each
from gilkit.kernels import IMPLS, KERNELS, KernelParamsError
from gilkit.kernels.splitting import SPLITS
from gilkit.model.plan import DEFAULT_REPEATS, DEFAULT_WARMUPS, Cell, Plan
from gilkit.model.results import RunResult, write_atomically
from gilkit.model.units import plural
from gilkit.planning import DEFAULT_RUN_LIMIT_S, Say, plan
from gilkit.planning import values as options
from gilkit.planning.matrix import DEFAULT_IMPLS, DEFAULT_KERNELS, DEFAULT_RUNNERS, default_workers
from gilkit.planning.sizing import PARTS_PER_CALL_COST, TARGET_PART_S, default_budget_s
from gilkit.planning.values import UsageError
from gilkit.present.plot import plot_run
from gilkit.present.side_by_side import format_side_by_side
from gilkit.present.tables import format_run, format_sizing
from gilkit.runners import RUNNERS, START_METHODS, default_start_method

RESULTS_DIR = Path("gilkit-results")


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
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
        f"{','.join(DEFAULT_IMPLS)}, those built here)",
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
        type=output_path,
        metavar="PATH",
        help=f"where to write the results (default: {RESULTS_DIR}/run-DATE.json)",
    )
    run.add_argument(
        "--plot", type=output_path, metavar="PNG", help="also plot the speedups (matplotlib)"
    )
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
    args: argparse.Namespace, size_here: bool = True, say: Say | None = None, here: bool = True
) -> Plan:
    """The plan the options ask for: gilkit.plan, given the options' text as it is."""
    return plan(
        args.kernel,
        args.impl,
        args.runner,
        args.workers,
        size="auto" if args.size is None else args.size,
        scaling=args.scaling,
        budget_s=args.budget,
        split=args.split,
        repeat=args.repeat,
        warmup=args.warmup,
        start_method=args.start_method,
        scheduler=args.scheduler,
        timeout_s=args.timeout,
        max_time_s=args.max_time,
        here=here,
        size_here=size_here,
        say=say,
    )


def notes_for(plan: Plan, runners: Sequence[str] = ()) -> list[str]:
    """What the run leaves out, and why: impls not built, runners' missing cells (of
    `runners`, those asked for); and sizes that are not what they seem (arrays held within a
    memory budget)."""
    notes = [*_without_coroutines(plan, runners)]
    for kernel, n in sorted(plan.sizes):
        note = KERNELS[kernel].memory_note(n)
        if note is not None:
            notes.append(f"note: {note}")
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


def _without_coroutines(plan: Plan, runners: Sequence[str]) -> list[str]:
    """A note for the kernels that get no asyncio cells though asyncio was asked for."""
    if "asyncio" not in runners:
        return []
    kernels = dict.fromkeys(c.kernel for c in plan.cells)
    left = [
        k for k in kernels if not any(c.runner == "asyncio" for c in plan.cells if c.kernel == k)
    ]
    if not left:
        return []
    having = [name for name, kernel in KERNELS.items() if kernel.async_chunk_fns]
    return [
        f"note: asyncio not run for {', '.join(left)}: no coroutine impls (asyncio runs only "
        f"those; {', '.join(having) or 'no kernel here'} has them); CPU-bound work gains "
        "nothing on one event loop"
    ]


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
    plot = None if args.plot is None else plot_path("--plot", args.plot)
    distinct_outputs({"--json": json_path, "--plot": plot})
    if plot is not None:
        require_matplotlib()
    with sole_writer("--json", json_path):
        try:
            return measure(args, json_path, plot)
        except KernelParamsError as error:  # before any cell is measured: nothing to keep
            raise UsageError(
                f"--kernel: {error}; valid: a params value, or a function (n, split) -> params "
                "that returns them"
            ) from error


def measure(args: argparse.Namespace, json_path: Path, plot: Path | None) -> int:
    """Plan, run with a progress bar and a journal, write the file, print the tables."""
    console = make_console(stderr=True, quiet=args.quiet)
    plan = plan_from(args, say=lambda line: console.print(line, markup=False, highlight=False))
    if plan.sizing is not None:
        console.print(f"sizes: {format_sizing(plan.sizing)}", markup=False)
    out = make_console()
    for note in notes_for(plan, options.parse_runners(args.runner) or ()):
        console.print(note, markup=False)

    status = EXIT_OK
    progress = make_progress(console, 42)
    with progress:  # no refresh thread: forking a process that has threads is unsafe
        task = progress.add_task("starting", total=n_calls(plan))

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
        console.print(
            f"[red]{plural(len(bad), 'cell')} failed or disagreed with the reference result[/]"
        )
        status = EXIT_WRONG
    out.print(f"results: {json_path}", markup=False, highlight=False)
    if plot is not None and result.cells:
        with writing("--plot", plot):  # the results are written already
            out.print(f"plot: {plot_run(result, plot)}", markup=False, highlight=False)
    return status


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
        interpreters = describe_each(args.python)
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
    runs: list[tuple[str, RunResult]] = [(i.label, read_result(path)) for i, path in done]
    print_all(out, format_side_by_side(runs))
    for _, path in done:
        out.print(f"results: {path}", markup=False, highlight=False)
    return status
