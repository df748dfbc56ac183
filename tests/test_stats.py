from __future__ import annotations

from math import comb

import pytest

from gilkit.analysis import significance
from gilkit.analysis.significance import (
    adjusted,
    p_value,
    repeats_needed,
    sign_test_p,
    significant,
    smallest_p,
    u_counts,
    u_statistic,
)
from gilkit.analysis.stats import NOISY_CV, cell_stats, cpu_utilisation, spread
from gilkit.analysis.verdicts import fastest
from gilkit.model.facts import IDEAL_CPUS, IDEAL_WORKERS, ideal_rule, ideal_speedup
from gilkit.model.results import CellRecord, RunResult
from gilkit.model.units import DASH, plural
from gilkit.present.tables import format_check, format_fastest, format_title, row_values


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
    assert not spread([3.0]).known


def run_of(records: list[CellRecord], n_cpus: int = 2, **kernels: dict[str, object]) -> RunResult:
    """A result of these cells on `n_cpus`, the kernels described as given."""
    return RunResult({"cpu": {"usable_cpus": n_cpus}}, {}, records, kernels=kernels)


def test_noisy_is_computed_when_read() -> None:
    records = [
        record("python", "serial", 1, [1.0, 1.0, 1.01]),
        record("numpy", "serial", 1, [1.0, 3.0, 1.0]),
    ]
    stats = cell_stats(run_of(records))
    assert [stats[r.key].time.noisy for r in records] == [False, True]


def test_one_rule_gives_the_ideal_speedup() -> None:
    assert ideal_rule("cpu") == ideal_rule("memory") == IDEAL_CPUS
    assert ideal_rule("io") == IDEAL_WORKERS
    assert ideal_speedup(IDEAL_CPUS, 8, 2) == 2
    assert ideal_speedup(IDEAL_CPUS, 1, 16) == 1
    assert ideal_speedup(IDEAL_WORKERS, 32, 2) == 32


def test_an_io_kernel_described_in_the_file_is_ideal_at_every_worker_count() -> None:
    records = [record("python", "serial", 1, [1.0]), record("python", "threads", 8, [0.125])]
    stats = cell_stats(run_of(records, squares={"ideal": IDEAL_WORKERS}))
    assert stats["squares", "python", "threads", 8].ideal == 8
    assert stats["squares", "python", "threads", 8].efficiency == pytest.approx(1.0)


def test_work_per_n_comes_from_the_file() -> None:
    # Work grows as n squared here: twice the n is four times the work.
    records = [
        record("python", "serial", 1, [1.0], size=100),
        record("numpy", "serial", 1, [1.0], size=200),
    ]
    stats = cell_stats(run_of(records, squares={"work": {"100": 10_000, "200": 40_000}}))
    assert stats["squares", "numpy", "serial", 1].speedup_vs_python == pytest.approx(4.0)


def test_fastest_compares_time_per_unit_of_work_not_the_raw_median() -> None:
    # Python runs a smaller n: its 0.1 s call does 100x less work than numpy's 0.5 s one.
    records = [
        record("python", "serial", 1, [0.1, 0.1, 0.1], size=1_000),
        record("python", "processes", 2, [0.06, 0.06, 0.06], size=1_000),
        record("numpy", "serial", 1, [0.5, 0.5, 0.5], size=100_000),
    ]
    result = run_of(records)
    found = fastest(result, cell_stats(result), "squares")
    assert found is not None
    assert found.key == ("squares", "numpy", "serial", 1)


def test_fastest_follows_the_medians_where_a_drift_reorders_the_paired_ratios() -> None:
    """The machine's speed moved from round to round (pure Python's serial calls took 1, 2
    and 3 s): the threads cell's paired "vs python" beats the processes cell's, though its
    median is slower. The medians, which the table prints, decide."""
    records = [
        record("python", "serial", 1, [1.0, 2.0, 3.0]),
        record("cython", "processes", 2, [0.010, 0.020, 0.030]),
        record("cython", "threads", 2, [0.005, 0.021, 0.021]),
        record("cython", "serial", 1, [0.040, 0.040, 0.040]),
    ]
    result = run_of(records)
    stats = cell_stats(result)
    paired = {k[2]: s.speedup_vs_python for k, s in stats.items() if k[1] == "cython"}
    assert paired["threads"] > paired["processes"]  # what the old rule crowned
    found = fastest(result, stats, "squares")
    assert found is not None
    assert found.key == ("squares", "cython", "processes", 2)
    # Three repeats a side can never separate two cells (p >= 0.1): said, not hidden.
    assert ("squares", "cython", "threads", 2) in found.tied_with


