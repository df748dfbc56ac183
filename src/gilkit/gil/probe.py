"""Does a call release the GIL? Watch another Python thread while it runs, and time it alone.

A pure-Python counter thread needs the GIL for every increment. One counter alone cannot tell
a call that releases the GIL from pure Python that takes turns with it, so each round measures
two figures:

- fraction: the counter's rate during the call / its rate alone. ~0 when the call holds the
  GIL; ~1 when it releases it (the counter runs on another cpu); ~0.5 when the call is Python
  too and the two take turns.
- slowdown: the call's duration with the counter running / its duration alone. ~1 when the
  call holds the GIL or releases it; ~2 when it takes turns with the counter.

Threads that need the GIL can only take turns, so their two shares of solo speed,
fraction + 1/slowdown ("parallelism"), add up to about 1; a call that releases the GIL adds
up to ~2. That needs two free cpus, which a shared machine does not always have, so every
round also measures a call known to release the GIL, just before and just after the call; a
round where it did not run alongside the counter gives no counter-based verdict.

A second witness needs no free cpu: the GIL monitor (gilkit.engine.gil_monitor), a thread that
sleeps briefly and times how late it wakes, the part spent waiting for a cpu taken out (Linux
counts it). Each round also makes the call beside it, at the probe's switch interval and at
CPython's default one: a releasing call keeps it waiting for nothing; pure Python keeps it
waiting about a switch interval at each wake, so its waits grow with the interval; a call that
holds the GIL for part of its time (native code that releases it only around its loop) keeps it
waiting for that part, whatever the interval. Where the kernel counts cpu waits, every round is
judged so, busy machine or not; elsewhere only rounds with two free cpus are.

Rounds are measured until `repeat` of them could be judged and two thirds of those agree, or
until the time budget ends (the rounds are short: a busy machine gets more of them); the
verdict's figures are the medians over the agreeing rounds. Otherwise it says that it cannot
judge, and how many judged rounds it had and needed.
"""

from __future__ import annotations

import functools
import hashlib
import math
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from gilkit.engine.gil_monitor import GilMonitor, run_queue_wait_s
from gilkit.host import extensions as compiled
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import free_threaded_build, gil_enabled
from gilkit.model.units import format_ratio, format_seconds

# Judged rounds per probe. Each round gives a verdict, or none (see round_verdict); the probe's
# is the one that at least MIN_AGREEMENT of the judged rounds gave, once DEFAULT_REPEAT rounds
# were judged, and its figures are the medians over those rounds. Until then rounds go on, for
# DEFAULT_BUDGET_S at most (after the first DEFAULT_REPEAT), so that the verdict rests on more
# rounds exactly when the machine is busy or noisy.
DEFAULT_REPEAT = 3
MIN_AGREEMENT = 2 / 3
DEFAULT_BUDGET_S = 10.0

# The switch interval during a probe (CPython's default: 5 ms). Where the probe is blurred, it
# is by about one interval per call: a thread waiting for the GIL asks for it only after one
# interval, and a call that ends a `nogil` block waits up to one interval to get it back. A
# shorter interval makes that blur smaller, so that shorter calls can be judged.
PROBE_SWITCH_INTERVAL_S = 0.001

# Calls shorter than this many switch intervals are reported as too short: one interval of
# blur would then move the figures by more than 5%.
MIN_CALL_INTERVALS = 20
MIN_CALL_S = MIN_CALL_INTERVALS * PROBE_SWITCH_INTERVAL_S

# How long the counter's solo rate is measured, between the calls it runs alongside: many
# thousands of increments (a precise rate) and many switch intervals, for little run time.
SOLO_WINDOW_S = 0.02

# The counter can count during a call that holds the GIL only at its edges (at most an
# interval each: 0.1 of the shortest call judged, ~0 in practice); taking turns gives it ~0.5.
HOLDS_MAX_FRACTION = 0.15

