"""The GIL-release probe's logic, its test helpers and `gilkit probe`, on cheap calls.

Which real calls release the GIL is tested in test_gil_release.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

import gilkit
from gilkit import testing
from gilkit.cli import probe as cli_probe
from gilkit.engine.limits import trial_in_child
from gilkit.gil import probe
from gilkit.gil.probe import GilProbe, Round, Verdict, agreed, decide, judge, monitor_verdict
from gilkit.planning.values import UsageError

from .conftest import requires_gil


def make_probe(verdict: Verdict, fraction: float | None = 0.5, slowdown: float = 2.0) -> GilProbe:
    return GilProbe(
        verdict=verdict,
        reason="canned",
        call_s=0.2,
        fraction=fraction,
        slowdown=None if fraction is None else slowdown,
        parallelism=None if fraction is None else probe.parallelism(fraction, slowdown),
        rounds=(),
        n_used=0,
        gil_enabled=True,
        free_threaded_build=False,
        usable_cpus=2,
    )


FREE = (Round(0.1, 0.1, 1.0), Round(0.1, 0.11, 0.95))  # the reference ran alongside
BUSY = (Round(0.1, 0.2, 0.5), Round(0.1, 0.1, 1.0))  # it took turns once: no free cpus


def rounds_of(
    fraction: float, slowdown: float, references: tuple[Round, ...] = (), n: int = 3
) -> list[Round]:
    return [Round(0.1, 0.1 * slowdown, fraction, references) for _ in range(n)]


# --- the verdict from the figures ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "slowdown", "verdict"),
    [
        (0.0, 1.0, Verdict.HOLDS),  # the counter stopped
        (0.05, 1.3, Verdict.HOLDS),  # ... even when the machine slowed the call
        (1.0, 1.0, Verdict.RELEASES),  # both ran at full speed on two cpus
        (0.85, 1.15, Verdict.RELEASES),  # a release that takes the GIL back now and then
        (0.5, 2.0, Verdict.SHARES),  # took turns: half each
        (0.6, 1.7, Verdict.SHARES),  # a noisy turn-taking reading
        (0.5, 1.0, Verdict.SHARES),  # released only half of the time
    ],
)
def test_judge_tells_the_three_cases_apart(
    fraction: float, slowdown: float, verdict: Verdict
) -> None:
    assert judge(fraction, probe.parallelism(fraction, slowdown)) is verdict


def test_one_cpu_cannot_judge_whatever_the_figures() -> None:
    verdict, reason, _ = decide(rounds_of(0.5, 2.0, FREE), cpus=1)
    assert verdict is Verdict.CANNOT_JUDGE
    assert "1 usable cpu" in reason


def test_a_busy_machine_without_a_gil_monitor_cannot_judge() -> None:
    """Sharing, while a call known to release the GIL took turns with the counter too."""
    verdict, reason, _ = decide(rounds_of(0.5, 2.0, BUSY), cpus=2)
    assert verdict is Verdict.CANNOT_JUDGE
    assert "only 0 of 3 rounds could be judged, 3 needed" in reason
    assert "parallelism of 1.50" in reason  # the median of the reference's


@pytest.mark.parametrize(
    ("fraction", "slowdown", "references", "verdict"),
    [
        (0.5, 2.0, FREE, Verdict.SHARES),  # two cpus were free, yet the call took turns
        (0.5, 2.0, (), Verdict.SHARES),  # no reference call to check with
        (0.95, 1.05, FREE, Verdict.RELEASES),
        (0.95, 1.05, BUSY, Verdict.CANNOT_JUDGE),  # a busy machine can fake a release...
        (0.0, 1.0, BUSY, Verdict.HOLDS),  # ...but it cannot make the counter run
    ],
)
def test_without_the_monitor_only_holding_needs_no_free_cpus(
    fraction: float, slowdown: float, references: tuple[Round, ...], verdict: Verdict
) -> None:
    assert decide(rounds_of(fraction, slowdown, references), cpus=2)[0] is verdict


@pytest.mark.parametrize(
    ("wait", "wait_long", "slowdown", "verdict"),
    [
        (0.02, 0.02, 1.02, Verdict.RELEASES),  # nobody waited for the GIL
        (0.00, 0.01, 2.0, Verdict.RELEASES),  # ... beside a busy loop, the call slowed by it
        (0.02, 0.02, 207.0, Verdict.SHARES),  # a nogil loop that takes the GIL back often
        (0.18, 0.48, 2.05, Verdict.SHARES),  # pure Python: waits grow with the interval
        (0.06, 0.43, 1.10, Verdict.SHARES),  # ... beside a busy loop: no release at 5 ms
        (0.46, 0.46, 1.05, Verdict.PARTLY),  # holds half of its time, whatever the interval
        (0.47, 0.45, 1.50, Verdict.PARTLY),  # ... beside a busy loop
    ],
)
def test_the_gil_monitor_tells_a_partial_release_from_turn_taking(
    wait: float, wait_long: float, slowdown: float, verdict: Verdict
) -> None:
    assert monitor_verdict(wait, wait_long, slowdown) is verdict


def monitored(fraction: float, slowdown: float, waits: tuple[float, float], n: int = 3) -> list:
    return [Round(0.1, 0.1 * slowdown, fraction, BUSY, *waits) for _ in range(n)]


def test_busy_rounds_are_judged_by_the_gil_monitor_where_the_kernel_counts_cpu_waits() -> None:
    """No two free cpus in any round: the monitor's waits still judge, with cpu waits taken
    out; where the kernel does not count those, such a round is not judged."""
    partly = monitored(0.4, 1.5, (0.46, 0.45))
    verdict, reason, used = decide(partly, cpus=2, cpu_waits_counted=True)
    assert verdict is Verdict.PARTLY
    assert "it held it about 46% of its time" in reason
    assert len(used) == 3
    assert decide(partly, cpus=2, cpu_waits_counted=False)[0] is Verdict.CANNOT_JUDGE
    holding = monitored(0.02, 1.0, (0.9, 0.9))
    assert decide(holding, cpus=2, cpu_waits_counted=False)[0] is Verdict.HOLDS


def test_rounds_that_cannot_be_judged_do_not_count_against_the_verdict() -> None:
    agreeing = rounds_of(1.0, 1.0, FREE, n=3)
    verdict, _, used = decide([*agreeing, *rounds_of(0.95, 1.05, BUSY, n=4)], cpus=2)
    assert verdict is Verdict.RELEASES
    assert used == agreeing
    assert agreed(agreeing[:2]) is None  # two judged rounds, three needed


def test_two_thirds_of_the_judged_rounds_must_agree() -> None:
    agreeing = rounds_of(1.0, 1.0, FREE, n=2)
    verdict, reason, _ = decide([*agreeing, *rounds_of(0.5, 2.0, FREE, n=2)], cpus=2)
    assert verdict is Verdict.CANNOT_JUDGE
    assert "the 4 judged rounds did not agree" in reason
    assert "2 read releases, 2 read shares" in reason
    assert agreed([*agreeing, *rounds_of(1.0, 1.0, FREE, n=1), *rounds_of(0.5, 2.0, FREE, n=1)])


@requires_gil
def test_rounds_go_on_until_they_agree_or_the_budget_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where no round can be judged: rounds until the budget, then cannot-judge,
    saying how many were judged and needed; one where they agree at once: three rounds."""
    busy = Round(0.05, 0.1, 0.5, BUSY)
    monkeypatch.setattr(probe, "measure_round", lambda *args: time.sleep(0.02) or busy)
    monkeypatch.setattr(probe, "run_queue_wait_s", lambda: None)
    seen: list[tuple[int, int]] = []
    result = probe.probe(time.sleep, (0.05,), budget_s=0.3, on_round=lambda *r: seen.append(r))
    assert result.verdict is Verdict.CANNOT_JUDGE
    assert 6 <= len(result.rounds) <= 16  # about 0.3 s of 0.02 s rounds
    assert f"only 0 of {len(result.rounds)} rounds could be judged, 3 needed" in result.reason
    assert seen[-1] == (len(result.rounds), len(result.rounds))  # the bar ends full
    free = Round(0.05, 0.05, 1.0, FREE)
    monkeypatch.setattr(probe, "measure_round", lambda *args: free)
    assert len(probe.probe(time.sleep, (0.05,), budget_s=0.3).rounds) == 3


