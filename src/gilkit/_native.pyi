# Type stubs for the compiled module built from ext/_native.pyx.
from typing import Any

import numpy as np
import numpy.typing as npt

BUILT_WITH: dict[str, str]

def squares(start: int, stop: int, step: int = 1) -> int: ...
def squares_nogil(start: int, stop: int, step: int = 1) -> int: ...
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
def mandelbrot_nogil(
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
def triad(
    a: npt.NDArray[np.float64] | Any,
    b: npt.NDArray[np.float64] | Any,
    c: npt.NDArray[np.float64] | Any,
    scalar: float,
) -> float: ...
def triad_nogil(
    a: npt.NDArray[np.float64] | Any,
    b: npt.NDArray[np.float64] | Any,
    c: npt.NDArray[np.float64] | Any,
    scalar: float,
) -> float: ...
