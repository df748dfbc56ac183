"""Which cells to measure: the matrix kernel x impl x runner x workers, as plain data.

A plan always holds the serial cells that speedups are taken against (each impl on one worker,
and pure Python), even when the user asked only for pool runners. When impls of a kernel run
at different sizes, the plan adds untimed check calls at the smallest size, so that every impl
is still compared with the others at one common n.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gilkit.cell import Cell
from gilkit.kernels import KERNELS, Kernel
from gilkit.runners import RUNNERS

__all__ = ["Cell", "Plan", "cells_for", "checks_for", "default_workers", "workers_for"]

DEFAULT_RUNNERS = ("serial", "threads", "processes")
SCALINGS = ("strong", "weak")
# Seven: the fewest repeats with which `gilkit compare` can show a single cell changed among
# a kernel's 31 (see gilkit.significance); five can only show a change that several cells share.
DEFAULT_REPEATS = 7
DEFAULT_WARMUPS = 1


@dataclass(frozen=True)
class Plan:
    cells: tuple[Cell, ...]
    checks: tuple[Cell, ...]  # serial, untimed: each impl once at its kernel's smallest size
    splits: Mapping[str, str]
    n_repeats: int = DEFAULT_REPEATS
    n_warmups: int = DEFAULT_WARMUPS
    start_method: str | None = None
    scheduler: str | None = None  # an existing Dask cluster for the dask runners
    unavailable: Mapping[str, str] = field(default_factory=dict)  # impl -> why it was left out
    monitor_gil: bool = True  # a last round of in-process calls with the GIL monitor on
    measure_capacity: bool = False  # what N busy native threads give here (gilkit.capacity)
    sizing: Mapping[str, Any] | None = None  # how the sizes were chosen (gilkit.sizing)
    call_limit_s: float | None = None  # per call; None: derived from the calls so far
    run_limit_s: float | None = None  # for the whole run; None: none

    @classmethod
    def of(cls, cells: Sequence[Cell], **options: Any) -> Plan:
        """A plan of exactly these cells, each kernel on its default split, checks added."""
        splits = {c.kernel: KERNELS[c.kernel].splits[0] for c in cells}
        options["splits"] = {**splits, **options.get("splits", {})}
        return cls(cells=tuple(cells), checks=tuple(checks_for(cells)), **options)

    @property
    def sizes(self) -> set[tuple[str, int]]:
        """Every (kernel, n) that needs its data prepared."""
        return {(c.kernel, c.size) for c in (*self.cells, *self.checks)}

    @property
    def n_calls(self) -> int:
        """Calls the run will make: checks, every round, and the monitored round."""
        in_process = [c for c in self.cells if RUNNERS[c.runner].shares_interpreter]
        rounds = len(self.cells) * (self.n_repeats + self.n_warmups)
        return len(self.checks) + rounds + (len(in_process) if self.monitor_gil else 0)


# The most workers a plan may ask for: enough to show oversubscription on busy work, and
# the thousand waits that I/O work can usefully overlap; more only loads the machine.
OVERSUBSCRIPTION_LIMIT = 4
MAX_IO_WORKERS = 1024


def max_workers(kernel: Kernel, n_cpus: int) -> int:
    return MAX_IO_WORKERS if kernel.bound == "io" else OVERSUBSCRIPTION_LIMIT * n_cpus


def workers_for(kernel: Kernel, workers: Sequence[int] | None, n_cpus: int) -> list[int]:
    """The worker counts a kernel's cells use: those asked for, else the kernel's defaults."""
    return list(workers or (kernel.default_workers or default_workers)(n_cpus))


def default_workers(n_cpus: int) -> list[int]:
    """Powers of two up to the usable cpus, the cpu count itself, and one step beyond it."""
    counts = {1, n_cpus, n_cpus * 2}  # the last one oversubscribed: more workers than cpus
    power = 2
    while power < n_cpus:
        counts.add(power)
        power *= 2
    return sorted(counts)


def cells_for(
    kernels: Sequence[str],
    impls: Sequence[str],
    runners: Sequence[str] | None,
    workers: Sequence[int] | None,
    sizes: Mapping[str, Mapping[str, int]],
    n_cpus: int = 1,
    scaling: str = "strong",
) -> list[Cell]:
    """Every requested cell, plus the serial baselines the speedups need, each once, in order.

    Without runners or workers, each kernel's defaults apply: the asyncio runner for kernels
    with coroutine impls, and worker counts far past the cpus for I/O-bound kernels. Strong
    scaling keeps one n for every worker count; weak scaling gives W workers W times the n,
    so that each worker's part stays the size of the serial call's.
    """
    cells: dict[Cell, None] = {}
    for name in kernels:
        kernel = KERNELS[name]
        its_runners = runners or [
            *DEFAULT_RUNNERS,
            *(["asyncio"] if kernel.async_chunk_fns else []),
        ]
        its_workers = workers_for(kernel, workers, n_cpus)
        for impl in impls:
            if impl not in kernel.chunk_fns:
                continue
            size = sizes[name][impl]
            cells[Cell(name, impl, "serial", 1, size)] = None
            for n_workers in its_workers:
                n = size * n_workers if scaling == "weak" else size
                if kernel.in_call_parallel(impl):
                    # Parallel inside one call: the serial runner, workers = its threads.
                    cells[Cell(name, impl, "serial", n_workers, n)] = None
                    continue
                for runner in its_runners:
                    if runner == "asyncio" and impl not in kernel.async_chunk_fns:
                        continue  # no coroutine impl to run
                    if n_workers < RUNNERS[runner].min_workers:
                        continue  # joblib's n_jobs=1 is the serial cell
                    if runner != "serial":
                        cells[Cell(name, impl, runner, n_workers, n)] = None
    return list(cells)


def checks_for(cells: Sequence[Cell]) -> list[Cell]:
    """One serial call per impl at its kernel's smallest size, for impls timed at another n."""
    smallest: dict[str, int] = {}
    for cell in cells:
        smallest[cell.kernel] = min(cell.size, smallest.get(cell.kernel, cell.size))
    checks: dict[Cell, None] = {}
    for cell in cells:
        if cell.size != smallest[cell.kernel]:
            # Two threads, so that the check goes through the parallel reduction.
            n_workers = 2 if KERNELS[cell.kernel].in_call_parallel(cell.impl) else 1
            checks[Cell(cell.kernel, cell.impl, "serial", n_workers, smallest[cell.kernel])] = None
    return list(checks)
