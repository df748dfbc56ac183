"""The judge's verdicts, each computed once from a result file: how a cell did against its
ideal, what held it back, which cells sat idle or slowed each other, which way is fastest,
and which pool's own cost weighs most. gilkit.present words them; it decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from gilkit.analysis.significance import ALPHA, p_value
from gilkit.analysis.stats import CellStats, Key, best_capacity, serial_key, work
from gilkit.model.results import CellRecord, RunResult

# Efficiency (of the ideal, or of the capacity) from which a way "scales", and cpu use from
# which the workers count as busy all along.
SCALES_EFFICIENCY = 0.8
BUSY_CPU_USE = 0.8
# GIL wait above which the GIL is named as what held a cell back.
GIL_BOUND_WAIT = 0.3
# Speedup under which a way gains nothing.
NO_GAIN_SPEEDUP = 1.15
# The share of a call that a pool's own cost takes, from which it dominates, or is noticed.
DOMINATES = 0.5
NOTICEABLE = 0.1


class Outcome(Enum):
    SCALES = "scales"
    PARTIAL_GAIN = "partial gain"
    NO_GAIN = "no gain"


class Limit(Enum):
    """What held a cell below its ideal."""

    INTERFERENCE = "other processes took the cpus"
    GIL = "the GIL serialises it"
    CONTENTION = "the threads were busy but slowed each other"
    MACHINE = "the machine's capacity"
    BUSY = "every worker was busy yet slower than alone"
    IDLE = "the workers sat idle part of the time"


def outcome(stats: CellStats) -> Outcome:
    if (stats.efficiency or 0.0) >= SCALES_EFFICIENCY:
        return Outcome.SCALES
    speedup = stats.speedup_vs_serial or 0.0
    return Outcome.NO_GAIN if speedup < NO_GAIN_SPEEDUP else Outcome.PARTIAL_GAIN


def limit(stats: CellStats, contended: bool = False, turns: bool = False) -> Limit:
    """What held a cell below its ideal, told apart by the cpu time others took, the GIL
    wait, the cpu use, the machine's measured capacity and, on a free-threaded run, whether
    its threads were busy yet slow (`contended`: slowed_each_other). `turns`: its workers
    take turns on a GIL they share (takes_gil_turns), which with no GIL wait measured (a
    run cut short) still names the GIL, not idleness."""
    wait, use = stats.gil_contention, stats.cpu_utilisation
    if stats.interfered:
        return Limit.INTERFERENCE
    if (wait is not None and wait >= GIL_BOUND_WAIT) or (wait is None and turns):
        return Limit.GIL
    if contended and use is not None:
        return Limit.CONTENTION
    if use is not None and use >= BUSY_CPU_USE:
        if stats.capacity is not None and (stats.of_capacity or 0.0) >= SCALES_EFFICIENCY:
            return Limit.MACHINE
        return Limit.BUSY
    return Limit.IDLE


def is_parallel(result: RunResult, record: CellRecord) -> bool:
    """A pool's cell, or an impl parallel inside one call."""
    return record.runner != "serial" or result.in_call_parallel(record.impl)


def shares_gil(result: RunResult, runner: str) -> bool:
    """Whether `runner`'s workers took turns on one GIL, as the file declares."""
    facts = result.runner_facts(runner)
    return facts is not None and facts.shares_gil


def shares_interpreter(result: RunResult, runner: str) -> bool:
    facts = result.runner_facts(runner)
    return facts is not None and facts.shares_interpreter


def takes_gil_turns(result: RunResult, record: CellRecord) -> bool:
    """The cell's workers share a GIL that was on, and its impl keeps it while it computes
    (pure Python, a compiled loop that holds it): they take turns."""
    shared = record.gil_enabled is not False and shares_gil(result, record.runner)
    return shared and result.takes_turns(record.kernel, record.impl)


def sat_idle(result: RunResult, record: CellRecord, stats: CellStats | None) -> bool:
    """A parallel cell below its ideal whose workers sat idle part of each call, though no GIL
    held them as far as the monitor saw (none was shared, or they hardly waited for it) and
    no other process took the cpus, and below what this machine's capacity gives: the call's
    own costs (dispatch, placing the workers on cpus), locks inside the impl or uneven parts
    held it back."""
    if stats is None or stats.interfered or not 2 <= record.n_workers <= result.usable_cpus:
        return False
    if not is_parallel(result, record) or result.bound(record.kernel) == "io":
        return False  # an I/O-bound kernel's workers wait by design: its cpu use tells nothing
    if record.gil_enabled is not False and shares_gil(result, record.runner):
        if takes_gil_turns(result, record) or (stats.gil_contention or 0.0) >= GIL_BOUND_WAIT:
            return False
    use, efficiency = stats.cpu_utilisation, stats.efficiency
    return (
        use is not None
        and use < BUSY_CPU_USE
        and efficiency is not None
        and efficiency < SCALES_EFFICIENCY
        # Near what busy native threads reach here, the machine gave no more: not idleness.
        and (stats.of_capacity is None or stats.of_capacity < SCALES_EFFICIENCY)
    )


