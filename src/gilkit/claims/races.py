"""Claim 8: threads share memory, which invites race conditions.

N threads each do a read-modify-write on one shared counter, with a yield between the read
and the write (time.sleep(0) releases the GIL, as any I/O or a long enough computation would):
without a lock, updates are lost; with a threading.Lock around the three steps, none are.
A bare `x += 1` is also counted: on CPython 3.10+ with the GIL it rarely races, since the eval
loop switches threads only at certain instructions, which is why the yield is needed to show
the race reliably; on a free-threaded build it can race on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from gilkit.claims.base import DOES_NOT_HOLD, HOLDS, Claim, ClaimResult
from gilkit.host.metadata import free_threaded_build, gil_enabled, python_now
from gilkit.present.formatting import format_build, format_gil

CLAIM = Claim(8, "Threads increase the potential for race conditions")
N_THREADS = 4
N_INCREMENTS = 200
N_BARE_INCREMENTS = 100_000


class Counter:
    value = 0


def read_yield_write(counter: Counter, n: int, guard: AbstractContextManager[object]) -> None:
    for _ in range(n):
        with guard:
            value = counter.value
            time.sleep(0)  # another thread may run here, and write in between
            counter.value = value + 1


def bare_increments(counter: Counter, n: int, guard: AbstractContextManager[object]) -> None:
    for _ in range(n):
        counter.value += 1


def lost_updates(
    work: Callable[[Counter, int, AbstractContextManager[object]], None],
    n_threads: int,
    n_increments: int,
    lock: AbstractContextManager[object] | None = None,
) -> int:
    """How many of n_threads * n_increments increments are missing from the counter."""
    counter = Counter()
    start = threading.Barrier(n_threads)
    guard = lock or nullcontext()

    def run() -> None:
        start.wait()  # all threads begin together, so that they overlap
        work(counter, n_increments, guard)

    threads = [threading.Thread(target=run) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return n_threads * n_increments - counter.value


def build() -> str:
    python = python_now()
    return f"{format_build(python)}, {format_gil(python)}"


def threads_race(
    n_threads: int = N_THREADS,
    n_increments: int = N_INCREMENTS,
    n_bare_increments: int = N_BARE_INCREMENTS,
) -> ClaimResult:
    total = n_threads * n_increments
    unlocked = lost_updates(read_yield_write, n_threads, n_increments)
    locked = lost_updates(read_yield_write, n_threads, n_increments, threading.Lock())
    bare = lost_updates(bare_increments, n_threads, n_bare_increments)
    measured = (
        f"{n_threads} threads × {n_increments:,} read–yield–write increments of one counter: "
        f"{unlocked:,} of {total:,} lost without a lock, {locked:,} with a Lock; a bare "
        f"`x += 1` ({n_threads} × {n_bare_increments:,}) lost {bare:,} ({build()})"
    )
    verdict = HOLDS if unlocked > 0 and locked == 0 else DOES_NOT_HOLD
    figures = {
        "n_threads": n_threads,
        "n_increments": n_increments,
        "lost_unlocked": unlocked,
        "lost_locked": locked,
        "n_bare_increments": n_bare_increments,
        "lost_bare": bare,
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
    }
    return CLAIM.result(measured, verdict, figures)
