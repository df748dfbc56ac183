"""What explains noise: the machine-speed reference per call, and the hypervisor's steal time."""

from __future__ import annotations

import pytest

from gilkit.analysis.machine_speed import SLOW_FACTOR, host_speed, steal_share
from gilkit.host.metadata import cpu_seconds
from gilkit.host.speed import reference_loop, time_reference
from gilkit.model.results import CellRecord
from gilkit.present.tables import describe_speed as describe


def cell(references: list[float]) -> CellRecord:
    return CellRecord(
        "squares", "python", "serial", 1, 100, "contiguous", host_reference_s=references
    )


def test_reference_loop_does_fixed_work_and_takes_measurable_time() -> None:
    assert reference_loop(4) == 0 + 1 + 4 + 9
    assert time_reference() > 0


def test_a_steady_machine_is_called_steady() -> None:
    speed = host_speed([cell([1.00e-3, 1.02e-3, 1.01e-3]), cell([1.00e-3, 1.03e-3])])
    assert speed is not None
    assert speed.steady
    assert speed.slow_share == 0
    assert describe(speed).endswith(": steady")


def test_a_machine_that_halved_its_speed_is_reported_with_its_share_of_slow_calls() -> None:
    references = [0.5e-3] * 6 + [1.0e-3] * 4
    speed = host_speed([cell(references)])
    assert speed is not None
    assert not speed.steady
    assert speed.fastest_s == pytest.approx(0.5e-3)
    assert speed.swing == pytest.approx(2.0)
    assert speed.slow_share == pytest.approx(0.4)
    text = describe(speed)
    assert text.startswith("warning: ")
    assert "40% of calls" in text
    assert f"{SLOW_FACTOR}×" in text


def test_no_figure_without_references() -> None:
    assert host_speed([cell([]), cell([1e-3])]) is None


def test_steal_share_is_the_stolen_part_of_the_runs_cpu_time() -> None:
    cpu = {
        "cpu_seconds_before": {"total": 1000.0, "steal": 10.0},
        "cpu_seconds_after": {"total": 1200.0, "steal": 16.0},
    }
    assert steal_share(cpu) == pytest.approx(0.03)
    assert steal_share({"cpu_seconds_before": None, "cpu_seconds_after": None}) is None
    assert steal_share({}) is None  # files written before gilkit recorded it


def test_cpu_seconds_are_counted_where_the_system_says() -> None:
    seconds = cpu_seconds()
    if seconds is not None:  # Linux
        assert seconds["total"] > 0
        assert 0 <= seconds["steal"] <= seconds["total"]
