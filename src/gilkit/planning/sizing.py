"""Default sizes for this machine: each worker's part of a call lasts TARGET_PART_S.

Fixed sizes tuned on 2 cpus give 16 workers parts of ~2 ms, and then pool overhead, not the
strategy, sets the figure: on a 16-core machine every strategy read 6-9x at 16 workers with
such parts, 11-13x with parts 30x larger. So before a run, one serial call per kernel is
timed (pure Python, and the fastest compiled impl for the others, which share its n) and n
is scaled until that call lasts W x TARGET_PART_S, W being the largest worker count of the
run within the usable cpus: then each of W workers gets a part of TARGET_PART_S.

TARGET_PART_S is 20 ms: at least 50 times a process pool's cost per task here (0.1-0.4 ms,
the pools table), 2,000 times a thread pool's, and 20 times the timer and scheduler noise,
while a default run of seven repeats stays near a minute on 2 cpus. joblib's and Dask's calls
cost ~10 ms each (joblib polls for results every 10 ms; Dask's go through its scheduler), half
of such a part: with those runners in a run, parts last PARTS_PER_CALL_COST times the
costliest runner's call instead (200 ms), so that a figure says what the strategy does with
the work, not what a call costs. When the whole run would pass its budget (gilkit run
--budget), the parts are shortened, never below MIN_PART_S, and the run says so. Weak scaling
(--scaling weak) sizes one part instead, and each cell's n grows with its workers, so every
worker's part stays the same: then overhead and strategy show apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gilkit.engine.measure import MIN_MONITORED_S
from gilkit.kernels import KERNELS, SOURCES, Kernel
from gilkit.model.facts import ideal_rule, ideal_speedup, takes_turns
from gilkit.planning.calibrate import calibrate, probe_estimate, size_for_work, time_one_call
from gilkit.runners import RUNNERS

TARGET_PART_S = 0.02
# A part lasts this many times its runner's cost per call (Runner.call_cost_s): that cost is
# then at most 5% of a call.
PARTS_PER_CALL_COST = 20
MIN_PART_S = 0.01
# The most a user's impl may take to be estimated (a 20th of its call): a call that takes
# longer, or hangs, is left out of the run's estimate and meets its time limit in the run.
ESTIMATE_LIMIT_S = 1.0
# The budget of a default run: 90 s on 2 cpus, growing with the cpus to 3 min from 16 on.
BUDGET_S_AT_2_CPUS = 90.0
BUDGET_S_AT_16_CPUS = 180.0


def default_budget_s(n_cpus: int) -> float:
    span = BUDGET_S_AT_16_CPUS - BUDGET_S_AT_2_CPUS
    return min(BUDGET_S_AT_16_CPUS, BUDGET_S_AT_2_CPUS + span * max(0, n_cpus - 2) / 14)


@dataclass(frozen=True)
class Sizing:
    """The sizes chosen and why, as the result file records them."""

    sizes: dict[str, dict[str, int]]  # kernel -> impl -> n (weak: one worker's part)
    scaling: str  # "strong": one n for all worker counts; "weak": n grows with the workers
    part_s: float  # each worker's part at `workers` (weak: at every count)
    target_part_s: float  # what part_s would be within the budget
    costliest_runner: str | None  # the runner whose cost per call set target_part_s, if one
    workers: int  # the worker count the parts were sized for
    serial_s: dict[str, dict[str, float]]  # the timed serial calls behind the sizes
    budget_s: float
    estimated_s: float  # the whole run, by the cost model below
    declared: tuple[str, ...] = ()  # kernels whose sizes are their authors' (not timed here)
    # Kernels sized for another count: waiting work (io) keeps more workers than cpus busy.
    kernel_workers: dict[str, int] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "declared": list(self.declared),
            "kernel_workers": self.kernel_workers,
            "scaling": self.scaling,
            "target_part_s": self.target_part_s,
            "costliest_runner": self.costliest_runner,
            "part_s": self.part_s,
            "workers": self.workers,
            "serial_s": self.serial_s,
            "budget_s": self.budget_s,
            "estimated_s": self.estimated_s,
        }


def target_part_s(runners: Sequence[str]) -> tuple[float, str | None]:
    """(the part each worker should get, the runner whose cost per call set it, if one did)."""
    costliest = max(runners, key=lambda name: RUNNERS[name].call_cost_s, default=None)
    cost = 0.0 if costliest is None else RUNNERS[costliest].call_cost_s
    if PARTS_PER_CALL_COST * cost <= TARGET_PART_S:
        return TARGET_PART_S, None
    return PARTS_PER_CALL_COST * cost, costliest


def machine_sizes(
    kernels: Sequence[str],
    impls: Sequence[str],
    splits: dict[str, str],
    worker_counts: dict[str, list[int]],
    n_cpus: int,
    *,
    runners: Sequence[str] = ("serial", "threads", "processes"),
    scaling: str = "strong",
    n_rounds: int = 8,
    budget_s: float | None = None,
) -> Sizing:
    """Sizes that give each worker a part of target_part_s(runners), shortened to fit the
    budget.

    A user's kernel keeps the sizes it declares (its author chose them), and its calls are
    estimated for the run's time; the built-in ones are timed here.
    """
    budget = default_budget_s(n_cpus) if budget_s is None else budget_s
    counts = [n for name in kernels for n in worker_counts[name]]
    workers = 1 if scaling == "weak" else max(1, min(max(counts, default=1), n_cpus))
    target, costliest = target_part_s(runners)
    sizes: dict[str, dict[str, int]] = {}
    serial_s: dict[str, dict[str, float]] = {}
    kernel_workers: dict[str, int] = {}
    for name in kernels:
        kernel = KERNELS[name]
        mine = [impl for impl in impls if impl in kernel.chunk_fns]
        if SOURCES.get(name) != "built-in":
            # A user's kernel keeps its sizes; its calls are estimated from a small one, each
            # under a time limit (one that fails or hangs is left to fail its cells).
            sizes[name] = {impl: kernel.default_size(impl) for impl in mine}
            estimates = {
                i: probe_estimate(kernel, i, sizes[name][i], splits[name], ESTIMATE_LIMIT_S)
                for i in mine
            }
            serial_s[name] = {i: s for i, s in estimates.items() if s is not None}
            continue
        # Waiting work (io) can keep more workers than cpus busy: a part for each of them.
        busy = workers
        if scaling != "weak":
            busy = ideal_speedup(ideal_rule(kernel.bound), max(worker_counts[name]), n_cpus)
        if busy != workers:
            kernel_workers[name] = busy
        sizes[name], serial_s[name] = _timed_sizes(kernel, mine, splits[name], busy * target)
    parallel = [name for name in runners if name != "serial"]
    estimated = _estimate_s(sizes, serial_s, worker_counts, n_cpus, scaling, n_rounds, parallel)
    part_s = target
    if estimated > budget:
        part_s = max(MIN_PART_S, target * budget / estimated)
        shrink = part_s / target
        for name, times in serial_s.items():
            kernel = KERNELS[name]
            if SOURCES.get(name) != "built-in":
                continue  # its author's sizes
            for impl in times:
                n = size_for_work(kernel.work, kernel.work(sizes[name][impl]) * shrink)
                sizes[name][impl] = _clamped(kernel, impl, n)
                times[impl] *= shrink
        estimated = _estimate_s(sizes, serial_s, worker_counts, n_cpus, scaling, n_rounds, parallel)
    declared = tuple(name for name in kernels if SOURCES.get(name) != "built-in")
    return Sizing(
        sizes,
        scaling,
        part_s,
        target,
        costliest,
        workers,
        serial_s,
        budget,
        estimated,
        declared,
        kernel_workers,
    )


def _timed_sizes(
    kernel: Kernel, impls: list[str], split: str, target_s: float
) -> tuple[dict[str, int], dict[str, float]]:
    """n per impl for a serial call of target_s: pure Python on its own, the others at the
    n of the fastest compiled impl (cython-nogil), so that they compare at one n."""
    sizes: dict[str, int] = {}
    times: dict[str, float] = {}
    if "python" in impls:
        start = max(1, kernel.python_size() // 10)
        n, seconds = calibrate(kernel, "python", target_s, split, start)
        sizes["python"], times["python"] = n, seconds
    others = [impl for impl in impls if impl != "python"]
    if others:
        fastest = "cython-nogil" if "cython-nogil" in others else others[0]
        start = max(1, kernel.native_size() // 10)
        n, seconds = calibrate(kernel, fastest, target_s, split, start)
        n = _clamped(kernel, fastest, n)
        for impl in others:  # one more call each: NumPy may take twice the compiled time
            sizes[impl] = n
            times[impl] = seconds if impl == fastest else time_one_call(kernel, impl, n, split)
    return sizes, times


def _clamped(kernel: Kernel, impl: str, n: int) -> int:
    floor = 1 if impl == "python" else kernel.native_floor()
    return max(floor, min(n, kernel.max_size()))


def _estimate_s(
    sizes: dict[str, dict[str, int]],
    serial_s: dict[str, dict[str, float]],
    worker_counts: dict[str, list[int]],
    n_cpus: int,
    scaling: str,
    n_rounds: int,
    runners: Sequence[str],
) -> float:
    """The matrix's time by a simple model: a cell's call takes the serial time, divided by
    min(workers, cpus) unless its impl holds the GIL in a runner whose workers share one
    GIL; weak cells do W times the work; every in-process cell is watched again for
    MIN_MONITORED_S or one call. Enough to keep a default run in its budget, not a
    prediction to the second."""
    total = 0.0
    for name, times in serial_s.items():
        kernel = KERNELS[name]
        for impl, seconds in times.items():
            for n_workers in {1, *worker_counts[name]}:
                work = seconds * (n_workers if scaling == "weak" else 1)
                # As gilkit.planning.matrix.cells_for: the serial baseline, each pool at each count
                # asked for (1 included), or the serial runner at each for in-call threads.
                in_cells = ["serial"] if n_workers == 1 or kernel.in_call_parallel(impl) else []
                if n_workers in worker_counts[name] and not kernel.in_call_parallel(impl):
                    in_cells += [r for r in runners if n_workers >= RUNNERS[r].min_workers]
                for runner_name in in_cells:
                    runner = RUNNERS[runner_name]
                    held = runner.facts.shares_gil and takes_turns(
                        kernel.kind_of(impl), kernel.bound
                    )
                    call_s = work if held else work / min(n_workers, n_cpus)
                    total += call_s * n_rounds
                    if runner.facts.in_process:
                        total += max(call_s, MIN_MONITORED_S)
    return total