def test_cells_whose_every_repeat_was_slower_are_not_tied_however_few_the_repeats() -> None:
    """Two repeats a side: no test separates them (p >= 0.3), but no repeat of the serial
    cell came near the fastest one's slowest."""
    records = [
        record("cython", "threads", 2, [0.020, 0.022]),
        record("cython", "processes", 2, [0.021, 0.025]),
        record("cython", "serial", 1, [0.040, 0.041]),
    ]
    result = run_of(records)
    found = fastest(result, cell_stats(result), "squares")
    assert found is not None
    assert found.tied_with == (("squares", "cython", "processes", 2),)


def test_a_cell_with_a_wrong_result_is_never_the_fastest_nor_tied() -> None:
    """`mine` returned 42 in a hundredth of the time: fast, and no answer."""
    wrong = record("mine", "serial", 1, [0.001, 0.001, 0.001], agrees=False)
    close = record("mine", "threads", 2, [0.1, 0.1, 0.11], agrees=False)
    right = record("python", "serial", 1, [0.1, 0.1, 0.1], agrees=True)
    result = run_of([wrong, close, right])
    stats = cell_stats(result)
    found = fastest(result, stats, "squares")
    assert found is not None
    assert found.key == right.key
    assert found.tied_with == ()
    assert format_fastest(result, "squares", stats).startswith("squares: fastest is python ×")
    result.cells.remove(right)
    assert format_fastest(result, "squares", cell_stats(result)) == (
        "squares: no cell finished with the reference result"
    )


def test_one_timed_call_has_no_spread_and_ties_nothing() -> None:
    """--repeat 1 (or a run cut short): no ±0%, no tie and no untie from one call."""
    records = [
        record("cython", "threads", 2, [0.020]),
        record("cython", "processes", 2, [0.021, 0.022]),
        record("cython", "serial", 1, [0.040]),
    ]
    result = run_of(records)
    stats = cell_stats(result)
    assert not stats[records[0].key].time.known
    assert stats[records[1].key].time.known
    assert row_values(result, records[0], stats[records[0].key])[4] == DASH
    found = fastest(result, stats, "squares")
    assert found is not None
    assert found.key == records[0].key
    assert found.tied_with == ()
    assert set(found.untold) == {records[1].key, records[2].key}
    assert format_fastest(result, "squares", stats).endswith(
        "; whether 2 other cells tie with it cannot be told: one timed call has no spread "
        "(--repeat 2 or more)"
    )


def test_a_cell_the_runs_stop_cut_is_stopped_not_an_error() -> None:
    """--max-time or Ctrl-C before the cell's first timed call: no time, no error."""
    done = record("python", "serial", 1, [0.1, 0.1], agrees=True)
    cut = record("python", "threads", 2, [])
    result = run_of([done, cut])
    stats = cell_stats(result)
    assert cut.stopped
    assert cut.ok
    assert not done.stopped
    row = row_values(result, cut, stats.get(cut.key), stats)
    assert row[3] == "stopped"
    assert row[-1] == DASH
    assert list(format_check(result)) == [
        "stopped: 1 cell not measured: the run stopped before their first timed call "
        "(not a failure).",
        "check: all 1 measured cells computed the kernel's reference result.",
    ]


def test_cells_the_repeats_cannot_separate_are_tied() -> None:
    records = [
        record("cython", "threads", 2, [0.020, 0.022, 0.021, 0.023, 0.020]),
        record("cython", "processes", 2, [0.021, 0.020, 0.022, 0.021, 0.024]),
        record("cython", "serial", 1, [0.040, 0.041, 0.040, 0.042, 0.040]),
    ]
    result = run_of(records)
    found = fastest(result, cell_stats(result), "squares")
    assert found is not None
    assert found.tied_with == (("squares", "cython", "processes", 2),)
    line = format_fastest(result, "squares", cell_stats(result))
    assert "tied with cython × processes × 2 workers (its repeats cannot tell them apart)" in line


