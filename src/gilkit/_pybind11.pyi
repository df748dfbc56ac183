"""Stubs for gilkit._pybind11 (ext/_pybind11.cpp): the pybind11 impls, around the C cores.

`squares`, `mandelbrot`, `triad` (impl `pybind11`) release the GIL with a
py::gil_scoped_release around the core's call, after checking their arguments; the `_gil`
functions (impl `pybind11-gil`) hold it throughout. Bad ranges and buffers raise ValueError.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

Doubles = npt.NDArray[np.float64] | Any  # any 1-d contiguous float64 buffer

def squares(start: int, stop: int, step: int = 1) -> int: ...
def squares_gil(start: int, stop: int, step: int = 1) -> int: ...
def mandelbrot(
    start: int,
    stop: int,
    step: int,
    width: int,
    max_iter: int,
    x_min: float,
    dx: float,
    y_min: float,
    dy: float,
) -> int: ...
def mandelbrot_gil(
    start: int,
    stop: int,
    step: int,
    width: int,
    max_iter: int,
    x_min: float,
    dx: float,
    y_min: float,
    dy: float,
) -> int: ...
def triad(a: Doubles, b: Doubles, c: Doubles, scalar: float) -> float: ...
def triad_gil(a: Doubles, b: Doubles, c: Doubles, scalar: float) -> float: ...