def test_medians_ignore_one_disturbed_round() -> None:
    rounds = [*rounds_of(1.0, 1.0, n=2), Round(0.1, 0.3, 0.2)]
    assert probe.medians(rounds) == (1.0, pytest.approx(1.0), pytest.approx(2.0))
    assert decide(rounds, cpus=2)[0] is Verdict.RELEASES


# --- probe(): what is measured, and when it is not ----------------------------------------


@requires_gil
def test_too_short_calls_are_timed_not_judged() -> None:
    calls = []
    result = probe.probe(calls.append, (1,), repeat=3)
    assert result.verdict is Verdict.TOO_SHORT
    assert result.fraction is None
    assert result.slowdown is None
    assert result.rounds == ()
    assert len(calls) == 3
    assert "too short" in str(result)


@requires_gil
def test_a_slow_first_call_does_not_get_a_short_call_judged() -> None:
    calls: list[int] = []

    def cold_then_quick() -> None:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.05)

    result = probe.probe(cold_then_quick)
    assert result.verdict is Verdict.TOO_SHORT
    assert result.fraction is None
    assert len(calls) > 3  # rounds were measured before the median showed it


def test_no_gil_is_said_instead_of_a_fraction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "gil_enabled", lambda: False)
    result = gilkit.releases_gil(time.sleep, 0.03)
    assert result.verdict is Verdict.NO_GIL
    assert result.fraction is None
    assert result.slowdown is None
    assert result.call_s > 0


