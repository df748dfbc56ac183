"""How fast this machine runs right now: a fixed pure-Python loop, timed before every call.

On a virtual or shared machine the host can change a cpu's speed by up to 2x for seconds at a
time (another tenant on the sibling hyperthread, a power or thermal limit), and neither the
governor, the load average nor steal time shows it. Timed before every call, the same small
loop shows when the machine itself changed speed: a noisy cell can then be told apart from
noisy work, and a comparison of two runs can say how much of a difference the machine made.
The loop costs about a millisecond per call and runs while every pool is idle.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass

from gilkit.results import CellRecord

REFERENCE_ITERATIONS = 10_000
# A call whose reference took this much longer than the run's fastest ran on a slowed machine.
SLOW_FACTOR = 1.25


def reference_loop(n: int = REFERENCE_ITERATIONS) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def time_reference() -> float:
    """Seconds for the reference loop: the best of two, so one interrupt does not count."""
    best = float("inf")
    for _ in range(2):
        began = time.perf_counter()
        reference_loop()
        best = min(best, time.perf_counter() - began)
    return best


@dataclass(frozen=True)
class HostSpeed:
    fastest_s: float  # the reference at the machine's best speed during the run
    median_s: float
    slowest_s: float
    slow_share: float  # share of calls made while the reference took SLOW_FACTOR x the fastest

    @property
    def swing(self) -> float:
        """Slowest over fastest reference: 1.0 on a steady machine."""
        return self.slowest_s / self.fastest_s

    @property
    def steady(self) -> bool:
        return self.swing <= SLOW_FACTOR


def host_speed(records: Iterable[CellRecord]) -> HostSpeed | None:
    """The machine's speed over a run, from the reference timed before each call."""
    return speed_of([t for record in records for t in record.host_reference_s])


def speed_of(times: list[float]) -> HostSpeed | None:
    """The machine's speed from reference times, wherever they were recorded."""
    if len(times) < 2:
        return None
    fastest = min(times)
    # The 95th percentile, so that a lone interrupt does not count as the machine slowing.
    slowest = statistics.quantiles(times, n=20, method="inclusive")[-1]
    slow = sum(t > SLOW_FACTOR * fastest for t in times)
    return HostSpeed(fastest, statistics.median(times), slowest, slow / len(times))


def describe(speed: HostSpeed) -> str:
    text = (
        f"machine speed: a fixed Python loop timed before each call took "
        f"{speed.fastest_s * 1e3:.2f} ms at best and {speed.slowest_s * 1e3:.2f} ms at the "
        f"95th percentile ({speed.swing:.2f}×)"
    )
    if speed.steady:
        return text + ": steady"
    return (
        f"warning: {text}; {speed.slow_share:.0%} of calls ran over {SLOW_FACTOR}× slower than "
        "the fastest: the machine itself changed speed during the run, and cells spread with it"
    )
