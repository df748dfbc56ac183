"""`cython-nogil` really releases the GIL and `cython` really holds it.

Judged by the progress a pure-Python counter thread makes during the call, not by speedup.
"""

from __future__ import annotations

import pytest

from gilkit.metadata import gil_enabled
from gilkit.probe import progress_during

from .conftest import requires_native

# Long enough (~0.1-0.5 s here) that one switch interval (5 ms) cannot blur the reading.
N = 400_000_000


@requires_native
def test_nogil_call_lets_another_thread_run() -> None:
    from gilkit import _native

    reading = progress_during(_native.squares_nogil, 0, N, 1)
    assert reading.call_s > 0.05
    assert reading.fraction > 0.3, reading


@requires_native
@pytest.mark.skipif(not gil_enabled(), reason="no GIL to hold on a free-threaded interpreter")
def test_gil_held_call_stops_other_threads() -> None:
    from gilkit import _native

    reading = progress_during(_native.squares, 0, N, 1)
    assert reading.call_s > 0.05
    assert reading.fraction < 0.15, reading


@requires_native
def test_both_variants_compute_the_same() -> None:
    from gilkit import _native

    assert _native.squares(0, 10**6, 1) == _native.squares_nogil(0, 10**6, 1)


@pytest.mark.skipif(not gil_enabled(), reason="no GIL to hold on a free-threaded interpreter")
def test_pure_python_shares_the_gil() -> None:
    """Control: a pure-Python call lets the counter run only part of the time."""

    def spin(n: int) -> int:
        total = 0
        for i in range(n):
            total += i
        return total

    reading = progress_during(spin, 3_000_000)
    assert 0.05 < reading.fraction < 0.9, reading
