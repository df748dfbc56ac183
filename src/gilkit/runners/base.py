"""One small interface for every way of spreading parts over workers.

A runner is started once for a given number of workers (pool start-up is timed there, apart
from the work), then `map`s a function over tasks any number of times, then is closed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import statistics
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from contextlib import nullcontext
from typing import Any, ClassVar, NamedTuple

from gilkit.host.metadata import gil_enabled
from gilkit.host.threadpools import limit_in_worker
from gilkit.host.worker_process import prepare_worker_process, sigint_held
from gilkit.kernels.in_interpreter import empty_task
from gilkit.model.facts import RunnerFacts, Workers

# How long a pool may take to start all its workers before gilkit gives up on it.
START_TIMEOUT_S = 120.0
# Empty tasks sent to time a pool's per-task overhead; enough to average out timer noise.
N_DISPATCH_PROBES = 100
# Empty calls (one empty task per worker) timed for a pool's per-call overhead, and the pause
# before each.
N_CALL_PROBES = 5
CALL_PAUSE_S = 0.012


def kill_processes(pids: Iterable[int]) -> None:
    """SIGKILL each, and every process it started (a kernel's own children): what a worker
    stuck in a call leaves as the only way to end it. The tree is read first, since a child
    whose parent died is reparented away."""
    # Imported here: a subinterpreter worker imports this module, and psutil cannot load there.
    from gilkit.host.orphans import end_processes, process_trees

    end_processes(process_trees(pids), grace_s=0)


class RunnerError(RuntimeError):
    """A runner could not start or lost its workers."""


@contextlib.contextmanager
def closed_if_start_fails(
    runner: Runner, n_workers: int, clean_up: Callable[[], None]
) -> Iterator[None]:
    """Around a pool's start: on any failure, a signal too, clean_up() leaves no worker
    behind; an error becomes one RunnerError naming the pool, a signal goes on as it is."""
    try:
        yield
    except BaseException as error:
        clean_up()
        if not isinstance(error, Exception):
            raise
        message = f"{runner.name} pool of {n_workers} failed to start: {error}"
        raise RunnerError(message) from error


class NotSupported(Exception):
    """This runner cannot run this impl (a subinterpreter cannot load NumPy): the cell is
    marked unsupported, with this reason, rather than failed."""


class Runner(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    # Where its workers live, and how the kernels' data reaches them: what they share (an
    # interpreter, a GIL, this process) follows from it (gilkit.model.facts).
    facts: ClassVar[RunnerFacts]
    awaits: ClassVar[bool] = False  # map() takes a coroutine function (asyncio)
    # Its workers are forked from this process, which must have no other thread yet: such
    # pools start before the others (which leave threads running here). Processes only.
    forks_here: ClassVar[bool] = False
    # The optional package it needs, which is also the name of gilkit's extra that installs
    # it (`pip install 'gilkit[joblib]'`); imported only when the runner is made.
    package: ClassVar[str | None] = None
    # Tasks sent to a worker at once: 1, or "auto" where the runner batches them itself.
    batch_size: ClassVar[int | str] = 1
    # The fewest workers it runs with (joblib runs n_jobs=1 in the calling thread, no pool).
    min_workers: ClassVar[int] = 1
    # About what one call costs beyond its work, as measured on 2 cpus (the pools table's
    # "per empty call"): the standard pools' is well under 1 ms, joblib's and Dask's ~10 ms.
    # gilkit.planning.sizing makes parts long enough to dwarf the largest of a run's runners.
    call_cost_s: ClassVar[float] = 0.0

    def __init__(self, start_method: str | None = None, scheduler: str | None = None) -> None:
        """`start_method` matters to process runners only, `scheduler` (an existing Dask
        cluster) to the dask runners only; the others ignore them."""
        self.start_method: str | None = None
        self.n_workers = 0
        self.worker_pids: tuple[int, ...] = ()  # worker processes other than this one
        self.gil_enabled = gil_enabled()  # in the workers: a child may differ (PYTHON_GIL)
        # Whether every worker runs on this host, where a kernel's server or shared memory is.
        self.on_this_host = True
        if self.package is not None:
            # Imported when the runner is made, before its start-up and memory are measured:
            # the import happens once, however many pools follow.
            try:
                importlib.import_module(self.package)
            except ImportError as error:
                reason = self.unavailable_reason() or f"cannot import {self.package}: {error}"
                raise RunnerError(f"{self.name}: {reason}") from error

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a declaration that cannot be: only processes started here can fork."""
        super().__init_subclass__(**kwargs)
        facts = getattr(cls, "facts", None)
        if cls.forks_here and (facts is None or facts.workers is not Workers.PROCESSES):
            raise TypeError(f"{cls.__name__}: forks_here needs workers = Workers.PROCESSES")

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None when this runner can run here, else why not (and what to install), in one
        line: a missing optional package here; the interpreters runner says more."""
        if cls.package is None or importlib.util.find_spec(cls.package) is not None:
            return None
        return f"needs {cls.package}, not installed here: pip install 'gilkit[{cls.package}]'"

    def start(self, n_workers: int) -> float:
        """Make `n_workers` workers ready; return the seconds that took."""
        self.n_workers = n_workers
        return 0.0

    @abstractmethod
    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]: ...

    def run_in_each_worker(self, fn: Callable[[], object]) -> list[str]:
        """Run fn() once in every worker process; this runner has none (see PoolRunner)."""
        return []

    def map_empty(self, n_tasks: int) -> None:
        """Send `n_tasks` tasks that do nothing through `map`."""
        self.map(empty_task, range(n_tasks))

    def dispatch_overhead(self, n_tasks: int = N_DISPATCH_PROBES) -> float:
        """Seconds per empty task sent through `map`: the cost of using this runner at all."""
        began = time.perf_counter()
        self.map_empty(n_tasks)
        return (time.perf_counter() - began) / n_tasks

    def call_overhead(self, n_calls: int = N_CALL_PROBES) -> float:
        """Seconds a call of one empty task per worker takes, median of `n_calls`: what every
        call of a cell pays besides its work (a call sends its parts and waits for them all).

        Each call comes CALL_PAUSE_S after the last, as a pool's calls come apart in a run's
        rounds: Dask's client sends messages at most every 10 ms, and calls back to back
        would wait for that.
        """
        times = []
        for _ in range(n_calls):
            time.sleep(CALL_PAUSE_S)
            began = time.perf_counter()
            self.map_empty(max(1, self.n_workers))
            times.append(time.perf_counter() - began)
        return statistics.median(times)

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


def _run_then_wait(fn: Callable[[], object], timeout_s: float) -> str | None:
    """fn() in a worker, then wait until every worker has run it; why it failed, or None."""
    try:
        fn()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        _start_barrier.wait(timeout_s)
    return None


class WorkerFunctions(NamedTuple):
    """What a pool's workers run, importable by name in each (a subinterpreter imports them).

    `init(barrier, gilkit's pid)` runs first in each worker; `report_ready(timeout_s)` is the
    blocking task that reports a worker ready: (its process id, whether its GIL is on);
    `run_then_wait(fn, timeout_s)` runs fn() then waits on the barrier (run_in_each_worker).
    """

    init: Callable[[Any, int], None]
    report_ready: Callable[[float], tuple[int, bool]]
    run_then_wait: Callable[[Callable[[], object], float], str | None]


class PoolRunner(Runner):
    """A concurrent.futures pool; subclasses say only which executor and which barrier."""

    _executor: Executor | None = None
    _barrier: Any = None  # the one every worker holds: each task that waits on it runs alone

    def _worker_functions(self) -> WorkerFunctions:
        """What the workers run: gilkit's own for threads and processes."""
        return WorkerFunctions(_init_worker, _report_ready, _run_then_wait)

    @abstractmethod
    def _make_executor(
        self, n_workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> Executor: ...

    @abstractmethod
    def _make_barrier(self, parties: int) -> Any: ...

    def start(self, n_workers: int) -> float:
        super().start(n_workers)
        began = time.perf_counter()
        self._barrier = self._make_barrier(n_workers + 1)
        functions = self._worker_functions()
        with closed_if_start_fails(self, n_workers, self._abandon_starting):
            # Held while worker processes are made; threads (subinterpreters too) need not.
            with nullcontext() if self.facts.in_process else sigint_held():
                self._executor = self._make_executor(
                    n_workers, functions.init, (self._barrier, os.getpid())
                )
                # Pools start workers on demand: one blocking task per worker makes them
                # start all of them; the barrier releases the tasks once every worker is up.
                futures = [
                    self._executor.submit(functions.report_ready, START_TIMEOUT_S)
                    for _ in range(n_workers)
                ]
            self._await_workers(futures)
            reports = [future.result(START_TIMEOUT_S) for future in futures]
        self.worker_pids = tuple(sorted({pid for pid, _ in reports} - {os.getpid()}))
        self.gil_enabled = any(gil for _, gil in reports)
        return time.perf_counter() - began

    def _await_workers(self, futures: list[Future[Any]]) -> None:
        """Until every worker holds its report_ready task (START_TIMEOUT_S at most)."""
        self._barrier.wait(START_TIMEOUT_S)

    def _abandon_starting(self) -> None:
        # Their pids are not reported yet: a process pool keeps its workers in _processes.
        self.worker_pids = tuple(getattr(self._executor, "_processes", None) or ())
        self.abandon()

    def run_in_each_worker(self, fn: Callable[[], object]) -> list[str]:
        """Run fn() once in every worker process or subinterpreter, by the barrier trick of
        start(); return why it failed where it did. Nothing to do for workers that share this
        interpreter (threads see its modules)."""
        if self.facts.shares_interpreter:
            return []
        if self._executor is None:
            raise RunnerError(f"{self.name} runner used before start()")
        run_then_wait = self._worker_functions().run_then_wait
        futures = [
            self._executor.submit(run_then_wait, fn, START_TIMEOUT_S) for _ in range(self.n_workers)
        ]
        try:
            self._barrier.wait(START_TIMEOUT_S)
            problems = [future.result(START_TIMEOUT_S) for future in futures]
        except Exception as error:
            raise RunnerError(f"{self.name} pool lost a worker: {error}") from error
        return [problem for problem in problems if problem is not None]

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        if self._executor is None:
            raise RunnerError(f"{self.name} runner used before start()")
        return list(self._executor.map(fn, tasks))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def abandon(self) -> None:
        kill_processes(self.worker_pids)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
