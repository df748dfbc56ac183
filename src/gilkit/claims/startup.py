"""Claim 1: starting a thread is faster than starting a process.

Start-to-join of an empty thread against an empty process, for every start method this
platform has. The target is os.getpid, so a child imports nothing for it; spawn and
forkserver children still start a fresh interpreter (spawn also re-imports the main module),
which is what starting a process costs a program that uses them.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from gilkit.claims.base import DOES_NOT_HOLD, HOLDS, Claim, ClaimResult
from gilkit.claims.timing import interleaved, medians
from gilkit.model.units import format_ratio, format_seconds

CLAIM = Claim(1, "Starting a thread is faster than starting a process")
FRESH = ("spawn", "forkserver")  # start methods that start a new interpreter


def _thread() -> None:
    thread = threading.Thread(target=os.getpid)
    thread.start()
    thread.join()


def _process(context: Any) -> None:
    process = context.Process(target=os.getpid)
    process.start()
    process.join()
    process.close()


def thread_starts_faster(
    methods: Sequence[str] | None = None, repeats: int = 9, fresh_repeats: int = 3
) -> ClaimResult:
    """Median start-to-join of an empty thread and an empty process per start method.

    spawn and forkserver start fresh interpreters, 100x slower than the rest: they take part
    in `fresh_repeats` rounds only.
    """
    methods = list(methods or multiprocessing.get_all_start_methods())
    calls: dict[str, Callable[[], None]] = {"thread": _thread}
    for method in methods:
        calls[method] = partial(_process, multiprocessing.get_context(method))
    counts = {key: fresh_repeats if key in FRESH else repeats for key in calls}
    # forkserver's first process also starts the server: a one-off cost, left out.
    warmups = {key: 1 if key in ("thread", "fork", "forkserver") else 0 for key in calls}
    median = medians(interleaved(calls, counts, warmups))
    thread_s = median.pop("thread")
    fastest = min(median, key=median.__getitem__)
    parts = ", ".join(
        f"{m} {format_seconds(s)} ({format_ratio(s / thread_s)})" for m, s in median.items()
    )
    measured = (
        f"empty thread {format_seconds(thread_s)}; empty process: {parts} "
        f"(median start-to-join of {repeats}, {fresh_repeats} for spawn and forkserver)"
    )
    verdict = HOLDS if thread_s < median[fastest] else DOES_NOT_HOLD
    figures = {"repeats": counts, "thread_s": thread_s, "process_s": median}
    return CLAIM.result(measured, verdict, figures)
