"""Does a call release the GIL? Watch another Python thread while it runs, and time it alone.

A pure-Python counter thread needs the GIL for every increment. One counter alone cannot tell
a call that releases the GIL from pure Python that takes turns with it, so each round measures
two figures:

- fraction: the counter's rate during the call / its rate alone (measured just before and
  after the call). ~0 when the call holds the GIL; ~1 when it releases it (the counter runs on
  another cpu); ~0.5 when the call is Python too and the two switch.
- slowdown: the call's duration with the counter running / its duration alone. ~1 when the
  call holds the GIL or releases it; ~2 when it shares the GIL with the counter.

Threads that need the GIL can only take turns, so their two shares of solo speed,
fraction + 1/slowdown, add up to at most 1; a call that releases the GIL adds up to ~2 on two
idle cpus. The verdict comes from the medians over a few rounds, so that it repeats on a noisy
machine.
"""

from __future__ import annotations

import functools
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gilkit.machine import usable_cpus
from gilkit.metadata import free_threaded_build, gil_enabled

# Rounds per probe; the figures are medians, so one disturbed round does not flip a verdict.
DEFAULT_REPEAT = 3

# The switch interval during a probe (CPython's default: 5 ms). Where the probe is blurred, it
# is by about one interval per call: a thread waiting for the GIL asks for it only after one
# interval, and a call that ends a `nogil` block waits up to one interval to get it back. A
# shorter interval makes that blur smaller, so shorter calls can be judged.
PROBE_SWITCH_INTERVAL_S = 0.001

# Calls shorter than this many switch intervals are reported as too short: one interval of
# blur would then move the figures by more than 5%.
MIN_CALL_INTERVALS = 20
MIN_CALL_S = MIN_CALL_INTERVALS * PROBE_SWITCH_INTERVAL_S

# How long the counter's solo rate is measured, just before and just after each call
# (thousands of switch intervals' worth of increments: a precise rate, little run time).
SOLO_WINDOW_S = 0.025

# The counter can count during a call that holds the GIL only at its edges (at most an
# interval each: 0.1 of the shortest call judged, in practice ~0); taking turns gives it ~0.5.
HOLDS_MAX_FRACTION = 0.15

# A call that releases the GIL leaves the counter ~1.0 of its pace on two idle cpus, and ~0.67
# when one other busy process also wants a cpu (three threads on two cpus); taking turns on
# the GIL leaves it ~0.5.
RELEASES_MIN_FRACTION = 0.6

# fraction + 1/slowdown: at most 1 (+ noise) for threads that take turns on one GIL, ~2 on two
# idle cpus when the call releases it, ~1.33 with one other busy process on a 2-cpu machine.
RELEASES_MIN_PARALLELISM = 1.25


class Verdict(str, Enum):
    RELEASES = "releases"  # other threads run at full speed and do not slow the call
    HOLDS = "holds"  # other Python threads stop until the call returns
    SHARES = "shares"  # the call and other threads take turns on the GIL (pure Python)
    TOO_SHORT = "too-short"  # shorter than MIN_CALL_S: not judged
    NO_GIL = "no-gil"  # free-threaded interpreter with the GIL disabled: nothing to release
    CANNOT_JUDGE = "cannot-judge"  # one usable cpu: releasing and sharing look alike

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Round:
    alone_s: float  # the call with no other thread running
    with_counter_s: float  # the call while the counter thread runs
    fraction: float  # counter rate during the call / counter rate alone

    @property
    def slowdown(self) -> float:
        return self.with_counter_s / self.alone_s


@dataclass(frozen=True)
class GilProbe:
    verdict: Verdict
    call_s: float  # median duration of the call alone
    fraction: float | None  # median over rounds; None when not measured (too-short, no-gil)
    slowdown: float | None  # median over rounds; None when not measured
    rounds: tuple[Round, ...]
    gil_enabled: bool
    free_threaded_build: bool
    usable_cpus: int

    @property
    def released(self) -> bool:
        return self.verdict is Verdict.RELEASES

    @property
    def parallelism(self) -> float | None:
        """fraction + 1/slowdown: at most ~1 while the two threads take turns on the GIL."""
        if self.fraction is None or self.slowdown is None:
            return None
        return parallelism(self.fraction, self.slowdown)

    def figures(self) -> str:
        call = f"call {self.call_s * 1e3:,.1f} ms alone"
        if self.fraction is None or self.slowdown is None:
            return f"{call} (median of {max(1, len(self.rounds))})"
        return (
            f"counter fraction {self.fraction:.2f}, slowdown {self.slowdown:.2f}×, "
            f"{call} (medians of {len(self.rounds)} rounds)"
        )

    def explain(self) -> str:
        """Why this verdict, in one sentence without the figures."""
        return explain(self.verdict, self.call_s, self.usable_cpus)

    def __str__(self) -> str:
        return f"{self.verdict}: {self.explain()}; {self.figures()}"


def parallelism(fraction: float, slowdown: float) -> float:
    """How much of their solo speed the counter and the call kept, summed."""
    return fraction + 1 / slowdown


