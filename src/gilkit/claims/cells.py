"""Time cells of the project's matrix (kernel × impl × runner × workers) for the claims.

The same kernels, runners and splits as `gilkit run`, planned by the same step (gilkit.plan)
and measured by the same orchestrator (gilkit.run_plan), at the claims' own small sizes and
few repeats, without the GIL monitor's extra round or the capacity measurement. A cell whose
result is not the kernel's reference makes the claim fail: its time means nothing.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gilkit.engine.session import run_plan
from gilkit.host.cpus import usable_cpus
from gilkit.model.facts import IDEAL_CPUS, ideal_speedup
from gilkit.model.plan import Cell, Plan
from gilkit.planning import plan as gilkit_plan


@dataclass(frozen=True)
class CellTiming:
    times_s: list[float]
    pool_start_s: float | None  # None on the serial runner
    start_method: str | None  # processes only

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)


class WrongResult(RuntimeError):
    """A cell computed another result than the kernel's reference: its time means nothing."""


def time_cells(plan: Plan) -> dict[Cell, CellTiming]:
    """Wall times of every cell of `plan`, measured in interleaved rounds by run_plan."""
    result = run_plan(plan)
    timings = {}
    for cell, record in zip(plan.cells, result.cells, strict=True):
        if not record.ok or record.unsupported is not None:
            why = record.error or record.unsupported or "not the reference result"
            raise WrongResult(f"{cell.label}: {why}")
        timings[cell] = CellTiming(record.times_s, record.pool_startup_s, record.start_method)
    return timings


@dataclass(frozen=True)
class Comparison:
    """One impl on a pool of n workers against the same impl serially."""

    impl: str
    runner: str
    n: int
    n_workers: int
    serial: CellTiming
    pool: CellTiming

    @property
    def speedup(self) -> float:
        return self.serial.median_s / self.pool.median_s

    @property
    def ideal(self) -> int:
        return ideal_speedup(IDEAL_CPUS, self.n_workers, usable_cpus())

    def figures(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_workers": self.n_workers,
            "ideal": self.ideal,
            "speedup": self.speedup,
            "serial_s": self.serial.times_s,
            f"{self.runner}_s": self.pool.times_s,
            "pool_start_s": self.pool.pool_start_s,
            "start_method": self.pool.start_method,
        }


def compare(
    impls: Sequence[str],
    runners: Sequence[str],
    n: int,
    n_workers: int,
    repeats: int,
    kernel: str = "squares",
) -> dict[tuple[str, str], Comparison]:
    """Each impl serially and on each runner with `n_workers`, all timed in the same rounds."""
    plan = gilkit_plan(
        kernel,
        impls,
        runners,
        [n_workers],
        size=n,
        repeat=repeats,
        warmup=1,
        monitor_gil=False,
        measure_capacity=False,
    )
    timing = time_cells(plan)
    return {
        (impl, runner): Comparison(
            impl,
            runner,
            n,
            n_workers,
            timing[Cell(kernel, impl, "serial", 1, n)],
            timing[Cell(kernel, impl, runner, n_workers, n)],
        )
        for impl in impls
        for runner in runners
    }
