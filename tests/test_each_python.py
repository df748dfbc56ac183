"""`gilkit run --python`: the environments it makes and reuses for each interpreter, and the
same matrix under two interpreters shown side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gilkit.cli import build_parser, each_python
from gilkit.host import venvs
from gilkit.host.venvs import Interpreter, InterpreterError, environment_for
from gilkit.model.results import CellRecord, RunResult, write_atomically

OTHER = Interpreter(Path("/nonexistent/python3.99t"), "3.99.0", free_threaded_build=True)


class FakeSetUp:
    """Stands in for the venv and pip steps: records them and makes the venv's python."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.steps: list[list[str]] = []
        self.fail_at = fail_at

    def __call__(
        self, command: list[str], timeout_s: float, what: str, **options: Any
    ) -> subprocess.CompletedProcess[str]:
        self.steps.append(command)
        if command[1:3] == ["-m", "venv"]:
            python = Path(command[-1]) / "bin" / "python"
            python.parent.mkdir(parents=True, exist_ok=True)
            python.touch()
        code = 1 if self.fail_at == len(self.steps) else 0
        return subprocess.CompletedProcess(command, code, "", "")


@pytest.fixture
def set_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSetUp:
    monkeypatch.setenv("GILKIT_CACHE", str(tmp_path / "cache"))
    fake = FakeSetUp()
    monkeypatch.setattr(venvs, "run_bounded", fake)
    monkeypatch.setattr(venvs, "has_this_checkout", lambda python, root: False)
    return fake


def test_an_interpreter_gets_a_venv_with_this_checkout_once(
    set_up: FakeSetUp, tmp_path: Path
) -> None:
    python = environment_for(OTHER, tmp_path / "setup.log")
    assert python.is_relative_to(tmp_path / "cache" / "venvs")
    assert python.parent.parent.name.startswith("3.99.0t-")
    venv_step, pip_step = set_up.steps
    assert venv_step[:3] == [str(OTHER.path), "-m", "venv"]
    root = venvs.project_root()
    assert pip_step[-2:] == ["-e", f"{root}[interpreters]"]
    assert "--only-binary=numpy" in pip_step  # building NumPy from source takes minutes
    assert environment_for(OTHER, tmp_path / "setup.log") == python
    assert len(set_up.steps) == 2  # reused: nothing run again


