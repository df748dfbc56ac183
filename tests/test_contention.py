"""The GIL monitor separates GIL-holding from GIL-free work (a behaviour, not a timing)."""

from __future__ import annotations

import time

import pytest

from gilkit.contention import GilMonitor
from gilkit.metadata import gil_enabled

from .conftest import requires_native

N = 300_000_000  # ~0.2 s of compiled work here


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
