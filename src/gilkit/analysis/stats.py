"""Statistics over raw cell figures: pure functions, computed when results are read."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gilkit.model.facts import IDEAL_CPUS, ideal_speedup
from gilkit.model.results import CellRecord, RunResult

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
    cv: float  # coefficient of variation: standard deviation / mean; 0 with fewer than two
    n: int  # how many values

    @property
    def known(self) -> bool:
        """Whether there is a spread at all: one value tells nothing of its noise, so its
        0 is no evidence of steadiness, of a tie or of a speedup's margin."""
        return self.n >= 2

    @property
    def noisy(self) -> bool:
        return self.cv > NOISY_CV


def spread(values: Sequence[float]) -> Spread:
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Spread(values[0], values[0], values[0], 0.0, 0.0, len(values))
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    cv = statistics.stdev(values) / mean if mean > 0 else 0.0
    return Spread(statistics.median(values), min(values), max(values), q3 - q1, cv, len(values))


@dataclass(frozen=True)
class CellStats:
    time: Spread
    ideal: int  # min(workers, usable cpus): the best speedup possible
    capacity: float | None  # what this many busy native threads reach here (gilkit.host.capacity)
    speedup_vs_serial: float | None  # against the same impl on the serial runner, 1 worker
    speedup_vs_python: float | None  # against pure Python on the serial runner, per unit of work
    cpu_utilisation: float | None  # CPU seconds / (wall seconds x workers), median over calls
    gil_contention: float | None  # share of a monitored call spent waiting for the GIL
    monitor_cost: float | None  # monitored call time / median time: what watching cost
    taken: Taken | None  # what others took during the calls (None: not counted)

    @property
    def interference(self) -> float | None:
        """The share of the cpus other processes took during the calls."""
        return None if self.taken is None else self.taken.others

    @property
    def steal(self) -> float | None:
        """The share of the cpus the hypervisor took during the calls."""
        return None if self.taken is None else self.taken.steal

    @property
    def median_s(self) -> float:
        return self.time.median

    @property
    def efficiency(self) -> float | None:
        """Speedup over the same impl run serially, as a fraction of the ideal."""
        return None if self.speedup_vs_serial is None else self.speedup_vs_serial / self.ideal

    @property
    def of_capacity(self) -> float | None:
        """Speedup over the same impl run serially, as a fraction of what the machine gives."""
        if self.speedup_vs_serial is None or not self.capacity:
            return None
        return self.speedup_vs_serial / self.capacity

    @property
    def serial_fraction(self) -> float | None:
        """Karp-Flatt's serial fraction against the ideal (p = the kernel's ideal speedup)."""
        return karp_flatt(self.speedup_vs_serial, self.ideal)

    @property
    def interfered(self) -> bool:
        return self.taken is not None and self.taken.interfered


def work(kernel: dict[str, Any] | None, size: int) -> float:
    """Units of work in a call of `size`, from the file's kernel description (n without one);
    max(1, ...) keeps an empty call from dividing by zero."""
    units = (kernel or {}).get("work", {}).get(str(size), size)
    return max(float(units), 1.0)


def serial_key(kernel: str, impl: str) -> Key:
    return (kernel, impl, "serial", 1)


def paired_speedup(
    baseline: CellRecord, record: CellRecord, kernel: dict[str, Any] | None = None
) -> float | None:
    """How many times faster `record` does a unit of work than `baseline`.

    The median of the ratios taken round by round: the two calls of a round ran seconds
    apart, so a drift in the machine's speed that outlasts a round hits both and cancels.
    Per unit of work, so that cells of different sizes compare (Python runs a smaller n).
    Records with unequal rounds (one was added later) fall back to the ratio of medians.
    """
    ratios = paired_ratios(baseline, record, kernel)
    return statistics.median(ratios) if ratios else None


