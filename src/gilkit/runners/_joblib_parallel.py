"""joblib.Parallel, kept open across calls, over the pools of the joblib runners.

Imported only when a joblib runner starts, so that gilkit never needs joblib otherwise.

`joblib-threads` uses joblib's own threading backend by name. `joblib-loky` uses loky's
dispatch as joblib's LokyBackend does it (auto-batching, one `submit` per batch), but on a
loky executor that the runner owns: joblib's own loky backend always uses one reusable
executor per process and resizes it to each Parallel's n_jobs, while a run keeps pools of
several sizes open at once, and resizing between the interleaved calls would time worker
start-ups. Left out with it: joblib's memmapping of large NumPy arguments, which gilkit's
tasks, small by design, never trigger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from typing import Any

from joblib import Parallel, delayed
from joblib.parallel import AutoBatchingMixin, ParallelBackendBase


class OwnLokyExecutorBackend(AutoBatchingMixin, ParallelBackendBase):  # type: ignore[misc]
    """LokyBackend's dispatch on a given loky executor, which it neither resizes nor closes."""

    supports_retrieve_callback = True

    def __init__(self, executor: Executor, n_workers: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._executor = executor
        self._n_workers = n_workers

    def configure(self, n_jobs: int = 1, parallel: Any = None, **_: Any) -> int:
        self.parallel = parallel
        return self._n_workers

    def effective_n_jobs(self, n_jobs: int) -> int:
        return self._n_workers

    def submit(self, func: Callable[[], Any], callback: Any = None) -> Future[Any]:
        future = self._executor.submit(func)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def retrieve_result_callback(self, future: Future[Any]) -> Any:
        return future.result()

    def abort_everything(self, ensure_ready: bool = True) -> None:
        """A task raised: joblib's loky backend kills its workers to drop the queued tasks;
        these are the runner's, so they stay, and finish the few tasks of the call."""
        self.reset_batch_stats()


def open_parallel(n_workers: int, backend: Any, batch_size: int | str) -> Any:
    """A Parallel entered as `with Parallel(...) as parallel:` is: its pool kept across calls."""
    parallel = Parallel(n_jobs=n_workers, backend=backend, batch_size=batch_size)
    parallel.__enter__()
    return parallel


def loky_parallel(executor: Executor, n_workers: int, batch_size: int | str) -> Any:
    return open_parallel(n_workers, OwnLokyExecutorBackend(executor, n_workers), batch_size)


def close_parallel(parallel: Any) -> None:
    parallel.__exit__(None, None, None)


def run_all(parallel: Any, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    return list(parallel(delayed(fn)(item) for item in items))
