"""What gilkit's pytest plugin checks for an extension: that a call releases the GIL, and that
W calls at once in threads run about W times as fast (the `gil_scaling` fixture)."""

import pytest
from gil_example import squares, squares_locked

from gilkit.testing import assert_holds_gil, assert_releases_gil

N = 150_000_000  # ~50 ms a call: long enough for the probe and the timing alike


def test_squares_releases_the_gil() -> None:
    assert_releases_gil(squares, N)


def test_squares_locked_holds_it() -> None:
    assert_holds_gil(squares_locked, N)


@pytest.mark.needs_cpus(2)
def test_squares_scales_in_threads(gil_scaling) -> None:
    result = gil_scaling(squares, N)
    result.assert_scales(min_efficiency=0.7)


@pytest.mark.needs_cpus(2)
@pytest.mark.xfail(strict=True, reason="holds the GIL: the failure the plugin exists to catch")
def test_squares_locked_scales_in_threads(gil_scaling) -> None:
    gil_scaling(squares_locked, N).assert_scales(min_efficiency=0.7)