def paired_ratios(
    baseline: CellRecord, record: CellRecord, kernel: dict[str, Any] | None = None
) -> list[float]:
    """The round-by-round ratios whose median is paired_speedup: their least and most are
    the speedup's spread."""
    if not baseline.times_s or not record.times_s:
        return []
    scale = work(kernel, record.size) / work(kernel, baseline.size)
    pairs = list(zip(baseline.times_s, record.times_s, strict=False))
    if len(baseline.times_s) != len(record.times_s):
        pairs = [(statistics.median(baseline.times_s), statistics.median(record.times_s))]
    return [base * scale / time for base, time in pairs if time > 0]


def cpu_utilisation(record: CellRecord) -> float | None:
    """How busy the workers were: ~1 when all compute, ~1/workers when the GIL serialises.
    At most 1 a call: the cpu clocks are read just outside the wall clock, and a pool's
    workers time their own tasks, so a short call of busy workers reads a little over 1."""
    ratios = [
        min(1.0, (parent + workers) / (wall * record.n_workers))
        for wall, parent, workers in zip(
            record.times_s, record.cpu_parent_s, record.cpu_workers_s, strict=False
        )
        if wall > 0
    ]
    return statistics.median(ratios) if ratios else None


# From this share of the cpus' time taken by other processes and the hypervisor during a
# cell's calls, the cell is flagged and its verdict says so; from RUN_SHARE over the whole run,
# the run warns. An idle machine reads about 0-2 % (the kernel counts busy time in 10 ms
# ticks; daemons wake).
CELL_SHARE = 0.15
RUN_SHARE = 0.05
# /proc/stat counts the cpus' busy time in ticks of TICK_S, each cpu's count off by up to a
# tick at either end of a call: a tick counted during a call far shorter than it reads as
# more than all the cpus. A share counted over calls that lasted under LEAST_TICKS ticks in
# all is mostly that rounding: too short to tell, and never judged.
TICK_S = 0.01
LEAST_TICKS = 10

# The capacity loop that bounds each kind of kernel (gilkit.host.capacity); I/O has none.
CAPACITY_LOOP = {"cpu": "compute", "memory": "memory"}


def kernel_ideal(result: RunResult, kernel: str, n_workers: int) -> int:
    """The ideal speedup of `n_workers` for a kernel of the run, by the rule its file gives."""
    rule = result.kernels.get(kernel, {}).get("ideal", IDEAL_CPUS)
    return ideal_speedup(rule, n_workers, result.usable_cpus)


def capacity(times_s: dict[str, list[float]], n_workers: int) -> float | None:
    """N x one loop's median time over N loops' median time: what N workers can give here.
    Past the counts measured (the usable cpus), what the most measured gave: busy workers
    beyond the cpus only share them."""
    measured = [int(n) for n in times_s if int(n) <= n_workers]
    if not measured:
        return None
    n = max(measured)
    alone, together = times_s.get("1"), times_s.get(str(n))
    if not alone or not together:
        return None
    return n * statistics.median(alone) / statistics.median(together)


def machine_capacity(
    result: RunResult, kernel: str, n_workers: int, impl: str | None = None
) -> float | None:
    """What `n_workers` busy native threads reach on the run's machine, for what bounds the
    kernel (or its impl); None where not measured (or for I/O). Measured before the matrix and
    again after it, the mean of the two: the capacity interpolated at the run's middle."""
    known = machine_capacities(result, kernel, n_workers, impl)
    return statistics.mean(known) if known else None


def bound_of(result: RunResult, kernel: str, impl: str | None = None) -> str:
    """What limits the workers: the kernel's bound, except for pure Python, which spends tens
    of nanoseconds in the interpreter per element and so is cpu-bound where compiled code
    waits for memory (triad)."""
    bound = result.bound(kernel)
    if (
        bound == "memory"
        and impl is not None
        and result.impls.get(impl, {}).get("kind") == "python"
    ):
        return "cpu"
    return bound