# With two free cpus, a call that releases the GIL leaves the counter ~1.0 of its pace (less
# when the call takes the GIL back often: each time it waits up to a switch interval while
# the counter runs); taking turns leaves it ~0.5 (+- 0.1 of noise).
RELEASES_MIN_FRACTION = 0.6

# parallelism = fraction + 1/slowdown, how much of their solo speed the counter and the call
# kept, summed: ~1 for threads that take turns on one GIL, ~2 for a release. The median over
# rounds of this one figure is judged, not a sum of two medians that may come from different
# rounds; the threshold is halfway.
RELEASES_MIN_PARALLELISM = 1.5

# On a busy machine the figures above do not hold: a release can read as sharing (both
# threads kept on one cpu) and even sharing as a release (two threads that take turns, one
# always waking up, get more of a contended cpu than one thread alone does). So each round
# also measures a call known to release the GIL (as long as the call, at most
# REFERENCE_MAX_S) just before and just after the call; a round where either fell short of
# a parallelism of FREE_CPU_MIN_PARALLELISM (~2 with two free cpus, ~1 with one, ~1.4 when
# two other busy processes share two cpus) gives no verdict, and counts against the
# agreement. So does a round whose figures load distorted in a way the references missed:
# loads that come and go can make single rounds of pure Python read as a release. A round
# that reads as holding needs no free cpu: no load makes the counter run while the call holds
# the GIL.
REFERENCE_MAX_S = 0.05
FREE_CPU_MIN_PARALLELISM = 1.6

# The GIL monitor beside the call, as the share of the monitored time it waited for the GIL
# (figures from this 2-cpu machine, idle and beside a busy loop alike): a release reads under
# 0.05, pure Python 0.13-0.18 at the probe's 1 ms switch interval and 0.44-0.50 at 5 ms, a call
# that holds the GIL half of its time 0.42-0.48 at both, a hold 0.9. A call that keeps the
# monitor waiting less than RELEASES_MAX_WAIT releases the GIL (unless it waited for the GIL
# itself, CALL_SLOWED); one whose waits grow TURNS_GROWTH-fold or more with the switch interval
# takes turns as pure Python does; one whose waits do not holds it for part of its time.
RELEASES_MAX_WAIT = 0.1
TURNS_GROWTH = 1.8
LONG_SWITCH_INTERVAL_S = 0.005
# The monitor's waits tell nothing where the call's own thread waited for a cpu while it held
# the GIL: the monitor then waits for a holder that is not running. Beside one busy loop on 2
# cpus the call's thread waits under 0.03 of its time; beside two, 0.4-0.5, and pure Python
# read 0.34 at 1 ms and 0.53 at 5 ms: a part-time hold. Past CALLER_CPU_WAIT (where the kernel
# counts cpu waits) the round's monitor figures are left out.
CALLER_CPU_WAIT = 0.05


class Verdict(str, Enum):
    RELEASES = "releases"  # other threads run at full speed and do not slow the call
    HOLDS = "holds"  # other Python threads stop until the call returns
    SHARES = "shares"  # the call and other threads take turns on the GIL (pure Python)
    PARTLY = "releases-partly"  # releases it for part of its time, holds it for the rest
    TOO_SHORT = "too-short"  # shorter than MIN_CALL_S: not judged
    NO_GIL = "no-gil"  # free-threaded interpreter with the GIL disabled: nothing to release
    CANNOT_JUDGE = "cannot-judge"  # one usable (or free) cpu: releasing and sharing look alike

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Round:
    alone_s: float  # the call with no other thread running
    with_counter_s: float  # the call while the counter thread runs
    fraction: float  # counter rate during the call / its solo rate next to that call
    references: tuple[Round, ...] = ()  # the reference call's, just before and just after
    # The GIL monitor's waits beside the call (share of the time), at the probe's switch
    # interval and at LONG_SWITCH_INTERVAL_S; None where not measured.
    gil_wait: float | None = None
    gil_wait_long: float | None = None
    # Whether the call's thread waited for a cpu beside the monitor (CALLER_CPU_WAIT): more
    # threads than cpus, where the monitor's waits (left out, None) and the counter's figures
    # both mislead (pure Python read as a part-time hold, or as a release); only a hold,
    # which no load fakes, is judged.
    holder_queued: bool = False

    @property
    def slowdown(self) -> float:
        return self.with_counter_s / self.alone_s

    @property
    def parallelism(self) -> float:
        return parallelism(self.fraction, self.slowdown)

    @property
    def free_cpus(self) -> bool:
        """Whether the references ran alongside the counter (True without references)."""
        return all(ref.parallelism >= FREE_CPU_MIN_PARALLELISM for ref in self.references)


