"""Does a call release the GIL? Watch another Python thread's progress while it runs.

A pure-Python counter thread needs the GIL for every increment. While a call holds the GIL in
compiled code, the counter stops; while the call runs inside `with nogil:`, the counter runs on
another cpu at its usual rate (or shares one cpu with the call). The fraction of its solo rate
that the counter keeps during the call tells the two apart without timing the call itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class _Counter(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.count = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.count += 1


@dataclass(frozen=True)
class Progress:
    fraction: float  # counter rate during the call / counter rate alone: ~0 held, ~1 released
    call_s: float
    result: Any


def counter_rate(seconds: float = 0.1) -> float:
    """Increments per second of the counter thread while this thread sleeps."""
    counter = _Counter()
    counter.start()
    began, first = time.perf_counter(), counter.count
    time.sleep(seconds)
    rate = (counter.count - first) / (time.perf_counter() - began)
    counter.running = False
    counter.join()
    return rate


def progress_during(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Progress:
    """Run fn(*args, **kwargs) here while a counter thread runs; report its progress.

    The call should last 100 ms or more: the counter may also run for one switch interval
    (5 ms by default) as the call ends.
    """
    solo = counter_rate()
    counter = _Counter()
    counter.start()
    while counter.count == 0:
        time.sleep(0.001)
    first = counter.count
    began = time.perf_counter()
    result = fn(*args, **kwargs)
    elapsed = time.perf_counter() - began
    done = counter.count - first
    counter.running = False
    counter.join()
    return Progress(fraction=done / elapsed / solo, call_s=elapsed, result=result)
