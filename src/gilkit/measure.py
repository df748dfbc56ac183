"""Run a plan: time every cell and keep the raw values.

Every pool the plan needs is started first (timed apart from the work) and kept open; then
the cells are timed in rounds, one call of each cell per round (A B C A B C ...), so that a
shared machine's drift in speed hits every cell alike instead of the cells measured last.
Each call covers the kernel's whole index space: [0, n) split into one part per worker, or one
part on n OpenMP threads for in-call parallel impls.
"""

from __future__ import annotations

import math
import os
import pickle
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from gilkit import memory
from gilkit.contention import GilMonitor
from gilkit.host_speed import time_reference
from gilkit.kernels import (
    IN_CALL_PARALLEL,
    KERNELS,
    Task,
    run_task,
    run_task_async,
    run_task_counting_cpu,
)
from gilkit.metadata import gil_enabled
from gilkit.plan import Cell, Plan
from gilkit.results import CellRecord
from gilkit.runners import RUNNERS, RunnerError
from gilkit.runners.base import Runner
from gilkit.splitting import split

OnCall = Callable[[Cell], None]
# The GIL monitor watches each in-process cell for at least this long (40 of its intervals),
# or this many calls, whichever comes first, so that tiny cells (tests) stay quick.
MIN_MONITORED_S = 0.2
MAX_MONITORED_CALLS = 20


def tasks_for(cell: Cell, split_how: str, params: Any) -> list[Task]:
    if cell.impl in IN_CALL_PARALLEL:
        return [Task(cell.kernel, cell.impl, range(cell.size), params, cell.n_workers)]
    parts = split(cell.size, cell.n_workers, split_how)
    return [Task(cell.kernel, cell.impl, part, params) for part in parts]


def new_record(cell: Cell, plan: Plan) -> CellRecord:
    return CellRecord(
        cell.kernel, cell.impl, cell.runner, cell.n_workers, cell.size, plan.splits[cell.kernel]
    )


@dataclass(frozen=True)
class CallFigures:
    wall_s: float
    cpu_parent_s: float
    cpu_workers_s: float
    result: Any
    peak_rss_parent_bytes: int | None = None
    peak_rss_workers_bytes: int | None = None


def call(runner: Runner, cell: Cell, tasks: list[Task]) -> CallFigures:
    """One call of a cell over all its parts: wall and CPU time, peak memory, the result."""
    in_process = runner.shares_interpreter
    memory.reset_peaks([os.getpid(), *runner.worker_pids])
    cpu_began = time.process_time()
    began = time.perf_counter()
    if in_process:
        fn = run_task_async if runner.awaits else run_task
        partials, cpu_workers = runner.map(fn, tasks), 0.0
    else:
        pairs = runner.map(run_task_counting_cpu, tasks)
        partials, cpu_workers = [p for p, _ in pairs], sum(cpu for _, cpu in pairs)
    wall = time.perf_counter() - began
    cpu_parent = time.process_time() - cpu_began
    return CallFigures(
        wall_s=wall,
        cpu_parent_s=cpu_parent,
        cpu_workers_s=cpu_workers,
        result=KERNELS[cell.kernel].combine(partials),
        peak_rss_parent_bytes=memory.peak_rss(os.getpid()),
        peak_rss_workers_bytes=memory.peak_rss_total(runner.worker_pids),
    )


