"""Statistics over raw cell times: pure functions, computed when results are read."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from gilkit.kernels import KERNELS
from gilkit.results import CellRecord

Key = tuple[str, str, str, int]  # kernel, impl, runner, workers


@dataclass(frozen=True)
class CellStats:
    median_s: float
    min_s: float
    max_s: float
    ideal: int  # min(workers, usable cpus): the best speedup possible
    speedup_vs_serial: float | None  # against the same impl on the serial runner, 1 worker
    speedup_vs_python: float | None  # against pure Python on the serial runner, per unit of work

    @property
    def efficiency(self) -> float | None:
        """Speedup over the same impl run serially, as a fraction of the ideal."""
        return None if self.speedup_vs_serial is None else self.speedup_vs_serial / self.ideal


def work(kernel: str, size: int) -> float:
    """Units of work in a call; max(1, ...) keeps an empty call from dividing by zero."""
    units = KERNELS[kernel].work(size) if kernel in KERNELS else float(size)
    return max(units, 1.0)


def serial_key(kernel: str, impl: str) -> Key:
    return (kernel, impl, "serial", 1)


def cell_stats(records: Iterable[CellRecord], n_cpus: int) -> dict[Key, CellStats]:
    """Stats of every record that has times."""
    timed = {r.key: r for r in records if r.times_s and r.error is None}
    medians = {key: statistics.median(r.times_s) for key, r in timed.items()}
    # Seconds per unit of work, so cells of different sizes compare (Python runs a smaller n).
    unit_times = {key: medians[key] / work(r.kernel, r.size) for key, r in timed.items()}

    def ratio(baseline: Key, key: Key) -> float | None:
        base = unit_times.get(baseline)
        return base / unit_times[key] if base is not None and unit_times[key] > 0 else None

    return {
        key: CellStats(
            median_s=medians[key],
            min_s=min(r.times_s),
            max_s=max(r.times_s),
            ideal=max(1, min(r.n_workers, n_cpus)),
            speedup_vs_serial=ratio(serial_key(r.kernel, r.impl), key),
            speedup_vs_python=ratio(serial_key(r.kernel, "python"), key),
        )
        for key, r in timed.items()
    }


def fastest(stats: dict[Key, CellStats], kernel: str) -> Key | None:
    keys = [key for key in stats if key[0] == kernel]
    return min(keys, key=lambda key: stats[key].median_s, default=None)
