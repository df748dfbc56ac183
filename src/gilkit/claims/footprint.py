"""Claim 2: threads have a low memory footprint (next to processes).

Memory added per idle extra thread (this process's growth) against per idle extra process
(each child's own memory), for every start method. USS, the pages only that process holds,
is used where psutil can read it (Linux, macOS, Windows): a forked child's RSS also counts
pages it still shares with its parent, which would overstate a process. PSS (Linux) is kept in
the figures too.
"""

from __future__ import annotations

import gc
import multiprocessing
import statistics
import threading
from collections.abc import Sequence
from multiprocessing.context import DefaultContext
from typing import Any, cast

import psutil

from gilkit.claims import children
from gilkit.claims.base import DOES_NOT_HOLD, HOLDS, Claim, ClaimResult
from gilkit.model.units import format_bytes

CLAIM = Claim(2, "Threads are lightweight: a low memory footprint")
METRICS = ("uss", "pss", "rss")
READY_TIMEOUT_S = 60.0


def memory_of(process: psutil.Process) -> dict[str, int]:
    """rss, with uss and pss where this platform and our permissions give them."""
    try:
        info: Any = process.memory_full_info()
    except psutil.AccessDenied:
        info = process.memory_info()
    return {metric: getattr(info, metric) for metric in METRICS if hasattr(info, metric)}


def per_thread(n_threads: int) -> dict[str, float]:
    """This process's memory growth per idle extra thread."""
    me = psutil.Process()
    ready, release = threading.Semaphore(0), threading.Event()
    threads = [
        threading.Thread(target=children.hold, args=(ready, release)) for _ in range(n_threads)
    ]
    gc.collect()
    before = memory_of(me)
    try:
        for thread in threads:
            thread.start()
        for _ in threads:
            if not ready.acquire(timeout=READY_TIMEOUT_S):
                raise RuntimeError(f"threads did not start in {READY_TIMEOUT_S:.0f} s")
        after = memory_of(me)
    finally:
        release.set()
        for thread in threads:
            if thread.ident is not None:
                thread.join()
    return {metric: (after[metric] - before[metric]) / n_threads for metric in after}


def per_process(method: str, n_processes: int) -> dict[str, float]:
    """Mean memory of an idle child process started by `method`."""
    # typeshed's get_context(str) gives a BaseContext, which has no Process: any start
    # method's context does.
    context = cast("DefaultContext", multiprocessing.get_context(method))
    ready, release = context.Semaphore(0), context.Event()
    processes = [
        context.Process(target=children.hold, args=(ready, release), daemon=True)
        for _ in range(n_processes)
    ]
    try:
        for process in processes:
            process.start()
        for _ in processes:
            if not ready.acquire(timeout=READY_TIMEOUT_S):
                raise RuntimeError(f"{method} children did not start in {READY_TIMEOUT_S:.0f} s")
        sizes = [memory_of(psutil.Process(process.pid)) for process in processes]
    finally:
        release.set()
        for process in processes:
            if process.pid is None:
                continue
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
    return {metric: statistics.mean(s[metric] for s in sizes) for metric in sizes[0]}


def threads_are_lighter(
    methods: Sequence[str] | None = None, n_threads: int = 16, n_processes: int = 2
) -> ClaimResult:
    methods = list(methods or multiprocessing.get_all_start_methods())
    # Processes first: no thread of ours exists yet when fork copies this process.
    processes = {method: per_process(method, n_processes) for method in methods}
    thread = per_thread(n_threads)
    metric = next(m for m in METRICS if m in thread and all(m in p for p in processes.values()))
    lightest = min(processes, key=lambda method: processes[method][metric])
    parts = ", ".join(f"{method} {format_bytes(p[metric])}" for method, p in processes.items())
    measured = (
        f"{metric.upper()} added per idle thread {format_bytes(thread[metric])} "
        f"(mean of {n_threads}); "
        f"per idle process: {parts} (mean of {n_processes} each)"
    )
    verdict = HOLDS if thread[metric] < processes[lightest][metric] else DOES_NOT_HOLD
    figures = {
        "metric": metric,
        "n_threads": n_threads,
        "n_processes": n_processes,
        "per_thread_bytes": thread,
        "per_process_bytes": processes,
    }
    return CLAIM.result(measured, verdict, figures)
