"""The bindings around the shared cores: C API, ctypes, pybind11, Numba.

Every impl's results are checked against the references in test_kernels.py; here, what each
binding adds: its argument checks (raised before any release of the GIL, with one message
for all), its two variants computing the same, and how each is made ready (ctypes' declared
signatures, Numba compiled before any call). Which variant releases the GIL is judged in
test_gil_release.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gilkit.kernels.impls import IMPLS, compiled, impl_unavailable_reason

# The releasing impl and its control of each family whose functions take a range.
PAIRS = [("cython-nogil", "cython"), ("c-api", "c-api-gil"), ("ctypes", "ctypes-gil")]
PAIRS += [("pybind11", "pybind11-gil"), ("numba", "numba-gil")]
GRID = (100, 100, -2.0, 0.026, -1.2, 0.048)  # width, max_iter, x_min, dx, y_min, dy


def available(*impls: str) -> list[object]:
    """The impls as pytest params, skipped with the reason where not built here."""
    params = []
    for impl in impls:
        reason = impl_unavailable_reason(impl)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(impl, id=impl, marks=marks))
    return params


ALL = [impl for pair in PAIRS for impl in pair]


@pytest.mark.parametrize("impl", available(*ALL))
@pytest.mark.parametrize("kernel", ["squares", "mandelbrot"])
def test_bad_ranges_raise_value_error(impl: str, kernel: str) -> None:
    function = compiled(impl, kernel)
    grid = GRID if kernel == "mandelbrot" else ()
    with pytest.raises(ValueError, match="expected step >= 1, got 0"):
        function(0, 10, 0, *grid)
    with pytest.raises(ValueError, match="expected start >= 0, got -1"):
        function(-1, 10, 1, *grid)


@pytest.mark.parametrize("impl", available(*ALL, "cython-prange", "numba-prange"))
def test_triad_rejects_bad_arrays(impl: str) -> None:
    threads = (2,) if IMPLS[impl].in_call_parallel else ()
    triad = compiled(impl, "triad")
    ok = np.zeros(8)
    with pytest.raises(ValueError, match="one length, got 8, 8, 4"):
        triad(ok, ok.copy(), np.zeros(4), 1.0, *threads)
    if impl.startswith("cython"):
        return  # Cython's typed memoryviews give their own messages for the rest
    with pytest.raises(ValueError, match="float64"):
        triad(ok, ok.copy(), np.zeros(8, dtype=np.float32), 1.0, *threads)
    with pytest.raises(ValueError, match=r"1-d and contiguous|C-contiguous"):
        triad(np.zeros(16)[::2], ok, ok, 1.0, *threads)
    readonly = np.zeros(8)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match=r"writable|read-only"):
        triad(readonly, ok, ok, 1.0, *threads)


@pytest.mark.parametrize(("releasing", "holding"), [pytest.param(*p, id=p[0]) for p in PAIRS])
def test_both_variants_compute_the_same(releasing: str, holding: str) -> None:
    for impl in (releasing, holding):
        if reason := impl_unavailable_reason(impl):
            pytest.skip(reason)
    # Past 2**32 squared: ctypes must pass and return 64-bit integers, not C ints.
    start = 2**33
    expected = sum(i * i for i in range(start, start + 1000, 3)) % 2**64
    for impl in (releasing, holding):
        assert compiled(impl, "squares")(start, start + 1000, 3) == expected
        assert compiled(impl, "mandelbrot")(0, 30, 2, *GRID) == compiled("cython", "mandelbrot")(
            0, 30, 2, *GRID
        )
        a, b, c = np.zeros(50), np.arange(50.0), np.arange(50.0) % 7
        assert compiled(impl, "triad")(a, b, c, 3.0) == float((b + 3.0 * c).sum())
        assert np.array_equal(a, b + 3.0 * c)


@pytest.mark.parametrize("impl", available("c-api"))
def test_the_c_api_module_takes_any_float64_buffer(impl: str) -> None:
    """The buffer protocol, not NumPy: array.array('d') and memoryviews work too."""
    from array import array

    a, b, c = array("d", [0.0] * 4), array("d", [1.0, 2.0, 3.0, 4.0]), memoryview(bytes(32))
    assert compiled(impl, "triad")(a, b, c.cast("d"), 2.0) == 10.0
    assert list(a) == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("impl", available("numba"))
def test_numba_compiles_every_entry_point_before_any_call(impl: str) -> None:
    from gilkit.bindings import numba_cores

    assert set(numba_cores.COMPILE_S) == {"numba", "numba-gil", "numba-prange"}
    for kernels in numba_cores.COMPILE_S.values():
        assert set(kernels) == {"squares", "mandelbrot", "triad"}
    # No compiling at call time: a call with other argument types is refused, not compiled.
    with pytest.raises(TypeError):
        numba_cores._squares_nogil(np.zeros(2), 10, 1)


@pytest.mark.parametrize("impl", available("numba-prange"))
def test_numba_prange_says_how_many_threads_its_pool_allows(impl: str) -> None:
    from gilkit.bindings import numba_cores

    too_many = numba_cores.numba.config.NUMBA_NUM_THREADS + 1
    with pytest.raises(ValueError, match=f"expected 1 <= n_threads <= {too_many - 1}"):
        numba_cores.squares_prange(0, 10, 1, too_many)
    assert numba_cores.squares_prange(0, 10, 1, 3) == sum(i * i for i in range(10))


def test_an_unbuilt_library_is_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """gilkit.host.extensions turns it into the reason `gilkit list` shows."""
    import importlib.util

    from gilkit.bindings import ctypes_lib

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"gilkit\._ctypes_lib is not built"):
        ctypes_lib.library_path()
