"""Shared state of the benchmark session: kernel data and started pools, made once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from gilkit.runners import RUNNERS
from gilkit.runners.base import Runner
from gilkit.threadpools import pin_native_threads


class Session:
    """Data per (kernel, n) and one started pool per (runner, workers), closed at the end."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._params: dict[tuple[str, int], Any] = {}
        self._pools: dict[tuple[str, int], Runner] = {}
        self.serial_medians: dict[tuple[str, str], float] = {}
        self.first_results: dict[tuple[str, int], Any] = {}  # every impl must match these

    def params(self, kernel: Any, n: int) -> Any:
        key = (kernel.name, n)
        if key not in self._params:
            self._params[key] = self._stack.enter_context(kernel.params_for(n, kernel.splits[0]))
        return self._params[key]

    def pool(self, runner: str, n_workers: int) -> Runner:
        if (runner, n_workers) not in self._pools:
            pool = RUNNERS[runner]()
            pool.start(n_workers)
            self._pools[runner, n_workers] = self._stack.enter_context(pool)
        return self._pools[runner, n_workers]


@pytest.fixture(scope="session")
def session() -> Iterator[Session]:
    pin_native_threads()
    with ExitStack() as stack:
        yield Session(stack)
