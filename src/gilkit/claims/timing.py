"""Interleaved timing: A B C, A B C, ... so that a shared machine's drift hits every call alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

K = TypeVar("K")


def interleaved(
    calls: Mapping[K, Callable[[], object]],
    repeats: int | Mapping[K, int],
    warmups: int | Mapping[K, int] = 1,
) -> dict[K, list[float]]:
    """Wall time of each call, once per round; each call's first `warmups` are not kept.

    `repeats` and `warmups` may differ per call (a mapping): a call that costs 100x more
    than the others can take part in fewer rounds.
    """

    def of(value: int | Mapping[K, int], key: K) -> int:
        return value if isinstance(value, int) else value[key]

    times: dict[K, list[float]] = {key: [] for key in calls}
    n_rounds = max((of(warmups, key) + of(repeats, key) for key in calls), default=0)
    for round_index in range(n_rounds):
        for key, fn in calls.items():
            if round_index >= of(warmups, key) + of(repeats, key):
                continue
            began = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - began
            if round_index >= of(warmups, key):
                times[key].append(elapsed)
    return times


def medians(times: Mapping[K, list[float]]) -> dict[K, float]:
    return {key: statistics.median(values) for key, values in times.items()}
