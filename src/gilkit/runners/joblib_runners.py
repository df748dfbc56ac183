"""`joblib-loky` and `joblib-threads`: joblib.Parallel as its users run it, kept open.

What many reach for first: `with Parallel(n_jobs=N, backend=...) as parallel:` around several
calls, so that its pool is started once. gilkit holds one such Parallel per pool and times its
start-up apart from the work, as for its own pools. joblib is an optional extra
(`pip install 'gilkit[joblib]'`), imported only when one of these runners is made.

joblib runs `n_jobs=1` in the calling thread, without any pool: the serial cells measure
exactly that, so these runners have no 1-worker cells.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any, ClassVar

from gilkit.host.threadpools import limit_in_worker
from gilkit.model.facts import RunnerFacts, Workers
from gilkit.runners.base import (
    START_TIMEOUT_S,
    PoolRunner,
    Runner,
    RunnerError,
    closed_if_start_fails,
    kill_processes,
)

# A call waits for its last result by polling every 10 ms (joblib's Parallel does).
JOBLIB_CALL_COST_S = 0.01


class ArrivalBarrier:
    """The start barrier for pools whose workers cannot receive a multiprocessing.Barrier.

    loky pickles a new worker's initializer arguments with cloudpickle, and a Barrier's shared
    counter lives in an mmap it cannot pickle. A semaphore and an event can go: each worker
    arrives and waits; the process that made the barrier waits until all have arrived, lets them
    go, and waits until all have left before it closes the gate again, so the barrier serves
    again (run_in_each_worker uses it after start). Its `wait` so plays both sides, as a
    Barrier's does.
    """

    def __init__(self, context: Any, parties: int) -> None:
        self._owner = os.getpid()
        self._n_workers = parties - 1  # the owner is a party too
        self._arrived = context.Semaphore(0)
        self._left = context.Semaphore(0)
        self._go = context.Event()

    def wait(self, timeout: float) -> None:
        if os.getpid() != self._owner:
            self._arrived.release()
            passed = self._go.wait(timeout)
            self._left.release()
            if not passed:
                raise threading.BrokenBarrierError
            return
        deadline = time.monotonic() + timeout
        for semaphore in (self._arrived, self._left):
            for _ in range(self._n_workers):
                if not semaphore.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    raise threading.BrokenBarrierError
            if semaphore is self._arrived:
                self._go.set()
        self._go.clear()  # every worker is through: the next use waits again


def _check_workers(runner: Runner, n_workers: int) -> None:
    if n_workers < runner.min_workers:
        raise RunnerError(
            f"{runner.name} needs {runner.min_workers} workers or more, got {n_workers}: "
            "joblib runs n_jobs=1 in the calling thread, without a pool (the serial runner)"
        )


class JoblibCalls:
    """What both joblib runners do with their open Parallel: call it, and close it."""

    name: ClassVar[str]
    _parallel: Any = None

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        if self._parallel is None:
            raise RunnerError(f"{self.name} runner used before start()")
        from gilkit.runners._joblib_parallel import run_all

        return run_all(self._parallel, fn, tasks)

    def _close_parallel(self) -> None:
        if self._parallel is not None:
            from gilkit.runners._joblib_parallel import close_parallel

            close_parallel(self._parallel)  # the threading backend joins its threads
            self._parallel = None


def _loky_context() -> Any:
    from joblib.externals.loky.backend import get_context

    return get_context("loky")


class JoblibLokyRunner(JoblibCalls, PoolRunner):
    """joblib's default backend: loky worker processes, one interpreter and one GIL each.

    Use it where joblib users would: pure-Python work that must run in parallel without a
    free-threaded interpreter. Its workers are fresh interpreters (started like spawn, so
    safe in a process that has threads, and slower to start than a fork), and it batches
    small tasks itself (batch_size="auto"), which makes many tiny tasks cheap.
    """

    name = "joblib-loky"
    description = "joblib.Parallel's loky processes: one GIL per worker, batches small tasks"
    facts = RunnerFacts(
        Workers.PROCESSES,
        "tasks (kernel name, impl, part, params) and results pickled, in batches; kernels "
        "imported by name in each worker; triad's arrays shared without a copy (shared memory)",
    )
    package = "joblib"
    batch_size = "auto"
    min_workers = 2
    call_cost_s = JOBLIB_CALL_COST_S

    def _make_executor(
        self, n_workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> Executor:
        from joblib.externals.loky import ProcessPoolExecutor

        # timeout=None: idle workers stay (joblib's reusable executor lets them go after
        # 300 s, and a long run would then time their restart).
        executor: Executor = ProcessPoolExecutor(
            n_workers,
            context=_loky_context(),
            initializer=initializer,
            initargs=initargs,
            timeout=None,
        )
        return executor

    def _make_barrier(self, parties: int) -> ArrivalBarrier:
        return ArrivalBarrier(_loky_context(), parties)

    def start(self, n_workers: int) -> float:
        _check_workers(self, n_workers)
        try:
            startup = super().start(n_workers)
            began = time.perf_counter()
            from gilkit.runners._joblib_parallel import loky_parallel

            assert self._executor is not None
            self._parallel = loky_parallel(self._executor, n_workers, self.batch_size)
            return startup + time.perf_counter() - began
        except BaseException:  # Ctrl-C included: no worker is left behind
            self.close()
            raise

    def close(self) -> None:
        self._close_parallel()
        if self._executor is not None:
            # loky's shutdown: kill_workers instead of concurrent.futures' cancel_futures.
            self._executor.shutdown(wait=True, kill_workers=True)  # type: ignore[call-arg]
            self._executor = None

    def abandon(self) -> None:
        kill_processes(self.worker_pids)  # a call in flight: its workers cannot finish it
        self.close()


def _ready_thread(barrier: threading.Barrier) -> None:
    """Each worker thread's first task: limit native pools, then wait for every sibling."""
    limit_in_worker()
    barrier.wait(START_TIMEOUT_S)


class JoblibThreadsRunner(JoblibCalls, Runner):
    """joblib's threading backend: a thread pool in this interpreter, sharing one GIL.

    As joblib's docs say, it suffers from the GIL unless the called function releases it:
    a Cython loop inside `with nogil:`, NumPy on large arrays, blocking I/O; or any work on a
    free-threaded interpreter. It sends tasks one at a time (no auto-batching).
    """

    name = "joblib-threads"
    description = "joblib.Parallel's threading backend: shares one GIL, like threads"
    facts = RunnerFacts(Workers.THREADS)
    package = "joblib"
    batch_size = 1
    min_workers = 2
    call_cost_s = JOBLIB_CALL_COST_S

    def start(self, n_workers: int) -> float:
        _check_workers(self, n_workers)
        super().start(n_workers)
        from gilkit.runners import _joblib_parallel as jp

        began = time.perf_counter()
        with closed_if_start_fails(self, n_workers, self.close):
            self._parallel = jp.open_parallel(n_workers, "threading", self.batch_size)
            # joblib makes its thread pool on the first call: one blocking task per thread,
            # released together, so start-up ends when every thread is up.
            barrier = threading.Barrier(n_workers)
            jp.run_all(self._parallel, _ready_thread, [barrier] * n_workers)
        return time.perf_counter() - began

    def close(self) -> None:
        self._close_parallel()