def machine_capacities(
    result: RunResult, kernel: str, n_workers: int, impl: str | None = None
) -> list[float]:
    """The capacity for what bounds the kernel (or its impl), before the matrix and after it."""
    loop = CAPACITY_LOOP.get(bound_of(result, kernel, impl))
    figures = [
        capacity(measured, n_workers)
        for key in CAPACITY_KEYS
        if isinstance(measured := (result.metadata.get(key) or {}).get(loop), dict)
    ]
    return [figure for figure in figures if figure is not None]


def best_capacity(
    result: RunResult, kernel: str, n_workers: int, impl: str | None = None
) -> float | None:
    """The most any round of the capacity gave, before the matrix or after it: a speedup past
    it is one the machine was never seen to allow. (A VM's memory bandwidth moves: rounds of
    one run read 1.27-1.47x before the matrix and 1.48-1.83x after it.)"""
    loop = CAPACITY_LOOP.get(bound_of(result, kernel, impl))
    rounds: list[float] = []
    for key in CAPACITY_KEYS:
        measured = (result.metadata.get(key) or {}).get(loop)
        if isinstance(measured, dict):
            counts = [int(n) for n in measured if int(n) <= n_workers]
            if counts:
                rounds += capacity_rounds(measured, max(counts))
    return max(rounds, default=None)


# Where a result file keeps the capacity measured before the matrix, and after it.
CAPACITY_KEYS = ("capacity", "capacity_after")


@dataclass(frozen=True)
class CapacityMove:
    """The capacity's rounds before and after the matrix at one count, whose ranges do not
    overlap: the machine itself changed during the run."""

    loop: str
    n_workers: int
    before: tuple[float, float]  # the least and most of the rounds' capacities
    after: tuple[float, float]


def capacity_rounds(times_s: dict[str, list[float]], n_workers: int) -> list[float]:
    """The capacity each round gave (N x its loop alone over its N loops together)."""
    alone, together = times_s.get("1") or [], times_s.get(str(n_workers)) or []
    return [n_workers * a / t for a, t in zip(alone, together, strict=False) if t > 0]


# Ranges of capacity rounds closer than this share of their figure are one: rounds of
# 1.73-1.996x before and 2.001-2.01x after read as a move though both ended at 2.00x.
CAPACITY_GAP = 0.02


def separated(was: list[float], now: list[float]) -> bool:
    """Whether two sets of rounds lie apart, each beyond the other's range by a clear gap."""
    gap = max(min(now) - max(was), min(was) - max(now))
    return gap > CAPACITY_GAP * max(max(was), max(now))


def capacity_moves(result: RunResult) -> list[CapacityMove]:
    """Where the capacity after the matrix lies beyond the spread of its rounds before it."""
    before, after = (result.metadata.get(key) or {} for key in CAPACITY_KEYS)
    moves = []
    for loop in ("compute", "memory"):
        if not isinstance(before.get(loop), dict) or not isinstance(after.get(loop), dict):
            continue
        counts = sorted(int(n) for n in before[loop] if n != "1" and n in after[loop])
        for n in counts[-1:]:  # the most workers: where a change shows most
            was, now = capacity_rounds(before[loop], n), capacity_rounds(after[loop], n)
            if was and now and separated(was, now):
                moves.append(CapacityMove(loop, n, (min(was), max(was)), (min(now), max(now))))
    return moves


@dataclass(frozen=True)
class Taken:
    """The shares of the cpus' time that others took while gilkit measured: other processes
    (all cpus' busy time less what gilkit's process and workers used) and the hypervisor
    (steal). The one definition of interference: `gilkit run`, its judge and the claims."""

    others: float
    steal: float
    # Ticks the calls lasted, the shares' count of samples: how far they can be trusted, not
    # what was taken, so equal shares compare equal.
    ticks: float = field(default=math.inf, compare=False)

    @property
    def total(self) -> float:
        return self.others + self.steal

    @property
    def told(self) -> bool:
        """Whether the shares rest on enough ticks to be more than rounding."""
        return self.ticks >= LEAST_TICKS

    @property
    def interfered(self) -> bool:
        return self.told and self.total >= CELL_SHARE

    @property
    def who(self) -> str:
        """Which of the two took the most, in words."""
        return "the hypervisor (steal)" if self.steal > self.others else "other processes"


