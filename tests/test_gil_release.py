"""Which calls release the GIL, judged by gilkit's probe (gilkit.testing's assertions).

Every pattern's releasing impl must release the GIL and its control hold it, the one
difference between them: `with nogil:` (Cython), Py_BEGIN_ALLOW_THREADS (C API), CDLL against
PyDLL (ctypes), py::gil_scoped_release (pybind11), nogil=True (Numba). The stdlib and NumPy
calls are the probe's own controls: what they do is known from CPython's and NumPy's sources.
Inputs are sized so that each call lasts ~0.05 s or more here (the probe judges calls from
20 ms). Where the probe cannot judge (one usable cpu, a free-threaded interpreter, a machine
too busy just then) the tests are skipped, as they are for impls not built here.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from gilkit.engine.gil_monitor import run_queue_wait_s
from gilkit.gil.probe import Verdict, releases_gil
from gilkit.kernels.impls import compiled, impl_unavailable_reason
from gilkit.testing import assert_holds_gil, assert_releases_gil, assert_shares_gil

from .conftest import requires_gil, requires_native

N = 150_000_000  # squares over range(N): ~0.05-0.1 s here


@pytest.fixture(scope="module")
def incompressible() -> bytes:
    """8 MB that zlib cannot shrink: a 1 MiB random block repeats far beyond its 32 KiB window."""
    return random.Random(0).randbytes(1 << 20) * 8


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


# Each pattern's releasing impl and its control.
RELEASING = ["cython-nogil", "c-api", "ctypes", "pybind11", "numba"]
HOLDING = ["cython", "c-api-gil", "ctypes-gil", "pybind11-gil", "numba-gil"]


def squares_of(impl: str) -> Callable[..., object]:
    """The impl's squares function, or a skip saying why it is not built here."""
    reason = impl_unavailable_reason(impl)
    if reason is not None:
        pytest.skip(f"{impl}: {reason}")
    return compiled(impl, "squares")


@pytest.mark.parametrize("impl", RELEASING)
def test_each_pattern_releases_the_gil(impl: str) -> None:
    assert_releases_gil(squares_of(impl), 0, N, 1)


@pytest.mark.parametrize("impl", HOLDING)
def test_each_control_holds_the_gil(impl: str) -> None:
    assert_holds_gil(squares_of(impl), 0, N, 1)


@requires_native
def test_both_variants_compute_the_same() -> None:
    from gilkit import _native

    assert _native.squares(0, 10**6, 1) == _native.squares_nogil(0, 10**6, 1)


def test_pure_python_shares_the_gil() -> None:
    """Neither released nor held: the call and the counter take turns, each at about half pace."""
    result = assert_shares_gil(spin, 1_500_000)
    assert result.fraction is not None
    assert 0.2 < result.fraction < 0.8, result


def test_a_builtin_looping_in_c_holds_the_gil() -> None:
    """sum() over a range never returns to the eval loop, so it never offers the GIL."""
    assert_holds_gil(sum, range(6_000_000))


@pytest.mark.slow
def test_hashing_big_data_releases_the_gil() -> None:
    """hashlib releases the GIL for data over 2047 bytes."""
    assert_releases_gil(hashlib.sha256, bytes(200_000_000))


@pytest.mark.slow
def test_compressing_releases_the_gil(incompressible: bytes) -> None:
    assert_releases_gil(zlib.compress, incompressible)


def test_numpy_sort_releases_the_gil() -> None:
    assert_releases_gil(np.sort, np.random.default_rng(0).random(5_000_000))


def test_numpy_ufunc_on_a_big_array_releases_the_gil() -> None:
    data = np.random.default_rng(0).random(4_000_000)
    assert_releases_gil(np.sin, data)


def half_held(n: int) -> int:
    """A nogil loop, then the same loop holding the GIL: released for half of its time."""
    native = compiled("cython-nogil", "squares")
    holding = compiled("cython", "squares")
    return int(native(0, n, 1)) + int(holding(0, n, 1))


@requires_native
@requires_gil
def test_a_call_that_releases_the_gil_for_part_of_its_time_is_named_with_its_held_share() -> None:
    """Not `shares`: other threads wait for it for the held half, however short the switch
    interval, where pure Python makes them wait one interval at a time."""
    result = releases_gil(half_held, N // 2)
    if result.verdict is Verdict.CANNOT_JUDGE:
        pytest.skip(str(result))
    assert result.verdict is Verdict.PARTLY, result
    assert result.gil_wait is not None
    assert 0.3 < result.gil_wait < 0.7, result  # about half: a share of its time, not a timing
    assert "held it about" in result.reason


@pytest.mark.slow
@requires_native
@requires_gil
@pytest.mark.skipif(run_queue_wait_s() is None, reason="needs the kernel's count of cpu waits")
@pytest.mark.parametrize(
    ("what", "verdict"),
    [
        ("cython-nogil", Verdict.RELEASES),
        ("cython", Verdict.HOLDS),
        ("spin", Verdict.SHARES),
        ("half_held", Verdict.PARTLY),
    ],
)
@pytest.mark.parametrize("n_busy", [1, 2])
def test_beside_a_busy_loop_the_verdicts_stay_right(
    what: str, verdict: Verdict, n_busy: int
) -> None:
    """`while True: pass` in another process keeps a cpu busy the whole time: two cpus are
    never free, yet no verdict may be wrong (and the GIL monitor still judges). Beside two
    on 2 cpus, the call's own thread waits for a cpu while it holds the GIL, and pure
    Python read as a part-time hold until such rounds were left out."""
    calls: dict[str, tuple[Callable[..., object], tuple[int, ...]]] = {
        "spin": (spin, (1_500_000,)),
        "half_held": (half_held, (N // 2,)),
    }
    call, args = calls.get(what) or (squares_of(what), (0, N, 1))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n_busy)]
    try:
        result = releases_gil(call, *args)
    finally:
        for loop in busy:
            loop.kill()
            loop.wait()
    if result.verdict is Verdict.CANNOT_JUDGE:
        pytest.skip(str(result))
    assert result.verdict is verdict, result
