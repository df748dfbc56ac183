"""The machine's capacity and the share of it other processes took: measured, then read."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gilkit.analysis import verdicts
from gilkit.analysis.stats import (
    CELL_SHARE,
    capacity,
    capacity_moves,
    cell_stats,
    estimate_ratio,
    karp_flatt,
    machine_capacity,
    shares_taken,
    taken_from,
)
from gilkit.analysis.verdicts import impossible, impossible_benchmark
from gilkit.engine.descriptions import describe_runners
from gilkit.host.capacity import N_ROUNDS, measure_capacity
from gilkit.model.results import CellRecord, RunResult
from gilkit.present.report import limit
from gilkit.present.tables import (
    format_capacity,
    format_estimate,
    format_impossible,
    format_interference,
    format_warnings,
)
from tests.conftest import requires_native


@requires_native
def test_capacity_records_raw_times_of_one_and_n_loops() -> None:
    measured = measure_capacity([2])
    for loop in ("compute", "memory"):
        assert set(measured[loop]) == {"1", "2"}
        assert all(len(times) == N_ROUNDS and min(times) > 0 for times in measured[loop].values())
        assert capacity(measured[loop], 1) == pytest.approx(1.0)
        # N loops cannot give more than N times one: a bound, not a timing (25% for noise).
        assert 0 < capacity(measured[loop], 2) <= 2.5


def test_capacity_is_n_times_one_loop_over_n_loops() -> None:
    times = {"1": [0.05, 0.05, 0.06], "2": [0.05, 0.06, 0.05], "4": [0.1, 0.1, 0.1]}
    assert capacity(times, 2) == pytest.approx(2.0)
    assert capacity(times, 4) == pytest.approx(2.0)  # 4 loops on 2 cpus: 2x at best
    assert capacity(times, 8) == pytest.approx(2.0)  # past the counts measured: the most's
    assert capacity({"2": [0.1]}, 2) is None  # no loop alone to compare with


def test_capacity_is_measured_up_to_the_usable_cpus_only() -> None:
    measured = measure_capacity([1, 2, 64, 1024], cpus=2)
    if "unavailable" in measured:
        pytest.skip(measured["unavailable"])
    assert set(measured["compute"]) == {"1", "2"}
    assert set(measured["memory"]) == {"1", "2"}


def call(runner: str, n_workers: int, busy: float, own: float, **fields: object) -> CellRecord:
    """A cell of one 1-second call: all cpus were busy `busy` s, gilkit's process `own` s."""
    return CellRecord(
        "squares",
        "cython-nogil",
        runner,
        n_workers,
        100,
        "contiguous",
        times_s=[1.0],
        cpu_parent_s=[own],
        cpu_workers_s=[0.0],
        machine_busy_s=[busy],
        machine_steal_s=[0.0],
        **fields,
    )


def run_of(*records: CellRecord, capacity_times: dict | None = None) -> RunResult:
    metadata = {"cpu": {"usable_cpus": 2}}
    if capacity_times is not None:
        metadata["capacity"] = {"compute": capacity_times}
    return RunResult(metadata, {}, list(records))


def test_the_share_others_took_is_all_busy_time_less_gilkits_own() -> None:
    quiet = call("threads", 2, busy=2.02, own=2.0)  # 0.02 s of ticks' rounding
    hogged = call("threads", 2, busy=2.0, own=1.0)  # a busy program took one of two cpus
    assert shares_taken([quiet], 2).others == pytest.approx(0.01)
    assert shares_taken([hogged], 2).others == pytest.approx(0.5)
    assert shares_taken([call("serial", 1, busy=0.5, own=0.9)], 2).others == 0.0  # never below 0
    assert (
        shares_taken([CellRecord("squares", "python", "serial", 1, 1, "x", times_s=[1])], 2) is None
    )  # off Linux nothing is recorded


def test_a_hogged_cell_is_flagged_its_verdict_says_why_and_the_run_warns() -> None:
    serial = call("serial", 1, busy=1.0, own=1.0)
    hogged = call("threads", 2, busy=2.0, own=1.0, gil_contention=0.0)
    result = run_of(serial, hogged)
    stats = cell_stats(result)
    cell = stats[hogged.key]
    assert cell.interference == pytest.approx(0.5)
    assert cell.interference >= CELL_SHARE
    assert cell.interfered
    assert limit(cell).startswith("the cpus were taken by other processes (50%")
    lines = list(format_interference(result, stats))
    assert lines[0].startswith("warning: other processes took 25% of the cpus")


