"""What the experiments' child processes and threads run.

Standard library only: spawned and forkserver children import this module to find their
target, and a target should add nothing to what a child imports and holds in memory.
"""

from __future__ import annotations

import time
from typing import Any


def hold(ready: Any, release: Any, timeout_s: float = 60.0) -> None:
    """Say that this worker is up, then idle until released: a worker at rest, for memory."""
    ready.release()
    release.wait(timeout_s)


def runaway(seconds: float) -> None:
    """A task that checks nothing (no flag, no event) until it ends by itself.

    Nothing from outside can make it return early; it sleeps in small steps, so that as a
    thread it does not slow down the measurements that come after it.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)


def mutate(plain: bytearray, shared: Any) -> None:
    """Change a plain object and a multiprocessing.Value: which change does the parent see?"""
    plain[0] = 1
    shared.value = 1
