"""Output paths are checked before anything is measured, and nothing a run wrote is lost to a
later write: each case runs gilkit as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

QUICK = ["--kernel", "squares", "--impl", "python", "--runner", "serial", "--workers", "1",
         "--size", "1000", "--repeat", "1", "--warmup", "0", "--quiet"]  # fmt: skip


def gilkit(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gilkit", *argv], cwd=cwd, text=True, capture_output=True,
        check=False, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (["--json", "r.png", "--plot", "r.png"], "--plot: 'r.png' is also --json's file"),
        (["--plot", "x.txt"], "--plot: 'x.txt' has the suffix '.txt'; valid: a path ending"),
        (["--json", "sub/"], "--json: 'sub/' names a directory; valid: a file path"),
        (["--json", ""], "--json: '' is empty; valid: a file path"),
        (["--plot", ""], "--plot: '' is empty; valid: a file path"),
        (["--json", "a" * 300 + ".json"], "--json: the file name is 305 bytes long; valid"),
    ],
)
def test_bad_output_paths_are_refused_before_measuring(
    tmp_path: Path, outputs: list[str], message: str
) -> None:
    done = gilkit(tmp_path, "run", *QUICK, *outputs)
    assert done.returncode == 2
    assert done.stderr == f"gilkit: error: {done.stderr.removeprefix('gilkit: error: ')}"
    assert message in done.stderr
    assert done.stderr.count("\n") == 1  # one line, no traceback
    assert list(tmp_path.iterdir()) == []  # nothing measured, nothing written


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_a_directory_that_takes_no_new_file_is_refused_before_measuring(
    tmp_path: Path, option: str
) -> None:
    """/proc passes a permission check (as root) but makes no file: the check makes one."""
    done = gilkit(tmp_path, "run", *QUICK, option, "/proc/gilkit-test.png")
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr
        == f"gilkit: error: {option}: cannot write under '/proc'; valid: a writable path\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_path_under_a_regular_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("kept")
    done = gilkit(tmp_path, "run", *QUICK, "--json", "f/run.json")
    assert done.returncode == 2
    assert done.stderr.startswith("gilkit: error: --json: '")
    assert done.stderr.endswith("/f' is not a directory; valid: a file path\n")
    assert (tmp_path / "f").read_text() == "kept"


def test_outputs_that_would_replace_the_input_or_a_device_are_refused(tmp_path: Path) -> None:
    assert gilkit(tmp_path, "run", *QUICK, "--json", "run.json").returncode == 0
    kept = (tmp_path / "run.json").read_bytes()
    report = gilkit(tmp_path, "report", "run.json", "-o", "run.json")
    assert report.returncode == 2
    assert report.stderr == (
        "gilkit: error: --output: 'run.json' is the file it reads; valid: a path of its own\n"
    )
    assert (tmp_path / "run.json").read_bytes() == kept
    if Path("/dev/null").exists():
        plot = gilkit(tmp_path, "plot", "run.json", "-o", "/dev/null")
        assert plot.returncode == 2
        assert "--output: '/dev/null' is not a regular file" in plot.stderr
        assert not Path("/dev/null.png").exists()


def test_a_plot_without_a_suffix_gets_png_and_says_so(tmp_path: Path) -> None:
    assert gilkit(tmp_path, "run", *QUICK, "--json", "run.json").returncode == 0
    done = gilkit(tmp_path, "plot", "run.json", "-o", "out")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "plot: out.png"
    assert (tmp_path / "out.png").read_bytes().startswith(b"\x89PNG")


def test_a_file_without_cells_is_refused_by_plot(tmp_path: Path) -> None:
    assert gilkit(tmp_path, "run", *QUICK, "--json", "run.json").returncode == 0
    document = (tmp_path / "run.json").read_text()
    (tmp_path / "empty.json").write_text(
        document.replace('"cells": [', '"cells": [], "unused": [', 1)
    )
    done = gilkit(tmp_path, "plot", "empty.json", "-o", "p.png")
    assert done.returncode == 2
    assert "holds no measured cell" in done.stderr


def test_a_file_whose_every_cell_failed_is_refused_by_plot(tmp_path: Path) -> None:
    """Cells, but none with a time (all errored or stopped): no empty axes, one line."""
    assert gilkit(tmp_path, "run", *QUICK, "--json", "run.json").returncode == 0
    document = json.loads((tmp_path / "run.json").read_text())
    for cell in document["cells"]:
        cell["times_s"], cell["error"] = [], "timed out after 2 s"
    (tmp_path / "failed.json").write_text(json.dumps(document))
    done = gilkit(tmp_path, "plot", "failed.json", "-o", "p.png")
    assert done.returncode == 2
    assert done.stderr.startswith("gilkit: error: ")
    assert "holds no measured cell (every cell failed" in done.stderr
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "p.png").exists()


def test_temporaries_a_killed_write_left_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".run.json.k1ll3d"
    stale.write_text("{")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert gilkit(tmp_path, "run", *QUICK, "--json", "run.json").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]  # and no lock file


def test_a_second_gilkit_writing_the_same_file_is_refused(tmp_path: Path) -> None:
    import fcntl

    lock = tmp_path / ".run.json.lock"
    with open(lock, "a") as handle:  # what a first gilkit holds while it runs
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = gilkit(tmp_path, "run", *QUICK, "--json", "run.json")
    assert done.returncode == 2
    assert "--json: another gilkit is writing 'run.json' now" in done.stderr
    assert not (tmp_path / "run.json").exists()
