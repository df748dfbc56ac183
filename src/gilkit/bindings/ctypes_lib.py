"""The ctypes impls: the shared C cores, called through ctypes, with no extension code.

gilkit's shared library (ext/_ctypes_lib.c, built by `pip install -e .`) exports plain C
functions. ctypes decides whether a call releases the GIL, by how the library was loaded:

- through ctypes.CDLL, a call releases the GIL for as long as the C function runs (impl
  `ctypes`): squares, mandelbrot, triad;
- through ctypes.PyDLL, the same function keeps the GIL (impl `ctypes-gil`, the control):
  squares_gil, mandelbrot_gil, triad_gil.

Each function's argtypes and restype are declared: without them ctypes would pass every
Python int as a C int and read the result as one, truncating silently. The C functions cannot
raise, so the arguments are checked here first, with the GIL (gilkit.bindings.arguments). Converting
the arguments costs a few microseconds per call, small beside calls of milliseconds.

Importing this module loads the library, or raises ImportError when it is not built.
"""

from __future__ import annotations

import ctypes
import importlib.util
from typing import Any

import numpy as np

from gilkit.bindings.arguments import check_range, check_triad

LIBRARY = "gilkit._ctypes_lib"

DOUBLES = ctypes.POINTER(ctypes.c_double)
INDEX = ctypes.c_ssize_t  # ptrdiff_t in the C signatures: the width of Py_ssize_t
SIGNATURES: dict[str, tuple[Any, list[Any]]] = {  # name: (restype, argtypes)
    "gilkit_squares": (ctypes.c_uint64, [INDEX, INDEX, INDEX]),
    "gilkit_mandelbrot": (
        ctypes.c_int64,
        [INDEX, INDEX, INDEX, INDEX, ctypes.c_int, *[ctypes.c_double] * 4],
    ),
    "gilkit_triad": (ctypes.c_double, [DOUBLES, DOUBLES, DOUBLES, INDEX, ctypes.c_double]),
}


def library_path() -> str:
    """Where the shared library is: found like a module, but never imported as one."""
    spec = importlib.util.find_spec(LIBRARY)
    if spec is None or spec.origin is None:
        raise ImportError(f"{LIBRARY} is not built", name=LIBRARY)
    return spec.origin


def load(loader: type[ctypes.CDLL]) -> ctypes.CDLL:
    """The library through `loader` (CDLL or PyDLL), its functions' signatures declared."""
    library = loader(library_path())
    for name, (restype, argtypes) in SIGNATURES.items():
        function = getattr(library, name)
        function.restype = restype
        function.argtypes = argtypes
    return library


RELEASING = load(ctypes.CDLL)  # its calls release the GIL
HOLDING = load(ctypes.PyDLL)  # the same functions; their calls hold it


def _pointer(array: np.ndarray) -> Any:
    return array.ctypes.data_as(DOUBLES)


# --- squares: sum of i*i over range(start, stop, step), modulo 2**64 -------------------------


def squares(start: int, stop: int, step: int = 1) -> int:
    """GIL released during the C call."""
    check_range(start, step)
    return int(RELEASING.gilkit_squares(start, stop, step))


def squares_gil(start: int, stop: int, step: int = 1) -> int:
    """GIL held throughout."""
    check_range(start, step)
    return int(HOLDING.gilkit_squares(start, stop, step))


# --- mandelbrot: total escape-time count over rows range(start, stop, step) ------------------


def mandelbrot(start: int, stop: int, step: int, *grid: float) -> int:
    """GIL released during the C call. grid: width, max_iter, x_min, dx, y_min, dy."""
    check_range(start, step)
    return int(RELEASING.gilkit_mandelbrot(start, stop, step, *grid))


def mandelbrot_gil(start: int, stop: int, step: int, *grid: float) -> int:
    """GIL held throughout. grid: width, max_iter, x_min, dx, y_min, dy."""
    check_range(start, step)
    return int(HOLDING.gilkit_mandelbrot(start, stop, step, *grid))


# --- triad: a = b + scalar*c, returning sum(a) ------------------------------------------------


def triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float) -> float:
    """GIL released during the C call. The arrays stay referenced here until it returns."""
    a, b, c = check_triad(a, b, c)
    return float(RELEASING.gilkit_triad(_pointer(a), _pointer(b), _pointer(c), len(a), scalar))


def triad_gil(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float) -> float:
    """GIL held throughout."""
    a, b, c = check_triad(a, b, c)
    return float(HOLDING.gilkit_triad(_pointer(a), _pointer(b), _pointer(c), len(a), scalar))
