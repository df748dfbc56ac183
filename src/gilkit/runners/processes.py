"""`processes`: a process pool, one interpreter and one GIL per worker.

Pure-Python work runs in parallel, at the price of starting interpreters (fork is quick, spawn
and forkserver import everything anew), more memory, and pickling every task and result; data
is better shared (shared memory) than sent.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from gilkit.model.facts import RunnerFacts, Workers
from gilkit.runners.base import PoolRunner

START_METHODS = tuple(multiprocessing.get_all_start_methods())


def default_start_method() -> str:
    return multiprocessing.get_start_method(allow_none=False)


class ProcessRunner(PoolRunner):
    name = "processes"
    description = "a process pool: one GIL per worker, pays start-up and pickling"
    facts = RunnerFacts(
        Workers.PROCESSES,
        "tasks (kernel name, impl, part, params) and results pickled; kernels imported by name "
        "(fork inherits them); triad's arrays shared without a copy (shared memory)",
    )
    forks_here = True  # with the fork start method

    def __init__(self, start_method: str | None = None, scheduler: str | None = None) -> None:
        super().__init__()
        self.start_method = start_method or default_start_method()
        self._context = multiprocessing.get_context(self.start_method)

    def _make_executor(
        self, n_workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> Executor:
        return ProcessPoolExecutor(
            n_workers, mp_context=self._context, initializer=initializer, initargs=initargs
        )

    def _make_barrier(self, parties: int) -> Any:
        return self._context.Barrier(parties)
