"""gilkit advise's rules on made-up measurements: which way it recommends, why each other way
loses, from what task length a pool pays and the batch that reaches it, the projection."""

from __future__ import annotations

import dataclasses

import pytest

from gilkit.advise.advice import WIDTH, Advice
from gilkit.advise.rules import (
    OWN_COST_SHARE,
    PROJECT_MIN_ROUNDS,
    Task,
    Way,
    pays_from,
    project,
    recommend,
    why_not,
)

SERIAL = Way("serial", 1, 1.0, 1.0, 1.0, (1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0))


def way(runner: str, workers: int, speedup: float, **facts: object) -> Way:
    """A way whose rounds' times per task are tight around 1/speedup (serial's are ~1)."""
    times = tuple(t / speedup for t in (1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0))
    return Way(runner, workers, speedup, speedup * 0.95, speedup * 1.05, times, **facts)  # type: ignore[arg-type]


TASK = Task(seconds=0.01, kind="releases", n_tasks=100)


def test_the_highest_median_speedup_is_recommended() -> None:
    ways = [SERIAL, way("threads", 2, 1.9), way("processes", 2, 1.7)]
    best = recommend(ways, TASK)
    assert best.way.runner == "threads"
    assert best.tied_with == ()


def test_ways_whose_rounds_overlap_are_named_as_tied() -> None:
    threads = way("threads", 2, 1.9)
    close = dataclasses.replace(way("processes", 2, 1.89), task_times_s=threads.task_times_s)
    best = recommend([SERIAL, threads, close], TASK)
    assert best.way is threads
    assert best.tied_with == (close,)
    assert "tied with threads ×2" in why_not(close, best, TASK)


def test_serial_is_recommended_when_nothing_beats_it() -> None:
    ways = [SERIAL, way("threads", 2, 0.97), way("processes", 2, 0.6)]
    assert recommend(ways, TASK).way is SERIAL


def test_ways_that_failed_are_never_recommended_and_say_why() -> None:
    broken = Way("interpreters", 2, error="cannot import numpy in a subinterpreter")
    best = recommend([SERIAL, broken, way("threads", 2, 1.5)], TASK)
    assert best.way.runner == "threads"
    assert why_not(broken, best, TASK) == "could not run: cannot import numpy in a subinterpreter"
    with pytest.raises(ValueError, match="no way was measured"):
        recommend([broken], TASK)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("holds", "the call holds the GIL: its workers take turns on it"),
        ("python", "the call runs Python, or takes the GIL back often: its workers take turns"),
    ],
)
def test_workers_sharing_a_gil_lose_to_a_call_that_keeps_it(kind: str, reason: str) -> None:
    task = dataclasses.replace(TASK, kind=kind)
    threads = way("threads", 2, 1.0, shares_gil=True)
    best = recommend([SERIAL, threads, way("processes", 2, 1.8)], task)
    assert why_not(threads, best, task) == reason
    # Without a GIL (a free-threaded build) their workers share none: that is no reason.
    free = dataclasses.replace(threads, shares_gil=False)
    assert "GIL" not in why_not(free, best, task)


def test_data_moved_is_the_reason_when_it_weighs_on_each_task() -> None:
    task = dataclasses.replace(TASK, moved_bytes=8 << 20, move_s=0.004)  # 40 % of 10 ms
    processes = way("processes", 2, 1.2, copies=True, empty_task_s=1e-4)
    best = recommend([SERIAL, way("threads", 2, 1.9), processes], task)
    assert why_not(processes, best, task) == "moves 8.0 MiB per task (4.0 ms, 40% of a task)"


def test_a_pools_own_cost_per_task_is_the_reason_for_short_tasks() -> None:
    task = dataclasses.replace(TASK, seconds=20e-6)
    processes = way("processes", 2, 0.3, copies=True, empty_task_s=100e-6)
    best = recommend([SERIAL, processes], task)
    assert why_not(processes, best, task) == "its own cost, 100 µs per task, against 20 µs tasks"


def test_start_up_is_the_reason_for_a_short_map() -> None:
    task = dataclasses.replace(TASK, seconds=0.01, n_tasks=10)  # 0.1 s of work
    processes = way("processes", 2, 0.8, startup_s=0.05)
    best = recommend([SERIAL, processes], task)
    assert why_not(processes, best, task) == "start-up 50.0 ms against 100.0 ms of work"


def test_otherwise_the_figures_are_compared_with_the_ways_own_costs() -> None:
    task = dataclasses.replace(TASK, moved_bytes=1 << 20, move_s=0.0005)
    processes = way("processes", 2, 1.6, copies=True, empty_task_s=1e-4, startup_s=0.02)
    best = recommend([SERIAL, way("threads", 2, 1.9), processes], task)
    reason = why_not(processes, best, task)
    assert reason.startswith("1.60× against 1.90× here; its own cost: 6% of each task")
    assert "start-up 2% of the map" in reason


def test_fewer_workers_of_the_same_pool() -> None:
    two = way("threads", 2, 1.9)
    one = way("threads", 4, 3.5)
    best = recommend([SERIAL, two, one], TASK)
    assert why_not(two, best, TASK) == "2 workers do less than 4 here"