@dataclass(frozen=True)
class GilProbe:
    verdict: Verdict
    reason: str  # why this verdict, in one sentence without the figures
    call_s: float  # median duration of the call alone
    fraction: float | None  # median over the rounds used; None when not measured
    slowdown: float | None  # median over the rounds used; None when not measured
    parallelism: float | None  # median over the rounds used of fraction + 1/slowdown
    rounds: tuple[Round, ...]  # every round measured
    n_used: int  # how many of them the verdict and the medians come from
    gil_enabled: bool
    free_threaded_build: bool
    usable_cpus: int
    # Medians over the rounds used of the GIL monitor's waits (see Round); None if not measured.
    gil_wait: float | None = None
    gil_wait_long: float | None = None

    @property
    def released(self) -> bool:
        return self.verdict is Verdict.RELEASES

    @property
    def reference_parallelism(self) -> float | None:
        """Median parallelism of the call known to release the GIL: ~2 with two free cpus."""
        seen = [ref.parallelism for r in self.rounds for ref in r.references]
        return statistics.median(seen) if seen else None

    @property
    def others_slowdown(self) -> float | None:
        """How many times slower another Python thread ran during the call than alone (inf:
        it never ran); None when not measured."""
        if self.fraction is None:
            return None
        return 1 / self.fraction if self.fraction > 0 else math.inf

    def headline(self) -> str:
        """The verdict's reason, led by what taking turns cost other threads and, where it
        paid most, the call itself (a loop that takes the GIL back often waits for it)."""
        slowdown = self.others_slowdown
        if self.verdict is Verdict.SHARES and slowdown is not None:
            others = f"other threads ran {format_ratio(slowdown)} slower while it ran"
            if self.slowdown is not None and self.slowdown >= CALL_SLOWED:
                others += f", and it ran {format_ratio(self.slowdown)} slower beside them"
            return f"{others}: {self.reason}"
        return self.reason

    def figures(self) -> str:
        call = f"call {format_seconds(self.call_s)} alone"
        if self.fraction is None or self.slowdown is None or self.parallelism is None:
            return call
        waits = ""
        if self.gil_wait is not None and self.gil_wait_long is not None:
            waits = (
                f"GIL waits {self.gil_wait:.2f} at a {PROBE_SWITCH_INTERVAL_S * 1e3:.0f} ms and "
                f"{self.gil_wait_long:.2f} at a {LONG_SWITCH_INTERVAL_S * 1e3:.0f} ms switch "
                "interval, "
            )
        return (
            f"counter fraction {self.fraction:.2f}, call slowdown {self.slowdown:.2f}×, "
            f"parallelism {self.parallelism:.2f}, {waits}{call} "
            f"(medians of {self.n_used} of {len(self.rounds)} rounds)"
        )

    def __str__(self) -> str:
        return f"{self.verdict}: {self.headline()}; {self.figures()}"


# From this slowdown beside the counter on, a call that shares the GIL is said to pay for it:
# two that take turns fairly each run about 2x slower.
CALL_SLOWED = 3.0


def parallelism(fraction: float, slowdown: float) -> float:
    """How much of their solo speed the counter and the call kept, summed."""
    return fraction + 1 / slowdown


