"""The matrix a plan covers: which cells for which kernels, impls, runners and worker counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gilkit.kernels import IMPLS, KERNELS, SOURCES, Kernel
from gilkit.model.cell import Cell
from gilkit.runners import RUNNERS

# What `gilkit run` measures when not told: the built-in kernels and impls of the default run,
# on the standard runners.
BUILT_IN = [name for name, source in SOURCES.items() if source == "built-in"]
DEFAULT_KERNELS = [name for name in BUILT_IN if KERNELS[name].in_default_run]
DEFAULT_IMPLS = [name for name, impl in IMPLS.items() if impl.in_default_run]
DEFAULT_RUNNERS = ("serial", "threads", "processes")
SCALINGS = ("strong", "weak")

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