def test_a_cell_the_hypervisor_took_from_is_flagged_and_the_hypervisor_named() -> None:
    """No other process ran, but the hypervisor stole 30% of the cpus (a busy cloud host)."""
    serial = call("serial", 1, busy=1.0, own=1.0)
    stolen = call("threads", 2, busy=2.0, own=2.0, gil_contention=0.0)
    stolen.machine_steal_s = [0.6]
    cell = cell_stats(run_of(serial, stolen))[stolen.key]
    assert cell.interference == pytest.approx(0.0)
    assert cell.interfered
    assert limit(cell).startswith("the cpus were taken by the hypervisor (steal)")


def test_an_idle_run_does_not_warn() -> None:
    result = run_of(call("serial", 1, busy=1.01, own=1.0), call("threads", 2, busy=2.03, own=2.0))
    lines = list(format_interference(result, cell_stats(result)))
    assert lines == ["other processes: 1% of the cpus during the calls (idle)"]


def test_a_tick_counted_in_a_short_call_is_neither_over_all_cpus_nor_judged() -> None:
    """A 337 µs call during which /proc/stat counted one 10 ms tick (and the hypervisor one):
    more than all the cpus' time, but too few ticks to tell anything."""
    short = call("threads", 2, busy=0.01, own=0.0003, gil_contention=0.0)
    short.times_s, short.cpu_parent_s, short.machine_steal_s = [0.000337], [0.0003], [0.01]
    taken = shares_taken([short], 2)
    assert taken is not None
    assert taken.others <= 1.0
    assert taken.total <= 1.0
    assert not taken.told
    assert not taken.interfered
    result = run_of(call("serial", 1, busy=0.0, own=0.0), short)
    result.cells[0].times_s = [0.0029]
    stats = cell_stats(result)
    assert not any(cell.interfered for cell in stats.values())
    assert not limit(stats[short.key]).startswith("the cpus were taken")
    (line,) = format_interference(result, stats)
    assert line.startswith("other processes: too short to tell (the calls lasted 3.2 ms in all")
    assert "under the 10 ticks of 10 ms" in line
    assert not any("%" in line and "warning" in line for line in format_warnings(result, stats))


def test_calls_of_ten_ticks_in_all_are_enough_to_judge() -> None:
    """Half of 2 cpus taken over 0.1 s of calls is told; over 0.09 s, it is rounding."""
    assert taken_from(0.1, 0.0, 0.0, 0.1, 2).interfered
    assert not taken_from(0.09, 0.0, 0.0, 0.09, 2).interfered


def test_efficiency_against_the_machines_capacity() -> None:
    serial = call("serial", 1, busy=1.0, own=1.0)
    threads = CellRecord("squares", "cython-nogil", "threads", 2, 100, "contiguous", times_s=[0.55])
    result = run_of(serial, threads, capacity_times={"1": [0.05], "2": [0.055]})
    cell = cell_stats(result)[threads.key]
    assert cell.capacity == pytest.approx(2 * 0.05 / 0.055)  # 1.82x: all the machine gives
    assert cell.efficiency == pytest.approx(0.909, abs=1e-3)
    assert cell.of_capacity == pytest.approx(1.0)


def test_karp_flatt_tells_a_fixed_serial_part_from_a_growing_overhead() -> None:
    amdahl = {p: 1 / (0.1 + 0.9 / p) for p in (2, 4, 8)}  # 10% serial, nothing else
    assert {p: round(karp_flatt(s, p), 6) for p, s in amdahl.items()} == dict.fromkeys(amdahl, 0.1)
    assert karp_flatt(2.0, 2) == pytest.approx(0.0)
    assert karp_flatt(1.0, 1) is None


