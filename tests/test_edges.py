"""Every compiled impl (C API, ctypes, pybind11, Cython, OpenMP, Numba) against the pure-Python
reference over random ranges, the edges near 0 and 2**63 - 1 included: the loops count their
terms first, so none overflows a signed index (undefined behaviour in C, a loop that never
ends in practice) or miscounts a prange's trip count."""

from __future__ import annotations

import array
import ctypes
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gilkit.kernels.impls import IMPLS, compiled, impl_unavailable_reason
from gilkit.kernels.mandelbrot import Grid, chunk_python

LARGEST = 2**63 - 1  # Py_ssize_t's largest value on 64-bit machines
MOST_TERMS = 200  # few enough for the Python reference to be instant
COMPILED = [name for name, impl in IMPLS.items() if impl.module is not None]


def function_of(impl: str, kernel: str) -> Callable[..., Any]:
    reason = impl_unavailable_reason(impl)
    if reason is not None:
        pytest.skip(f"{impl}: {reason}")
    fn = compiled(impl, kernel)
    if IMPLS[impl].in_call_parallel:
        if kernel == "mandelbrot":
            return lambda *args: fn(*args, 3, False)
        return lambda *args: fn(*args, 3)
    return fn


@st.composite
def ranges(draw: st.DrawFn) -> range:
    """range(start, stop, step) of at most MOST_TERMS terms, near 0 or near 2**63 - 1, with
    small steps and steps near 2**62."""
    start = draw(st.one_of(st.integers(0, 1000), st.integers(LARGEST - 1000, LARGEST)))
    step = draw(st.one_of(st.integers(1, 1000), st.integers(2**61, LARGEST)))
    terms = draw(st.integers(0, MOST_TERMS))
    if terms == 0:
        return range(start, draw(st.integers(0, start)), step)
    last = min(start + (terms - 1) * step, LARGEST)  # the last term, within the index type
    stop = min(last + 1 + draw(st.integers(0, step - 1)), LARGEST)
    return range(start, max(stop, last + 1) if last < LARGEST else LARGEST, step)


def squares_reference(part: range) -> int:
    return sum(i * i for i in part) % 2**64


@pytest.mark.parametrize("impl", COMPILED)
@settings(max_examples=80, deadline=None)
@given(part=ranges())
def test_squares_equals_the_python_reference_at_every_edge(impl: str, part: range) -> None:
    fn = function_of(impl, "squares")
    assert fn(part.start, part.stop, part.step) == squares_reference(part)


# Rows so close together that even rows near 2**63 stay inside the drawn region.
GRID = Grid(height=0, width=3, max_iter=12, x_min=-1.5, dx=0.5, y_min=-0.5, dy=2.0**-63,
            interleaved=False)  # fmt: skip


@pytest.mark.parametrize("impl", COMPILED)
@settings(max_examples=40, deadline=None)
@given(part=ranges())
def test_mandelbrot_equals_the_python_reference_at_every_edge(impl: str, part: range) -> None:
    fn = function_of(impl, "mandelbrot")
    assert fn(part.start, part.stop, part.step, *GRID.native_args()) == chunk_python(part, GRID)


@pytest.mark.parametrize("impl", COMPILED)
@pytest.mark.parametrize("kernel", ["squares", "mandelbrot"])
@pytest.mark.parametrize(("start", "step", "named"), [(-3, 1, "start"), (0, 0, "step")])
def test_every_impl_refuses_a_negative_start_or_a_step_below_one(
    impl: str, kernel: str, start: int, step: int, named: str
) -> None:
    fn = function_of(impl, kernel)
    args = (start, 10, step) if kernel == "squares" else (start, 10, step, *GRID.native_args())
    with pytest.raises(ValueError, match=f"expected {named} >= "):
        fn(*args)


@pytest.mark.parametrize("impl", COMPILED)
def test_the_reported_edge_calls(impl: str) -> None:
    """The calls that overflowed, spun or died: one term just below 2**63 - 1 (a signed
    `i += step` overflowed there), and terms 2**62 apart (prange's trip count overflowed:
    SIGFPE)."""
    fn = function_of(impl, "squares")
    assert fn(LARGEST - 1, LARGEST, 2) == squares_reference(range(LARGEST - 1, LARGEST, 2))
    assert fn(1, LARGEST, 2**62) == squares_reference(range(1, LARGEST, 2**62))
    assert fn(0, LARGEST, LARGEST) == 0


def float64_buffers(n: int) -> dict[str, Callable[[], Any]]:
    """Every kind of buffer the bindings accept as float64, each a maker of a fresh one."""
    little = np.dtype("<f8") if np.little_endian else np.dtype(">f8")
    return {
        "numpy": lambda: np.ones(n),
        "array.array": lambda: array.array("d", [1.0] * n),
        "memoryview": lambda: memoryview(bytearray(8 * n)).cast("d"),
        "ctypes": lambda: (ctypes.c_double * n)(*[1.0] * n),
        "explicit byte order": lambda: np.ones(n, dtype=little),
    }


REFUSED = {
    "float32": lambda: np.ones(8, dtype=np.float32),
    "int64": lambda: np.ones(8, dtype=np.int64),
    "other byte order": lambda: np.ones(8, dtype=np.dtype("f8").newbyteorder()),
    "strided": lambda: np.ones(16)[::2],
    "2-d": lambda: np.ones((2, 4)),
    "bytes": lambda: b"x" * 64,
}


@pytest.mark.parametrize("impl", COMPILED)
@pytest.mark.parametrize("kind", list(float64_buffers(8)))
def test_every_binding_accepts_every_float64_buffer(impl: str, kind: str) -> None:
    triad = function_of(impl, "triad")
    make = float64_buffers(8)[kind]
    a, b, c = make(), make(), make()
    # a = b + 2c with b = c = 1 (or 0 for the memoryview of a fresh bytearray)
    expected = 0.0 if kind == "memoryview" else 24.0
    assert triad(a, b, c, 2.0) == expected
    assert list(memoryview(a).cast("B").cast("d")) == [expected / 8] * 8


@pytest.mark.parametrize("impl", COMPILED)
@pytest.mark.parametrize("kind", list(REFUSED))
def test_every_binding_refuses_the_same_buffers(impl: str, kind: str) -> None:
    triad = function_of(impl, "triad")
    ok = np.zeros(8)
    with pytest.raises((ValueError, BufferError)):
        triad(REFUSED[kind](), ok, ok.copy(), 1.0)
