"""One small interface for every way of spreading parts over workers.

A runner is started once for a given number of workers (pool start-up is timed there, apart
from the work), then `map`s a function over tasks any number of times, then is closed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any, ClassVar

from gilkit.in_interpreter import empty_task
from gilkit.metadata import gil_enabled
from gilkit.threadpools import limit_in_worker
from gilkit.workers import prepare_worker_process

# How long a pool may take to start all its workers before gilkit gives up on it.
START_TIMEOUT_S = 120.0
# Empty tasks sent to time a pool's per-task overhead; enough to average out timer noise.
N_DISPATCH_PROBES = 100


class RunnerError(RuntimeError):
    """A runner could not start or lost its workers."""


class NotSupported(Exception):
    """This runner cannot run this impl (a subinterpreter cannot load NumPy): the cell is
    marked unsupported, with this reason, rather than failed."""


class Runner(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    # Workers share one interpreter, hence one GIL: the GIL monitor sees what they wait for.
    # False also means that tasks are pickled on their way to the workers.
    shares_interpreter: ClassVar[bool]
    # Workers are threads of this process (even in other interpreters): this process's CPU
    # time counts theirs, they start after any forking, and a stuck one cannot be killed.
    in_process: ClassVar[bool] = True
    awaits: ClassVar[bool] = False  # map() takes a coroutine function (asyncio)
    # How the kernels' data reaches the workers, in a line (the result's metadata records it).
    data_transfer: ClassVar[str] = "shared: the workers read the parent's objects in place"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when this runner can run on this interpreter, else why not, in one line."""
        return None

    def __init__(self, start_method: str | None = None) -> None:
        """`start_method` matters to process runners only; the others ignore it."""
        self.start_method: str | None = None
        self.n_workers = 0
        self.worker_pids: tuple[int, ...] = ()  # worker processes other than this one
        self.gil_enabled = gil_enabled()  # in the workers: a child may differ (PYTHON_GIL)

    def start(self, n_workers: int) -> float:
        """Make `n_workers` workers ready; return the seconds that took."""
        self.n_workers = n_workers
        return 0.0

    @abstractmethod
    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]: ...

    def dispatch_overhead(self, n_tasks: int = N_DISPATCH_PROBES) -> float:
        """Seconds per empty task sent through `map`: the cost of using this runner at all."""
        began = time.perf_counter()
        self.map(empty_task, range(n_tasks))
        return (time.perf_counter() - began) / n_tasks

    def close(self) -> None:  # noqa: B027 - a no-op unless a runner holds workers
        pass

    def abandon(self) -> None:
        """Let go at once, without waiting for a call in flight: the run is stopping, or a
        call outlived its limit. Worker processes are killed; threads cannot be, and go on."""
        self.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_start_barrier: Any = None  # set in each worker by _init_worker


def _init_worker(barrier: Any, gilkit_pid: int) -> None:
    """Every worker runs this first (a process keeps the barrier it inherited)."""
    global _start_barrier
    _start_barrier = barrier
    if os.getpid() == gilkit_pid:
        limit_in_worker()  # a thread: the signals and the life of the process are gilkit's
    else:
        prepare_worker_process(gilkit_pid)


def _report_ready(timeout_s: float) -> tuple[int, bool]:
    """Blocks its worker until every worker holds one: so each one ran on its own worker."""
    _start_barrier.wait(timeout_s)
    return os.getpid(), gil_enabled()


class PoolRunner(Runner):
    """A concurrent.futures pool; subclasses say only which executor and which barrier."""

    _executor: Executor | None = None

    def _worker_functions(
        self,
    ) -> tuple[Callable[[Any, int], None], Callable[[float], tuple[int, bool]]]:
        """What each worker runs first, given (barrier, gilkit's pid), and the blocking task
        that reports it ready: (its process id, whether its GIL is on)."""
        return _init_worker, _report_ready

    @abstractmethod
    def _make_executor(
        self, n_workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> Executor: ...

    @abstractmethod
    def _make_barrier(self, parties: int) -> Any: ...

    def start(self, n_workers: int) -> float:
        super().start(n_workers)
        began = time.perf_counter()
        barrier = self._make_barrier(n_workers + 1)
        initializer, report_ready = self._worker_functions()
        self._executor = self._make_executor(n_workers, initializer, (barrier, os.getpid()))
        # Pools start workers on demand: one blocking task per worker makes them start all of
        # them, and the barrier releases the tasks only once every worker is up.
        futures = [self._executor.submit(report_ready, START_TIMEOUT_S) for _ in range(n_workers)]
        try:
            barrier.wait(START_TIMEOUT_S)
            reports = [future.result(START_TIMEOUT_S) for future in futures]
        except Exception as error:
            self.close()
            message = f"{self.name} pool of {n_workers} failed to start: {error}"
            raise RunnerError(message) from error
        self.worker_pids = tuple(sorted({pid for pid, _ in reports} - {os.getpid()}))
        self.gil_enabled = any(gil for _, gil in reports)
        return time.perf_counter() - began

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        if self._executor is None:
            raise RunnerError(f"{self.name} runner used before start()")
        return list(self._executor.map(fn, tasks))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def abandon(self) -> None:
        for pid in self.worker_pids:
            with contextlib.suppress(OSError):
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
