"""Argument checks for the impls that cannot raise from native code: ctypes and Numba.

A C function called through ctypes has no way to raise, and a Numba function compiled with
nogil=True would check its arguments without the GIL; so these impls check them here, in
Python and with the GIL, before the call that may release it, with the messages that the C,
pybind11 and Cython impls give.
"""

from __future__ import annotations

import numpy as np


def check_range(start: int, step: int) -> None:
    """The cores compute over range(start, stop, step) with start >= 0 and step >= 1."""
    if start < 0:
        raise ValueError(f"expected start >= 0, got {start}")
    if step < 1:
        raise ValueError(f"expected step >= 1, got {step}")


def check_doubles(name: str, array: object, writable: bool = False) -> np.ndarray:
    """`array` if it is a 1-d C-contiguous float64 NumPy array (writable if asked), else
    ValueError naming what it is."""
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array of float64, got {type(array).__name__}")
    if array.dtype != np.float64:
        raise ValueError(f"{name} must hold float64 ('d'), got dtype {array.dtype}")
    if array.ndim != 1 or not array.flags.c_contiguous:
        raise ValueError(f"{name} must be 1-d and contiguous, got shape {array.shape}")
    if writable and not array.flags.writeable:
        raise ValueError(f"{name} must be writable")
    return array


def check_triad(a: object, b: object, c: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, c) for a = b + scalar*c: float64 arrays of one length, `a` writable."""
    arrays = check_doubles("a", a, writable=True), check_doubles("b", b), check_doubles("c", c)
    if not len(arrays[0]) == len(arrays[1]) == len(arrays[2]):
        lengths = ", ".join(str(len(array)) for array in arrays)
        raise ValueError(f"a, b and c must have one length, got {lengths}")
    return arrays