def taken_from(busy_s: float, own_s: float, steal_s: float, wall_s: float, n_cpus: int) -> Taken:
    """Taken from counts over `wall_s`: all cpus' busy seconds (steal apart), gilkit's own cpu
    seconds, and the seconds stolen. Each share within [0, 1], the two together at most 1:
    a tick counted during a call far shorter than it would read as more than all the cpus."""
    cpu_s = max(wall_s * n_cpus, 1e-12)
    steal = min(1.0, max(0.0, steal_s) / cpu_s)
    others = min(1.0 - steal, max(0.0, busy_s - own_s) / cpu_s)
    return Taken(others, steal, wall_s / TICK_S)


def shares_taken(records: Iterable[CellRecord], n_cpus: int) -> Taken | None:
    """What others took during the records' timed calls."""
    wall = busy = own = steal = 0.0
    for record in records:
        if record.machine_busy_s and len(record.machine_busy_s) == len(record.times_s):
            wall += sum(record.times_s)
            busy += sum(record.machine_busy_s)
            own += sum(record.cpu_parent_s) + sum(record.cpu_workers_s)
            steal += sum(record.machine_steal_s)
    if wall <= 0:
        return None
    return taken_from(busy, own, steal, wall, n_cpus)


def estimate_ratio(result: RunResult) -> float | None:
    """The matrix's wall time (its rounds of calls) over what the sizing estimated for it
    (None: no estimate, or the matrix did not finish). Files before matrix_s: the run's."""
    estimated = (result.options.get("sizing") or {}).get("estimated_s")
    took = result.metadata.get("matrix_s", result.metadata.get("run_s"))
    if not estimated or took is None:
        return None
    return float(took) / float(estimated)


# From this factor either way, the sizing's estimate of a run's time is said to have missed;
# unless both are under ESTIMATE_FLOOR_S, where a miss costs the user nothing worth a warning.
ESTIMATE_MISSED = 2.0
ESTIMATE_FLOOR_S = 10.0


def cell_stats(result: RunResult) -> dict[Key, CellStats]:
    """Stats of every cell of a run that has times."""
    timed = {r.key: r for r in result.cells if r.times_s and r.error is None}
    spreads = {key: spread(r.times_s) for key, r in timed.items()}

    def ratio(baseline: Key, key: Key) -> float | None:
        base = timed.get(baseline)
        kernel = result.kernels.get(key[0])
        return None if base is None else paired_speedup(base, timed[key], kernel)

    def monitor_cost(key: Key, record: CellRecord) -> float | None:
        if record.monitored_time_s is None or spreads[key].median <= 0:
            return None
        return record.monitored_time_s / spreads[key].median

    return {
        key: CellStats(
            time=spreads[key],
            ideal=kernel_ideal(result, r.kernel, r.n_workers),
            capacity=machine_capacity(result, r.kernel, r.n_workers, r.impl),
            speedup_vs_serial=ratio(serial_key(r.kernel, r.impl), key),
            speedup_vs_python=ratio(serial_key(r.kernel, "python"), key),
            cpu_utilisation=cpu_utilisation(r),
            gil_contention=r.gil_contention,
            monitor_cost=monitor_cost(key, r),
            taken=shares_taken([r], result.usable_cpus),
        )
        for key, r in timed.items()
    }


def karp_flatt(speedup: float | None, n_workers: int) -> float | None:
    """The experimentally determined serial fraction (Karp and Flatt, 1990):
    (1/speedup - 1/p) / (1 - 1/p) for p workers. Constant as p grows: a fixed serial part
    (Amdahl); growing with p: an overhead that grows with the workers (dispatch, contention)."""
    if speedup is None or speedup <= 0 or n_workers < 2:
        return None
    return (1 / speedup - 1 / n_workers) / (1 - 1 / n_workers)