def judge(fraction: float, slowdown: float) -> Verdict:
    """The verdict from the median figures of an interpreter with a GIL, on 2+ cpus."""
    if fraction < HOLDS_MAX_FRACTION:
        return Verdict.HOLDS
    if (
        fraction >= RELEASES_MIN_FRACTION
        and parallelism(fraction, slowdown) >= RELEASES_MIN_PARALLELISM
    ):
        return Verdict.RELEASES
    return Verdict.SHARES


def explain(verdict: Verdict, call_s: float, cpus: int) -> str:
    return {
        Verdict.RELEASES: "the call releases the GIL: another Python thread kept running "
        "at full pace without slowing the call",
        Verdict.HOLDS: "the call holds the GIL: another Python thread stopped until it returned",
        Verdict.SHARES: "the call and another Python thread took turns on the GIL, as pure "
        "Python does (or a call that releases it only part of the time)",
        Verdict.TOO_SHORT: f"the call lasted {call_s * 1e3:.1f} ms, too short to judge: "
        f"give it at least {MIN_CALL_S * 1e3:.0f} ms of work (100 ms or more is safer)",
        Verdict.NO_GIL: "this interpreter runs without a GIL (free-threaded build, GIL "
        "disabled): every call runs alongside other threads, there is nothing to release",
        Verdict.CANNOT_JUDGE: f"{cpus} usable cpu: a call that releases the GIL and one "
        "that takes turns with it both leave another thread part of that cpu",
    }[verdict]


class _Counter(threading.Thread):
    """Counts as fast as it can; every increment needs the GIL."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="gilkit-probe-counter")
        self.count = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.count += 1


@contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """Use another switch interval for a while (it is process-wide), then restore it."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def time_call(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def _solo_window(counter: _Counter) -> tuple[int, float]:
    """(increments, seconds) of the counter while this thread sleeps."""
    first, began = counter.count, time.perf_counter()
    time.sleep(SOLO_WINDOW_S)
    return counter.count - first, time.perf_counter() - began


def time_call_with_counter(call: Callable[[], object]) -> tuple[float, float]:
    """(duration, fraction) of one call while a counter thread runs.

    The counter's solo rate is measured right before and right after the call, so that a
    machine whose speed drifts compares the counter with itself at the same moment.
    """
    counter = _Counter()
    counter.start()
    try:
        while counter.count == 0:
            time.sleep(PROBE_SWITCH_INTERVAL_S)
        before = _solo_window(counter)
        first = counter.count
        elapsed = time_call(call)
        during = counter.count - first
        after = _solo_window(counter)
    finally:
        counter.running = False
        counter.join()
    solo_rate = (before[0] + after[0]) / (before[1] + after[1])
    return elapsed, during / elapsed / solo_rate


def measure_rounds(call: Callable[[], object], first_alone_s: float, repeat: int) -> list[Round]:
    """`repeat` rounds, alone and with the counter, alternating the order (ABBA) to cancel drift.

    The first round reuses the call alone already timed (`first_alone_s`).
    """
    rounds = []
    for index in range(repeat):
        if index == 0:
            alone = first_alone_s
            with_counter, fraction = time_call_with_counter(call)
        elif index % 2:
            with_counter, fraction = time_call_with_counter(call)
            alone = time_call(call)
        else:
            alone = time_call(call)
            with_counter, fraction = time_call_with_counter(call)
        rounds.append(Round(alone, with_counter, fraction))
    return rounds


def probe(
    fn: Callable[..., object],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    repeat: int = DEFAULT_REPEAT,
) -> GilProbe:
    """Does fn(*args, **kwargs) release the GIL? The call runs 2 * repeat times, in this thread.

    Calls shorter than MIN_CALL_S are timed (repeat times) but not judged; on an interpreter
    without a GIL the call is only timed.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    call = functools.partial(fn, *args, **(kwargs or {}))
    gil, cpus = gil_enabled(), usable_cpus()
    record = functools.partial(
        GilProbe, gil_enabled=gil, free_threaded_build=free_threaded_build(), usable_cpus=cpus
    )
    with switch_interval(PROBE_SWITCH_INTERVAL_S):
        first = time_call(call)
        if not gil or first < MIN_CALL_S:
            call_s = statistics.median([first] + [time_call(call) for _ in range(repeat - 1)])
            if not gil:
                return record(Verdict.NO_GIL, call_s, None, None, ())
            if call_s < MIN_CALL_S:
                return record(Verdict.TOO_SHORT, call_s, None, None, ())
        rounds = tuple(measure_rounds(call, first, repeat))
    fraction = statistics.median(r.fraction for r in rounds)
    slowdown = statistics.median(r.slowdown for r in rounds)
    verdict = judge(fraction, slowdown) if cpus >= 2 else Verdict.CANNOT_JUDGE
    call_s = statistics.median(r.alone_s for r in rounds)
    return record(verdict, call_s, fraction, slowdown, rounds)


def releases_gil(fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> GilProbe:
    """Probe fn(*args, **kwargs) with DEFAULT_REPEAT rounds; `.verdict` says what it does."""
    return probe(fn, args, kwargs)