def judge(fraction: float, parallelism: float) -> Verdict:
    """The verdict from the figures of an interpreter with a GIL, on two free cpus."""
    if fraction < HOLDS_MAX_FRACTION:
        return Verdict.HOLDS
    if fraction >= RELEASES_MIN_FRACTION and parallelism >= RELEASES_MIN_PARALLELISM:
        return Verdict.RELEASES
    return Verdict.SHARES


def medians(rounds: Sequence[Round]) -> tuple[float, float, float]:
    """(fraction, slowdown, parallelism), each the median over rounds."""
    return (
        statistics.median(r.fraction for r in rounds),
        statistics.median(r.slowdown for r in rounds),
        statistics.median(r.parallelism for r in rounds),
    )


REASONS = {
    Verdict.RELEASES: "the call releases the GIL: another Python thread ran alongside it, "
    "and the two did more than one thread's worth of work at once",
    Verdict.HOLDS: "the call holds the GIL: another Python thread stopped until it returned",
    Verdict.SHARES: "the call and another Python thread took turns on the GIL, as pure Python "
    "does (or native code that takes the GIL back often)",
    Verdict.NO_GIL: "this interpreter runs without a GIL (free-threaded build, GIL disabled): "
    "every call runs alongside other threads, there is nothing to release",
}


def partly_reason(held: float) -> str:
    return (
        f"the call releases the GIL for part of its time only: it held it about {held:.0%} of "
        "its time, when other Python threads waited for it however short the switch interval "
        "(pure Python's turn-taking makes them wait about one interval)"
    )


def too_short_reason(call_s: float) -> str:
    return (
        f"the call lasted {format_seconds(call_s)}, too short to judge: give it at least "
        f"{format_seconds(MIN_CALL_S)} of work (100 ms or more is safer)"
    )


def one_cpu_reason(cpus: int) -> str:
    return (
        f"{cpus} usable cpu: a call that releases the GIL and one that takes turns with it "
        "both leave another thread part of that cpu"
    )


def monitor_verdict(wait: float, wait_long: float, slowdown: float) -> Verdict:
    """The verdict from the GIL monitor's waits beside the call (see RELEASES_MAX_WAIT), for a
    call that did not stop the counter."""
    if wait < RELEASES_MAX_WAIT and wait_long < RELEASES_MAX_WAIT:
        # Nobody waited for the GIL; a call much slower beside the counter waited for it
        # itself, taking it back often (a nogil loop with a `with gil` block inside). Both
        # intervals: beside a busy loop, pure Python once read 0.06 at 1 ms (the monitor's
        # lateness counted as waits for a cpu) but 0.43 at 5 ms.
        return Verdict.SHARES if slowdown >= CALL_SLOWED else Verdict.RELEASES
    if wait_long >= TURNS_GROWTH * wait:
        return Verdict.SHARES
    return Verdict.PARTLY


def round_verdict(r: Round, cpu_waits_counted: bool = True) -> Verdict | None:
    """This round's verdict; None when it could not be judged: no two free cpus, and neither
    a GIL monitor whose cpu waits the kernel counts (`cpu_waits_counted`)."""
    verdict = judge(r.fraction, r.parallelism)
    if verdict is Verdict.HOLDS:
        return verdict  # no load makes the counter run while the call holds the GIL
    if r.holder_queued:
        return None  # more threads than cpus: the counter's figures and the monitor's mislead
    if r.gil_wait is None or r.gil_wait_long is None:
        return verdict if r.free_cpus else None
    if not (r.free_cpus or cpu_waits_counted):
        return None  # waiting for a cpu would read as waiting for the GIL
    return monitor_verdict(r.gil_wait, r.gil_wait_long, r.slowdown)


def votes(rounds: Sequence[Round], cpu_waits_counted: bool = True) -> Counter[Verdict | None]:
    return Counter(round_verdict(r, cpu_waits_counted) for r in rounds)


