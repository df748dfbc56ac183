"""One small interface for every way of spreading parts over workers.

A runner is started once for a given number of workers (pool start-up is timed there, apart
from the work), then `map`s a function over tasks any number of times, then is closed.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any, ClassVar

from gilkit.threadpools import limit_in_worker

# How long a pool may take to start all its workers before gilkit gives up on it.
START_TIMEOUT_S = 120.0


class RunnerError(RuntimeError):
    """A runner could not start or lost its workers."""


class Runner(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    shares_interpreter: ClassVar[bool]  # workers share one interpreter, hence one GIL

    def __init__(self, start_method: str | None = None) -> None:
        """`start_method` matters to process runners only; the others ignore it."""
        self.start_method: str | None = None
        self.n_workers = 0

    def start(self, n_workers: int) -> float:
        """Make `n_workers` workers ready; return the seconds that took."""
        self.n_workers = n_workers
        return 0.0

    @abstractmethod
    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]: ...

    def close(self) -> None:  # noqa: B027 - a no-op unless a runner holds workers
        pass

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _worker_ready(barrier: Any) -> None:
    """Every worker runs this first; the pool counts as started when all have passed it."""
    limit_in_worker()
    barrier.wait(START_TIMEOUT_S)


def _noop() -> None:
    return None


class PoolRunner(Runner):
    """A concurrent.futures pool; subclasses say only which executor and which barrier."""

    _executor: Executor | None = None

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
        self._executor = self._make_executor(n_workers, _worker_ready, (barrier,))
        # Pools start workers on demand: one waiting task per worker makes them start them all,
        # and the barrier holds each until all are up.
        futures = [self._executor.submit(_noop) for _ in range(n_workers)]
        try:
            barrier.wait(START_TIMEOUT_S)
            for future in futures:
                future.result(START_TIMEOUT_S)
        except Exception as error:
            self.close()
            message = f"{self.name} pool of {n_workers} failed to start: {error}"
            raise RunnerError(message) from error
        return time.perf_counter() - began

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        if self._executor is None:
            raise RunnerError(f"{self.name} runner used before start()")
        return list(self._executor.map(fn, tasks))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