@requires_gil
def test_one_cpu_is_measured_but_not_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "usable_cpus", lambda: 1)
    result = gilkit.releases_gil(time.sleep, 0.03)
    assert result.verdict is Verdict.CANNOT_JUDGE
    assert result.fraction is not None
    assert result.slowdown is not None
    assert result.usable_cpus == 1


@requires_gil
def test_each_round_calls_alone_with_the_counter_and_twice_beside_the_monitor() -> None:
    calls: list[float] = []

    def nap(seconds: float, *, log: list[float]) -> None:
        log.append(seconds)
        time.sleep(seconds)

    result = probe.probe(nap, (0.025,), {"log": calls}, repeat=2)
    assert len(result.rounds) >= 2  # more where the first did not agree
    assert calls == [0.025] * 4 * len(result.rounds)


@requires_gil
def test_sleeping_releases_the_gil() -> None:
    """time.sleep releases the GIL: the counter keeps its pace and the call its length."""
    result = gilkit.releases_gil(time.sleep, 0.05)
    if result.verdict is Verdict.CANNOT_JUDGE:
        pytest.skip(str(result))
    assert result.verdict is Verdict.RELEASES, result
    assert result.released
    assert result.fraction is not None
    assert result.fraction > probe.RELEASES_MIN_FRACTION


def test_a_failing_call_stops_the_counter_and_restores_the_switch_interval() -> None:
    threads, interval = threading.active_count(), sys.getswitchinterval()

    def fails() -> NoReturn:
        time.sleep(0.03)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        probe.probe(fails)
    assert threading.active_count() == threads
    assert sys.getswitchinterval() == interval


def test_repeat_must_be_positive() -> None:
    with pytest.raises(ValueError, match="repeat"):
        probe.probe(time.sleep, (0.03,), repeat=0)


# --- gilkit.testing --------------------------------------------------------------------------


def canned(monkeypatch: pytest.MonkeyPatch, *verdicts: Verdict) -> list[tuple[Any, ...]]:
    """Make testing's probe return `verdicts` in turn; the list records each call's args."""
    seen: list[tuple[Any, ...]] = []

    def fake(fn: object, /, *args: Any, **kwargs: Any) -> GilProbe:
        seen.append((fn, args, kwargs))
        return make_probe(verdicts[min(len(seen), len(verdicts)) - 1])

    monkeypatch.setattr(testing, "releases_gil", fake)
    return seen


def test_assert_releases_gil_passes_and_forwards_the_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = canned(monkeypatch, Verdict.RELEASES)
    assert testing.assert_releases_gil(len, [1], key=2).verdict is Verdict.RELEASES
    assert seen == [(len, ([1],), {"key": 2})]