def agreed(
    rounds: Sequence[Round], needed: int = DEFAULT_REPEAT, cpu_waits_counted: bool = True
) -> Verdict | None:
    """The verdict, once `needed` rounds were judged and MIN_AGREEMENT of those agree."""
    counted = votes(rounds, cpu_waits_counted)
    counted.pop(None, None)
    judged = sum(counted.values())
    if judged < needed:
        return None
    (verdict, n), *_ = counted.most_common(1)
    return verdict if n >= MIN_AGREEMENT * judged else None


def disagreement_reason(
    rounds: Sequence[Round], needed: int = DEFAULT_REPEAT, cpu_waits_counted: bool = True
) -> str:
    counted = votes(rounds, cpu_waits_counted)
    judged = len(rounds) - counted[None]
    seen = [ref.parallelism for r in rounds for ref in r.references]
    check = (
        f"; a call known to release the GIL reached a parallelism of "
        f"{statistics.median(seen):.2f} (~2 on two free cpus, {FREE_CPU_MIN_PARALLELISM} needed)"
        if seen
        else ""
    )
    if judged < needed:
        queued = sum(r.holder_queued for r in rounds)
        why = (
            f"in {queued} the call itself waited for a cpu (more busy threads than cpus)"
            if queued
            else "two cpus were seldom free (a busy machine?)"
        )
        return (
            f"only {judged} of {len(rounds)} rounds could be judged, {needed} needed: {why}{check}"
        )
    counts = ", ".join(f"{n} read {verdict}" for verdict, n in counted.most_common() if verdict)
    return f"the {judged} judged rounds did not agree (a noisy machine?): {counts}{check}"


def decide(
    rounds: Sequence[Round],
    cpus: int,
    needed: int = DEFAULT_REPEAT,
    cpu_waits_counted: bool = True,
) -> tuple[Verdict, str, Sequence[Round]]:
    """The verdict, its reason and the rounds it rests on; see MIN_AGREEMENT."""
    if cpus < 2:
        return Verdict.CANNOT_JUDGE, one_cpu_reason(cpus), rounds
    verdict = agreed(rounds, needed, cpu_waits_counted)
    if verdict is None:
        return Verdict.CANNOT_JUDGE, disagreement_reason(rounds, needed, cpu_waits_counted), rounds
    used = [r for r in rounds if round_verdict(r, cpu_waits_counted) is verdict]
    if verdict is Verdict.PARTLY:
        return verdict, partly_reason(statistics.median(r.gil_wait or 0.0 for r in used)), used
    return verdict, REASONS[verdict], used


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


@contextmanager
def _counting() -> Iterator[_Counter]:
    """A counter thread, already counting; stopped and joined on exit."""
    counter = _Counter()
    counter.start()
    try:
        while counter.count == 0:
            time.sleep(PROBE_SWITCH_INTERVAL_S)
        yield counter
    finally:
        counter.running = False
        counter.join()


def _solo_window(counter: _Counter) -> tuple[int, float]:
    """(increments, seconds) of the counter while this thread sleeps."""
    first, began = counter.count, time.perf_counter()
    time.sleep(SOLO_WINDOW_S)
    return counter.count - first, time.perf_counter() - began


