"""Ways measured under another interpreter (`gilkit advise --python`), joined to this one's."""

from __future__ import annotations

import argparse

import pytest

from gilkit.advise.advice import Advice
from gilkit.advise.elsewhere import ways_from
from gilkit.advise.rules import Task, Way
from gilkit.cli.advise import forwarded

HERE_SERIAL = Way("serial", 1, 1.0, 1.0, 1.0, (0.010, 0.011, 0.009, 0.010, 0.010, 0.0101, 0.0099))
THERE = {
    "task": {"gil_enabled": False},
    "ways": [
        {"runner": "serial", "workers": 1, "task_times_s": [0.012]},
        {
            "runner": "threads",
            "workers": 2,
            "task_times_s": [0.005, 0.0055, 0.0045, 0.005, 0.005, 0.0051, 0.0049],
            "shares_gil": True,
            "copies": False,
            "startup_s": 0.001,
            "empty_task_s": 2e-5,
            "memory_bytes": 4096,
        },
        {"runner": "processes", "workers": 2, "task_times_s": [], "error": "boom"},
    ],
}


def test_their_ways_are_compared_with_this_serial_map_by_medians() -> None:
    threads, processes = ways_from(THERE, HERE_SERIAL, "3.13t")
    assert threads.label == "threads ×2 on 3.13t"
    assert threads.speedup == pytest.approx(0.010 / 0.005)
    assert threads.low == pytest.approx(0.010 / 0.0055)
    assert threads.high == pytest.approx(0.010 / 0.0045)
    assert not threads.shares_gil  # no GIL there: its threads take no turns
    assert processes.error == "boom"
    assert processes.speedup is None


def test_joined_ways_take_part_in_the_recommendation() -> None:
    here = (
        HERE_SERIAL,
        Way("threads", 2, 0.95, 0.9, 1.0, (0.0105, 0.0106, 0.0104) * 2, shares_gil=True),
    )
    task = Task(seconds=0.010, kind="python", n_tasks=64)
    advice = Advice("f(item)", task, here, 2, "CPython 3.11", "takes turns", "shares")
    joined = advice.joined(ways_from(THERE, HERE_SERIAL, "3.13t"), ["ran apart"])
    assert joined.recommendation is not None
    assert joined.recommendation.way.label == "threads ×2 on 3.13t"
    assert joined.reasons()["threads ×2"].startswith("the call runs Python")
    assert "note: ran apart" in joined.lines()


def test_the_other_interpreter_gets_this_commands_options() -> None:
    args = argparse.Namespace(
        target="zlib:compress",
        args=["bytes:1M"],
        kwargs=["level=9"],
        tasks="40",
        inputs=None,
        workers=None,
        runner=None,
    )
    assert forwarded(args, 15.0) == [
        "advise",
        "zlib:compress",
        "--arg=bytes:1M",
        "--kwarg=level=9",
        "--tasks=40",
        "--runner=threads",
        "--budget=15.0",
        "--quiet",
    ]


def test_calls_travel_as_bytes_unpickled_at_their_first_call() -> None:
    """So that a module a worker cannot load (NumPy in a subinterpreter) fails the task, which
    the runner reports, and not the pool's own unpickling, which can hang it."""
    import pickle
    import zlib

    from gilkit.kernels.calls import Calls, Unpickled, call_each

    calls = Calls(zlib.crc32, inputs=[b"a", b"bc", b"def"])
    travelled = pickle.loads(pickle.dumps(calls.for_part(range(1, 3))))
    assert isinstance(travelled, Unpickled)
    assert call_each(range(1, 3), travelled) == [zlib.crc32(b"bc"), zlib.crc32(b"def")]
    broken = Unpickled(b"not a pickle")  # made without error: nothing is unpickled yet
    with pytest.raises(pickle.UnpicklingError):
        call_each(range(1), broken)
