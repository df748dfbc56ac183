# Type stubs for the compiled module built from ext/_prange.pyx (only where OpenMP exists).
from typing import Any

import numpy as np
import numpy.typing as npt

BUILT_WITH: dict[str, str]

def max_threads() -> int: ...
def squares(start: int, stop: int, step: int, n_threads: int) -> int: ...
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
    n_threads: int,
    interleaved: bool,
) -> int: ...
def triad(
    a: npt.NDArray[np.float64] | Any,
    b: npt.NDArray[np.float64] | Any,
    c: npt.NDArray[np.float64] | Any,
    scalar: float,
    n_threads: int,
) -> float: ...
