"""`gilkit claims`: the experiments' mechanics (not their timings), the registry and the CLI."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import NoReturn

import psutil
import pytest

from gilkit.analysis.stats import Taken
from gilkit.claims import (
    DOES_NOT_HOLD,
    HOLDS,
    VERDICTS,
    Claim,
    ClaimResult,
    busy,
    is_verdict,
    not_measured,
    registry,
)
from gilkit.claims.base import scales
from gilkit.claims.busy import CpuWatch
from gilkit.claims.cells import CellTiming, Comparison
from gilkit.claims.cpu_bound import processes_scale, threads_no_effect
from gilkit.claims.footprint import threads_are_lighter
from gilkit.claims.gil_release import native_scales
from gilkit.claims.io_bound import threads_overlap_io
from gilkit.claims.isolation import memory_not_shared, seen_by_parent
from gilkit.claims.killable import kill_process, processes_killable, try_to_stop_thread
from gilkit.claims.races import Counter, lost_updates, read_yield_write, threads_race
from gilkit.claims.report import shown_verdict
from gilkit.claims.startup import thread_starts_faster
from gilkit.claims.subinterpreters import interpreters_cost, interpreters_scale
from gilkit.claims.timing import interleaved
from gilkit.cli import claims as cli_claims
from gilkit.engine import interference
from gilkit.engine.interference import CpuCount
from gilkit.planning.values import UsageError

DEFAULT_METHOD = multiprocessing.get_start_method(allow_none=False)


def well_formed(result: ClaimResult, number: int) -> None:
    assert result.number == number
    assert result.claim
    assert result.measured
    assert is_verdict(result.verdict), result.verdict
    assert "error" not in result.figures, result.figures
    json.dumps(result.to_json())  # the figures are JSON-ready


def no_thread_left(before: set[threading.Thread]) -> None:
    assert set(threading.enumerate()) <= before


# The experiments, each at a tiny size: a verdict from the allowed set, and nothing left over.
SMALL = [
    (1, lambda: thread_starts_faster(methods=[DEFAULT_METHOD], repeats=1)),
    (2, lambda: threads_are_lighter(methods=[DEFAULT_METHOD], n_threads=2, n_processes=1)),
    (3, lambda: threads_no_effect(n=20_000, repeats=1)),
    (4, lambda: processes_scale(n=20_000, repeats=1)),
    (5, lambda: threads_overlap_io(4, 0.001, 100, 2, repeats=1)),
    (6, lambda: native_scales(n=200_000, repeats=1)),
    (7, lambda: processes_killable(runaway_s=0.3, timeout_s=0.05)),
    (8, lambda: threads_race(n_threads=2, n_increments=50, n_bare_increments=1000)),
    (9, lambda: memory_not_shared()),
    (10, lambda: interpreters_scale(n=20_000, repeats=1)),
    (11, lambda: interpreters_cost(methods=[DEFAULT_METHOD], repeats=1, n_workers=2)),
]


@pytest.mark.parametrize(("number", "experiment"), SMALL, ids=[str(n) for n, _ in SMALL])
def test_each_experiment_returns_a_well_formed_result(number: int, experiment: object) -> None:
    before = set(threading.enumerate())
    result = experiment()  # type: ignore[operator]
    well_formed(result, number)
    no_thread_left(before)
    assert not multiprocessing.active_children()


def test_native_claim_without_the_extensions_is_not_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gilkit.claims import gil_release

    monkeypatch.setattr(
        gil_release,
        "impl_unavailable_reason",
        lambda impl: "extensions not built" if "cython" in impl else None,
    )
    result = native_scales(n=200_000, repeats=1)
    assert result.verdict == "not measured: cython-nogil, cython: extensions not built"
    assert set(result.figures["speedup"]) == {"numpy"}  # what could run still ran
    assert "numpy" in result.measured


def test_the_registry_lists_the_claims_in_order() -> None:
    numbers = [experiment.claim.number for experiment in registry.EXPERIMENTS]
    assert numbers == list(range(1, 12))
    assert registry.NUMBERS == tuple(numbers)
    assert {number for number, _ in SMALL} == set(numbers)


def test_verdicts_and_results() -> None:
    assert VERDICTS == ("holds", "does not hold here", "holds only on the GIL build")
    assert is_verdict(not_measured("extensions not built"))
    assert not is_verdict("maybe")
    with pytest.raises(ValueError, match="unknown verdict"):
        ClaimResult(1, "claim", "measured", "maybe")
    assert scales(1.9, 2)
    assert not scales(1.05, 2)
    assert not scales(5.0, 1)  # one cpu: nothing can scale


def test_the_table_gives_a_reason_for_not_measuring_once() -> None:
    why = "needs Python 3.12+"
    said_twice = ClaimResult(10, "claim", f"nothing: {why}", not_measured(why))
    assert shown_verdict(said_twice) == "not measured"
    said_once = ClaimResult(4, "claim", "the cpus were busy", not_measured("one usable cpu"))
    assert shown_verdict(said_once) == "not measured: one usable cpu"
    held = ClaimResult(1, "claim", "1.9x", "holds")
    assert shown_verdict(held) == "holds"


def test_interleaved_rounds_take_per_call_repeats_and_warmups() -> None:
    order: list[str] = []
    calls = {key: (lambda key=key: order.append(key)) for key in "abc"}
    times = interleaved(calls, {"a": 2, "b": 1, "c": 2}, {"a": 1, "b": 0, "c": 0})
    assert order == ["a", "b", "c", "a", "c", "a"]  # interleaved, each call its own count
    assert [len(times[key]) for key in "abc"] == [2, 1, 2]


def test_the_cpu_watch_sees_others_but_not_us(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counters as the kernel gives them: 3 busy cpu-seconds over 1 s on 2 cpus, 2 of them
    ours, and 0.5 stolen: others took half a cpu and the hypervisor a quarter of the cpus."""
    counts = iter([CpuCount(10.0, 1.0), CpuCount(13.0, 1.5)])
    ours = iter([5.0, 7.0])
    clock = iter([100.0, 101.0])
    monkeypatch.setattr(busy, "cpu_count_now", lambda: next(counts))
    monkeypatch.setattr(interference, "cpu_count_now", lambda: next(counts))
    monkeypatch.setattr(busy, "_ours_s", lambda: next(ours))
    monkeypatch.setattr(busy, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    monkeypatch.setattr(busy, "usable_cpus", lambda: 2)
    with CpuWatch() as watch:
        pass
    assert watch.taken == Taken(others=0.5, steal=0.25)
    assert watch.others_cpus == pytest.approx(1.5)
    assert watch.busy
    assert watch.note(2) == "other processes took 1.5 of 2 cpus meanwhile"


def fake_comparison(runner: str, speedup: float) -> Comparison:
    serial = CellTiming([speedup], None, None)
    return Comparison("python", runner, 10, 2, serial, CellTiming([1.0], 0.01, "fork"))


def watch_seeing(others_cpus: float) -> type[CpuWatch]:
    """A CpuWatch that reports `others_cpus`, whatever the machine really does now."""

    class Watch(CpuWatch):
        def __exit__(self, *exc: object) -> None:
            self.wall_s, self.n_cpus = 1.0, 2
            self.taken = Taken(others_cpus / 2, 0.0)

    return Watch


@pytest.mark.parametrize(
    ("threads", "processes", "busy", "verdict"),
    [
        (1.0, 1.9, False, HOLDS),
        (1.0, 1.9, True, HOLDS),  # the control shows that the cpus were free
        (1.9, 1.9, False, DOES_NOT_HOLD),  # on a GIL build
        (1.0, 1.0, False, "not measured: processes got no speedup either"),
        (1.0, 1.0, True, "not measured: processes got no speedup either; machine busy"),
    ],
)
def test_claim_3_needs_the_process_control(
    monkeypatch: pytest.MonkeyPatch, threads: float, processes: float, busy: bool, verdict: str
) -> None:
    from gilkit.claims import cpu_bound

    results = {
        ("python", "threads"): fake_comparison("threads", threads),
        ("python", "processes"): fake_comparison("processes", processes),
    }
    monkeypatch.setattr(cpu_bound, "compare", lambda *args, **kwargs: results)
    monkeypatch.setattr(cpu_bound, "usable_cpus", lambda: 2)
    monkeypatch.setattr(cpu_bound, "gil_enabled", lambda: True)
    monkeypatch.setattr(cpu_bound, "CpuWatch", watch_seeing(1.5 if busy else 0.0))
    assert cpu_bound.threads_no_effect().verdict.startswith(verdict)


@pytest.mark.parametrize(
    ("speedup", "busy", "verdict"),
    [
        (1.9, False, HOLDS),
        (1.9, True, HOLDS),  # others cannot fake a speedup
        (1.0, False, DOES_NOT_HOLD),
        (1.0, True, "not measured: machine busy (other processes took 1.5 of 2 cpus meanwhile)"),
    ],
)
def test_claim_4_on_a_busy_machine_is_not_measured(
    monkeypatch: pytest.MonkeyPatch, speedup: float, busy: bool, verdict: str
) -> None:
    from gilkit.claims import cpu_bound

    results = {("python", "processes"): fake_comparison("processes", speedup)}
    monkeypatch.setattr(cpu_bound, "compare", lambda *args, **kwargs: results)
    monkeypatch.setattr(cpu_bound, "usable_cpus", lambda: 2)
    monkeypatch.setattr(cpu_bound, "CpuWatch", watch_seeing(1.5 if busy else 0.0))
    assert cpu_bound.processes_scale().verdict.startswith(verdict)


def test_a_failing_experiment_is_reported_not_raised() -> None:
    def broken() -> ClaimResult:
        raise RuntimeError("boom")

    result = registry.run_one(registry.Experiment(Claim(99, "a claim"), broken))
    assert result.verdict.startswith("not measured: ")
    assert "boom" in result.verdict
    assert registry.failed(result)


def test_the_race_loses_updates_without_the_lock_and_none_with_it() -> None:
    assert lost_updates(read_yield_write, 4, 100) > 0
    assert lost_updates(read_yield_write, 4, 100, threading.Lock()) == 0
    counter = Counter()
    read_yield_write(counter, 10, threading.Lock())
    assert counter.value == 10  # one thread alone loses nothing


def test_a_killed_process_is_gone_and_a_new_one_works() -> None:
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    seen = kill_process(None, runaway_s=30.0, timeout_s=0.05)  # would run 30 s if not killed
    assert seen["alive_at_timeout"] is True
    assert seen["gone"] is True
    assert not psutil.pid_exists(seen["pid"])
    assert seen["exitcode"] not in (None, 0)
    assert seen["new_process_exitcode"] == 0
    assert seen["stopped_after_s"] < 10
    assert not multiprocessing.active_children()
    assert {child.pid for child in me.children(recursive=True)} <= before


def test_a_running_thread_cannot_be_cancelled_but_ends_by_itself() -> None:
    before = set(threading.enumerate())
    seen = try_to_stop_thread(runaway_s=0.3, timeout_s=0.05)
    assert seen["timed_out"] is True
    assert seen["cancel_returned"] is False
    assert seen["running_after_cancel"] is True
    assert seen["ended_after_s"] >= 0.3
    no_thread_left(before)


@pytest.mark.parametrize("method", sorted({DEFAULT_METHOD, "spawn"}))
def test_memory_is_not_shared_unless_shared_memory_is_used(method: str) -> None:
    seen = seen_by_parent(method)
    assert seen["child_exitcode"] == 0
    assert seen["plain_seen_from_process"] is False
    assert seen["shared_value_seen_from_process"] is True
    assert seen["plain_seen_from_thread"] is True


# The command, through a parser like the main CLI's: argparse errors raise UsageError.


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = Parser(prog="gilkit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    cli_claims.add_parser(commands)
    return parser.parse_args(argv)


def test_cli_runs_the_chosen_claims_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sub" / "claims.json"
    assert cli_claims.handle(parse(["claims", "--only", "9,8", "--json", str(out)])) == 0
    document = json.loads(out.read_text())
    assert document["schema"] == "gilkit.claims"
    assert document["complete"] is True
    assert [c["number"] for c in document["claims"]] == [8, 9]
    assert all(c["verdict"] in VERDICTS for c in document["claims"])
    assert document["metadata"]["python"]["version"]
    printed = capsys.readouterr().out
    assert "Threads increase" in printed  # the table (its cells wrap)
    assert document["claims"][0]["claim"] == "Threads increase the potential for race conditions"
    assert "2 of 2 claims checked" in printed
    assert not list(out.parent.glob(".claims.json.*"))  # no temporary file left


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--only", "0"], ["'0'", "valid: 1, 2"]),
        (["--only", "12"], ["'12'", "11"]),
        (["--only", "two"], ["'two'"]),
        (["--only", "1,,2"], ["'1,,2'", "comma-separated"]),
        (["--only", "-1"], ["'-1'"]),
        (["--bogus"], ["--bogus"]),
    ],
)
def test_cli_bad_input_is_a_usage_error(argv: list[str], names: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        cli_claims.handle(parse(["claims", *argv]))
    for name in names:
        assert name in str(caught.value)


def test_cli_json_into_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a directory"):
        cli_claims.handle(parse(["claims", "--only", "8", "--json", str(tmp_path)]))


def test_cli_interrupted_keeps_what_it_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt() -> ClaimResult:
        raise KeyboardInterrupt

    quick = Claim(8, "quick")
    experiments = (
        registry.Experiment(quick, lambda: quick.result("measured", HOLDS, {})),
        registry.Experiment(Claim(9, "interrupted"), interrupt),
    )
    monkeypatch.setattr(registry, "EXPERIMENTS", experiments)
    out = tmp_path / "claims.json"
    assert cli_claims.handle(parse(["claims", "--only", "8,9", "--json", str(out)])) == 130
    document = json.loads(out.read_text())
    assert document["complete"] is False
    assert [c["number"] for c in document["claims"]] == [8]
    assert "1 of 2 claims checked" in capsys.readouterr().out


def test_cli_a_broken_experiment_gives_status_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> ClaimResult:
        raise OSError("no such thing")

    experiments = (registry.Experiment(Claim(8, "broken"), broken),)
    monkeypatch.setattr(registry, "EXPERIMENTS", experiments)
    assert cli_claims.handle(parse(["claims", "--only", "8"])) == 1
    printed = capsys.readouterr().out
    assert "no such thing" in printed
    assert DOES_NOT_HOLD not in printed


def test_cli_counts_a_claim_not_measured_apart(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`claims --only 10` said `1 of 1 claims checked` of a claim it could not measure here."""
    measured, unmeasured = Claim(8, "measured"), Claim(10, "not here")
    experiments = (
        registry.Experiment(measured, lambda: measured.result("measured", HOLDS, {})),
        registry.Experiment(
            unmeasured, lambda: unmeasured.result("-", "not measured: needs 3.12+", {})
        ),
    )
    monkeypatch.setattr(registry, "EXPERIMENTS", experiments)
    assert cli_claims.handle(parse(["claims", "--only", "8,10"])) == 0
    printed = capsys.readouterr().out
    assert "1 of 2 claims checked in " in printed
    assert "; 1 not measured here (the table says why)" in printed