def test_a_wrong_verdict_fails_with_the_figures_after_a_second_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = canned(monkeypatch, Verdict.SHARES)
    with pytest.raises(AssertionError) as failure:
        testing.assert_releases_gil(len, [1])
    assert len(seen) == testing.ATTEMPTS
    message = str(failure.value)
    assert "expected builtins.len to release the GIL, but it shares" in message
    assert "counter fraction 0.50, call slowdown 2.00×" in message


def test_a_second_try_can_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    canned(monkeypatch, Verdict.CANNOT_JUDGE, Verdict.HOLDS)
    assert testing.assert_holds_gil(len, [1]).verdict is Verdict.HOLDS


def test_too_short_fails_with_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    canned(monkeypatch, Verdict.TOO_SHORT)
    with pytest.raises(AssertionError, match="bigger input"):
        testing.assert_holds_gil(len, [1])


@pytest.mark.parametrize("verdict", [Verdict.NO_GIL, Verdict.CANNOT_JUDGE])
def test_unjudgeable_skips(monkeypatch: pytest.MonkeyPatch, verdict: Verdict) -> None:
    canned(monkeypatch, verdict)
    with pytest.raises(pytest.skip.Exception, match=r"cannot tell whether builtins\.len releases"):
        testing.assert_releases_gil(len, [1])


def test_unjudgeable_returns_without_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    canned(monkeypatch, Verdict.NO_GIL)
    monkeypatch.setitem(sys.modules, "pytest", None)  # `import pytest` now fails
    assert testing.assert_releases_gil(len, [1]).verdict is Verdict.NO_GIL


# --- gilkit probe ----------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def probe_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(status, stdout, stderr) of `gilkit probe ...`, as the main CLI runs a command."""
    parser = Parser(prog="gilkit")
    cli_probe.add_parser(parser.add_subparsers(dest="command", parser_class=Parser))
    try:
        status = cli_probe.handle(parser.parse_args(["probe", *argv]))
    except UsageError as error:
        print(f"gilkit: error: {error}", file=sys.stderr)
        status = 2
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["zlib.compress"], ["'zlib.compress'", "zlib:compress"]),
        (["zlib:"], ["'zlib:'", "MODULE:FUNCTION"]),
        # A module without its function: one the module defines, not one it imports.
        (["gilkit.testing"], ["e.g. gilkit.testing:assert_holds_gil"]),
        (["os.path"], ["e.g. os.path:abspath"]),
        (["no_such_module_here:f"], ["'no_such_module_here'", "importable module"]),
        (["zlib:nope"], ["'nope'", "compress, compressobj"]),
        (["os.path:nope.deeper"], ["'os.path' has no attribute 'nope'", "basename"]),
        (["zlib:MAX_WBITS"], ["'zlib:MAX_WBITS' is not callable (int)", "compress"]),
        (["zlib:compress", "--arg", "bytes:lots"], ["'bytes:lots'", "bytes:N", "integer >= 0"]),
        (["zlib:compress", "--arg", "array:-3"], ["'array:-3'", "array:N"]),
        (["zlib:compress", "--kwarg", "level"], ["'level'", "NAME=VALUE"]),
        (["zlib:compress", "--repeat", "0"], ["'0'", "integers >= 1"]),
        (["zlib:compress", "--arg", "5"], ["zlib.compress(5) raised TypeError", "accepts"]),
        (["sys:exit", "--arg", "4"], ["sys.exit(4) raised SystemExit: 4", "accepts"]),
        (["zlib:compress", "--bogus"], ["--bogus"]),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = probe_cli(argv, capsys)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("gilkit: error:")
    for name in names:
        assert name in err


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the trial call needs fork"
)
@pytest.mark.parametrize("status", [0, 3])
def test_a_call_that_ends_its_trial_process_is_said_whatever_its_status(status: int) -> None:
    """Status 0 read as a call that returned, and 3 as one that raised: the probe then made
    the call itself, and gilkit ended with it, silently."""
    went_wrong = trial_in_child(functools.partial(os._exit, status), 30)
    assert went_wrong == f"ended its process (exit status {status})"
    assert trial_in_child(functools.partial(sys.exit, status), 30) is None  # raised: named later
    assert trial_in_child(lambda: None, 30) is None