def slowed_each_other(result: RunResult, record: CellRecord, stats: CellStats | None) -> bool:
    """A free-threaded cell whose threads were all busy, yet far from the ideal and from the
    machine's capacity, with no other process in the way: what held them back cannot be the
    GIL (it was off) but what the threads share."""
    if stats is None or record.gil_enabled is not False or record.n_workers < 2:
        return False
    if not shares_interpreter(result, record.runner) or result.in_call_parallel(record.impl):
        return False
    use, efficiency = stats.cpu_utilisation, stats.efficiency
    return (
        use is not None
        and use >= BUSY_CPU_USE
        and efficiency is not None
        and efficiency < SCALES_EFFICIENCY
        and record.n_workers <= result.usable_cpus  # past the cpus, waiting for one is expected
        and not stats.interfered  # other processes took the cpus: that explains it
        # Near what busy native threads reach here: the machine is the limit, not sharing.
        and (stats.of_capacity is None or stats.of_capacity < SCALES_EFFICIENCY)
    )


def verdict_cells(result: RunResult, stats: dict[Key, CellStats], kernel: str) -> list[CellRecord]:
    """Per parallel way (impl × runner), the cell with the most workers within the cpus."""
    chosen: dict[tuple[str, str, str | None], CellRecord] = {}
    for record in result.cells:
        if record.kernel != kernel or not is_parallel(result, record) or record.key not in stats:
            continue
        if record.n_workers > max(result.usable_cpus, 2):
            continue
        way = (record.impl, record.runner, record.start_method)
        if way not in chosen or record.n_workers > chosen[way].n_workers:
            chosen[way] = record
    return list(chosen.values())


# A GIL-holding impl in threads that share a GIL cannot gain; past this, its serial baseline
# was slow or cold, not the threads fast.
HELD_GIL_MOST = 1.3


def impossible(result: RunResult, record: CellRecord, stats: dict[Key, CellStats]) -> str | None:
    """Why a cell's speedup cannot be what the strategy gave, or None: above what the machine
    gives as many busy threads (or the ideal, where the capacity was not measured) by more
    than the two cells' spread, or above HELD_GIL_MOST for an impl that holds a GIL its
    workers share. Such a figure comes from a slow or cold serial baseline."""
    cell = stats.get(record.key)
    serial = stats.get(serial_key(record.kernel, record.impl))
    if cell is None or serial is None or cell.speedup_vs_serial is None:
        return None
    speedup = cell.speedup_vs_serial
    held = record.gil_enabled and shares_gil(result, record.runner)
    if held and result.takes_turns(record.kernel, record.impl) and speedup > HELD_GIL_MOST:
        return f"{speedup:.2f}× though the impl holds the GIL its {record.n_workers} workers share"
    if not (cell.time.known and serial.time.known):
        return None  # no spread to allow for: unjudged, and said so (format_impossible)
    # The most the capacity reached in any of its rounds, before or after the matrix; never
    # above the ideal, which a round past it (a slow solo loop) only seemed to beat.
    best = best_capacity(result, record.kernel, record.n_workers, record.impl)
    bound, what = float(cell.ideal), "the ideal"
    if best is not None and best < cell.ideal:
        bound, what = best, "the capacity"
    allowance = 1 + cell.time.cv + serial.time.cv
    if is_parallel(result, record) and speedup > bound * allowance:
        return f"{speedup:.2f}×, above {what} ({bound:.2f}×) by more than the cells' spread"
    return None


def unjudged(result: RunResult, record: CellRecord, stats: dict[Key, CellStats]) -> bool:
    """A parallel cell whose speedup impossible() could not set against the ideal or the
    capacity: it or its serial baseline had one timed call, whose spread is unknown, and a
    bound without the cells' spread would flag one noisy call as impossible."""
    cell = stats.get(record.key)
    serial = stats.get(serial_key(record.kernel, record.impl))
    if cell is None or serial is None or cell.speedup_vs_serial is None:
        return False
    return is_parallel(result, record) and not (cell.time.known and serial.time.known)


