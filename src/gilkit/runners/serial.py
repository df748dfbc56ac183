"""`serial`: every part in the calling thread, one after another: the baseline."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gilkit.model.facts import RunnerFacts, Workers
from gilkit.runners.base import Runner


class SerialRunner(Runner):
    name = "serial"
    description = "one part after another in the calling thread: the baseline"
    facts = RunnerFacts(Workers.CALLER)

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        return [fn(task) for task in tasks]
