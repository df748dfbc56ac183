"""Claims 10 and 11, which the seed could not know: subinterpreters with a GIL each.

CPython 3.12 gave each subinterpreter its own GIL (PEP 684); 3.14 gave them a pool in the
standard library (PEP 734's InterpreterPoolExecutor; gilkit's `interpreters` runner).

10. Pure-Python squares serially and on 2 interpreters, with 2 threads and 2 processes in the
    same rounds (gilkit.claims.cells.compare, through run_plan, as claims 3 and 4).
11. What one interpreter costs against claim 1's thread and processes (start-to-join of an
    empty one) and claim 2's (the memory an idle one adds: this process's USS growth, since
    the interpreters live in it).

Where the interpreters runner cannot run here, both are "not measured", with its reason.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import psutil

from gilkit.claims.base import DOES_NOT_HOLD, HOLDS, Claim, ClaimResult, not_measured, scales
from gilkit.claims.busy import CpuWatch
from gilkit.claims.cells import compare
from gilkit.claims.cpu_bound import ONE_CPU, PYTHON_N, busy_reason, gil_state
from gilkit.claims.footprint import READY_TIMEOUT_S, memory_of, per_process, per_thread
from gilkit.claims.startup import FRESH, _process, _thread
from gilkit.claims.timing import interleaved, medians
from gilkit.host.cpus import usable_cpus
from gilkit.kernels.in_interpreter import PipeBarrier, init_worker, report_ready
from gilkit.model.units import format_bytes, format_ratio, format_seconds
from gilkit.runners.interpreters import InterpreterRunner, executor_class

PARALLEL_CLAIM = Claim(10, "Subinterpreters run pure-Python CPU work in parallel in one process")
COST_CLAIM = Claim(
    11, "A subinterpreter is cheaper than a process to start and to hold, dearer than a thread"
)
N_WORKERS = 2


def unavailable() -> str | None:
    reason = InterpreterRunner.unavailable_reason()
    return None if reason is None else f"the interpreters runner is unavailable here: {reason}"


def interpreters_scale(
    n: int = PYTHON_N, n_workers: int = N_WORKERS, repeats: int = 5
) -> ClaimResult:
    reason = unavailable() or (ONE_CPU if usable_cpus() < 2 else None)
    if reason is not None:
        return PARALLEL_CLAIM.not_measured(reason)
    with CpuWatch() as watch:
        runners = ("interpreters", "threads", "processes")
        results = compare(["python"], runners, n, n_workers, repeats)
    pool, threads, processes = (results["python", runner] for runner in runners)
    measured = (
        f"pure-Python squares, n = {n:,}: serial {format_seconds(pool.serial.median_s)}, "
        f"{n_workers} interpreters {format_seconds(pool.pool.median_s)}: "
        f"{format_ratio(pool.speedup)}; in the same rounds {n_workers} threads "
        f"{format_ratio(threads.speedup)}, {n_workers} processes "
        f"{format_ratio(processes.speedup)} (ideal {pool.ideal}×; pool start "
        f"{format_seconds(pool.pool.pool_start_s or 0.0)}, not counted; {gil_state()})"
    )
    if watch.busy:
        measured += f"; {watch.note(usable_cpus())}"
    if scales(pool.speedup, pool.ideal):
        verdict = HOLDS
    elif scales(processes.speedup, processes.ideal):  # the cpus were free to give one
        verdict = DOES_NOT_HOLD
    else:
        why = "processes got no speedup either"
        verdict = not_measured(f"{why}; {busy_reason(watch)}" if watch.busy else why)
    figures = {
        "impl": "python",
        "interpreters": pool.figures(),
        "threads": threads.figures(),
        "processes": processes.figures(),
        "others_cpus": watch.others_cpus,
    }
    return PARALLEL_CLAIM.result(measured, verdict, figures)


def _interpreter(executor: Any) -> None:
    """Start-to-join of one empty interpreter: a pool of one, os.getpid as claim 1's
    processes run, shut down."""
    with executor(1) as pool:
        pool.submit(os.getpid).result()


def per_interpreter(executor: Any, n_interpreters: int) -> dict[str, float]:
    """This process's memory growth per idle extra interpreter (nothing imported in it)."""
    me = psutil.Process()
    barrier = PipeBarrier.make(n_interpreters)
    gc.collect()
    before = memory_of(me)
    pool = executor(n_interpreters, initializer=init_worker, initargs=(barrier, os.getpid(), False))
    futures = [pool.submit(report_ready, READY_TIMEOUT_S) for _ in range(n_interpreters)]
    try:
        barrier.gather(READY_TIMEOUT_S)
        after = memory_of(me)
    finally:
        barrier.release()
        for future in futures:
            future.result(READY_TIMEOUT_S)
        pool.shutdown()
        barrier.close()
    return {metric: (after[metric] - before[metric]) / n_interpreters for metric in after}


def interpreters_cost(
    methods: Sequence[str] | None = None,
    repeats: int = 9,
    fresh_repeats: int = 3,
    n_workers: int = 4,
) -> ClaimResult:
    reason = unavailable()
    if reason is not None:
        return COST_CLAIM.not_measured(reason)
    executor = executor_class()
    methods = list(methods or multiprocessing.get_all_start_methods())
    # Processes first: no thread of ours exists yet when fork copies this process.
    process_memory = {method: per_process(method, 2) for method in methods}
    calls: dict[str, Callable[[], None]] = {
        "thread": _thread,
        "interpreter": partial(_interpreter, executor),
    }
    for method in methods:
        calls[method] = partial(_process, multiprocessing.get_context(method))
    counts = {key: fresh_repeats if key in FRESH else repeats for key in calls}
    warmups = {key: 0 if key == "spawn" else 1 for key in calls}
    start = medians(interleaved(calls, counts, warmups))
    thread_memory = per_thread(n_workers)
    interpreter_memory = per_interpreter(executor, n_workers)
    metric = next(
        m
        for m in ("uss", "pss", "rss")
        if m in thread_memory
        and m in interpreter_memory
        and all(m in p for p in process_memory.values())
    )
    memory = {
        "thread": thread_memory[metric],
        "interpreter": interpreter_memory[metric],
        **{method: p[metric] for method, p in process_memory.items()},
    }
    one = start["interpreter"]
    measured = (
        f"start-to-join: interpreter {format_seconds(one)}, thread "
        f"{format_seconds(start['thread'])}, processes "
        + ", ".join(
            f"{m} {format_seconds(start[m])} ({format_ratio(start[m] / one)})" for m in methods
        )
        + f"; {metric.upper()} added per idle one: interpreter "
        f"{format_bytes(memory['interpreter'])}, thread {format_bytes(memory['thread'])}, "
        "processes "
        + ", ".join(f"{m} {format_bytes(memory[m])}" for m in methods)
        + f" (means of {n_workers} threads and interpreters, 2 processes per start method)"
    )
    between = all(
        figures["thread"] < figures["interpreter"] < min(figures[m] for m in methods)
        for figures in (start, memory)
    )
    figures = {
        "metric": metric,
        "repeats": counts,
        "start_s": start,
        "memory_bytes": memory,
        "n_workers": n_workers,
    }
    return COST_CLAIM.result(measured, HOLDS if between else DOES_NOT_HOLD, figures)
