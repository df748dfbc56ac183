"""gilkit advise end to end, on real functions: one that releases the GIL, one that holds it,
one in pure Python. Timings are not asserted (a loaded machine reorders them); what the
advice does with what it measured is: the way it recommends is the measured way with the
highest median speedup, quoted as measured, and each other way's reason fits the call."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import zlib
from pathlib import Path

import pytest

from gilkit.advise import Advice, advise, judged
from gilkit.advise.measure import Measured, Moving
from gilkit.advise.rules import Task, Way
from gilkit.cli import advise as cli_advise
from gilkit.cli import main
from gilkit.host import extensions as compiled
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import python_now
from gilkit.kernels.calls import IMPL, NAME
from gilkit.model.facts import IDEAL_CPUS
from gilkit.model.results import CellRecord, RunResult
from gilkit.planning.values import UsageError

needs_two_cpus = pytest.mark.skipif(usable_cpus() < 2, reason="the probe needs 2 usable cpus")
BUDGET_S = 3.0


def spin(n: int) -> int:
    """Pure Python: it takes turns on the GIL with any other Python thread."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def checked(advice: Advice, kind: str) -> Advice:
    """The advice's own consistency, then skip if the probe could not judge here (busy)."""
    measured = [w for w in advice.ways if w.speedup is not None]
    assert advice.recommendation is not None
    best = advice.recommendation.way
    top = max(measured, key=lambda way: way.speedup or 0.0)
    # The highest median, or serial where its rounds cannot be told from it (and it says so).
    assert best is top or top in advice.recommendation.tied_with
    assert advice.plain()["recommended"]["speedup"] == best.speedup
    assert {w.label for w in advice.ways} >= {"serial", "threads ×2", "processes ×2"}
    assert all(len(line) <= 100 for line in advice.lines())
    if advice.task.kind != kind:
        pytest.skip(f"the probe could not judge on this machine now: {advice.verdict}")
    return advice


@pytest.mark.slow
@needs_two_cpus
def test_a_call_that_releases_the_gil() -> None:
    nogil = compiled.module("_native").squares_nogil
    advice = advise(
        nogil, args=(0, 30_000_000), tasks=8, runners="threads,processes", budget_s=BUDGET_S
    )
    checked(advice, "releases")
    reasons = advice.reasons()
    assert not any("GIL" in reason for reason in reasons.values())


@pytest.mark.slow
@needs_two_cpus
def test_a_call_that_holds_the_gil() -> None:
    held = compiled.module("_native").squares
    advice = checked(
        advise(held, args=(0, 30_000_000), tasks=8, runners="threads,processes", budget_s=BUDGET_S),
        "holds",
    )
    assert advice.recommendation is not None
    if advice.recommendation.way.runner != "threads":
        assert (
            advice.reasons()["threads ×2"] == "the call holds the GIL: its workers take turns on it"
        )


@pytest.mark.slow
@needs_two_cpus
def test_pure_python_over_inputs() -> None:
    advice = checked(
        advise(
            spin,
            [150_000, 160_000, 170_000, 180_000],
            runners="threads,processes",
            budget_s=BUDGET_S,
        ),
        "python",
    )
    assert advice.task.n_tasks == 4
    assert advice.task.n_map == 4
    assert advice.recommendation is not None
    if advice.recommendation.way.runner != "threads":
        assert (
            advice.reasons()["threads ×2"]
            == "the call runs Python, or takes the GIL back often: its workers take turns"
        )


@pytest.mark.slow
def test_a_function_that_cannot_be_pickled_runs_in_threads_only() -> None:
    advice = advise(
        lambda: sum(range(2000)), tasks=4, runners="threads,processes", workers=[2], budget_s=1
    )
    processes = next(w for w in advice.ways if w.runner == "processes")
    assert processes.error is not None
    assert "pickl" in processes.error.lower()
    assert any("cannot be pickled" in note for note in advice.notes)
    assert advice.recommendation is not None
    assert advice.recommendation.way.runner in {"serial", "threads"}


