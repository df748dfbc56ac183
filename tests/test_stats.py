from __future__ import annotations

import pytest

from gilkit.results import CellRecord
from gilkit.significance import (
    adjusted,
    p_value,
    repeats_needed,
    sign_test_p,
    significant,
    smallest_p,
    u_statistic,
)
from gilkit.stats import NOISY_CV, cell_stats, cpu_utilisation, flag_noisy, spread


def record(
    impl: str, runner: str, n_workers: int, times: list[float], size: int = 100, **fields: object
) -> CellRecord:
    return CellRecord(
        "squares", impl, runner, n_workers, size, "contiguous", times_s=times, **fields
    )


def test_spread_of_steady_and_noisy_times() -> None:
    steady = spread([1.0, 1.01, 0.99, 1.0, 1.0])
    assert steady.median == 1.0
    assert steady.cv < NOISY_CV
    assert not steady.noisy
    noisy = spread([1.0, 2.0, 1.0, 2.0, 1.0])
    assert noisy.noisy
    assert noisy.iqr == pytest.approx(1.0)
    assert spread([3.0]).cv == 0.0


def test_flag_noisy_marks_records_for_the_json() -> None:
    records = [
        record("python", "serial", 1, [1.0, 1.0, 1.01]),
        record("numpy", "serial", 1, [1.0, 3.0, 1.0]),
    ]
    flag_noisy(records)
    assert [r.noisy for r in records] == [False, True]


def test_speedups_compare_time_per_unit_of_work_across_sizes() -> None:
    records = [
        record("python", "serial", 1, [2.0], size=100),
        record("numpy", "serial", 1, [1.0], size=1000),
        record("numpy", "threads", 2, [0.5], size=1000),
    ]
    stats = cell_stats(records, n_cpus=2)
    threads = stats["squares", "numpy", "threads", 2]
    assert threads.speedup_vs_serial == pytest.approx(2.0)
    assert threads.efficiency == pytest.approx(1.0)
    # Python: 2 s per 100 units; numpy on 2 threads: 0.5 s per 1000, 40x less per unit.
    assert threads.speedup_vs_python == pytest.approx(40.0)


def test_speedups_pair_the_calls_of_each_round_so_machine_drift_cancels() -> None:
    # The machine ran 2x slower from round 3 on, and sped up again before the threads' last
    # call. Round by round, threads took half the time; the ratio of medians would say 4x.
    serial = record("numpy", "serial", 1, [1.0, 1.0, 2.0, 2.0, 2.0])
    threads = record("numpy", "threads", 2, [0.5, 0.5, 1.0, 1.0, 0.5])
    stats = cell_stats([serial, threads], n_cpus=2)
    assert stats["squares", "numpy", "threads", 2].speedup_vs_serial == pytest.approx(2.0)


def test_speedups_of_cells_with_unequal_rounds_use_the_ratio_of_medians() -> None:
    serial = record("numpy", "serial", 1, [1.0, 1.2, 1.4])
    threads = record("numpy", "threads", 2, [0.6, 0.6])
    stats = cell_stats([serial, threads], n_cpus=2)
    assert stats["squares", "numpy", "threads", 2].speedup_vs_serial == pytest.approx(2.0)


def test_ideal_is_capped_by_the_usable_cpus() -> None:
    records = [record("numpy", "serial", 1, [1.0]), record("numpy", "threads", 8, [0.5])]
    cell = cell_stats(records, n_cpus=2)["squares", "numpy", "threads", 8]
    assert cell.ideal == 2
    assert cell.efficiency == pytest.approx(1.0)


def test_cpu_utilisation_shows_a_serialised_pool() -> None:
    # Two workers, one second of wall time, one CPU second in all: half the ideal.
    r = record(
        "python", "threads", 2, [1.0, 1.0], cpu_parent_s=[1.0, 1.0], cpu_workers_s=[0.0, 0.0]
    )
    assert cpu_utilisation(r) == pytest.approx(0.5)


def test_mann_whitney_u_exact_p_values() -> None:
    # Values checked against scipy.stats.mannwhitneyu(method="exact").
    assert p_value([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert p_value([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]) == pytest.approx(0.690476, abs=1e-6)
    assert u_statistic([1, 2], [1, 3]) == 1.5  # 2 > 1, and one tie (1, 1) counts half
    assert not significant([1, 2, 3], [4, 5, 6])  # 3 repeats a side can never reach 0.05
    assert significant([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert p_value([], [1.0]) == 1.0


def test_benjamini_hochberg_keeps_a_chance_hit_out_but_finds_a_broad_change() -> None:
    # One p of 0.03 among 31 cells is what chance gives: not significant once adjusted.
    lone = adjusted([0.03] + [0.5] * 30)
    assert lone[0] == pytest.approx(0.5)  # 0.03 x 31 = 0.93, capped by the larger p-values
    assert min(lone) > 0.05
    # The same p in every cell is a real change: each stays at 0.03.
    assert adjusted([0.03] * 31) == pytest.approx([0.03] * 31)
    # q-values keep the order of the p-values and never pass 1.
    q = adjusted([0.04, 0.001, 0.9, 0.02])
    assert q == pytest.approx([0.0533, 0.004, 0.9, 0.04], abs=1e-3)


def test_repeats_needed_to_show_a_change_in_one_cell() -> None:
    assert smallest_p(5, 5) == pytest.approx(2 / 252)
    assert repeats_needed(1) == 4  # 2/70 < 0.05; 3 a side give at best 0.1
    assert repeats_needed(31) == 7  # a kernel of the default run
    assert smallest_p(7, 7) * 31 < 0.05 <= smallest_p(6, 6) * 31


def test_sign_test_over_the_cells_of_a_kernel() -> None:
    assert sign_test_p(3, 3) == 1.0
    assert sign_test_p(5, 0) == pytest.approx(2 / 32)  # 5 of 5 faster: p = 0.0625, not < 0.05
    assert sign_test_p(28, 3) < 0.001  # the whole kernel moved
    assert sign_test_p(20, 11) > 0.05
    assert sign_test_p(0, 0) == 1.0