def test_the_venv_is_made_again_when_the_extensions_sources_change(
    set_up: FakeSetUp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = environment_for(OTHER, tmp_path / "setup.log")
    monkeypatch.setattr(venvs, "sources_digest", lambda root: "changed")
    assert environment_for(OTHER, tmp_path / "setup.log") == first
    assert len(set_up.steps) == 4
    assert "--clear" in set_up.steps[2]


def test_two_checkouts_get_a_venv_each(
    set_up: FakeSetUp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = environment_for(OTHER, tmp_path / "setup.log")
    other_root = tmp_path / "checkout"
    (other_root / "ext").mkdir(parents=True)
    (other_root / "pyproject.toml").touch()
    (other_root / "setup.py").touch()
    monkeypatch.setattr(venvs, "project_root", lambda: other_root)
    assert environment_for(OTHER, tmp_path / "setup.log") != first


def test_a_failed_step_names_the_interpreter_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GILKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(venvs, "run_bounded", FakeSetUp(fail_at=2))
    monkeypatch.setattr(venvs, "has_this_checkout", lambda python, root: False)
    with pytest.raises(InterpreterError, match=r"could not set up 3\.99\.0t .*setup\.log"):
        environment_for(OTHER, tmp_path / "setup.log")


def test_the_running_interpreter_and_one_with_this_checkout_are_used_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(venvs, "run_bounded", FakeSetUp(fail_at=1))  # must not be reached
    assert environment_for(venvs.describe(sys.executable), tmp_path / "log") == Path(sys.executable)
    # This test's own interpreter imports gilkit from this checkout; another one would not.
    assert venvs.has_this_checkout(Path(sys.executable), venvs.project_root())
    assert not venvs.has_this_checkout(Path(sys.executable), tmp_path)


# A second interpreter with this checkout installed (CI points it at its free-threaded venv).
SECOND = os.environ.get("GILKIT_OTHER_PYTHON")


@pytest.mark.skipif(
    not SECOND,
    reason="set GILKIT_OTHER_PYTHON to a second Python with this checkout installed (CI does)",
)
def test_two_interpreters_run_the_same_matrix_side_by_side(tmp_path: Path) -> None:
    assert SECOND is not None
    first, second = venvs.describe(sys.executable), venvs.describe(SECOND)
    assert first.label != second.label, "GILKIT_OTHER_PYTHON must be another interpreter"
    out = tmp_path / "both.json"
    command = [sys.executable, "-m", "gilkit", "run", "--python", SECOND, "--python"]
    command += [sys.executable, "--kernel", "squares", "--impl", "python,cython-nogil"]
    command += ["--runner", "serial,threads", "--workers", "2", "--size", "20000"]
    command += ["--repeat", "2", "--warmup", "0", "--json", str(out)]
    env = {**os.environ, "GILKIT_CACHE": str(tmp_path / "cache")}  # no venv may be made
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "cache").exists()
    for interpreter in (second, first):
        assert f"{interpreter.label}: CPython {interpreter.version}" in done.stdout
        result = json.loads((tmp_path / f"both-{interpreter.label}.json").read_text())
        python = result["metadata"]["python"]
        assert python["version"] == interpreter.version
        assert python["free_threaded_build"] == interpreter.free_threaded_build
        assert {c["impl"] for c in result["cells"]} == {"python", "cython-nogil"}
        assert all(c["agrees"] for c in result["cells"])
        assert f"{interpreter.label}: squares: fastest is " in done.stdout
    # The free-threaded build's single-thread cost, against the first interpreter given.
    assert f"serial pure Python on {first.label} takes" in done.stdout


def test_the_interpreters_after_the_first_run_at_its_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sized apart, 3.13t's slower pure Python got a smaller n and its medians read as
    3.11's; at the first interpreter's sizes each cell does the same work under both."""

    commands: list[list[str]] = []

    def fake_run(command: list[str], *args: Any, **kwargs: Any) -> Any:
        commands.append(command)
        cells = [
            CellRecord("squares", "python", "serial", 1, 1_000, "contiguous", times_s=[1.0]),
            CellRecord("squares", "numpy", "serial", 1, 90_000, "contiguous", times_s=[1.0]),
            CellRecord("squares", "numpy", "threads", 2, 90_000, "contiguous", times_s=[1.0]),
        ]
        result = RunResult({"cpu": {"usable_cpus": 2}, "python": {}}, {}, cells)
        write_atomically(result, Path(command[command.index("--json") + 1]))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(each_python, "environment_for", lambda interpreter, log: interpreter.path)
    monkeypatch.setattr(each_python, "run_bounded", fake_run)
    args = build_parser().parse_args(["run", "--budget", "20", "--scaling", "weak"])
    second = Interpreter(Path("/nonexistent/python3.13t"), "3.13.5", free_threaded_build=True)
    done, status = each_python.run_each([OTHER, second], args, tmp_path / "r.json", print)
    assert status == 0
    assert len(done) == 2
    first_command, second_command = commands
    assert "--size" not in first_command
    assert second_command[second_command.index("--size") + 1] == (
        "squares:python=1000,squares:numpy=90000"
    )
    for command in commands:  # every option of the run reaches every interpreter
        assert command[command.index("--budget") + 1] == "20"
        assert command[command.index("--scaling") + 1] == "weak"


def test_two_interpreters_of_one_version_get_a_label_and_a_file_each(tmp_path: Path) -> None:
    """Two installs of 3.11.7 wrote one file, the second over the first, under one column."""
    other = tmp_path / "python-elsewhere"
    other.symlink_to(sys.executable)
    first, second = venvs.describe_each([sys.executable, str(other), sys.executable])
    assert first.label == venvs.describe(sys.executable).label
    assert second.label == f"{first.label}-2"
    out = tmp_path / "run.json"
    assert each_python.path_for(out, first) != each_python.path_for(out, second)
