"""Argument checks for the impls that cannot raise from native code: ctypes and Numba.

A C function called through ctypes has no way to raise, and a Numba function compiled with
nogil=True would check its arguments without the GIL; so these impls check them here, in
Python and with the GIL, before the call that may release it, with the messages that the C,
pybind11 and Cython impls give.
"""

from __future__ import annotations

import sys

import numpy as np

# The buffer formats every binding accepts as float64 (ext/gilkit_cores.h,
# gk_is_float64_format): one 8-byte float in this machine's byte order, native or explicit.
FLOAT64_FORMATS = frozenset({"d", "@d", "=d", "<d" if sys.byteorder == "little" else ">d"})


def check_range(start: int, step: int) -> None:
    """The cores compute over range(start, stop, step) with start >= 0 and step >= 1."""
    if start < 0:
        raise ValueError(f"expected start >= 0, got {start}")
    if step < 1:
        raise ValueError(f"expected step >= 1, got {step}")


def check_doubles(name: str, array: object, writable: bool = False) -> np.ndarray:
    """`array`'s memory as a 1-d float64 NumPy array, no copy: any C-contiguous buffer of
    FLOAT64_FORMATS (a NumPy array, array.array('d'), a memoryview, a ctypes c_double array),
    writable if asked, as the C, C++ and Cython bindings accept; else ValueError naming what
    it is."""
    try:
        view = memoryview(array)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(
            f"{name} must be a buffer of float64, got {type(array).__name__}"
        ) from None
    if view.format not in FLOAT64_FORMATS or view.itemsize != 8:
        raise ValueError(f"{name} must hold float64 ('d'), got format {view.format!r}")
    if view.ndim != 1 or not view.c_contiguous:
        raise ValueError(f"{name} must be 1-d and contiguous, got shape {view.shape}")
    if writable and view.readonly:
        raise ValueError(f"{name} must be writable")
    return np.frombuffer(view, dtype=np.float64)


def check_triad(a: object, b: object, c: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, c) for a = b + scalar*c: float64 arrays of one length, `a` writable."""
    arrays = check_doubles("a", a, writable=True), check_doubles("b", b), check_doubles("c", c)
    if not len(arrays[0]) == len(arrays[1]) == len(arrays[2]):
        lengths = ", ".join(str(len(array)) for array in arrays)
        raise ValueError(f"a, b and c must have one length, got {lengths}")
    return arrays
