"""The gilkit matrix through pytest-benchmark: `pytest bench/ --benchmark-only`.

One benchmark per cell (kernel x impl x runner x workers), grouped per kernel; a round is one
complete call over the kernel's whole index space, made by the same Session as `gilkit run`.
extra_info records the cell, the GIL state, CPU use, peak memory, the pool's cost per task,
the GIL wait of in-process cells, the machine's speed and load, and, once the serial cells have
run, the speedups over the same impl serially and over pure-Python serial. `--benchmark-disable`
runs each cell once and still checks its result: the smoke test CI runs.
"""

from __future__ import annotations

import pytest
from conftest import PLAN

from gilkit.engine.measure import monitored_calls
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import free_threaded_build, gil_enabled, load_average
from gilkit.host.speed import time_reference
from gilkit.kernels import KERNELS
from gilkit.model.facts import ideal_rule, ideal_speedup, takes_turns
from gilkit.model.plan import Cell

# Serial medians per unit of work, for the speedups: (kernel, impl) -> seconds per unit.
SERIAL_PER_UNIT: dict[tuple[str, str], float] = {}
FIRST_RESULTS: dict[tuple[str, int], object] = {}  # every impl must match these


def cells() -> list[object]:
    """The plan's cells, one benchmark each (the plan was made when conftest was imported)."""
    return [
        pytest.param(cell, id=f"{cell.kernel}-{cell.impl}-{cell.runner}-{cell.n_workers}")
        for cell in PLAN.cells
    ]


@pytest.mark.parametrize("cell", cells())
def test_cell(benchmark, session, cell: Cell) -> None:
    kernel = KERNELS[cell.kernel]
    runner = session.runner(cell)
    benchmark.group = cell.kernel
    benchmark.extra_info.update(
        kernel=cell.kernel,
        impl=cell.impl,
        runner=cell.runner,
        workers=cell.n_workers,
        n=cell.size,
        sizing=PLAN.sizing and dict(PLAN.sizing),
        gil_enabled=gil_enabled(),
        free_threaded_build=free_threaded_build(),
        ideal_speedup=ideal_speedup(ideal_rule(kernel.bound), cell.n_workers, usable_cpus()),
        # Workers that take turns on one GIL: their speedup cannot pass ~1.3x (gilkit report
        # marks one that does: a slow or cold serial baseline).
        holds_shared_gil=runner.facts.shares_gil
        and takes_turns(kernel.kind_of(cell.impl), kernel.bound),
        host_reference_s=time_reference(),
    )
    figures = benchmark.pedantic(session.call, args=(cell,), rounds=3, warmup_rounds=1)
    result = figures.result
    cpu = figures.cpu_parent_s + figures.cpu_workers_s
    benchmark.extra_info.update(
        cpu_utilisation=cpu / (figures.wall_s * cell.n_workers),
        peak_rss_parent_bytes=figures.peak_rss_parent_bytes,
        peak_rss_workers_bytes=figures.peak_rss_workers_bytes,
        pool_dispatch_s=runner.dispatch_overhead(20),
        load_average=load_average(),
    )
    if runner.facts.shares_interpreter and benchmark.enabled:  # the monitor sees this process only
        monitored = monitored_calls(runner, cell, session.tasks(cell))
        benchmark.extra_info["gil_contention"] = monitored.gil_contention

    expected = FIRST_RESULTS.setdefault((cell.kernel, cell.size), result)
    assert result == expected
    if kernel.reference is not None:
        assert result == kernel.reference(cell.size)
    if benchmark.stats is not None:  # None under --benchmark-disable
        per_unit = benchmark.stats.stats.median / max(kernel.work(cell.size), 1.0)
        if cell.runner == "serial" and cell.n_workers == 1:
            SERIAL_PER_UNIT[cell.kernel, cell.impl] = per_unit
        for column, impl in (("speedup_vs_serial", cell.impl), ("speedup_vs_python", "python")):
            serial = SERIAL_PER_UNIT.get((cell.kernel, impl))
            if serial is not None:
                benchmark.extra_info[column] = serial / per_unit
