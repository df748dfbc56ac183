"""`gilkit granularity`: the loops that take the GIL back every k iterations, and the experiment.

The figures themselves (how much slower another thread runs at k = 1,000) need two free cpus
and are the maintainer's to measure; here the loops compute the kernel's result, stop when
asked, and the experiment and its command produce every figure they promise.
"""

from __future__ import annotations

import json
import math
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from gilkit import cli
from gilkit.gil import granularity
from gilkit.gil.granularity import Granularity, Step
from gilkit.kernels import squares

from .conftest import requires_native

pytestmark = requires_native


@pytest.fixture
def loops():  # type: ignore[no-untyped-def]
    from gilkit import _granularity

    return _granularity


@pytest.mark.parametrize("k", [1, 7, 1000, 10**6])
def test_the_loops_compute_squares_in_blocks(loops, k: int) -> None:  # type: ignore[no-untyped-def]
    calls = []
    assert loops.squares_calling_back(3, 20_003, k, lambda: calls.append(1)) == (
        sum(i * i for i in range(3, 20_003)) % 2**64,
        20_000,
    )
    assert len(calls) == math.ceil(20_000 / k)  # the GIL taken back after every block
    assert loops.squares_checking_signals(0, 20_000, k) == (squares.reference(20_000), 20_000)


def test_the_loops_check_their_arguments(loops) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="expected k >= 1, got 0"):
        loops.squares_checking_signals(0, 10, 0)
    with pytest.raises(ValueError, match="expected start >= 0, got -1"):
        loops.squares_calling_back(-1, 10, 5, print)


def test_a_callback_s_exception_stops_the_loop(loops) -> None:  # type: ignore[no-untyped-def]
    calls = []

    def third_time_unlucky() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise LookupError("stop")

    with pytest.raises(LookupError, match="stop"):
        loops.squares_calling_back(0, 10**6, 1000, third_time_unlucky)
    assert len(calls) == 3


def test_the_budget_cuts_a_long_loop_short(loops) -> None:  # type: ignore[no-untyped-def]
    _, done = loops.squares_checking_signals(0, 10**12, 10**5, 0.05)
    assert 0 < done < 10**12  # hours of work unless the 0.05 s budget stopped it


@pytest.mark.skipif(os.name != "posix", reason="signals sent with setitimer")
def test_a_pending_signal_s_handler_stops_the_loop(loops) -> None:  # type: ignore[no-untyped-def]
    class Alarm(Exception):
        pass

    def on_alarm(signum: int, frame: object) -> None:
        raise Alarm

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Alarm):  # raised only if the loop ran the handler
            loops.squares_checking_signals(0, 10**13, 10**6)  # minutes, unless stopped
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.slow
def test_the_experiment_measures_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    # Shorter loops than the real thing: this checks the figures exist, not their values.
    monkeypatch.setattr(granularity, "TARGET_CALL_S", 0.02)
    monkeypatch.setattr(granularity, "LONG_LOOP_S", 1.0)
    labels: list[str] = []
    result = granularity.measure([10**3, 10**6], repeat=1, on_step=labels.append)
    assert [(s.variant, s.k) for s in result.steps] == [
        (variant, k) for variant in granularity.VARIANTS for k in (10**3, 10**6)
    ]
    for step in result.steps:
        assert step.block_s > 0
        assert step.threads_speedup > 0
        assert step.others_slowdown > 0
        assert step.loop_slowdown > 0
    assert result.n >= 4 * 10**6
    assert labels[0] == "callback, k = 1,000"
    assert labels[-1] == "Ctrl-C without a check"
    if os.name == "posix":
        checked = [s.stop_s for s in result.steps if s.variant == "signals"]
        assert result.no_check_stop_s is not None
        assert result.python_stop_s is not None
        # Without a check the loop runs on to its end; with one it stops within a block.
        assert all(stop is not None and stop < result.no_check_stop_s for stop in checked)
    json.dumps(result.to_json())  # serialisable: JSON has no infinity


CANNED = Granularity(
    n=4 * 10**8,
    steps=[
        Step("callback", 10**3, 3e-7, 0.05, 46.0, 900.0, 0.004),
        Step("callback", 10**7, 3e-3, 1.95, 1.03, 1.02, 0.012),
        Step("signals", 10**3, 3e-7, 0.04, math.inf, 800.0, 0.003),
        Step("signals", 10**7, 3e-3, 1.97, 1.05, 1.01, 0.011),
    ],
    switch_interval_s=0.005,
    usable_cpus=2,
    gil_enabled=True,
    long_loop_s=2.0,
    no_check_stop_s=1.8,
    python_stop_s=0.02,
)


def test_the_summary_says_who_paid_and_from_which_block_the_loop_costs_little() -> None:
    lines = CANNED.summary()
    assert lines[0] == (
        "with gil: callback(): other threads ran at most 46.0× slower; the loop itself ran 900× "
        "slower beside a busy Python thread at k = 1,000 (blocks of 300 ns), under 1.2× from "
        "k = 10,000,000 (blocks of 3.0 ms, 0.6× the switch interval)"
    )
    assert "at most ∞× slower" in lines[1]
    slow = replace(CANNED, steps=[replace(s, loop_slowdown=2.5) for s in CANNED.steps])
    assert slow.summary()[0].endswith(", and 2.50× at k = 10,000,000")


def test_the_command_prints_a_table_per_variant_and_writes_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = []

    def canned(k_values: list[int], repeat: int, on_step: object, interval: object) -> Granularity:
        seen.append((k_values, repeat, interval))
        return CANNED

    monkeypatch.setattr(granularity, "measure", canned)
    out = tmp_path / "g.json"
    argv = ["granularity", "--k", "1e7,1_000", "--repeat", "2", "--switch-interval", "1"]
    assert cli.main([*argv, "--json", str(out), "--quiet"]) == 0
    assert seen == [([10**3, 10**7], 2, 0.001)]
    printed = capsys.readouterr().out
    assert "with gil: callback() every k iterations" in printed
    assert "with gil: PyErr_CheckSignals() every k iterations" in printed
    assert "46.0× slower" in printed
    assert "300 ns" in printed  # a block of 1,000 iterations: never `0 µs`
    assert "it stopped 1.80 s after SIGINT, at the loop's end" in printed
    assert json.loads(out.read_text())["steps"][2]["others_slowdown"] is None  # inf


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--k", "0"], ["'0'", "an integer from 1 to"]),
        (["--k", "1e30"], ["'1e30'", "the loops' C index"]),
        (["--k", "1e2.5"], ["'1e2.5'", "1e3"]),
        (["--k", "1.5"], ["'1.5'", "1_000"]),
        (["--switch-interval", "0"], ["'0'", "milliseconds > 0"]),
        (["--repeat", "0"], ["'0'", "integers >= 1"]),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["granularity", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for name in names:
        assert name in err


@pytest.mark.parametrize("text", ["1e9", "100.5", "inf", "nan"])
def test_a_switch_interval_past_the_loops_budget_is_refused_before_measuring(
    text: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """1e9 ms ran for hours: a waiting loop never got the GIL back to see its budget end."""

    def measured(*args: object, **kwargs: object) -> None:
        raise AssertionError("measured")

    monkeypatch.setattr(granularity, "measure", measured)
    assert cli.main(["granularity", "--switch-interval", text, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"--switch-interval: {text!r} is not a number of milliseconds > 0 and <= 100" in err
    assert "valid: 5, 1, 0.5, up to 100" in err
