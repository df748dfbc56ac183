"""compare, plot and report, from real (small) runs."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median

import pytest

from gilkit import cli
from gilkit.analysis.significance import sign_test_p
from gilkit.analysis.stats import cell_stats
from gilkit.analysis.verdicts import sat_idle, slowed_each_other, takes_gil_turns
from gilkit.engine.descriptions import describe_runners
from gilkit.model.results import CellRecord, RunResult, load
from gilkit.model.units import format_change
from gilkit.present.compare import geometric_mean, pairs
from gilkit.present.plot import RUNNER_STYLES, draw_run
from gilkit.present.report import verdict
from gilkit.present.side_by_side import format_side_by_side
from gilkit.present.tables import (
    format_errors,
    format_kernel_table,
    format_overheads,
    format_warnings,
)
from gilkit.runners import RUNNERS

RUN = [
    "run",
    "--kernel",
    "squares",
    "--impl",
    "python,numpy",
    "--size",
    "3000",
    "--repeat",
    "3",
    "--warmup",
    "0",
    "--workers",
    "1,2",
    "--quiet",
]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("runs")
    paths = folder / "a.json", folder / "b.json"
    for path in paths:
        assert cli.main([*RUN, "--json", str(path)]) == 0
    return paths


def test_compare_pairs_every_common_cell(
    two_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = (load(p) for p in two_runs)
    matched = pairs(a, b)
    assert len(matched) == len(a.cells)
    assert cli.main(["compare", *map(str, two_runs)]) == 0
    out = capsys.readouterr().out
    assert "geometric mean" in out
    assert "Mann-Whitney" in out
    assert "Benjamini-Hochberg" in out
    assert "too few repeats for any difference to show" in out  # the runs have 3 repeats
    # With 3 repeats a side no difference can show: the cells are not said to agree.
    n = len([c for c in a.cells if c.kernel == "squares"])
    assert f"squares: 0 of {n} cells agree, 0 differ, {n} cannot tell with these repeats" in out


@pytest.mark.parametrize("command", [["compare", "A", "B"], ["list"]])
def test_a_narrow_terminal_folds_figures_instead_of_cutting_them(
    two_runs: tuple[Path, Path],
    command: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 40 columns rich cut cells to `1…` and `0.6…`: the figures were lost."""
    monkeypatch.setenv("COLUMNS", "40")
    paths = {"A": str(two_runs[0]), "B": str(two_runs[1])}
    assert cli.main([paths.get(word, word) for word in command]) == 0
    out = capsys.readouterr().out
    assert "…" not in out