def test_speedups_compare_time_per_unit_of_work_across_sizes() -> None:
    records = [
        record("python", "serial", 1, [2.0], size=100),
        record("numpy", "serial", 1, [1.0], size=1000),
        record("numpy", "threads", 2, [0.5], size=1000),
    ]
    stats = cell_stats(run_of(records))
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
    stats = cell_stats(run_of([serial, threads]))
    assert stats["squares", "numpy", "threads", 2].speedup_vs_serial == pytest.approx(2.0)


def test_speedups_of_cells_with_unequal_rounds_use_the_ratio_of_medians() -> None:
    serial = record("numpy", "serial", 1, [1.0, 1.2, 1.4])
    threads = record("numpy", "threads", 2, [0.6, 0.6])
    stats = cell_stats(run_of([serial, threads]))
    assert stats["squares", "numpy", "threads", 2].speedup_vs_serial == pytest.approx(2.0)


def test_ideal_is_capped_by_the_usable_cpus() -> None:
    records = [record("numpy", "serial", 1, [1.0]), record("numpy", "threads", 8, [0.5])]
    cell = cell_stats(run_of(records))["squares", "numpy", "threads", 8]
    assert cell.ideal == 2
    assert cell.efficiency == pytest.approx(1.0)


def test_cpu_utilisation_shows_a_serialised_pool() -> None:
    # Two workers, one second of wall time, one CPU second in all: half the ideal.
    r = record(
        "python", "threads", 2, [1.0, 1.0], cpu_parent_s=[1.0, 1.0], cpu_workers_s=[0.0, 0.0]
    )
    assert cpu_utilisation(r) == pytest.approx(0.5)


def test_cpu_use_is_never_over_all_the_workers() -> None:
    """A 0.3 ms serial call whose cpu clock, read just outside the wall clock, counted
    0.31 ms: at most 100%, not 103%."""
    r = record("numpy", "serial", 1, [0.0003], cpu_parent_s=[0.00031], cpu_workers_s=[0.0])
    assert cpu_utilisation(r) == 1.0


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


def test_the_u_distribution_is_counted_without_recursion() -> None:
    """Its counts add up to every interleaving and are symmetric; sizes a recursion over
    (n_a, n_b) could not reach (600 a side: 109 s and 5.8 GB before a MemoryError)."""
    for n_a, n_b in [(1, 1), (5, 5), (3, 9), (40, 40)]:
        counts = u_counts(n_a, n_b)
        assert sum(counts) == comb(n_a + n_b, n_a)
        assert counts == counts[::-1]
    separated = p_value(list(range(600)), [x + 1000.5 for x in range(600)])
    assert 0 <= separated < 1e-50


def test_beyond_the_exact_test_the_normal_approximation_agrees_with_it() -> None:
    """40 repeats a side, no ties: the exact p and the approximate one, side by side."""
    a = [i * 1.0 for i in range(40)]
    for shift in (0.5, 5.5, 15.5):
        b = [x + shift for x in a]
        exact = p_value(a, b)
        approx = significance._normal_p(u_statistic(a, b), [*a, *b], 40, 40)
        assert approx == pytest.approx(exact, abs=0.01)


def test_ties_are_half_counted_and_take_the_approximation() -> None:
    a, b = [1.0, 2.0, 2.0], [2.0, 3.0]
    pairs = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)
    assert u_statistic(a, b) == pairs
    assert 0 < p_value(a, b) <= 1


def test_a_tables_title_gives_each_impls_n_or_its_n_per_worker_under_weak_scaling() -> None:
    strong = [
        record("python", "serial", 1, [1.0], size=10),
        record("numpy", "serial", 1, [1.0], size=500),
        record("numpy", "threads", 2, [1.0], size=500),
    ]
    assert "python: n = 10; numpy: n = 500 items, split" in format_title(
        run_of(strong), "squares", strong
    )
    weak = [*strong[:2], record("numpy", "threads", 2, [1.0], size=1000)]
    title = format_title(run_of(weak), "squares", weak)
    assert "python: n = 10; numpy: n = 500 items per worker (weak scaling" in title
    assert "1,000" not in title


@pytest.mark.parametrize(("count", "said"), [(1, "1 task"), (2, "2 tasks"), (1000, "1,000 tasks")])
def test_a_count_is_said_in_the_singular_only_for_one(count: int, said: str) -> None:
    """advise said `measured: 1 tasks`."""
    assert plural(count, "task") == said