def time_call(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def time_with_counter(*calls: Callable[[], object]) -> list[tuple[float, float]]:
    """[(duration, fraction)] of each call, one after another, while a counter thread runs.

    The counter's solo rate is measured before, between and after the calls, so that a
    machine whose speed drifts compares the counter with itself at the same moment.
    """
    spans = []
    with _counting() as counter:
        windows = [_solo_window(counter)]
        for call in calls:
            first = counter.count
            elapsed = time_call(call)
            spans.append((elapsed, counter.count - first))
            windows.append(_solo_window(counter))
    solo = sum(n for n, _ in windows) / sum(seconds for _, seconds in windows)
    return [(elapsed, during / elapsed / solo) for elapsed, during in spans]


def measure_round(
    call: Callable[[], object],
    reference: Callable[[], object] | None,
    alone_first: bool,
    alone_s: float | None = None,
) -> Round:
    """One round: the call (and the reference) alone, and with the counter, in either order.

    With the counter, the reference runs just before and just after the call. `alone_s`
    reuses a call alone already timed.
    """

    def time_alone() -> tuple[float, float]:
        call_s = time_call(call) if alone_s is None else alone_s
        return call_s, 0.0 if reference is None else time_call(reference)

    alone = time_alone() if alone_first else None
    spans = time_with_counter(*([call] if reference is None else [reference, call, reference]))
    call_s, reference_s = alone or time_alone()
    wait, wait_long, queued = gil_waits(call)
    if reference is None:
        return Round(call_s, *spans[0], (), wait, wait_long, queued)
    before, during, after = spans
    references = (Round(reference_s, *before), Round(reference_s, *after))
    return Round(call_s, *during, references, wait, wait_long, queued)


def gil_waits(call: Callable[[], object]) -> tuple[float | None, float | None, bool]:
    """The GIL monitor's waits beside the call, at the probe's switch interval and at
    LONG_SWITCH_INTERVAL_S, and whether they were left out (None) because the call's thread
    waited for a cpu (CALLER_CPU_WAIT)."""
    short = monitored(call)
    with switch_interval(LONG_SWITCH_INTERVAL_S):
        long = monitored(call)
    return (None, None, True) if short is None or long is None else (short, long, False)


def monitored(call: Callable[[], object]) -> float | None:
    """The share of the call's time the GIL monitor waited for the GIL, or None where the
    call's own thread waited for a cpu past CALLER_CPU_WAIT of it."""
    queued_before, began = run_queue_wait_s(), time.perf_counter()
    with GilMonitor() as monitor:
        call()
    elapsed, queued_after = time.perf_counter() - began, run_queue_wait_s()
    if queued_before is not None and queued_after is not None:
        if queued_after - queued_before > CALLER_CPU_WAIT * elapsed:
            return None
    return monitor.fraction


def measure_rounds(
    call: Callable[[], object],
    reference: Callable[[], object] | None,
    enough: Callable[[Sequence[Round]], bool],
    repeat: int,
    budget_s: float,
    first_alone_s: float | None = None,
    on_round: Callable[[int, int], None] = lambda done, planned: None,
) -> tuple[Round, ...]:
    """Rounds, alone first then last (ABBA) against drift, until `enough` of them, or once
    `repeat` were measured, until another would end past `budget_s`; the first may reuse a
    call alone already timed. on_round(done, planned) after each."""
    rounds: list[Round] = []
    began = time.monotonic()
    while True:
        alone_s = first_alone_s if not rounds else None
        rounds.append(measure_round(call, reference, len(rounds) % 2 == 0, alone_s))
        spent, done = time.monotonic() - began, len(rounds)
        finished = enough(rounds) or (done >= repeat and spent * (done + 1) / done > budget_s)
        on_round(done, done if finished else max(repeat, done + 1))
        if finished:
            return tuple(rounds)


def round_s(call_s: float, cpus: int = 2) -> float:
    """One round's time: the call alone, with the counter (up to twice as long, shared) and
    twice beside the GIL monitor; the reference call alone and twice with the counter; the
    counter's solo windows."""
    reference_s = min(call_s, REFERENCE_MAX_S) if cpus >= 2 else 0.0
    return 5 * call_s + 3 * reference_s + 3 * SOLO_WINDOW_S


def estimated_s(call_s: float, repeat: int = DEFAULT_REPEAT, cpus: int = 2) -> float:
    """How long probing a call of `call_s` takes where the first `repeat` rounds agree; a
    busy machine takes more rounds, up to the budget."""
    return repeat * round_s(call_s, cpus)


def _sized(make: Callable[[int], Callable[[], object]], seconds: float) -> Callable[[], object]:
    """make(n), with n grown until a trial lasts 5 ms, then scaled to last about `seconds`."""
    n = 1024
    while (trial_s := time_call(make(n))) < 0.005:
        n *= 4
    return make(max(1, round(n * seconds / trial_s)))


def reference_call(seconds: float) -> Callable[[], object] | None:
    """A CPU-bound call known to release the GIL, lasting about `seconds`; None if none here."""
    if compiled.unavailable_reason("_native") is None:
        squares = compiled.module("_native").squares_nogil
        return _sized(lambda n: functools.partial(squares, 0, 1024 * n, 1), seconds)
    if getattr(hashlib.pbkdf2_hmac, "__module__", "") == "_hashlib":  # OpenSSL's releases it
        pbkdf2 = hashlib.pbkdf2_hmac
        return _sized(lambda n: functools.partial(pbkdf2, "sha256", b"gil", b"kit", n), seconds)
    return None


def probe(
    fn: Callable[..., object],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    repeat: int = DEFAULT_REPEAT,
    budget_s: float = DEFAULT_BUDGET_S,
    on_round: Callable[[int, int], None] | None = None,
) -> GilProbe:
    """Does fn(*args, **kwargs) release the GIL? It is called in this thread, four times a
    round, until `repeat` rounds were judged and agree (see the module's docstring), for
    `budget_s` in all at most, though never fewer than `repeat` rounds; on_round(done,
    planned) after each round, for a progress bar (planned grows while the rounds fall short).

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

    def unjudged(
        verdict: Verdict, reason: str, call_s: float, rounds: tuple[Round, ...] = ()
    ) -> GilProbe:
        return record(verdict, reason, call_s, None, None, None, rounds, 0)

    with switch_interval(PROBE_SWITCH_INTERVAL_S):
        first = time_call(call)
        if not gil or first < MIN_CALL_S:
            call_s = statistics.median([first] + [time_call(call) for _ in range(repeat - 1)])
            if not gil:
                return unjudged(Verdict.NO_GIL, REASONS[Verdict.NO_GIL], call_s)
            if call_s < MIN_CALL_S:
                return unjudged(Verdict.TOO_SHORT, too_short_reason(call_s), call_s)
        reference = reference_call(min(first, REFERENCE_MAX_S)) if cpus >= 2 else None
        counted = run_queue_wait_s() is not None

        def enough(rounds: Sequence[Round]) -> bool:
            if cpus < 2:  # measured, never judged
                return len(rounds) >= repeat
            return agreed(rounds, repeat, counted) is not None

        rounds = measure_rounds(
            call, reference, enough, repeat, budget_s, first, on_round or (lambda *_: None)
        )
    call_s = statistics.median(r.alone_s for r in rounds)
    if call_s < MIN_CALL_S:  # only the first call was long enough (a cold start)
        return unjudged(Verdict.TOO_SHORT, too_short_reason(call_s), call_s, rounds)
    verdict, reason, used = decide(rounds, cpus, repeat, counted)
    waits = [r.gil_wait for r in used if r.gil_wait is not None]
    waits_long = [r.gil_wait_long for r in used if r.gil_wait_long is not None]
    return record(
        verdict,
        reason,
        call_s,
        *medians(used),
        rounds,
        len(used),
        gil_wait=statistics.median(waits) if waits else None,
        gil_wait_long=statistics.median(waits_long) if waits_long else None,
    )


def describe(fn: Callable[..., object]) -> str:
    """The name to find `fn` under: module.name where the module has it by that name (a
    pybind11 function's qualified name is its internal record's), else its qualified name."""
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__name__", None)
    if module and name and getattr(sys.modules.get(module), name, None) is fn:
        return f"{module}.{name}"
    qualname = getattr(fn, "__qualname__", None) or name or repr(fn)
    return f"{module}.{qualname}" if module else qualname


def releases_gil(fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> GilProbe:
    """Probe fn(*args, **kwargs) with DEFAULT_REPEAT rounds; `.verdict` says what it does."""
    return probe(fn, args, kwargs)