def measure(
    plan: Plan,
    records: list[CellRecord],
    checks: list[CellRecord],
    on_call: OnCall = lambda cell: None,
) -> None:
    """Fill `records` (one per cell, in plan order) and `checks` as the run goes.

    The lists are the caller's, so whatever was measured before an interruption is kept.
    A failing cell is recorded with its error and dropped from later rounds.
    """
    records.extend(new_record(cell, plan) for cell in plan.cells)
    with ExitStack() as stack:
        # Data is made before any pool starts, so that forked workers inherit it.
        params = {
            (kernel, n): stack.enter_context(KERNELS[kernel].params_for(n, plan.splits[kernel]))
            for kernel, n in sorted(plan.sizes)
        }
        serial = RUNNERS["serial"]()
        for cell in plan.checks:
            record = new_record(cell, plan)
            _call_into(
                record,
                serial,
                cell,
                tasks_for(cell, plan.splits[cell.kernel], params[cell.kernel, cell.size]),
            )
            checks.append(record)
            on_call(cell)
        pools = _start_pools(plan, records, stack)
        pending = [
            (
                record,
                cell,
                tasks_for(cell, plan.splits[cell.kernel], params[cell.kernel, cell.size]),
            )
            for record, cell in zip(records, plan.cells, strict=True)
        ]
        for record, cell, tasks in pending:
            if not RUNNERS[cell.runner].shares_interpreter:
                record.error = record.error or _unpicklable(tasks)
        n_rounds = plan.n_warmups + plan.n_repeats
        for round_index in range(n_rounds + 1):
            # Warm-up rounds, timed rounds, then one round with the GIL monitor running.
            kind = "warmup" if round_index < plan.n_warmups else "timed"
            kind = "monitored" if round_index == n_rounds else kind
            for record, cell, tasks in pending:
                runner = pools.get((cell.runner, cell.n_workers))
                if kind == "monitored" and (runner is None or not runner.shares_interpreter):
                    continue  # the monitor sees only the GIL of this process
                if runner is not None and record.error is None:
                    _call_into(record, runner, cell, tasks, kind)
                    if record.error and not runner.shares_interpreter:
                        pools[cell.runner, cell.n_workers] = _restart(runner, record, stack)
                on_call(cell)


def _call_into(
    record: CellRecord, runner: Runner, cell: Cell, tasks: list[Task], kind: str = "check"
) -> None:
    """Make one call of `kind` (check, warmup, timed, monitored) and record what it showed."""
    reference = time_reference() if kind == "timed" else None
    try:
        if kind == "monitored":
            monitored = monitored_calls(runner, cell, tasks)
            record.gil_contention = monitored.gil_contention
            record.monitored_time_s = monitored.mean_wall_s
            figures = monitored.last
        else:
            figures = call(runner, cell, tasks)
    except Exception as error:  # recorded in the cell; the run goes on
        record.error = f"{type(error).__name__}: {error}"
        return
    if record.result is not None and figures.result != record.result:
        record.error = f"calls disagree: {record.result!r} then {figures.result!r}"
    record.result = figures.result
    # In this process for in-process runners, in the workers for the others: an extension
    # imported on the way may have turned the GIL back on.
    record.gil_enabled = gil_enabled() if runner.shares_interpreter else runner.gil_enabled
    if reference is not None:
        record.times_s.append(figures.wall_s)
        record.host_reference_s.append(reference)
        record.cpu_parent_s.append(figures.cpu_parent_s)
        record.cpu_workers_s.append(figures.cpu_workers_s)
        record.peak_rss_parent_bytes = _max(
            record.peak_rss_parent_bytes, figures.peak_rss_parent_bytes
        )
        record.peak_rss_workers_bytes = _max(
            record.peak_rss_workers_bytes, figures.peak_rss_workers_bytes
        )


@dataclass(frozen=True)
class Monitored:
    gil_contention: float  # share of the watched time the monitor waited for the GIL
    mean_wall_s: float  # mean time of the watched calls, to show what watching cost
    last: CallFigures