@pytest.mark.slow
def test_results_that_cannot_be_pickled_are_a_finding() -> None:
    advice = advise(make_lock, tasks=4, runners="processes", workers=[2], budget_s=1)
    processes = next(w for w in advice.ways if w.runner == "processes")
    assert processes.error is not None
    assert "lock" in processes.error.lower()


def crash() -> None:
    import ctypes

    ctypes.string_at(0)  # SIGSEGV


def leave() -> None:
    os._exit(7)


def hang() -> None:
    time.sleep(3600)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the trial call needs fork"
)
@pytest.mark.parametrize(
    ("function", "message"),
    [
        (crash, r"crashed its interpreter \(SIGSEGV\) in a trial call"),
        (leave, r"ended its process \(exit status 7\)"),
        (hang, r"took over 0.25 s in a trial call"),
    ],
)
def test_a_call_that_kills_or_hangs_its_process_is_one_usage_error(
    function: object, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        advise(function, tasks=2, budget_s=1)  # type: ignore[arg-type]


def test_an_input_that_raises_names_the_exception() -> None:
    with pytest.raises(UsageError, match="raised ZeroDivisionError: float division by zero"):
        advise(reciprocal, [1.0, 2.0, 0.0], budget_s=1)


def reciprocal(x: float) -> float:
    return 1 / x


def make_lock() -> object:
    import threading

    return threading.Lock()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"function": zlib.compress, "args": ("text",)}, "raised TypeError"),
        ({"function": zlib.compress, "tasks": 0}, "tasks=0; valid: an integer >= 1"),
        ({"function": zlib.compress, "inputs": [], "args": ()}, "inputs is empty"),
        ({"function": zlib.compress, "inputs": [b"x"], "tasks": 3}, "inputs or tasks, not both"),
        ({"function": zlib.compress, "args": (b"x",), "runners": "serial"}, "no way but serial"),
    ],
)
def test_bad_values_are_one_usage_error(call: dict[str, object], message: str) -> None:
    function = call.pop("function")
    with pytest.raises(UsageError, match=message):
        advise(function, **call)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["advise", "zlib.compress"],
            "'zlib.compress' is not MODULE:FUNCTION; valid: e.g. zlib:compress",
        ),
        (["advise", "zlib:nope"], "'zlib' has no attribute 'nope'"),
        (["advise", "zlib:compress", "--arg", "5"], "raised TypeError"),
        (["advise", "zlib:compress", "--budget", "0"], "--budget"),
        (["advise", "zlib:compress", "--tasks", "x"], "--tasks"),
        (["advise", "zlib:compress", "--inputs", "zlib:MAX_WBITS"], "not a collection of inputs"),
        (
            ["advise", "zlib:compress", "--inputs", "zlib:ZLIB_VERSION"],
            "not a collection of inputs",
        ),
        (["advise", "zlib:compress", "--tasks", "3", "--inputs", "x:y"], "not allowed with"),
        (["advise", "zlib:compress", "--runner", "nope"], "--runner"),
        (["advise", "zlib:compress", "--workers", "0"], "--workers"),
    ],
)
def test_the_command_refuses_bad_input_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.slow
def test_the_command_prints_the_advice_and_writes_a_file_report_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "advice.json"
    argv = ["advise", "zlib:compress", "--arg", "bytes:200k", "--tasks", "8", "--workers", "2"]
    assert main([*argv, "--runner", "threads", "--budget", "1", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "use: " in out
    assert f"results: {path}" in out
    document = json.loads(path.read_text())
    assert document["schema"] == "gilkit.run"
    recommended = document["advice"]["recommended"]
    assert recommended["runner"] in {"serial", "threads"}
    assert recommended["workers"] in {1, 2}
    assert main(["report", str(path)]) == 0
    assert "threads" in capsys.readouterr().out


def test_a_speedup_above_the_ideal_is_flagged_by_the_runs_rule() -> None:
    """Processes ×2 at 2.12× on 2 cpus, rounds within 1% (an interrupted advise read so):
    flagged as `gilkit run` flags such a cell, and not projected."""

    def record(runner: str, workers: int, seconds: float) -> CellRecord:
        times = [seconds * (1 + d) for d in (-0.005, 0.0, 0.005)]
        return CellRecord(NAME, IMPL, runner, workers, 1000, "contiguous", times_s=times)

    records = [record("serial", 1, 1.0), record("processes", 2, 1 / 2.12)]
    metadata = {"cpu": {"usable_cpus": 2}, "python": python_now()}
    result = RunResult(metadata, {}, records, kernels={NAME: {"ideal": IDEAL_CPUS}})
    advice = judged("f()", result, Measured(1e-3, Moving(10, 1e-6), "releases", "x"), None, [])
    processes = next(w for w in advice.ways if w.runner == "processes")
    assert processes.impossible is not None
    assert processes.impossible.startswith("2.12×, above the ideal (2.00×)")
    assert next(w for w in advice.ways if w.runner == "serial").impossible is None
    assert advice.projection() is None


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_leaves_the_notes_out(
    quiet: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--quiet promises no notes; the interpreters note was printed all the same."""
    serial = Way("serial", 1, 1.0, 1.0, 1.0, (1.0, 1.0, 1.0))
    canned = Advice("f()", Task(1e-3, "releases"), (serial,), 2, "CPython", "releases", "x",
                    notes=("interpreters: needs Python 3.12+",))  # fmt: skip
    monkeypatch.setattr(cli_advise, "advise", lambda *args, **kwargs: canned)
    assert main(["advise", "zlib:compress", *(["--quiet"] if quiet else [])]) == 0
    out = capsys.readouterr().out
    assert "use: serial" in out
    assert ("note: interpreters" in out) is not quiet


@pytest.mark.parametrize(
    ("runners", "message"),
    [
        ("serial", "--runner: 'serial' has no way but serial; valid: "),
        ("asyncio", "--runner: asyncio runs coroutines on one event loop, and advise maps a plain"),
        ("threads,asyncio", "--runner: asyncio runs coroutines"),
    ],
)
def test_runners_that_cannot_be_a_way_are_refused_naming_those_that_can(
    runners: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """asyncio ran, as 'could not run: KeyError'; serial's refusal listed serial as valid."""
    assert main(["advise", "zlib:compress", "--runner", runners]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert message in err
    valid = err.partition("valid: ")[2].strip().split(", ")
    assert "threads" in valid
    assert "serial" not in valid
    assert "asyncio" not in valid


def test_a_worker_count_past_the_most_names_the_users_function(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["advise", "zlib:compress", "--workers", "999"]) == 2
    err = capsys.readouterr().err
    assert "--workers: 999 is more than zlib.compress() can use" in err
    assert NAME not in err


def test_report_names_an_advise_files_kernel_by_the_users_call() -> None:
    from gilkit.cli.report import named_by_function

    def record(runner: str, workers: int) -> CellRecord:
        return CellRecord(NAME, IMPL, runner, workers, 10, "contiguous", times_s=[1.0])

    result = RunResult({}, {}, [record("serial", 1), record("threads", 2)], kernels={NAME: {}})
    result.references = {NAME: {"10": 10}}
    named = named_by_function(result, {"advice": {"target": "mymod.parse(item)"}})
    assert {r.kernel for r in named.cells} == {"mymod.parse(item)"}
    assert list(named.kernels) == list(named.references) == ["mymod.parse(item)"]
    plain = RunResult({}, {}, [record("serial", 1)], kernels={NAME: {}})
    assert named_by_function(plain, {}).cells[0].kernel == NAME  # a file without advice
