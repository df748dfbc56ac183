"""Statistics over raw cell figures: pure functions, computed when results are read."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gilkit.kernels import KERNELS
from gilkit.results import CellRecord

Key = tuple[str, str, str, int]  # kernel, impl, runner, workers

# A cell whose times spread more than this (standard deviation over mean) is flagged noisy:
# pyperf's threshold, above which it warns that a benchmark is unstable.
NOISY_CV = 0.10


@dataclass(frozen=True)
class Spread:
    median: float
    minimum: float
    maximum: float
    iqr: float  # interquartile range; 0 with fewer than two values
    cv: float  # coefficient of variation: standard deviation / mean

    @property
    def noisy(self) -> bool:
        return self.cv > NOISY_CV


def spread(values: Sequence[float]) -> Spread:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Spread(values[0], values[0], values[0], 0.0, 0.0)
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    cv = statistics.stdev(values) / mean if mean > 0 else 0.0
    return Spread(statistics.median(values), min(values), max(values), q3 - q1, cv)


@dataclass(frozen=True)
class CellStats:
    time: Spread
    ideal: int  # min(workers, usable cpus): the best speedup possible
    speedup_vs_serial: float | None  # against the same impl on the serial runner, 1 worker
    speedup_vs_python: float | None  # against pure Python on the serial runner, per unit of work
    cpu_utilisation: float | None  # CPU seconds / (wall seconds x workers), median over calls
    gil_contention: float | None  # share of a monitored call spent waiting for the GIL
    monitor_cost: float | None  # monitored call time / median time: what watching cost

    @property
    def median_s(self) -> float:
        return self.time.median

    @property
    def efficiency(self) -> float | None:
        """Speedup over the same impl run serially, as a fraction of the ideal."""
        return None if self.speedup_vs_serial is None else self.speedup_vs_serial / self.ideal


def work(kernel: str, size: int) -> float:
    """Units of work in a call; max(1, ...) keeps an empty call from dividing by zero."""
    units = KERNELS[kernel].work(size) if kernel in KERNELS else float(size)
    return max(units, 1.0)


def ideal_speedup(record: CellRecord, n_cpus: int) -> int:
    """min(workers, usable cpus) for CPU-bound kernels; workers for waiting (I/O) ones."""
    kernel = KERNELS.get(record.kernel)
    if kernel is not None and not kernel.cpu_bound:
        return max(1, record.n_workers)
    return max(1, min(record.n_workers, n_cpus))


def serial_key(kernel: str, impl: str) -> Key:
    return (kernel, impl, "serial", 1)


def paired_speedup(baseline: CellRecord, record: CellRecord) -> float | None:
    """How many times faster `record` does a unit of work than `baseline`.

    The median of the ratios taken round by round: the two calls of a round ran seconds
    apart, so a drift in the machine's speed that outlasts a round hits both and cancels.
    Per unit of work, so that cells of different sizes compare (Python runs a smaller n).
    Records with unequal rounds (one was added later) fall back to the ratio of medians.
    """
    scale = work(record.kernel, record.size) / work(baseline.kernel, baseline.size)
    pairs = list(zip(baseline.times_s, record.times_s, strict=False))
    if len(baseline.times_s) != len(record.times_s):
        pairs = [(statistics.median(baseline.times_s), statistics.median(record.times_s))]
    ratios = [base * scale / time for base, time in pairs if time > 0]
    return statistics.median(ratios) if ratios else None


def cpu_utilisation(record: CellRecord) -> float | None:
    """How busy the workers were: ~1 when all compute, ~1/workers when the GIL serialises."""
    ratios = [
        (parent + workers) / (wall * record.n_workers)
        for wall, parent, workers in zip(
            record.times_s, record.cpu_parent_s, record.cpu_workers_s, strict=False
        )
        if wall > 0
    ]
    return statistics.median(ratios) if ratios else None


def cell_stats(records: Iterable[CellRecord], n_cpus: int) -> dict[Key, CellStats]:
    """Stats of every record that has times."""
    timed = {r.key: r for r in records if r.times_s and r.error is None}
    spreads = {key: spread(r.times_s) for key, r in timed.items()}

    def ratio(baseline: Key, key: Key) -> float | None:
        base = timed.get(baseline)
        return None if base is None else paired_speedup(base, timed[key])

    def monitor_cost(key: Key, record: CellRecord) -> float | None:
        if record.monitored_time_s is None or spreads[key].median <= 0:
            return None
        return record.monitored_time_s / spreads[key].median

    return {
        key: CellStats(
            time=spreads[key],
            ideal=ideal_speedup(r, n_cpus),
            speedup_vs_serial=ratio(serial_key(r.kernel, r.impl), key),
            speedup_vs_python=ratio(serial_key(r.kernel, "python"), key),
            cpu_utilisation=cpu_utilisation(r),
            gil_contention=r.gil_contention,
            monitor_cost=monitor_cost(key, r),
        )
        for key, r in timed.items()
    }


def flag_noisy(records: Iterable[CellRecord]) -> None:
    """Mark each timed record noisy or not, so the JSON says it too."""
    for record in records:
        if len(record.times_s) >= 2:
            record.noisy = spread(record.times_s).noisy


def fastest(stats: dict[Key, CellStats], kernel: str) -> Key | None:
    keys = [key for key in stats if key[0] == kernel]
    return min(keys, key=lambda key: stats[key].median_s, default=None)
