"""The GIL monitor separates GIL-holding from GIL-free work (a behaviour, not a timing)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from gilkit.engine import measure
from gilkit.engine.gil_monitor import GilMonitor, run_queue_wait_s
from gilkit.host.metadata import gil_enabled
from gilkit.kernels import KERNELS
from gilkit.model.plan import Cell
from gilkit.runners import RUNNERS

from .conftest import requires_native

N = 300_000_000  # ~0.2 s of compiled work here
# The fractions below are shares of the monitor's wakes, not durations: a machine 4x slower
# reads the same shares, so the margins (0.2, 0.3, 0.6 against ~0 and ~1) are behaviour.


def test_idle_work_reads_near_zero() -> None:
    with GilMonitor() as monitor:
        time.sleep(0.2)  # sleeping releases the GIL
    assert monitor.n_wakes > 10
    assert monitor.fraction < 0.2


@requires_native
def test_nogil_work_reads_near_zero() -> None:
    from gilkit import _native

    with GilMonitor() as monitor:
        _native.squares_nogil(0, N, 1)
    assert monitor.fraction < 0.3


@requires_native
@pytest.mark.skipif(not gil_enabled(), reason="no GIL to hold on a free-threaded interpreter")
def test_gil_held_work_reads_high() -> None:
    from gilkit import _native

    with GilMonitor() as monitor:
        _native.squares(0, N, 1)
    assert monitor.fraction > 0.6


@requires_native
def test_oversubscribed_gil_free_work_counts_as_cpu_wait_not_gil_wait() -> None:
    """Four threads per cpu of nogil work: the monitor waits for a cpu, not for the GIL."""
    from gilkit import _native

    n_threads = 4 * (os.cpu_count() or 1)
    threads = [
        threading.Thread(target=_native.squares_nogil, args=(0, N // 2, 1))
        for _ in range(n_threads)
    ]
    with GilMonitor() as monitor:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert monitor.fraction < 0.2
    if run_queue_wait_s() is not None:  # Linux: the kernel says how long it waited for a cpu
        assert monitor.cpu_wait_s > 0


@pytest.mark.parametrize(("size", "expect_calls"), [(100, 20), (3_000_000, None)])
def test_monitored_calls_watch_tiny_cells_20_times_and_long_ones_about_0_2_s(
    monkeypatch: pytest.MonkeyPatch, size: int, expect_calls: int | None
) -> None:
    """Tiny cells stop at MAX_MONITORED_CALLS; longer ones once MIN_MONITORED_S has passed."""
    calls = []
    real_call = measure.call
    monkeypatch.setattr(measure, "call", lambda *a: calls.append(1) or real_call(*a))
    cell = Cell("squares", "python", "serial", 1, size)
    with KERNELS["squares"].params_for(size, "contiguous") as params:
        tasks = measure.tasks_for(cell, "contiguous", params)
        monitored = measure.monitored_calls(RUNNERS["serial"](), cell, tasks)
    assert monitored.last.result == KERNELS["squares"].reference(size)
    assert 0.0 <= monitored.gil_contention <= 1.0
    assert monitored.mean_wall_s > 0
    if expect_calls is not None:
        assert len(calls) == expect_calls
    else:  # each call well over 10 ms: fewer than 20 calls reach 0.2 s
        assert 1 <= len(calls) < measure.MAX_MONITORED_CALLS
        # The calls filled the watch (their gaps count toward it too, hence the margin).
        assert monitored.mean_wall_s * len(calls) >= 0.9 * measure.MIN_MONITORED_S