def test_a_module_that_fails_to_import_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken_ext_for_probe.py").write_text("raise RuntimeError('no luck')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    status, _, err = probe_cli(["broken_ext_for_probe:f"], capsys)
    assert status == 2
    assert "cannot import 'broken_ext_for_probe' (RuntimeError: no luck)" in err


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5),
        ("2.5", 2.5),
        ("-3", -3),
        ("'text'", "text"),
        ("b'raw'", b"raw"),
        ("[1, 2]", [1, 2]),
        ("None", None),
        ("plain words", "plain words"),
        ("level=9", "level=9"),
    ],
)
def test_arg_values_are_literals_or_strings(text: str, value: object) -> None:
    assert cli_probe.parse_value("--arg", text) == value


def test_bytes_and_array_args_are_big_and_deterministic() -> None:
    data = cli_probe.parse_value("--arg", "bytes:1_000")
    assert isinstance(data, bytes)
    assert len(data) == 1000
    assert data == cli_probe.parse_value("--arg", "bytes:1k")
    assert len(set(data)) > 200  # not zeros: pseudo-random bytes
    array = cli_probe.parse_value("--arg", "array:2k")
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float64
    assert array.shape == (2000,)
    assert np.array_equal(array, cli_probe.parse_value("--arg", "array:2000"))


def test_kwargs_are_parsed_like_args() -> None:
    assert cli_probe.parse_kwarg("level=9") == ("level", 9)
    assert cli_probe.parse_kwarg("kind=stable") == ("kind", "stable")


