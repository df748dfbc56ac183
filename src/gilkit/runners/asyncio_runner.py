"""`asyncio`: every part as a coroutine on one event loop in this thread.

What many would pick for I/O instead of threads: the waiting is done by the event loop, not by
blocked threads, so "workers" are concurrent coroutines. Only kernels with coroutine impls
(`io`) have asyncio cells; CPU-bound work gains nothing from it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from gilkit.model.facts import RunnerFacts, Workers
from gilkit.runners.base import Runner, RunnerError


class AsyncioRunner(Runner):
    name = "asyncio"
    description = "coroutines on one event loop: concurrent waiting in a single thread"
    facts = RunnerFacts(Workers.COROUTINES)
    awaits = True  # map() takes a coroutine function

    _loop: asyncio.AbstractEventLoop | None = None

    def start(self, n_workers: int) -> float:
        super().start(n_workers)
        began = time.perf_counter()
        self._loop = asyncio.new_event_loop()
        return time.perf_counter() - began

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        if self._loop is None:
            raise RunnerError("asyncio runner used before start()")

        async def gather() -> list[Any]:
            return list(await asyncio.gather(*(fn(task) for task in tasks)))

        return self._loop.run_until_complete(gather())

    def map_empty(self, n_tasks: int) -> None:
        async def empty(_: object) -> None:
            return None

        self.map(empty, range(n_tasks))

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def abandon(self) -> None:
        self._loop = None  # still running a stuck call in another thread: cannot be closed