def test_a_pool_pays_from_ten_times_its_own_cost_per_task() -> None:
    processes = way("processes", 2, 1.5, empty_task_s=100e-6, startup_s=0.04)
    pays = pays_from(processes, dataclasses.replace(TASK, seconds=50e-6))
    assert pays.task_s == pytest.approx(100e-6 / OWN_COST_SHARE)
    assert pays.map_s == pytest.approx(0.04 / OWN_COST_SHARE)
    assert pays.batch == 20  # 1 ms / 50 µs
    long_tasks = pays_from(processes, dataclasses.replace(TASK, seconds=0.01))
    assert long_tasks.batch == 1


def test_batching_cannot_hide_the_data_each_task_moves() -> None:
    task = dataclasses.replace(TASK, seconds=1e-3, move_s=2e-4)
    processes = way("processes", 2, 0.9, copies=True, empty_task_s=1e-5)
    assert pays_from(processes, task).batch == 1
    threads = way("threads", 2, 1.9, empty_task_s=1e-5)  # shares memory: moves nothing
    assert pays_from(threads, task).task_s == pytest.approx(1e-4)


def test_the_recommendation_carries_the_batch_its_tasks_need() -> None:
    task = dataclasses.replace(TASK, seconds=20e-6)
    processes = way("processes", 2, 1.8, empty_task_s=100e-6)
    assert recommend([SERIAL, processes], task).batch == 50


def test_projection_follows_amdahl_with_the_measured_serial_fraction() -> None:
    projection = project(way("processes", 2, 1.6), cpus=2)
    assert projection is not None
    assert projection.serial_fraction == pytest.approx(0.25)  # (1/1.6 - 1/2) / (1 - 1/2)
    assert [p for p, _ in projection.speedups] == [4, 8, 16, 32, 64]
    by_cpus = dict(projection.speedups)
    assert by_cpus[4] == pytest.approx(1 / (0.25 + 0.75 / 4))
    assert project(SERIAL, cpus=2) is None
    assert project(way("threads", 1, 1.0), cpus=2) is None


def test_the_advice_fits_100_columns_and_keeps_its_figures() -> None:
    task = dataclasses.replace(TASK, moved_bytes=4 << 20, move_s=0.002)
    ways = (
        SERIAL,
        way("threads", 2, 1.9, shares_gil=True, empty_task_s=2e-5, startup_s=1e-3),
        way("processes", 2, 1.5, copies=True, empty_task_s=1e-4, startup_s=0.03),
        Way("interpreters", 2, error="cannot load numpy in a subinterpreter " * 4),
    )
    advice = Advice("zlib.compress(bytes:4M)", task, ways, 2, "CPython 3.11", "releases", "x")
    lines = advice.lines()
    assert all(len(line) <= WIDTH for line in lines), [line for line in lines if len(line) > WIDTH]
    assert any(line.startswith("use: threads ×2: 1.90×") for line in lines)
    plain = advice.plain()
    assert plain["recommended"]["runner"] == "threads"
    assert plain["recommended"]["speedup"] == 1.9
    assert set(plain["why_not"]) == {"serial", "processes ×2", "interpreters ×2"}


def test_serial_is_recommended_when_tied_with_the_best() -> None:
    threads = dataclasses.replace(way("threads", 2, 1.01), task_times_s=SERIAL.task_times_s)
    best = recommend([SERIAL, threads], TASK)
    assert best.way is SERIAL
    assert best.tied_with == (threads,)
    assert why_not(threads, best, TASK) == "tied with serial within the spread of its rounds"


def test_one_round_is_no_ground_for_a_projection_and_says_so() -> None:
    """An interrupted advise projected 64 cpus 64.0× from one round of 2.12× on 2 cpus."""
    one_round = dataclasses.replace(way("processes", 2, 1.6), task_times_s=(1 / 1.6,))
    assert project(one_round, cpus=2) is None
    enough = dataclasses.replace(one_round, task_times_s=(1 / 1.6,) * PROJECT_MIN_ROUNDS)
    assert project(enough, cpus=2) is not None
    advice = Advice("f()", TASK, (SERIAL, one_round), 2, "CPython", "releases", "x", False)
    lines = advice.lines()
    assert not any("cpus" in line and line.startswith("projection:") for line in lines)
    assert (
        f"projection: none: processes ×2 has 1 round measured; a projection needs "
        f"{PROJECT_MIN_ROUNDS} or more"
    ) in lines


def test_a_speedup_the_way_cannot_give_is_warned_of_and_not_projected() -> None:
    flagged = way("processes", 2, 2.12, impossible="2.12×, above the ideal (2.00×)")
    advice = Advice("f()", TASK, (SERIAL, flagged), 2, "CPython", "releases", "x")
    lines = advice.lines()
    assert "warning: processes ×2: 2.12×, above the ideal (2.00×)" in lines
    assert advice.projection() is None
    assert any("projection: none: processes ×2's speedup cannot be" in line for line in lines)
    assert advice.plain()["ways"][1]["impossible"] == "2.12×, above the ideal (2.00×)"
