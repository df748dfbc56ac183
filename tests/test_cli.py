"""The command line: bad input is one line and exit status 2; a run checks and keeps results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gilkit import cli
from gilkit.kernels import squares

TINY = ["--size", "2000", "--repeat", "1", "--warmup", "0", "--workers", "1,2"]


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["run", "--workers", "0"], ["'0'", "integers >= 1"]),
        (["run", "--workers", "1,,2"], ["'1,,2'", "comma-separated"]),
        (["run", "--workers", "two"], ["'two'", "integers >= 1"]),
        (["run", "--size", "-5"], ["'-5' is not a size", "auto", "KERNEL=N", "KERNEL:IMPL=N"]),
        (["run", "--size", "squares=1,squares=2"], ["'squares' is given more than once"]),
        (["run", "--scaling", ""], ["''", "strong, weak"]),
        (["granularity", "--k", ""], ["''", "empty item"]),
        (["run", "--size", "nope=5"], ["'nope'", "squares, mandelbrot, triad"]),
        (["run", "--size", "squares:nope=5"], ["'squares:nope'", "KERNEL:IMPL", "squares:"]),
        (["run", "--kernel", "nope"], ["'nope'", "squares, mandelbrot, triad"]),
        (["run", "--kernel", "squares,"], ["'squares,'", "comma-separated"]),
        (["run", "--impl", "fortran"], ["'fortran'", "cython-nogil", "c-api = c-api-gil, c-api"]),
        (["run", "--runner", "gpu"], ["'gpu'", "serial, threads, processes"]),
        (["run", "--start-method", "teleport"], ["'teleport'", "spawn"]),
        (["run", "--split", "diagonal"], ["'diagonal'", "contiguous, interleaved"]),
        (["run", "--kernel", "squares", "--split", "interleaved"], ["'interleaved'", "contiguous"]),
        (["run", "--repeat", "0"], ["'0'", "integers >= 1"]),
        (["run", "--bogus"], ["--bogus"]),
        (["run", "--python", "python3", "--plot", "p.png"], ["--plot", "--python", "gilkit plot"]),
        (["frobnicate"], ["'frobnicate'", "run", "list", "info"]),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("gilkit: error:")
    for name in names:
        assert name in err


def test_unbuilt_impl_names_the_reason_and_the_available(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gilkit.planning import values as options

    monkeypatch.setattr(
        options,
        "impl_unavailable_reason",
        lambda impl: None if impl in ("python", "numpy") else "extensions not built",
    )
    assert cli.main(["run", "--impl", "cython-nogil"]) == 2
    err = capsys.readouterr().err
    assert "'cython-nogil' is unavailable here: extensions not built" in err
    assert "available: python, numpy" in err


@pytest.mark.parametrize(
    ("text", "impls"),
    [
        ("c-api", ["c-api-gil", "c-api"]),
        ("ctypes,pybind11", ["ctypes-gil", "ctypes", "pybind11-gil", "pybind11"]),
        ("numba", ["numba-gil", "numba", "numba-prange"]),
        ("cython", ["cython", "cython-nogil", "cython-prange"]),
        ("c-api-gil,numpy", ["c-api-gil", "numpy"]),
        ("c-api,c-api-gil", ["c-api-gil", "c-api"]),
    ],
)
def test_a_family_selects_all_its_impls(
    monkeypatch: pytest.MonkeyPatch, text: str, impls: list[str]
) -> None:
    from gilkit.planning import values as options

    monkeypatch.setattr(options, "impl_unavailable_reason", lambda impl: None)
    assert options.parse_impls(text) == (impls, {})


def test_a_family_leaves_out_what_is_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    from gilkit.planning import values as options

    monkeypatch.setattr(
        options, "impl_unavailable_reason", lambda impl: "no OpenMP" if "prange" in impl else None
    )
    assert options.parse_impls("cython") == (
        ["cython", "cython-nogil"],
        {"cython-prange": "no OpenMP"},
    )
    with pytest.raises(options.UsageError, match="'cython-prange' is unavailable here: no OpenMP"):
        options.parse_impls("cython-prange")


def test_the_default_run_keeps_its_impls(monkeypatch: pytest.MonkeyPatch) -> None:
    from gilkit.planning import values as options

    monkeypatch.setattr(options, "impl_unavailable_reason", lambda impl: None)
    impls, left_out = options.parse_impls(None)
    assert impls == ["python", "cython", "cython-nogil", "cython-prange", "numpy"]
    assert left_out == {}


def test_bad_input_from_the_real_command_has_no_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gilkit", "run", "--workers", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "gilkit: error: --workers: '0' is not an integer >= 1; valid: integers >= 1"
    ]


@pytest.mark.slow
def test_run_measures_checks_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run.json"
    assert cli.main(["run", "--kernel", "squares,triad", *TINY, "--json", str(out), "--quiet"]) == 0
    document = json.loads(out.read_text())
    assert document["complete"] is True
    cells = document["cells"]
    runners = {c["runner"] for c in cells}
    assert runners == {"serial", "threads", "processes"}
    assert all(c["agrees"] is True and len(c["times_s"]) == 1 for c in cells)
    assert all(len(c["host_reference_s"]) == 1 and c["host_reference_s"][0] > 0 for c in cells)
    assert {c["result"] for c in cells if c["kernel"] == "squares"} == {squares.reference(2000)}
    assert document["metadata"]["cpu"]["usable_cpus"] >= 1
    printed = capsys.readouterr().out
    assert "squares: fastest is" in printed
    assert "triad: fastest is" in printed


@pytest.mark.slow
def test_sizes_made_here_add_checks_at_the_python_size(tmp_path: Path) -> None:
    """Sized for this machine, pure Python runs a smaller n; every other impl is also checked
    at that n, and the sizing is recorded."""
    out = tmp_path / "run.json"
    argv = [
        "run",
        "--kernel",
        "squares",
        "--runner",
        "threads",
        "--workers",
        "2",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--json",
        str(out),
        "--quiet",
    ]
    assert cli.main(argv) == 0
    document = json.loads(out.read_text())
    python_sizes = {c["size"] for c in document["cells"] if c["impl"] == "python"}
    native_sizes = {c["size"] for c in document["cells"] if c["impl"] != "python"}
    assert len(python_sizes) == len(native_sizes) == 1
    assert max(python_sizes) < min(native_sizes)
    assert {c["size"] for c in document["checks"]} == python_sizes
    assert all(c["agrees"] for c in document["checks"] + document["cells"])
    sizing = document["options"]["sizing"]
    assert sizing["scaling"] == "strong"
    assert sizing["workers"] == 2
    assert sizing["part_s"] <= sizing["target_part_s"] == 0.02


def test_a_wrong_impl_is_caught_and_the_run_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(
        squares.KERNEL.chunk_fns,
        "numpy",  # type: ignore[index]
        lambda part, params: squares.chunk_python(part, params) + 1,
    )
    out = tmp_path / "run.json"
    argv = [
        "run",
        "--kernel",
        "squares",
        "--impl",
        "python,numpy",
        "--runner",
        "threads",
        *TINY,
        "--json",
        str(out),
        "--quiet",
    ]
    assert cli.main(argv) == 1
    cells = json.loads(out.read_text())["cells"]
    assert {c["impl"] for c in cells if not c["agrees"]} == {"numpy"}
    assert all(c["agrees"] for c in cells if c["impl"] == "python")


@pytest.mark.slow
def test_interrupted_run_keeps_what_it_measured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def interrupt(part: range, params: None) -> int:
        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, while a kernel runs
        time.sleep(5)
        return 0

    monkeypatch.setitem(squares.KERNEL.chunk_fns, "numpy", interrupt)  # type: ignore[index]
    out = tmp_path / "run.json"
    argv = [
        "run",
        "--kernel",
        "squares",
        "--impl",
        "python,numpy",
        "--runner",
        "threads",
        "--size",
        "1000",
        "--repeat",
        "2",
        "--warmup",
        "0",
        "--workers",
        "1",
        "--json",
        str(out),
        "--quiet",
    ]
    assert cli.main(argv) == 130
    document = json.loads(out.read_text())
    assert document["complete"] is False
    python = [c for c in document["cells"] if c["impl"] == "python"]
    assert python
    assert all(c["times_s"] for c in python)


@pytest.mark.parametrize("command", ["list", "info"])
def test_list_and_info_describe_this_installation(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([command]) == 0
    out = capsys.readouterr().out
    assert ("cython-nogil" in out) if command == "list" else ("usable cpus" in out)


def test_a_checkout_without_built_extensions_runs_the_rest(tmp_path: Path) -> None:
    """The package's Python files alone, as in a fresh checkout: no traceback, one hint."""
    import shutil

    import gilkit

    shutil.copytree(
        Path(gilkit.__file__).parent,
        tmp_path / "gilkit",
        ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gilkit",
            "run",
            "--kernel",
            "squares",
            *TINY,
            "--json",
            str(tmp_path / "run.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("pip install -e .") == 1
    impls = {c["impl"] for c in json.loads((tmp_path / "run.json").read_text())["cells"]}
    assert impls == {"python", "numpy"}


@pytest.mark.slow
def test_a_results_file_that_cannot_be_written_is_one_line_after_the_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The path passed the check, but the disk was full: the tables still show what was
    measured, then one line says why nothing was saved; exit status 2."""

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.run, "write_atomically", disk_full)
    argv = ["run", "--kernel", "squares", "--impl", "python", *TINY, "--quiet"]
    assert cli.main([*argv, "--json", str(tmp_path / "run.json")]) == 2
    captured = capsys.readouterr()
    assert "squares: fastest is" in captured.out
    assert captured.err.strip().splitlines() == [
        f"gilkit: error: --json: cannot write {str(tmp_path / 'run.json')!r} "
        "(No space left on device); valid: a writable path"
    ]


@pytest.mark.slow
def test_a_plot_that_cannot_be_written_is_one_line_and_keeps_the_results(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.run, "plot_run", disk_full)
    monkeypatch.setattr(cli.plot, "plot_run", disk_full)
    out, png = tmp_path / "run.json", tmp_path / "run.png"
    argv = ["run", "--kernel", "squares", "--impl", "python", *TINY, "--quiet"]
    assert cli.main([*argv, "--json", str(out), "--plot", str(png)]) == 2
    assert json.loads(out.read_text())["complete"] is True
    assert capsys.readouterr().err.count("\n") == 1
    assert cli.main(["plot", str(out), "-o", str(png)]) == 2
    assert "--output: cannot write" in capsys.readouterr().err


def test_a_time_limit_that_cuts_every_cell_is_a_stop_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--max-time ends the run before any timed call: exit 124, the cells `stopped`, and
    neither the check line nor stderr counts them as passed or failed."""
    argv = ["run", "--kernel", "squares", "--impl", "python", "--runner", "serial", *TINY]
    out = tmp_path / "run.json"
    assert cli.main([*argv, "--max-time", "1e-9", "--json", str(out)]) == 124
    captured = capsys.readouterr()
    assert "failed" not in captured.err
    assert "stopped: 1 cell not measured: the run stopped before" in captured.out
    assert "check: all" not in captured.out
    assert "squares: no cell measured before the run stopped" in captured.out
    assert all(not cell["times_s"] for cell in json.loads(out.read_text())["cells"])


@pytest.mark.parametrize(("runners", "noted"), [("asyncio", True), ("threads", False)])
def test_asyncio_asked_for_a_kernel_without_coroutines_is_a_note(runners: str, noted: bool) -> None:
    """squares has no coroutine impl: asyncio ran only the serial cell, and said nothing."""
    from gilkit.cli.run import notes_for
    from gilkit.planning import plan

    made = plan("squares", "python", runners, "2", size="1000", here=False, size_here=False)
    assert all(cell.runner != "asyncio" for cell in made.cells)
    notes = notes_for(made, [runners])
    said = [note for note in notes if note.startswith("note: asyncio not run for squares:")]
    assert bool(said) is noted, notes
    assert not noted or "no coroutine impls (asyncio runs only those; io has them)" in said[0]
