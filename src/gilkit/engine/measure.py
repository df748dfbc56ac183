"""One measured call of a cell: wall and CPU time, peak memory, the machine's speed, the result.

Each call covers the kernel's whole index space: [0, n) split into one part per worker, or one
part on n threads for in-call parallel impls. Only raw values are kept (in a
CellRecord); statistics are computed when the result is read. gilkit.engine.session decides which
calls to make and in what order.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from gilkit.engine import interference, memory
from gilkit.engine.gil_monitor import GilMonitor
from gilkit.engine.interference import CpuCount
from gilkit.engine.limits import CallTimeout
from gilkit.host.metadata import gil_enabled
from gilkit.host.speed import time_reference
from gilkit.kernels import (
    KERNELS,
    Task,
    run_task,
    run_task_async,
    run_task_counting_cpu,
    run_task_counting_thread_cpu,
)
from gilkit.kernels.splitting import split
from gilkit.model.cell import Cell
from gilkit.model.results import CellRecord, UnstorableResult, json_value, plain
from gilkit.runners.base import NotSupported, Runner

T = TypeVar("T")

# The GIL monitor watches each in-process cell for at least this long (40 of its intervals),
# or this many calls, whichever comes first, so that tiny cells (tests) stay quick.
MIN_MONITORED_S = 0.2
MAX_MONITORED_CALLS = 20


def tasks_for(cell: Cell, split_how: str, params: Any) -> list[Task]:
    kernel = KERNELS[cell.kernel]
    if kernel.in_call_parallel(cell.impl):
        return [Task(cell.kernel, cell.impl, range(cell.size), params, cell.n_workers)]
    parts = split(cell.size, cell.n_workers, split_how)
    if kernel.part_params is not None:
        own = kernel.part_params
        return [Task(cell.kernel, cell.impl, part, own(params, part)) for part in parts]
    return [Task(cell.kernel, cell.impl, part, params) for part in parts]


@dataclass(frozen=True)
class CallFigures:
    wall_s: float
    cpu_parent_s: float
    cpu_workers_s: float
    result: Any
    peak_rss_parent_bytes: int | None = None
    peak_rss_workers_bytes: int | None = None
    machine: CpuCount | None = None  # all cpus' busy and stolen seconds during the call


def call(runner: Runner, cell: Cell, tasks: list[Task]) -> CallFigures:
    """One call of a cell over all its parts: wall and CPU time, peak memory, the result."""
    # In this process (threads, subinterpreters): process_time counts every thread's CPU.
    in_process = runner.facts.in_process
    memory.reset_peaks([os.getpid(), *runner.worker_pids])
    machine_before = interference.cpu_count_now()
    cpu_began = time.process_time()
    began = time.perf_counter()
    if in_process:
        fn = run_task_async if runner.awaits else run_task
        partials, cpu_workers = runner.map(fn, tasks), 0.0
    else:
        counting = run_task_counting_cpu
        if runner.facts.one_worker_process:
            counting = run_task_counting_thread_cpu  # workers are threads of one process
        pairs = runner.map(counting, tasks)
        partials, cpu_workers = [p for p, _ in pairs], sum(cpu for _, cpu in pairs)
    wall = time.perf_counter() - began
    cpu_parent = time.process_time() - cpu_began
    machine = interference.since(machine_before)
    return CallFigures(
        wall_s=wall,
        cpu_parent_s=cpu_parent,
        cpu_workers_s=cpu_workers,
        result=KERNELS[cell.kernel].combine(partials),
        peak_rss_parent_bytes=memory.peak_rss(os.getpid()),
        peak_rss_workers_bytes=memory.peak_rss_total(runner.worker_pids),
        machine=machine,
    )


def directly(fn: Callable[[], T]) -> T:
    return fn()


def record_call(
    record: CellRecord,
    runner: Runner,
    cell: Cell,
    tasks: list[Task],
    kind: str = "check",
    through: Callable[[Callable[[], Any]], Any] = directly,
) -> None:
    """Make one call of `kind` (check, warmup, timed, monitored) and record what it showed.

    `through` makes the call: gilkit.engine.session passes one that runs it in a caller thread with
    a time limit, whose CallTimeout is left to the caller to handle. A runner that cannot run
    the impl at all (NotSupported: NumPy in a subinterpreter) marks the cell unsupported.
    Whatever else the kernel raises, SystemExit and KeyboardInterrupt included, is the cell's
    error: the run goes on.
    """
    reference = time_reference() if kind == "timed" else None
    try:
        if kind == "monitored":
            monitored = through(lambda: monitored_calls(runner, cell, tasks))
            record.gil_contention = monitored.gil_contention
            record.monitored_time_s = monitored.mean_wall_s
            figures = monitored.last
        else:
            figures = through(lambda: call(runner, cell, tasks))
    except CallTimeout:
        raise
    except NotSupported as why:
        record.unsupported = str(why)
        return
    except (Exception, SystemExit, KeyboardInterrupt) as error:
        record.error = f"{type(error).__name__}: {error}"
        return
    try:
        result = plain(figures.result)
    except UnstorableResult as error:
        record.error = str(error)
        return
    if record.result is not None and result != record.result:
        before, after = json_value(record.result), json_value(result)
        record.error = f"calls disagree: {before!r} then {after!r}"
    record.result = result
    # In this process for in-process runners, in the workers for the others: an extension
    # imported on the way may have turned the GIL back on.
    record.gil_enabled = gil_enabled() if runner.facts.shares_interpreter else runner.gil_enabled
    if reference is not None:
        record.times_s.append(figures.wall_s)
        record.host_reference_s.append(reference)
        record.cpu_parent_s.append(figures.cpu_parent_s)
        record.cpu_workers_s.append(figures.cpu_workers_s)
        if figures.machine is not None:
            record.machine_busy_s.append(figures.machine.busy_s)
            record.machine_steal_s.append(figures.machine.steal_s)
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
    walls: list[float] = []
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
