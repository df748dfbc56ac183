"""gilkit.run_plan, the one orchestrator: what it measures, checks and records, and what an
interruption keeps."""

from __future__ import annotations

import psutil
import pytest

from gilkit import Plan, RunInterrupted, run_plan
from gilkit.analysis.stats import cell_stats
from gilkit.model.facts import IDEAL_CPUS
from gilkit.model.plan import Cell


def cells(size: int = 20_000) -> list[Cell]:
    return [
        Cell("squares", "python", "serial", 1, size // 10),
        Cell("squares", "numpy", "serial", 1, size),
        Cell("squares", "numpy", "threads", 2, size),
        Cell("squares", "numpy", "processes", 2, size),
    ]


def test_run_plan_measures_checks_and_describes_every_cell() -> None:
    plan = Plan.of(cells(), n_repeats=2, n_warmups=0)
    result = run_plan(plan)
    assert result.complete
    assert [r.key for r in result.cells] == [
        (c.kernel, c.impl, c.runner, c.n_workers) for c in plan.cells
    ]
    assert all(len(r.times_s) == 2 and r.ok and r.agrees for r in result.cells)
    # numpy ran at another n than python: it was also checked at python's n.
    assert [(c.impl, c.size) for c in result.checks] == [("numpy", 2_000)]
    assert result.checks[0].agrees
    assert result.references["squares"] == {
        "2000": sum(i * i for i in range(2_000)),
        "20000": sum(i * i for i in range(20_000)),
    }
    kernel = result.kernels["squares"]
    assert (kernel["unit"], kernel["bound"], kernel["ideal"]) == ("integers", "cpu", IDEAL_CPUS)
    assert kernel["work"] == {"2000": 2000.0, "20000": 20000.0}
    assert list(result.impls) == ["python", "numpy"]
    assert result.options["n_repeats"] == 2
    assert result.metadata["native_threads"]["pinned_to"] == 1
    pools = {r.runner: r for r in result.cells}
    assert pools["processes"].pool_startup_s is not None
    assert pools["serial"].pool_startup_s is None
    assert cell_stats(result)["squares", "numpy", "threads", 2].ideal == 2


def test_in_process_cells_get_a_monitored_round_unless_the_plan_says_no() -> None:
    watched = run_plan(Plan.of(cells()[1:3], n_repeats=1, n_warmups=0))
    assert all(r.gil_contention is not None for r in watched.cells)
    unwatched = run_plan(Plan.of(cells()[1:3], n_repeats=1, n_warmups=0, monitor_gil=False))
    assert all(r.gil_contention is None for r in unwatched.cells)


def test_an_interrupted_run_keeps_what_it_measured_and_closes_its_pools() -> None:
    plan = Plan.of(cells(), n_repeats=3, n_warmups=0)
    calls = []
    before = set(psutil.Process().children(recursive=True))  # other tests' servers

    def interrupt_at_the_sixth_call(cell: Cell) -> None:
        calls.append(cell)
        if len(calls) == 6:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as caught:
        run_plan(plan, interrupt_at_the_sixth_call)
    result = caught.value.result
    assert isinstance(caught.value, KeyboardInterrupt)  # a script's Ctrl-C still stops it
    assert not result.complete
    assert len(result.cells) == len(plan.cells)
    timed = [r for r in result.cells if r.times_s]
    assert timed
    assert all(r.agrees for r in timed)
    assert result.kernels["squares"]["unit"] == "integers"
    assert "load_average_after" in result.metadata["cpu"]
    left = set(psutil.Process().children(recursive=True)) - before
    _, alive = psutil.wait_procs(left, timeout=2)  # killed at once; reaped within 2 s
    assert alive == []
