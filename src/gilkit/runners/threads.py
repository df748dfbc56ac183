"""`threads`: a thread pool in this interpreter.

Cheap to start and to feed, but its workers share one GIL: pure-Python parts run one at a
time. It speeds up work that releases the GIL (blocking I/O, NumPy on large arrays, Cython
inside `with nogil:`), or any work on a free-threaded interpreter.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from gilkit.model.facts import RunnerFacts, Workers
from gilkit.runners.base import PoolRunner


class ThreadRunner(PoolRunner):
    name = "threads"
    description = "a thread pool: shares one GIL, so only GIL-releasing work runs in parallel"
    facts = RunnerFacts(Workers.THREADS)

    def _make_executor(
        self, n_workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> Executor:
        return ThreadPoolExecutor(n_workers, initializer=initializer, initargs=initargs)

    def _make_barrier(self, parties: int) -> threading.Barrier:
        return threading.Barrier(parties)