@requires_gil
def test_probe_prints_the_verdict_and_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = probe_cli(["time:sleep", "--arg", "0.05", "--repeat", "1"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "time.sleep(0.05)"
    assert lines[1].startswith(("verdict: releases: ", "verdict: cannot-judge: "))
    for label in ("counter fraction:", "slowdown:", "rounds:", "call alone:", "interpreter:"):
        assert any(line.startswith(label) for line in lines), out
    assert "usable cpus" in lines[-1]


@requires_gil
def test_probe_says_too_short_without_figures(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = probe_cli(["zlib:compress", "--arg", "b'tiny'", "--kwarg", "level=1"], capsys)
    assert status == 0
    assert "zlib.compress(b'tiny', level=1)" in out
    assert "verdict: too-short: the call lasted" in out
    assert "counter fraction" not in out


# --- reading the verdict, and how long a probe takes ----------------------------------------


def test_sharing_leads_with_how_much_slower_other_threads_ran() -> None:
    shared = make_probe(Verdict.SHARES, fraction=0.25)
    assert shared.others_slowdown == 4.0
    assert str(shared).startswith("shares: other threads ran 4.00× slower while it ran: canned;")
    assert str(make_probe(Verdict.HOLDS, fraction=0.0)).startswith("holds: canned;")
    assert make_probe(Verdict.HOLDS, fraction=0.0).others_slowdown == float("inf")
    assert make_probe(Verdict.TOO_SHORT, fraction=None).others_slowdown is None
    lines = cli_probe.format_probe("f()", make_probe(Verdict.SHARES, fraction=1 / 46))
    assert lines[1] == "verdict: shares: other threads ran 46.0× slower while it ran: canned"


def test_a_call_that_waits_for_the_gil_at_every_turn_says_it_paid_too() -> None:
    """A nogil loop that takes the GIL back every 1,000 iterations, measured here: the counter
    ran at its pace (0.99) and the call 207x slower beside it."""
    waiting = make_probe(Verdict.SHARES, fraction=0.99, slowdown=207.0)
    assert waiting.headline() == (
        "other threads ran 1.01× slower while it ran, and it ran 207× slower beside them: canned"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(4e-7, "400 ns"), (4e-5, "40 µs"), (0.0004, "400 µs"), (0.02, "20.0 ms"), (2.5, "2.50 s")],
)
def test_durations_never_read_zero(seconds: float, text: str) -> None:
    from gilkit.model.units import format_seconds

    assert format_seconds(seconds) == text
    assert text in probe.too_short_reason(seconds)
    short = dataclasses.replace(make_probe(Verdict.TOO_SHORT, fraction=None), call_s=seconds)
    assert str(short).endswith(f"call {text} alone")


def test_the_estimate_grows_with_the_call_and_the_rounds() -> None:
    assert probe.estimated_s(0.1) < probe.estimated_s(0.2) < probe.estimated_s(0.2, repeat=6)
    # Per round: the call 5 times' worth (alone, up to twice with the counter, twice beside the
    # GIL monitor), the reference 3 times, the counter's solo windows 3 times.
    assert probe.estimated_s(0.1, repeat=3) == pytest.approx(3 * (0.5 + 0.15 + 0.06))
    assert probe.estimated_s(0.1, cpus=1) < probe.estimated_s(0.1, cpus=2)  # no reference call


@requires_gil
def test_each_round_is_reported_as_it_ends() -> None:
    seen: list[tuple[int, int]] = []
    result = probe.probe(time.sleep, (0.025,), repeat=2, on_round=lambda *r: seen.append(r))
    assert seen[:2] == [(1, 2), (2, 2)]
    if len(result.rounds) == 4:  # the rounds disagreed: as many again, announced
        assert seen[2:] == [(3, 4), (4, 4)]
    assert len(seen) == len(result.rounds)


def test_gilkit_probe_says_how_long_it_will_take(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_probe, "SHOW_PROGRESS_S", 0.0)  # a progress bar for any length
    given: list[Any] = []

    def fake(
        fn: object, args: Any, kwargs: Any, *, repeat: int, budget_s: float, on_round: Any = None
    ) -> Any:
        given.append((on_round, budget_s))
        on_round(1, repeat)
        return make_probe(Verdict.SHARES)

    monkeypatch.setattr(cli_probe, "probe", fake)
    status, out, err = probe_cli(["time:sleep", "--arg", "0.1", "--budget", "4"], capsys)
    assert status == 0
    assert "probing time.sleep(0.1): about 2." in err
    assert "(one call took 10" in err
    assert "on a busy machine more rounds, up to 4.00 s" in err
    assert given[0][0] is not None
    assert given[0][1] == 4.0
    assert "verdict: shares: other threads ran 2.00× slower while it ran" in out


def test_assert_shares_gil(monkeypatch: pytest.MonkeyPatch) -> None:
    canned(monkeypatch, Verdict.SHARES)
    assert testing.assert_shares_gil(len, [1]).verdict is Verdict.SHARES
    canned(monkeypatch, Verdict.RELEASES)
    with pytest.raises(AssertionError, match=r"expected builtins\.len to share the GIL"):
        testing.assert_shares_gil(len, [1])


@pytest.mark.parametrize(("queued_per_read_s", "told"), [(0.0, True), (10.0, False)])
def test_the_monitors_waits_are_left_out_where_the_calls_thread_waited_for_a_cpu(
    monkeypatch: pytest.MonkeyPatch, queued_per_read_s: float, told: bool
) -> None:
    """A holder that is off its cpu keeps the monitor waiting: pure Python beside two busy
    loops read as a part-time hold. The round then rests on the counter alone."""
    reads = iter(range(1000))
    monkeypatch.setattr(probe, "run_queue_wait_s", lambda: next(reads) * queued_per_read_s)
    short, long, queued = probe.gil_waits(lambda: time.sleep(0.01))
    assert (short is not None and long is not None) is told
    assert (short is None and long is None) is queued is not told
    # Such a round is not judged, but for a hold, which no load fakes.
    waits = (0.15, 0.47) if told else (None, None)  # pure Python's, where they were kept
    turns = Round(0.05, 0.1, 0.5, FREE, *waits, holder_queued=queued)
    assert (probe.round_verdict(turns) is Verdict.SHARES) is told
    released = Round(0.05, 0.05, 1.0, FREE, *waits, holder_queued=queued)
    assert (probe.round_verdict(released) is None) is not told
    held = Round(0.05, 0.05, 0.0, FREE, *waits, holder_queued=queued)
    assert probe.round_verdict(held) is Verdict.HOLDS
