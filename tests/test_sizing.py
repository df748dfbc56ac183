"""Work sized to the machine: each worker's part lasts the target, within the run's budget;
weak scaling grows n with the workers."""

from __future__ import annotations

import pytest

from gilkit.kernels import KERNELS, SOURCES
from gilkit.planning.matrix import cells_for
from gilkit.planning.sizing import (
    MIN_PART_S,
    PARTS_PER_CALL_COST,
    TARGET_PART_S,
    Sizing,
    default_budget_s,
    machine_sizes,
    target_part_s,
)
from gilkit.runners import RUNNERS
from tests.conftest import requires_native


def test_the_budget_grows_with_the_cpus_from_90_s_to_3_minutes() -> None:
    assert default_budget_s(1) == default_budget_s(2) == 90
    assert 90 < default_budget_s(8) < 180
    assert default_budget_s(16) == default_budget_s(64) == 180


@requires_native
def test_each_workers_part_lasts_the_target_at_the_largest_count_within_the_cpus() -> None:
    sizing = machine_sizes(
        ["squares"],
        ["python", "cython-nogil", "numpy"],
        {"squares": "contiguous"},
        {"squares": [1, 2, 4]},
        n_cpus=2,
        budget_s=1e6,
    )
    assert (sizing.workers, sizing.part_s, sizing.scaling) == (2, TARGET_PART_S, "strong")
    times = sizing.serial_s["squares"]
    # Two parts of 20 ms: a serial call of about 40 ms (a loaded machine may stray).
    assert 0.5 * 2 * TARGET_PART_S < times["python"] < 2 * 2 * TARGET_PART_S
    assert 0.5 * 2 * TARGET_PART_S < times["cython-nogil"] < 2 * 2 * TARGET_PART_S
    sizes = sizing.sizes["squares"]
    assert sizes["numpy"] == sizes["cython-nogil"] > sizes["python"]  # natives share one n
    assert sizing.record()["target_part_s"] == TARGET_PART_S


@requires_native
def test_a_run_past_its_budget_gets_shorter_parts_never_below_the_floor() -> None:
    def sized(budget_s: float) -> object:
        return machine_sizes(
            ["squares"],
            ["python", "cython-nogil"],
            {"squares": "contiguous"},
            {"squares": [1, 2]},
            n_cpus=2,
            budget_s=budget_s,
        )

    roomy, tight = sized(1e6), sized(0.01)
    assert tight.part_s == MIN_PART_S
    assert tight.sizes["squares"]["python"] < roomy.sizes["squares"]["python"]
    assert tight.estimated_s < roomy.estimated_s


def test_a_users_kernel_keeps_the_sizes_it_declares(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SOURCES, "squares", "module mine:work")
    sizing = machine_sizes(
        ["squares"], ["python"], {"squares": "contiguous"}, {"squares": [2]}, n_cpus=2
    )
    assert sizing.sizes == {"squares": {"python": KERNELS["squares"].python_size()}}
    assert sizing.declared == ("squares",)
    # Not timed into a size, but estimated, so that the run's estimate counts its calls.
    assert sizing.serial_s["squares"]["python"] > 0


def test_weak_scaling_gives_w_workers_w_times_the_n() -> None:
    sizes = {"squares": {"python": 1000, "cython-prange": 5000}}
    cells = cells_for(
        ["squares"],
        ["python", "cython-prange"],
        ["threads"],
        [1, 2, 4],
        sizes,
        n_cpus=4,
        scaling="weak",
    )
    by_cell = {(c.impl, c.runner, c.n_workers): c.size for c in cells}
    assert by_cell["python", "serial", 1] == 1000
    assert by_cell["python", "threads", 4] == 4000
    assert by_cell["cython-prange", "serial", 2] == 10_000  # OpenMP threads are its workers
    strong = cells_for(["squares"], ["python"], ["threads"], [4], sizes, n_cpus=4)
    assert {c.size for c in strong} == {1000}


@requires_native
def test_runners_that_cost_more_per_call_get_longer_parts() -> None:
    def sized(runners: list[str]) -> Sizing:
        return machine_sizes(
            ["squares"],
            ["cython-nogil"],
            {"squares": "contiguous"},
            {"squares": [1, 2]},
            n_cpus=2,
            runners=runners,
            budget_s=1e6,
        )

    pools, dask = sized(["serial", "threads", "processes"]), sized(["serial", "dask-processes"])
    assert target_part_s(["threads", "processes"]) == (TARGET_PART_S, None)
    assert dask.costliest_runner == "dask-processes"
    assert dask.part_s == PARTS_PER_CALL_COST * RUNNERS["dask-processes"].call_cost_s
    assert dask.sizes["squares"]["cython-nogil"] > 5 * pools.sizes["squares"]["cython-nogil"]


def test_waiting_work_gets_a_part_for_each_worker_past_the_cpus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The io kernel's ideal is its workers: at 32 of them on 2 cpus, a call sized for two
    parts left 30 workers without a request."""
    import gilkit.planning.sizing as sizing_module

    targets: dict[str, float] = {}

    def timed(kernel, impls, split, target_s):  # type: ignore[no-untyped-def]
        targets[kernel.name] = target_s
        return dict.fromkeys(impls, 100), dict.fromkeys(impls, target_s)

    monkeypatch.setattr(sizing_module, "_timed_sizes", timed)
    machine_sizes(
        ["io", "squares"],
        ["python"],
        {"io": "contiguous", "squares": "contiguous"},
        {"io": [1, 2, 32], "squares": [1, 2, 4]},
        n_cpus=2,
        budget_s=1e6,
    )
    assert targets == {"io": 32 * TARGET_PART_S, "squares": 2 * TARGET_PART_S}