@pytest.mark.parametrize(("bound", "ideal", "fraction"), [("io", 7, 0.0), ("cpu", 2, -5 / 7)])
def test_the_serial_fraction_is_taken_against_the_kernels_own_ideal(
    bound: str, ideal: int, fraction: float
) -> None:
    """7 waiting workers on 2 cpus, 7x faster: no serial part for I/O (ideal 7); for busy
    work on 2 cpus the same figure is impossible and reads below 0."""
    cells = [
        CellRecord("k", "python", "serial", 1, 10, "contiguous", times_s=[0.7]),
        CellRecord("k", "python", "threads", 7, 10, "contiguous", times_s=[0.1]),
    ]
    rule = "workers" if bound == "io" else "min(workers, usable cpus)"
    result = RunResult({"cpu": {"usable_cpus": 2}}, {}, cells, kernels={"k": {"ideal": rule}})
    cell = cell_stats(result)["k", "python", "threads", 7]
    assert cell.ideal == ideal
    assert cell.serial_fraction == pytest.approx(fraction)


@pytest.mark.slow
@requires_native
def test_a_busy_process_during_a_run_is_reported(tmp_path: Path) -> None:
    """A program that keeps one cpu busy, started as the run begins: the run says so."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        out = tmp_path / "run.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "gilkit",
                "run",
                "--kernel",
                "squares",
                "--impl",
                "cython-nogil",
                "--runner",
                "threads",
                "--workers",
                "2",
                "--size",
                "150000000",  # calls of 50 ms: enough ticks to tell (stats.LEAST_TICKS)
                "--repeat",
                "5",
                "--warmup",
                "0",
                "--json",
                str(out),
            ],
            text=True,
            capture_output=True,
            check=False,
            timeout=120,
        )
    finally:
        hog.kill()
        hog.wait()
    assert done.returncode == 0, done.stderr
    assert "warning: other processes took" in done.stdout
    cells = json.loads(out.read_text())["cells"]
    assert all(len(c["machine_busy_s"]) == 5 for c in cells)


@pytest.mark.parametrize(("took", "warned"), [(40.0, False), (100.0, True), (10.0, True)])
def test_the_matrix_time_is_set_beside_the_sizings_estimate(took: float, warned: bool) -> None:
    """The estimate is the matrix's: the run's other steps (capacity, data, pools) are
    said apart and never make a warning."""
    result = run_of(call("serial", 1, busy=1.0, own=1.0))
    result.options["sizing"] = {"estimated_s": 40.0}
    result.metadata.update(matrix_s=took, run_s=took + 50)
    assert estimate_ratio(result) == pytest.approx(took / 40.0)
    (line,) = format_estimate(result)
    assert line.startswith("warning: ") is warned
    assert f"the matrix took {took:.0f} s; the sizing estimated about 40 s" in line
    assert f"the whole run {took + 50:.0f} s" in line


def test_a_short_run_that_missed_its_estimate_is_not_warned_about() -> None:
    """A kernel of fixed size: `the matrix took 0 s; the sizing estimated about 1 s` was a
    warning that its model missed this machine, over a second nobody waited for."""
    result = run_of(call("serial", 1, busy=1.0, own=1.0))
    result.options["sizing"] = {"estimated_s": 1.2}
    result.metadata.update(matrix_s=0.25, run_s=0.9)
    (line,) = format_estimate(result)
    assert line == (
        "the matrix took 250.0 ms; the sizing estimated about 1.20 s; the whole run 900.0 ms, "
        "with the capacity, the kernels' data and the pools' start"
    )


def test_a_result_file_without_the_matrix_time_sets_the_runs_beside_the_estimate() -> None:
    result = run_of(call("serial", 1, busy=1.0, own=1.0))
    result.options["sizing"] = {"estimated_s": 40.0}
    result.metadata["run_s"] = 100.0
    assert estimate_ratio(result) == pytest.approx(2.5)
    assert "whole run" not in next(format_estimate(result))


def test_a_cell_at_the_machines_capacity_is_held_back_by_the_machine() -> None:
    """2 busy workers at 1.6x where 2 busy native threads reach 1.7x here: the machine."""
    serial = call("serial", 1, busy=1.0, own=1.0)
    busy = call("threads", 2, busy=1.25, own=1.25, gil_contention=0.0)
    busy.times_s = [1 / 1.6]
    busy.cpu_parent_s = [2 * 0.95 / 1.6]
    busy.machine_busy_s = busy.cpu_parent_s
    result = run_of(serial, busy, capacity_times={"1": [0.05], "2": [0.1 / 1.7]})
    cell = cell_stats(result)[busy.key]
    assert verdicts.limit(cell) is verdicts.Limit.MACHINE
    assert limit(cell).startswith("the machine: 1.70× is all that as many busy native threads")


def held_and_cold(gil_enabled: bool = True) -> RunResult:
    """python × threads × 2 at 1.86x (a cold first serial call) and × processes × 2 at 3.36x
    on 2 cpus: figures seen in a pytest-benchmark run; and a believable nogil cell."""

    def cell(impl: str, runner: str, n: int, times: list[float]) -> CellRecord:
        return CellRecord(
            "squares", impl, runner, n, 100, "contiguous", times_s=times, gil_enabled=gil_enabled
        )

    result = run_of(
        cell("python", "serial", 1, [1.86, 1.86, 1.86]),
        cell("python", "threads", 2, [1.0, 1.0, 1.0]),
        cell("python", "processes", 2, [0.553, 0.553, 0.553]),
        cell("cython-nogil", "serial", 1, [1.0, 1.0, 1.0]),
        cell("cython-nogil", "threads", 2, [0.52, 0.52, 0.52]),
    )
    result.impls = {"python": {"kind": "python"}, "cython-nogil": {"kind": "releases"}}
    result.metadata["runners"] = describe_runners(["serial", "threads", "processes"])
    return result


def test_speedups_the_strategy_cannot_give_are_marked_and_explained() -> None:
    result = held_and_cold()
    stats = cell_stats(result)
    cells = {r.key: r for r in result.cells}
    python_threads = cells["squares", "python", "threads", 2]
    assert "holds the GIL its 2 workers share" in (impossible(result, python_threads, stats) or "")
    python_processes = cells["squares", "python", "processes", 2]
    assert "above the ideal (2.00×)" in (impossible(result, python_processes, stats) or "")
    assert impossible(result, cells["squares", "cython-nogil", "threads", 2], stats) is None
    warnings = "\n".join(format_warnings(result, stats))
    assert "squares python × threads × 2: 1.86× though" in warnings
    assert "its serial baseline was slow or cold" in warnings


def test_one_timed_call_is_not_judged_against_the_ideal_and_the_run_says_so() -> None:
    """--repeat 1: processes × 2 at 3.36x on 2 cpus is not held to the ideal with a spread
    of 0 it never had; the GIL-held check, which needs no spread, still applies."""
    result = held_and_cold()
    for record in result.cells:
        record.times_s = record.times_s[:1]
    stats = cell_stats(result)
    cells = {r.key: r for r in result.cells}
    assert impossible(result, cells["squares", "python", "processes", 2], stats) is None
    assert verdicts.unjudged(result, cells["squares", "python", "processes", 2], stats)
    held = impossible(result, cells["squares", "python", "threads", 2], stats)
    assert "holds the GIL" in (held or "")
    warnings = list(format_impossible(result, stats))
    assert not any("above the ideal" in line for line in warnings)
    assert warnings[-1].startswith(
        "the speedups of 3 cells were not checked against the ideal or the capacity (?)"
    )


def test_without_a_gil_threads_of_python_may_scale() -> None:
    result = held_and_cold(gil_enabled=False)
    stats = cell_stats(result)
    python_threads = next(r for r in result.cells if r.key == ("squares", "python", "threads", 2))
    assert impossible(result, python_threads, stats) is None


def test_python_threads_that_wait_on_io_overlap_and_are_not_marked() -> None:
    """An I/O-bound kernel's pure-Python calls wait with the GIL released: 16 threads at
    12x of an ideal 16x are the strategy working, not a cold baseline; nor are they idle."""
    result = held_and_cold()
    for record in result.cells:
        record.kernel = "io"
    result.kernels = {"io": {"bound": "io", "ideal": "workers"}}
    python_threads = next(r for r in result.cells if r.key == ("io", "python", "threads", 2))
    assert not result.takes_turns("io", "python")
    assert result.takes_turns("squares", "python")
    stats = cell_stats(result)
    assert impossible(result, python_threads, stats) is None
    assert not verdicts.sat_idle(result, python_threads, stats[python_threads.key])


def test_a_benchmark_file_gets_the_same_check() -> None:
    held = {"speedup_vs_serial": 1.86, "ideal_speedup": 2, "holds_shared_gil": True}
    assert impossible_benchmark({**held, "gil_enabled": True}) is not None
    assert impossible_benchmark({**held, "gil_enabled": False}) is None
    assert impossible_benchmark({"speedup_vs_serial": 3.36, "ideal_speedup": 2}) is not None
    assert impossible_benchmark({"speedup_vs_serial": 1.9, "ideal_speedup": 2}) is None


def capacity_result(after: dict[str, list[float]] | None) -> RunResult:
    """A run whose capacity before the matrix gave about 2x at 2 loops, and `after` after."""
    before = {"1": [1.0, 1.0, 1.0], "2": [1.0, 1.02, 0.98]}
    metadata = {
        "cpu": {"usable_cpus": 2},
        "capacity": {"compute": before, "memory": before},
    }
    if after is not None:
        metadata["capacity_after"] = {"compute": after, "memory": after}
    return RunResult(metadata, {}, kernels={"squares": {"bound": "cpu"}})


def test_a_capacity_that_moved_during_the_run_is_said_and_of_cap_takes_the_mean() -> None:
    result = capacity_result({"1": [1.0, 1.0, 1.0], "2": [1.6, 1.58, 1.62]})  # 2x, then 1.25x
    (move,) = [m for m in capacity_moves(result) if m.loop == "compute"]
    assert move.n_workers == 2
    assert move.before == pytest.approx((1.96, 2.04), abs=0.01)
    assert move.after == pytest.approx((1.23, 1.27), abs=0.01)
    assert machine_capacity(result, "squares", 2) == pytest.approx((2.0 + 1.25) / 2, abs=0.01)
    lines = "\n".join(format_capacity(result))
    assert "warning: the machine's capacity moved during the run: busy loops in 2" in lines
    assert "one alone's): before the matrix 2: 2.00×; after it 2: 1.25×" in lines


def test_rounds_that_only_just_part_are_not_said_to_move() -> None:
    """1.73-1.996x before, 2.001-2.01x after: both read 2.00x at their ends, no move."""
    before = {"1": [1.0, 1.0, 1.0], "2": [2 / c for c in (1.73, 1.9, 1.996)]}
    after = {"1": [1.0, 1.0, 1.0], "2": [2 / c for c in (2.001, 2.005, 2.01)]}
    result = capacity_result(after)
    result.metadata["capacity"] = {"compute": before, "memory": before}
    assert capacity_moves(result) == []


@pytest.mark.parametrize("after", [None, {"1": [1.0, 1.0, 1.0], "2": [1.0, 1.01, 0.99]}])
def test_a_capacity_within_its_spread_is_not_said_to_move(
    after: dict[str, list[float]] | None,
) -> None:
    result = capacity_result(after)
    assert capacity_moves(result) == []
    assert "moved" not in "\n".join(format_capacity(result))
    assert machine_capacity(result, "squares", 2) == pytest.approx(2.0, abs=0.03)


def test_a_speedup_is_impossible_only_past_the_highest_capacity_measured() -> None:
    """A capacity read low before the matrix (1.2x: a cold start) and right after (1.95x):
    cython-nogil in threads at 1.92x is believable; past both, it is not."""
    result = held_and_cold()
    result.kernels = {"squares": {"bound": "cpu"}}
    low, high = {"1": [1.0] * 3, "2": [2 / 1.2] * 3}, {"1": [1.0] * 3, "2": [2 / 1.95] * 3}
    result.metadata["capacity"] = {"compute": low, "memory": low}
    result.metadata["capacity_after"] = {"compute": high, "memory": high}
    stats = cell_stats(result)
    nogil = next(r for r in result.cells if r.key == ("squares", "cython-nogil", "threads", 2))
    assert impossible(result, nogil, stats) is None  # 1.92x: under 1.95x
    result.metadata["capacity_after"] = result.metadata["capacity"]
    assert "above the capacity (1.20×)" in (impossible(result, nogil, cell_stats(result)) or "")


def test_the_bound_is_the_best_round_of_the_capacity_and_never_above_the_ideal() -> None:
    """A VM's memory bandwidth moved: rounds of 1.3x, 1.3x and 1.95x (median 1.3x). A cell at
    1.92x is within what the machine was seen to give; a round past the ideal (2.6x: a slow
    solo loop) does not let a cell pass it."""
    result = held_and_cold()
    result.kernels = {"squares": {"bound": "cpu"}}
    rounds = {"1": [1.0, 1.0, 1.0], "2": [2 / 1.3, 2 / 1.3, 2 / 1.95]}
    result.metadata["capacity"] = {"compute": rounds, "memory": rounds}
    stats = cell_stats(result)
    nogil = next(r for r in result.cells if r.key == ("squares", "cython-nogil", "threads", 2))
    assert impossible(result, nogil, stats) is None
    rounds["2"] = [2 / 2.6] * 3
    result.metadata["capacity"] = {"compute": rounds, "memory": rounds}
    python = next(r for r in result.cells if r.key == ("squares", "python", "processes", 2))
    assert "above the ideal (2.00×)" in (impossible(result, python, cell_stats(result)) or "")


def test_an_impossible_speedup_beside_other_processes_is_blamed_on_them() -> None:
    """A busy loop held one of two cpus: alone, one worker got one cpu; four workers won 1.6
    of the two (the scheduler shares the cpus per thread), 1.6× with a capacity of 1.0×. The
    warning names the other processes, not a cold serial baseline."""
    serial = call("serial", 1, busy=2.0, own=1.0)
    four = call("threads", 4, busy=2.0, own=1.6, gil_contention=0.0)
    four.times_s = [1 / 1.6]
    for record in (serial, four):  # two calls each: a spread (one call has none)
        for name in ("times_s", "cpu_parent_s", "cpu_workers_s", "machine_busy_s"):
            setattr(record, name, getattr(record, name) * 2)
        record.machine_steal_s *= 2
    result = run_of(serial, four, capacity_times={"1": [1.0] * 3, "2": [2.0] * 3})
    result.impls = {"cython-nogil": {"kind": "releases"}}
    result.metadata["runners"] = describe_runners(["serial", "threads"])
    stats = cell_stats(result)
    assert impossible(result, four, stats) is not None
    [warning] = format_impossible(result, stats)
    assert "other processes held cpus meanwhile, and 4 workers won a larger share" in warning
    assert "slow or cold" not in warning


def test_pure_python_triad_is_held_to_the_cpus_capacity_and_compiled_to_the_memorys() -> None:
    """Pure Python spends tens of nanoseconds in the interpreter per element: cpu-bound where
    compiled triads wait for memory. 1.7× is believable for it (cpus: 1.95×), not for them."""
    records = [
        CellRecord("triad", impl, runner, n, 100, "contiguous", times_s=[t] * 3)
        for impl in ("python", "cython-nogil")
        for runner, n, t in (("serial", 1, 1.0), ("threads", 2, 1 / 1.7))
    ]
    result = RunResult(
        {
            "cpu": {"usable_cpus": 2},
            "capacity": {
                "compute": {"1": [1.0] * 3, "2": [2 / 1.95] * 3},
                "memory": {"1": [1.0] * 3, "2": [2 / 1.2] * 3},
            },
        },
        {},
        records,
    )
    result.kernels = {"triad": {"bound": "memory", "ideal": "cpus"}}
    result.impls = {"python": {"kind": "python"}, "cython-nogil": {"kind": "releases"}}
    result.metadata["runners"] = describe_runners(["serial", "threads"])
    stats = cell_stats(result)
    assert stats["triad", "python", "threads", 2].capacity == pytest.approx(1.95)
    assert stats["triad", "cython-nogil", "threads", 2].capacity == pytest.approx(1.2)
    python, compiled = (r for r in records if r.runner == "threads")
    assert impossible(result, compiled, stats) is not None
    # python × threads holds the GIL: impossible for that reason alone, not for its capacity.
    assert "above the capacity" not in (impossible(result, python, stats) or "")