def impossible_cause(
    record: CellRecord, stats: dict[Key, CellStats], remedy: str = "rerun, or raise --warmup"
) -> str:
    """What explains an impossible speedup: other processes (or the hypervisor) that held cpus
    during the cell or its serial baseline, which more threads win a larger share of, the
    scheduler sharing the cpus per thread; else a slow or cold serial baseline (`remedy`: what
    the command that measured it offers)."""
    for key in (record.key, serial_key(record.kernel, record.impl)):
        cell = stats.get(key)
        if cell is not None and cell.taken is not None and cell.interfered:
            return (
                f"{cell.taken.who} held cpus meanwhile, and {record.n_workers} workers won a "
                "larger share of them than one did (the scheduler shares the cpus per thread), "
                "not the strategy; rerun on a quiet machine"
            )
    return f"its serial baseline was slow or cold, not this cell fast; {remedy}"


# Where a benchmark file has no spread of the serial cell: the allowance above the ideal.
BENCHMARK_ALLOWANCE = 1.25


def impossible_benchmark(info: dict[str, object]) -> str | None:
    """impossible() for a pytest-benchmark record, from what gilkit's suite keeps in its
    extra_info (speedup_vs_serial, ideal_speedup, holds_shared_gil, gil_enabled)."""
    speedup, ideal = info.get("speedup_vs_serial"), info.get("ideal_speedup")
    if not isinstance(speedup, (int, float)):
        return None
    if info.get("holds_shared_gil") and info.get("gil_enabled") and speedup > HELD_GIL_MOST:
        return f"{speedup:.2f}× though the impl holds the GIL its workers share"
    if isinstance(ideal, (int, float)) and speedup > ideal * BENCHMARK_ALLOWANCE:
        return f"{speedup:.2f}×, above the ideal ({ideal}×)"
    return None


@dataclass(frozen=True)
class Fastest:
    key: Key  # the cell with the least median time per unit of work
    tied_with: tuple[Key, ...]  # cells its repeats cannot tell apart from it
    # Cells that it or they had one timed call: no spread, so neither tied nor untied.
    untold: tuple[Key, ...] = ()


def fastest(result: RunResult, stats: dict[Key, CellStats], kernel: str) -> Fastest | None:
    """The cell that does a unit of the kernel's work in the least time, by the same medians
    the tables print (per unit of work, since pure Python runs a smaller n); not by the paired
    "vs python" ratios, which a machine whose speed drifts can order differently. Cells whose
    per-unit times overlap its own and that its repeats cannot separate from it (Mann-Whitney,
    p >= ALPHA) are tied; cells whose every repeat was slower than its slowest are not, however
    few the repeats (with two a side, no test can reach ALPHA). Where it or a cell had one
    timed call, the two are neither (untold): one call has no spread. Only cells that computed the
    reference result count: a wrong answer fast is no way to do the work."""
    records = {r.key: r for r in result.cells if r.kernel == kernel and r.ok and r.key in stats}
    if not records:
        return None
    description = result.kernels.get(kernel)

    def units(key: Key) -> float:
        return work(description, records[key].size)

    def per_unit(key: Key) -> list[float]:
        return [t / units(key) for t in records[key].times_s]

    best = min(records, key=lambda key: stats[key].median_s / units(key))
    slowest_of_best = max(per_unit(best))

    def untold(key: Key) -> bool:
        return key != best and not (stats[key].time.known and stats[best].time.known)

    def tied(key: Key) -> bool:
        times = per_unit(key)
        overlaps = min(times) <= slowest_of_best
        told = key != best and not untold(key)
        return told and overlaps and p_value(per_unit(best), times) >= ALPHA

    return Fastest(best, tuple(filter(tied, records)), tuple(filter(untold, records)))


@dataclass(frozen=True)
class Overhead:
    """A pool's own cost per call beside the work of one serial call of an impl."""

    share: float  # cost / call
    record: CellRecord  # the pool's cell
    call_s: float  # the median serial call of record.impl

    @property
    def verdict(self) -> str:
        if self.share >= DOMINATES:
            return "its overhead dominates"
        if self.share >= NOTICEABLE:
            return "a noticeable part of the call"
        return "small beside the work"


def costliest_overheads(result: RunResult, stats: dict[Key, CellStats]) -> dict[str, Overhead]:
    """Per kernel, the pool whose own cost weighs most beside a call of that kernel.

    The call is the median serial call of an impl, at its size: the work itself. A pool's
    cost is its empty call (one empty task per worker: what every call pays besides its
    work), or its cost per empty task where a file has no empty calls. The shortest call and
    the dearest pool give each kernel's largest share.
    """
    worst: dict[str, Overhead] = {}
    for record in result.cells:
        serial = stats.get(serial_key(record.kernel, record.impl))
        cost = record.call_overhead_s or record.dispatch_s
        if cost is None or serial is None or serial.median_s <= 0:
            continue
        if record.runner == "serial" or result.in_call_parallel(record.impl):
            continue
        share = cost / serial.median_s
        if record.kernel not in worst or share > worst[record.kernel].share:
            worst[record.kernel] = Overhead(share, record, serial.median_s)
    return worst
