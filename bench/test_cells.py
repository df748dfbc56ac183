"""The gilkit matrix through pytest-benchmark: `pytest bench/ --benchmark-only`.

One benchmark per cell (kernel x impl x runner x workers), grouped per kernel; a round is one
complete call over the kernel's whole index space. extra_info records the GIL state, CPU use,
peak memory, the pool's cost per task, the GIL wait of in-process cells and, once
the serial cell of the same impl has run, the speedup over it. `--benchmark-disable` runs each
cell once and still checks its result: the smoke test CI runs.
"""

from __future__ import annotations

import pytest

from gilkit.kernels import IN_CALL_PARALLEL, KERNELS, impl_unavailable_reason
from gilkit.machine import usable_cpus
from gilkit.measure import call, monitored_calls, tasks_for
from gilkit.metadata import free_threaded_build, gil_enabled
from gilkit.plan import Cell

WORKERS = sorted({1, 2, usable_cpus()})


def cells() -> list[object]:
    params = []
    for kernel in KERNELS.values():
        for impl in kernel.impls:
            runners = ["serial"] if impl in IN_CALL_PARALLEL else ["serial", "threads", "processes"]
            if impl in kernel.async_chunk_fns:
                runners.append("asyncio")
            for runner in runners:
                for n_workers in WORKERS:
                    if runner == "serial" and n_workers > 1 and impl not in IN_CALL_PARALLEL:
                        continue
                    reason = impl_unavailable_reason(impl)
                    marks = [pytest.mark.skip(reason=reason)] if reason else []
                    params.append(
                        pytest.param(
                            Cell(kernel.name, impl, runner, n_workers, kernel.default_size(impl)),
                            id=f"{kernel.name}-{impl}-{runner}-{n_workers}",
                            marks=marks,
                        )
                    )
    return params


@pytest.mark.parametrize("cell", cells())
def test_cell(benchmark, session, cell: Cell) -> None:
    kernel = KERNELS[cell.kernel]
    params = session.params(kernel, cell.size)
    runner = session.pool(cell.runner, cell.n_workers)
    tasks = tasks_for(cell, kernel.splits[0], params)
    benchmark.group = cell.kernel
    benchmark.extra_info.update(
        impl=cell.impl,
        runner=cell.runner,
        workers=cell.n_workers,
        n=cell.size,
        gil_enabled=gil_enabled(),
        free_threaded_build=free_threaded_build(),
        ideal_speedup=min(cell.n_workers, usable_cpus()),
    )
    figures = benchmark.pedantic(call, args=(runner, cell, tasks), rounds=3, warmup_rounds=1)
    result = figures.result
    cpu = figures.cpu_parent_s + figures.cpu_workers_s
    benchmark.extra_info.update(
        cpu_utilisation=cpu / (figures.wall_s * cell.n_workers),
        peak_rss_parent_bytes=figures.peak_rss_parent_bytes,
        peak_rss_workers_bytes=figures.peak_rss_workers_bytes,
        pool_dispatch_s=runner.dispatch_overhead(20),
    )
    if runner.shares_interpreter and benchmark.enabled:  # the monitor sees this process only
        benchmark.extra_info["gil_contention"] = monitored_calls(runner, cell, tasks).gil_contention

    expected = session.first_results.setdefault((cell.kernel, cell.size), result)
    assert result == expected
    if kernel.reference is not None:
        assert result == kernel.reference(cell.size)
    if benchmark.stats is not None:  # None under --benchmark-disable
        median = benchmark.stats.stats.median
        if cell.runner == "serial" and cell.n_workers == 1:
            session.serial_medians[cell.kernel, cell.impl] = median
        serial = session.serial_medians.get((cell.kernel, cell.impl))
        if serial is not None:
            benchmark.extra_info["speedup_vs_serial"] = serial / median