def monitored_calls(runner: Runner, cell: Cell, tasks: list[Task]) -> Monitored:
    """Call the cell with the GIL monitor on, again and again until it has watched long enough.

    A 10 ms call gives the monitor two wakes, too few to tell waiting from jitter; 0.2 s of
    calls give it forty.
    """
    walls = []
    with GilMonitor() as monitor:
        began = time.perf_counter()
        while not walls or (
            time.perf_counter() - began < MIN_MONITORED_S and len(walls) < MAX_MONITORED_CALLS
        ):
            figures = call(runner, cell, tasks)
            walls.append(figures.wall_s)
    return Monitored(monitor.fraction, sum(walls) / len(walls), figures)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _start_pools(
    plan: Plan,
    records: Iterable[CellRecord],
    stack: ExitStack,
) -> dict[tuple[str, int], Runner | None]:
    """Start each (runner, workers) pool once; processes first, before any thread exists."""
    pools: dict[tuple[str, int], Runner | None] = {}
    groups = sorted(
        {(c.runner, c.n_workers) for c in plan.cells},
        key=lambda group: (RUNNERS[group[0]].shares_interpreter, group),
    )
    for runner_name, n_workers in groups:
        runner = RUNNERS[runner_name](plan.start_method)
        mine = [r for r in records if (r.runner, r.n_workers) == (runner_name, n_workers)]
        rss_before = memory.current_rss(os.getpid())
        try:
            startup = runner.start(n_workers)
        except RunnerError as error:
            for record in mine:
                record.error = str(error)
            pools[runner_name, n_workers] = None
            continue
        stack.enter_context(runner)
        dispatch = runner.dispatch_overhead()
        added = _memory_added(rss_before, runner)
        for record in mine:
            record.start_method = runner.start_method
            record.dispatch_s = dispatch
            record.pool_memory_bytes = added
            record.pool_startup_s = None if runner_name == "serial" else startup
        pools[runner_name, n_workers] = runner
    return pools


def _unpicklable(tasks: list[Task]) -> str | None:
    """Why tasks cannot be sent to worker processes, or None when they can."""
    try:
        pickle.dumps(tasks)
    except Exception as error:
        return (
            f"cannot be sent to worker processes ({type(error).__name__}: {error}); make its "
            "params picklable: module-level classes and functions, no lambdas"
        )
    return None


def _memory_added(rss_before: int | None, runner: Runner) -> int | None:
    """This process's RSS growth since before the pool started, plus each worker's own memory."""
    rss_after = memory.current_rss(os.getpid())
    workers = [memory.unique_memory(pid) for pid in runner.worker_pids]
    if rss_before is None or rss_after is None or None in workers:
        return None
    return max(0, rss_after - rss_before) + sum(w for w in workers if w is not None)


def _restart(runner: Runner, record: CellRecord, stack: ExitStack) -> Runner | None:
    """A process pool whose worker died is broken: give the other cells a fresh one."""
    runner.close()
    fresh = type(runner)(runner.start_method)
    try:
        fresh.start(runner.n_workers)
    except RunnerError:
        return None
    return stack.enter_context(fresh)


def check_results(records: list[CellRecord], checks: list[CellRecord]) -> dict[str, Any]:
    """Mark every record against the reference result of its kernel and size.

    The reference is pure Python's result where it ran at that size, else the kernel's closed
    form, else the first result at that size. Every impl must reproduce it exactly, or within
    the kernel's stated relative tolerance. Returns {kernel: {size: reference}}.
    """
    references: dict[str, dict[str, Any]] = {}
    done = [r for r in (*records, *checks) if r.error is None and r.result is not None]
    for record in sorted(done, key=lambda r: r.impl != "python"):
        kernel = KERNELS[record.kernel]
        by_size = references.setdefault(record.kernel, {})
        if str(record.size) not in by_size:
            closed_form = kernel.reference(record.size) if kernel.reference else None
            use_closed = record.impl != "python" and closed_form is not None
            by_size[str(record.size)] = closed_form if use_closed else record.result
    for record in done:
        expected = references[record.kernel][str(record.size)]
        rel_tol = KERNELS[record.kernel].rel_tol
        if rel_tol and isinstance(record.result, float):
            record.agrees = math.isclose(record.result, expected, rel_tol=rel_tol)
        else:
            record.agrees = bool(record.result == expected)
    failed_checks = {(c.kernel, c.impl) for c in checks if c.agrees is False}
    for record in records:
        if (record.kernel, record.impl) in failed_checks:
            record.agrees = False
    return references