def test_compare_counts_cells_that_differ_beyond_their_spread(
    two_runs: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """B: A's run with one cell made 3x slower and 7 clearly separated repeats a side."""
    monkeypatch.setenv("COLUMNS", "400")  # the ratio is a table cell, which wraps to the width
    a = json.loads(two_runs[0].read_text())
    for cell in a["cells"]:
        cell["times_s"] = [0.100 + i * 0.001 for i in range(7)]
    b = json.loads(json.dumps(a))
    b["cells"][0]["times_s"] = [3 * t for t in a["cells"][0]["times_s"]]
    paths = tmp_path / "a.json", tmp_path / "b.json"
    for path, document in zip(paths, (a, b), strict=True):
        path.write_text(json.dumps(document))
    assert cli.main(["compare", *map(str, paths)]) == 0
    out = capsys.readouterr().out
    n = len(a["cells"])
    assert f"squares: {n - 1} of {n} cells agree, 1 differ" in out
    assert f"slower in 1 cells: sign test p = {sign_test_p(0, 1):.3f}" in out
    assert "3.00× slower" in out
    assert "machine speed: B ran the reference loop" in out


def test_side_by_side_says_what_each_interpreters_run_says_under_its_tables(
    two_runs: tuple[Path, Path],
) -> None:
    """Each run's check, warnings and fastest way, named by its interpreter's label; the
    single-thread cost per unit of work (B's pure Python made 3x slower here)."""
    a, b = (load(p) for p in two_runs)
    for record in b.cells:
        if record.impl == "python":
            record.times_s = [3 * t for t in record.times_s]
    lines = [line for line in format_side_by_side([("A", a), ("B", b)]) if isinstance(line, str)]
    for label in ("A", "B"):
        check = f"{label}: check: all {len(a.cells)} measured cells computed the kernel's"
        assert any(line.startswith(check) for line in lines)
        assert any(line.startswith(f"{label}: squares: fastest is ") for line in lines)
        assert any(line.startswith(f"{label}: load average") for line in lines)
    (cost,) = [line for line in lines if "single-thread cost" in line]
    ratio = float(cost.split(" takes ")[1].split("×")[0])
    a_serial = next(r for r in a.cells if r.key == ("squares", "python", "serial", 1))
    b_serial = next(r for r in b.cells if r.key == a_serial.key)
    assert ratio == pytest.approx(median(b_serial.times_s) / median(a_serial.times_s), rel=0.01)


def test_a_cells_error_is_said_whole_under_the_tables_not_in_its_row() -> None:
    why = "ZeroDivisionError: " + "a long reason " * 10
    failed = CellRecord("squares", "python", "threads", 2, 10, "contiguous", error=why)
    serial = CellRecord("squares", "python", "serial", 1, 10, "contiguous", times_s=[1.0])
    result = RunResult({"cpu": {"usable_cpus": 2}}, {}, [serial, failed])
    assert list(format_errors(result)) == [f"error: squares python × threads × 2: {why}"]
    table = format_kernel_table(result, "squares", cell_stats(result))
    median = next(c for c in table.columns if c.header == "median")
    assert [str(cell) for cell in median.cells][1] == "error"


def test_a_change_reads_as_a_direction_or_as_fast() -> None:
    assert format_change(0.5) == "2.00× faster"
    assert format_change(1.05) == "1.05× slower"
    assert format_change(1.004) == "as fast"  # not "1.00× slower"
    assert format_change(0.996, "A") == "as fast as A"
    assert format_change(1.2, "A") == "1.20× slower than A"
    assert format_change(0.96) == "1.04× faster"  # not "0.96× slower"
    assert format_change(float("inf")) == "∞× slower"
    assert format_change(0.0) == "∞× faster"
    assert format_change(46.0) == "46.0× slower"


def test_compare_does_not_compare_machine_speed_across_interpreters(
    two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reference is a Python loop: a free-threaded build runs it at its own speed."""
    b = json.loads(two_runs[1].read_text())
    python = b["metadata"]["python"]
    python["free_threaded_build"] = not python["free_threaded_build"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(b))
    assert cli.main(["compare", str(two_runs[0]), str(other)]) == 0
    assert "machine speed: not compared, the runs used different interpreters" in (
        capsys.readouterr().out
    )


def test_geometric_mean() -> None:
    assert geometric_mean([2.0, 0.5]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not JSON"),
        ('{"schema": "x"}', "not a gilkit run result"),
        ('{"schema": "gilkit.run", "version": 7}', "unsupported result version 7"),
    ],
)
def test_compare_and_report_refuse_foreign_files(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for argv in (["compare", str(bad), str(bad)], ["report", str(bad)]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert "bad.json" in err
    assert cli.main(["compare", str(tmp_path / "missing.json"), str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert cli.main(["report", str(tmp_path)]) == 2  # a directory: why, and what is valid
    assert "Is a directory; valid: a file written by gilkit run" in capsys.readouterr().err


def test_plot_writes_a_png(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "plot.png"
    assert cli.main(["plot", str(two_runs[0]), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_plots_legend_stays_clear_of_its_title(two_runs: tuple[Path, Path]) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    figure = draw_run(load(two_runs[0]))
    try:
        renderer = figure.canvas.get_renderer()
        legend = figure.legends[0].get_window_extent(renderer)
        title = figure._suptitle.get_window_extent(renderer)
        assert legend.y1 <= title.y0  # below the title, not over its end
    finally:
        plt.close(figure)


def test_report_writes_markdown_with_verdicts_and_plot(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "report.md"
    assert cli.main(["report", str(two_runs[0]), "-o", str(out)]) == 0
    text = out.read_text()
    assert "## Verdicts" in text
    assert "| machine speed | reference loop " in text
    assert "| median | min | IQR | spread |" in text
    assert "python × threads: " in text
    # The run's warnings and notes, as `gilkit run` printed them: the machine check here.
    assert "## What the figures rest on\n\n- " in text
    assert "\n- machine speed: " in text or "\n- warning: machine speed: " in text
    assert "![speedups](report.png)" in text
    assert (tmp_path / "report.png").exists()


def test_report_reads_pytest_benchmark_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {
        "machine_info": {"python_implementation": "CPython", "python_version": "3.11"},
        "datetime": "2026-11-25",
        "benchmarks": [
            {
                "name": "test_cell[squares-numpy-threads-2]",
                "group": "squares",
                "stats": {"median": 0.05, "iqr": 0.001, "rounds": 3},
                "extra_info": {
                    "kernel": "squares",
                    "impl": "numpy",
                    "runner": "threads",
                    "workers": 2,
                    "speedup_vs_serial": 1.8,
                    "speedup_vs_python": 40.0,
                    "gil_enabled": True,
                    "gil_contention": 0.03,
                    "host_reference_s": 0.001,
                    "load_average": [0.4, 0.3, 0.2],
                },
            },
            {
                "name": "test_cell[squares-numpy-serial-1]",
                "group": "squares",
                "stats": {"median": 0.09, "iqr": 0.001, "rounds": 3},
                "extra_info": {"gil_enabled": False, "host_reference_s": 0.0011},
            },
        ],
    }
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(document))
    assert cli.main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    assert "## squares" in out
    assert (
        "| squares | numpy | threads | 2 | 50.0 ms | 1.0 ms | 3 | 1.80× | 40.0× | – | 0.03 | yes |"
        in out
    )
    assert "| test_cell[squares-numpy-serial-1] |  |  |  | 90.0 ms |" in out  # no gilkit info
    assert "| machine speed | reference loop 1.00 ms at best" in out
    assert "| load average before, after | ?, 0.4 |" in out


@pytest.mark.parametrize(
    ("times", "wait", "cpu", "expected"),
    [
        ([0.5], 0.05, 1.0, "scales"),
        ([1.0], 0.6, 1.0, "no gain, the GIL serialises it (GIL wait 0.60)"),
        ([1.0], 0.0, 2.0, "no gain, not the GIL: every worker was busy (cpu use 100%)"),
        (
            [1.0],
            0.0,
            1.0,
            "no gain, the workers sat idle part of the time (cpu use 50%)",
        ),
        ([0.7], None, 1.8, "partial gain, not the GIL: every worker was busy (cpu use 90%)"),
    ],
)
def test_verdicts_in_words(
    times: list[float], wait: float | None, cpu: float, expected: str
) -> None:
    """cpu: CPU seconds per wall second of the 2-worker call; 2.0 is a fully busy pool."""
    serial = CellRecord("squares", "python", "serial", 1, 10, "contiguous", times_s=[1.0])
    cell = CellRecord(
        "squares",
        "python",
        "threads",
        2,
        10,
        "contiguous",
        times_s=times,
        cpu_parent_s=[cpu * times[0]],
        cpu_workers_s=[0.0],
        gil_contention=wait,
    )
    stats = cell_stats(RunResult({"cpu": {"usable_cpus": 2}}, {}, [serial, cell]))
    assert expected in verdict(stats[cell.key], cell)


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        ("threads", "no gain, the GIL serialises it: its workers take turns on the GIL"),
        ("processes", "no gain, the workers sat idle part of the time (cpu use 50%): dispatch"),
    ],
)
def test_a_verdict_without_a_gil_wait_measured_says_nothing_of_little_gil_wait(
    runner: str, expected: str
) -> None:
    """A run cut short before the monitored calls (or a process pool, where none applies):
    no GIL wait. Pure Python in threads still takes turns on the GIL: that is named."""
    serial = CellRecord("squares", "python", "serial", 1, 10, "contiguous", times_s=[1.0])
    cell = CellRecord(
        "squares",
        "python",
        runner,
        2,
        10,
        "contiguous",
        times_s=[1.0],
        cpu_parent_s=[1.0],
        cpu_workers_s=[0.0],
        gil_enabled=True,
    )
    result = RunResult({"cpu": {"usable_cpus": 2}}, {}, [serial, cell])
    result.impls = {"python": {"kind": "python"}}
    result.metadata["runners"] = describe_runners(["serial", runner])
    stats = cell_stats(result)
    said = verdict(stats[cell.key], cell, turns=takes_gil_turns(result, cell))
    assert expected in said
    assert "GIL wait" not in said


def free_threaded_cells(
    runner: str, time_s: float, cpu: float, gil_enabled: bool = False
) -> tuple[RunResult, CellRecord]:
    """A serial and a 2-worker cell of a run; cpu: CPU seconds per wall second of the call."""
    serial = CellRecord("mandelbrot", "python", "serial", 1, 10, "interleaved", times_s=[1.0])
    cell = CellRecord(
        "mandelbrot",
        "python",
        runner,
        2,
        10,
        "interleaved",
        times_s=[time_s],
        cpu_parent_s=[cpu * time_s],
        cpu_workers_s=[0.0],
        gil_contention=0.0,
        gil_enabled=gil_enabled,
    )
    metadata = {
        "cpu": {"usable_cpus": 2, "model": "?"},
        "python": {},
        "runners": describe_runners(["serial", runner]),
    }
    return RunResult(metadata, {}, [serial, cell]), cell


def test_busy_but_slow_threads_without_a_gil_are_told_apart_from_the_gil() -> None:
    """3.13t: pure-Python mandelbrot in 2 threads at 1.1x with both cpus busy."""
    result, cell = free_threaded_cells("threads", 0.9, 1.9)
    stats = cell_stats(result)
    assert slowed_each_other(result, cell, stats[cell.key])
    told = verdict(stats[cell.key], cell, contended=True)
    assert "the threads were busy (cpu use 95%) but slowed each other" in told
    assert "reference counts" in told
    assert "not the GIL, which was off" in told
    warnings = "\n".join(format_warnings(result, stats))
    assert "mandelbrot python × threads × 2: 1.11× with cpu use 95%" in warnings
    assert "slowed each other" in warnings


@pytest.mark.parametrize(
    ("runner", "time_s", "cpu", "gil_enabled"),
    [
        ("threads", 0.9, 1.9, True),  # a GIL build: the GIL monitor's story, not this one
        ("threads", 0.52, 1.9, False),  # scales
        ("threads", 0.9, 1.0, False),  # idle part of the time: not contention
        ("processes", 0.9, 1.9, False),  # shares no objects
    ],
)
def test_contention_is_only_named_for_busy_slow_free_threaded_threads(
    runner: str, time_s: float, cpu: float, gil_enabled: bool
) -> None:
    result, cell = free_threaded_cells(runner, time_s, cpu, gil_enabled)
    stats = cell_stats(result)
    assert not slowed_each_other(result, cell, stats[cell.key])
    assert "slowed each other" not in "\n".join(format_warnings(result, stats))


def idle_cells(
    impl: str, kind: str, runner: str, cpu: float, gil_wait: float | None = 0.01
) -> tuple[RunResult, CellRecord]:
    """A GIL build's serial cell and a 2-worker cell at 1.47x (0.68 s against 1 s); cpu: CPU
    seconds per wall second of the call."""
    serial = CellRecord("squares", impl, "serial", 1, 10, "contiguous", times_s=[1.0])
    cell = CellRecord(
        "squares",
        impl,
        runner,
        2,
        10,
        "contiguous",
        times_s=[0.68],
        cpu_parent_s=[cpu * 0.68],
        cpu_workers_s=[0.0],
        gil_contention=gil_wait,
        gil_enabled=True,
    )
    metadata = {
        "cpu": {"usable_cpus": 2, "model": "?"},
        "python": {},
        "runners": describe_runners(["serial", runner]),
    }
    return RunResult(metadata, {}, [serial, cell], impls={impl: {"kind": kind}}), cell


def test_workers_idle_with_the_gil_and_the_cpus_free_are_named() -> None:
    """cython-nogil in 2 threads at 1.47x, the cpus 74% busy, the GIL hardly waited for."""
    result, cell = idle_cells("cython-nogil", "releases", "threads", 1.48)
    stats = cell_stats(result)
    assert sat_idle(result, cell, stats[cell.key])
    warnings = "\n".join(format_warnings(result, stats))
    assert "idle workers: squares cython-nogil × threads × 2 (1.47×, cpu use 74%)" in warnings
    assert "the OS placing the workers on cpus" in verdict(stats[cell.key], cell)


def test_an_impl_parallel_inside_its_call_is_named_by_whose_threads_it_runs_on() -> None:
    """cython-prange runs on the serial runner, on OpenMP's threads: its lines say `openmp`,
    as its table row and the fastest line do, not `serial`."""
    result, _ = idle_cells("cython-prange", "in-call", "serial", 1.48)
    result.impls["cython-prange"].update(in_call_parallel=True, threads="OpenMP")
    stats = cell_stats(result)
    warnings = "\n".join(format_warnings(result, stats))
    assert "idle workers: squares cython-prange × openmp × 2 (1.47×" in warnings


@pytest.mark.parametrize(
    ("impl", "kind", "runner", "cpu", "gil_wait"),
    [
        ("python", "python", "threads", 1.0, 0.6),  # the GIL: its own story
        ("python", "python", "dask-threads", 1.0, None),  # the GIL of one Dask worker
        ("cython", "holds", "joblib-threads", 1.0, 0.1),  # holds it, whatever the monitor saw
        ("cython-nogil", "releases", "threads", 1.7, 0.01),  # busy: the machine, not idle
    ],
)
def test_idle_workers_are_not_named_where_the_gil_or_the_cpus_explain_them(
    impl: str, kind: str, runner: str, cpu: float, gil_wait: float | None
) -> None:
    result, cell = idle_cells(impl, kind, runner, cpu, gil_wait)
    stats = cell_stats(result)
    assert not sat_idle(result, cell, stats[cell.key])
    assert "idle workers" not in "\n".join(format_warnings(result, stats))


def test_workers_at_the_machines_capacity_are_not_called_idle() -> None:
    """numba-prange at 1.51x against a capacity of 1.49x was called idle (issue 20)."""
    result, cell = idle_cells("cython-nogil", "releases", "threads", 1.48)
    loops = {"1": [1.0, 1.0, 1.0], "2": [1.36] * 3}  # 2 loops reach 1.47x one
    result.metadata["capacity"] = {"compute": loops, "memory": loops}
    stats = cell_stats(result)
    assert stats[cell.key].of_capacity is not None
    assert stats[cell.key].of_capacity > 0.95
    assert not sat_idle(result, cell, stats[cell.key])
    assert "idle workers" not in "\n".join(format_warnings(result, stats))


def test_pure_python_in_processes_sitting_idle_is_named() -> None:
    result, cell = idle_cells("python", "python", "processes", 1.4, None)
    stats = cell_stats(result)
    assert sat_idle(result, cell, stats[cell.key])


def test_the_pool_whose_cost_weighs_most_is_named_per_kernel() -> None:
    def cell(
        impl: str,
        runner: str,
        n: int,
        time_s: float,
        cost: float | None,
        kernel: str = "squares",
    ) -> CellRecord:
        return CellRecord(
            kernel,
            impl,
            runner,
            n,
            10,
            "contiguous",
            times_s=[time_s],
            dispatch_s=None if cost is None else cost / 4,
            call_overhead_s=cost,
        )

    cells = [
        cell("python", "serial", 1, 0.100, None),
        cell("numpy", "serial", 1, 0.020, None),
        cell("python", "threads", 2, 0.100, 40e-6),
        cell("numpy", "threads", 2, 0.011, 40e-6),
        cell("python", "dask-processes", 2, 0.060, 8e-3),
        cell("numpy", "dask-processes", 2, 0.030, 8e-3),  # 8 ms beside a 20 ms numpy call
    ]
    result = RunResult({"cpu": {"usable_cpus": 2}}, {}, cells)
    [line] = format_overheads(result, cell_stats(result))
    assert line == (
        "squares: dask-processes × 2 workers costs most beside the work: 8.0 ms per empty "
        "call (2.0 ms per task), 40% of a 20.0 ms call (numpy, serial): a noticeable part "
        "of the call"
    )
    for record in cells:  # a file without empty calls: the cost per task
        record.call_overhead_s = None
    [line] = format_overheads(result, cell_stats(result))
    assert "2.0 ms per task, 10% of a 20.0 ms call (numpy, serial)" in line
    # a second kernel whose costliest pool is the same, with the same verdict: one line
    cells += [
        cell("numpy", "serial", 1, 0.025, None, "triad"),
        cell("numpy", "dask-processes", 2, 0.015, 8e-3, "triad"),
    ]
    for record in cells:
        record.call_overhead_s = record.dispatch_s and record.dispatch_s * 4
    result = RunResult({"cpu": {"usable_cpus": 2}}, {}, cells)
    [line] = format_overheads(result, cell_stats(result))
    assert line == (
        "squares, triad: dask-processes × 2 workers costs most beside the work: 8.0 ms per "
        "empty call (2.0 ms per task), 40% of a 20.0 ms call (numpy, serial) for squares, "
        "32% of a 25.0 ms call (numpy, serial) for triad: a noticeable part of the call"
    )


@pytest.mark.slow
def test_size_auto_records_the_chosen_sizes(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    argv = [
        "run",
        "--kernel",
        "squares",
        "--impl",
        "python,numpy",
        "--runner",
        "threads",
        "--workers",
        "2",
        "--size",
        "auto",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--quiet",
        "--json",
        str(out),
    ]
    assert cli.main(argv) == 0
    document = json.loads(out.read_text())
    recorded = {n for _, n in document["options"]["sizes"]}
    assert recorded == {c["size"] for c in document["cells"] + document["checks"]}
    assert all(c["agrees"] for c in document["cells"] + document["checks"])


def test_report_reads_a_claims_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "claims.json"
    assert cli.main(["claims", "--only", "8,9", "--json", str(path), "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    assert "| 8 | Threads increase the potential for race conditions" in out
    assert "| 9 |" in out


def test_every_runner_draws_its_own_line_in_the_plot() -> None:
    ways = [name for name in RUNNERS if name != "serial"] + ["openmp", "numba"]
    assert set(ways) <= set(RUNNER_STYLES)
    assert len({repr(RUNNER_STYLES[way]) for way in ways}) == len(ways)
