"""What the machine-speed reference (gilkit.host.speed), timed before every call, and the cpu
counters read before and after a run say about the machine while it ran."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gilkit.model.results import CellRecord

# A call whose reference took this much longer than the run's fastest ran on a slowed machine.
SLOW_FACTOR = 1.25


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


def steal_share(cpu: dict[str, Any]) -> float | None:
    """The share of the run's cpu time the hypervisor took, from the cpu metadata of a run."""
    before, after = cpu.get("cpu_seconds_before"), cpu.get("cpu_seconds_after")
    if not before or not after or after["total"] <= before["total"]:
        return None
    return float((after["steal"] - before["steal"]) / (after["total"] - before["total"]))
