"""Time cells of the project's matrix (kernel × impl × runner × workers) for the claims.

The same kernels, runners and splits as `gilkit run`, at small sizes and few repeats: every
pool is started first (processes before any thread exists, as fork wants), then the cells are
timed in interleaved rounds, and every call's result is checked against the kernel's.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from gilkit.claims.timing import interleaved
from gilkit.kernels import KERNELS, Task, run_task
from gilkit.machine import ideal_speedup
from gilkit.plan import Cell
from gilkit.runners import RUNNERS
from gilkit.runners.base import Runner
from gilkit.splitting import split


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


def _checked_call(runner: Runner, cell: Cell, tasks: list[Task], expected: Any) -> None:
    result = KERNELS[cell.kernel].combine(runner.map(run_task, tasks))
    if expected is not None and result != expected:
        raise WrongResult(f"{cell.label}: got {result!r}, expected {expected!r}")


def time_cells(cells: Sequence[Cell], repeats: int, warmups: int = 1) -> dict[Cell, CellTiming]:
    """Median-ready wall times of every cell, measured in interleaved rounds."""
    with ExitStack() as stack:
        params = {}
        for cell in cells:
            kernel = KERNELS[cell.kernel]
            if (cell.kernel, cell.size) not in params:
                context = kernel.params_for(cell.size, kernel.splits[0])
                params[cell.kernel, cell.size] = stack.enter_context(context)
        pools: dict[tuple[str, int], tuple[Runner, float]] = {}
        groups = {(cell.runner, cell.n_workers) for cell in cells}
        for name, n_workers in sorted(groups, key=lambda g: (RUNNERS[g[0]].shares_interpreter, g)):
            runner = stack.enter_context(RUNNERS[name]())
            pools[name, n_workers] = (runner, runner.start(n_workers))
        calls = {}
        for cell in cells:
            kernel = KERNELS[cell.kernel]
            parts = split(cell.size, cell.n_workers, kernel.splits[0])
            tasks = [
                Task(cell.kernel, cell.impl, part, params[cell.kernel, cell.size]) for part in parts
            ]
            expected = kernel.reference(cell.size) if kernel.reference else None
            runner = pools[cell.runner, cell.n_workers][0]
            calls[cell] = partial(_checked_call, runner, cell, tasks, expected)
        times = interleaved(calls, repeats, warmups)
    return {
        cell: CellTiming(
            times[cell],
            None if cell.runner == "serial" else pools[cell.runner, cell.n_workers][1],
            pools[cell.runner, cell.n_workers][0].start_method,
        )
        for cell in cells
    }


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
        return ideal_speedup(self.n_workers)

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
    serial = {impl: Cell(kernel, impl, "serial", 1, n) for impl in impls}
    pools = {
        (impl, runner): Cell(kernel, impl, runner, n_workers, n)
        for impl in impls
        for runner in runners
    }
    timing = time_cells([*serial.values(), *pools.values()], repeats)
    return {
        (impl, runner): Comparison(impl, runner, n, n_workers, timing[serial[impl]], timing[cell])
        for (impl, runner), cell in pools.items()
    }
