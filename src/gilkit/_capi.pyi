"""Stubs for gilkit._capi (ext/_capi.c): the C API impls, around the C cores of gilkit_cores.h.

`squares`, `mandelbrot`, `triad` (impl `c-api`) release the GIL around the core's loop, after
parsing and checking their arguments with it; the `_gil` functions (impl `c-api-gil`) are the
same functions holding it throughout. Bad ranges and buffers raise ValueError.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

Doubles = npt.NDArray[np.float64] | Any  # any 1-d contiguous float64 buffer

COMPILE_ARGS: str

def squares(start: int, stop: int, step: int = 1, /) -> int: ...
def squares_gil(start: int, stop: int, step: int = 1, /) -> int: ...
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
    /,
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
    /,
) -> int: ...
def triad(a: Doubles, b: Doubles, c: Doubles, scalar: float, /) -> float: ...
def triad_gil(a: Doubles, b: Doubles, c: Doubles, scalar: float, /) -> float: ...
