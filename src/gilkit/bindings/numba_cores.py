"""The Numba impls: the kernels' loops written in Python, compiled to machine code by Numba.

Each loop is written once, as a jitted core with the statements of ext/_cores.pxd, and called
from small jitted entry points that differ only in how Numba compiles them:

- `_squares_nogil`, `_mandelbrot_nogil`, `_triad_nogil` (impl `numba`): @njit(nogil=True),
  the compiled call releases the GIL for its whole duration;
- `_squares_gil`, ... (impl `numba-gil`): plain @njit, the same call holding the GIL: the
  control;
- `_squares_prange`, ... (impl `numba-prange`): @njit(parallel=True, nogil=True) over
  numba.prange, parallel inside one call on Numba's threads, like `cython-prange`.

gilkit's kernels call the plain functions at the end of this module (`squares`,
`squares_gil`, `squares_prange`, ...: the names every binding module offers), which check the
arguments and call the entry point. The entry points are separate functions, not one function
compiled three ways: with cache=True Numba files compiled code under the function's name, not
under its flags, so the three would share one cache entry.

Compiling is kept out of the timed calls. Importing this module compiles every entry point for
the argument types gilkit passes (explicit signatures), then forbids further compiling, so no
call can ever compile. gilkit imports it before timing anything: in the process that runs the
plan before any pool starts, and in each worker process when its pool is prepared
(gilkit.engine.session).
COMPILE_S says how long that took here, per impl and kernel: the result files report it
(describe_impls). cache=True keeps the machine code on disk (in __pycache__), so that a later
process loads it rather than compiling again: FROM_CACHE says which happened.

Numba adds no fused multiply-add unless fastmath is on, so the Mandelbrot counts agree with the
other impls bit for bit. The arguments are checked in Python first (gilkit.bindings.arguments): the
checks then run with the GIL, before the call that releases it.

Numba sizes the thread pool of parallel=True functions once, from NUMBA_NUM_THREADS, when it is
imported, and refuses to compile later if that variable changes once the pool has started.
gilkit sets the variable to 1 to keep other libraries' Numba code on one thread per worker
(gilkit.host.threadpools); `numba-prange` asks for its thread count explicitly instead, as
`cython-prange` does with OpenMP, up to PRANGE_MAX_THREADS. So when this module is the first
to import Numba in the process that runs the plan, it sets the variable to that pool size, and
leaves it set (Numba would refuse to compile another function if it changed). A worker process
that imports Numba itself keeps the variable at 1 (gilkit.host.threadpools.limit_in_worker); one
forked after Numba was imported keeps the larger pool, which only an own parallel=True kernel
of the user's would use.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from gilkit.bindings.arguments import check_range, check_triad
from gilkit.host.worker_process import in_worker_process

# gilkit's default worker counts go up to twice the usable cpus; tests ask for up to 8 threads.
# Threads that no call asks for cost next to nothing.
PRANGE_MAX_THREADS = max(16, 2 * (os.cpu_count() or 1))

if "numba" not in sys.modules and not in_worker_process():
    os.environ["NUMBA_NUM_THREADS"] = str(PRANGE_MAX_THREADS)

import numba  # noqa: E402 - after its pool size is set
from numba import njit, prange  # noqa: E402

# --- the cores: the loops of ext/_cores.pxd, one per kernel -----------------------------------


@njit(cache=True)
def range_length(start: int, stop: int, step: int) -> int:
    """The number of terms of range(start, stop, step) for start >= 0 and step >= 1: no value
    past `stop` is formed (int64 stepping past it would wrap, and never end)."""
    return (stop - start - 1) // step + 1 if stop > start else 0


@njit(cache=True)
def sum_of_squares(start: int, stop: int, step: int) -> np.uint64:
    """Sum of i*i for i in range(start, stop, step) modulo 2**64 (uint64 wraps); step >= 1.

    The loop runs up to the last term, so `i` never passes it: no overflow near 2**63 - 1.
    It steps `i` rather than counting terms on purpose: LLVM turns a counted sum of squares
    into its closed formula, and the call would time nothing (a 300-million-term call took
    4 µs); this form runs as fast as the unchecked `while i < stop: i += step` (40 ms for
    132 million terms here, in serial and in prange lanes alike)."""
    total = np.uint64(0)
    if stop <= start:
        return total
    last = start + (stop - start - 1) // step * step  # the last term, <= stop - 1
    i = start
    while i < last:  # so i + step <= last
        total += np.uint64(i) * np.uint64(i)
        i += step
    return total + np.uint64(last) * np.uint64(last)


@njit(cache=True)
def squares_of_terms(start: int, step: int, first: int, last: int) -> np.uint64:
    """Sum of i*i over terms first..last-1 of range(start, ..., step), modulo 2**64; terms
    are numbered so that no index past the last one is formed."""
    if last <= first:
        return np.uint64(0)
    return sum_of_squares(start + first * step, start + (last - 1) * step + 1, step)


@njit(cache=True)
def escape_counts_of_row(y0: float, width: int, max_iter: int, x_min: float, dx: float) -> int:
    """Sum over one row of the Mandelbrot escape-time counts (iterations before |z| > 2)."""
    total = 0
    for col in range(width):
        x0 = x_min + col * dx
        x = 0.0
        y = 0.0
        it = 0
        while it < max_iter:
            x2 = x * x
            y2 = y * y
            if x2 + y2 > 4.0:
                break
            y = 2.0 * x * y + y0
            x = x2 - y2 + x0
            it += 1
        total += it
    return total


@njit(cache=True)
def escape_counts(
    start: int, stop: int, step: int, width: int, max_iter: int,
    x_min: float, dx: float, y_min: float, dy: float,
) -> int:  # fmt: skip
    """Sum of the escape-time counts of rows range(start, stop, step); step >= 1."""
    n = range_length(start, stop, step)
    return escape_counts_of_terms(start, step, 0, n, 1, width, max_iter, x_min, dx, y_min, dy)


@njit(cache=True)
def escape_counts_of_terms(
    start: int, step: int, first: int, last: int, every: int, width: int, max_iter: int,
    x_min: float, dx: float, y_min: float, dy: float,
) -> int:  # fmt: skip
    """The rows of terms range(first, last, every) of range(start, ..., step)."""
    total = 0
    for k in range(first, last, every):
        row = start + k * step  # <= stop - 1: no overflow
        total += escape_counts_of_row(y_min + row * dy, width, max_iter, x_min, dx)
    return total


@njit(cache=True)
def stream_triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float) -> float:
    """STREAM triad a = b + scalar*c; returns sum(a) as a checksum."""
    total = 0.0
    for i in range(a.shape[0]):
        a[i] = b[i] + scalar * c[i]
        total += a[i]
    return total


# --- impl `numba`: the GIL released for the whole compiled call --------------------------------


@njit(nogil=True, cache=True)
def _squares_nogil(start: int, stop: int, step: int) -> np.uint64:
    return sum_of_squares(start, stop, step)


@njit(nogil=True, cache=True)
def _mandelbrot_nogil(
    start: int, stop: int, step: int, width: int, max_iter: int,
    x_min: float, dx: float, y_min: float, dy: float,
) -> int:  # fmt: skip
    return escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy)


@njit(nogil=True, cache=True)
def _triad_nogil(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float) -> float:
    return stream_triad(a, b, c, scalar)


# --- impl `numba-gil`: the same, holding the GIL (the control) ---------------------------------


@njit(cache=True)
def _squares_gil(start: int, stop: int, step: int) -> np.uint64:
    return sum_of_squares(start, stop, step)


@njit(cache=True)
def _mandelbrot_gil(
    start: int, stop: int, step: int, width: int, max_iter: int,
    x_min: float, dx: float, y_min: float, dy: float,
) -> int:  # fmt: skip
    return escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy)


@njit(cache=True)
def _triad_gil(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float) -> float:
    return stream_triad(a, b, c, scalar)


# --- impl `numba-prange`: parallel inside one call, on numba.get_num_threads() threads ---------
# One prange iteration per lane, and one lane per thread: each lane runs the same core over its
# own equal contiguous block (its own rows, for mandelbrot), as cython-prange's static OpenMP
# schedule does. (A prange over single indices would let LLVM turn each thread's sum of i*i
# into a closed formula, and time nothing.) Each `total +=` in a prange body is a reduction:
# every thread sums privately and Numba adds the partial sums at the end.


@njit(cache=True)
def block(lane: int, n_lanes: int, n: int) -> tuple[int, int]:
    """[first, last) of lane's equal contiguous block of range(n)."""
    size = (n + n_lanes - 1) // n_lanes
    return min(lane * size, n), min((lane + 1) * size, n)


@njit(parallel=True, nogil=True, cache=True)
def _squares_prange(start: int, stop: int, step: int, n_lanes: int) -> np.uint64:
    n = range_length(start, stop, step)
    total = np.uint64(0)
    for lane in prange(n_lanes):
        first, last = block(lane, n_lanes, n)
        total += squares_of_terms(start, step, first, last)
    return total


@njit(parallel=True, nogil=True, cache=True)
def _mandelbrot_prange(
    start: int, stop: int, step: int, width: int, max_iter: int,
    x_min: float, dx: float, y_min: float, dy: float, n_lanes: int, interleaved: bool,
) -> int:  # fmt: skip
    """Rows dealt to the lanes round-robin (interleaved: rows near the set cost far more than
    rows far from it) or in equal contiguous blocks."""
    n = range_length(start, stop, step)
    total = 0
    for lane in prange(n_lanes):
        if interleaved:
            first, last, every = lane, n, n_lanes
        else:
            first, last = block(lane, n_lanes, n)
            every = 1
        total += escape_counts_of_terms(
            start, step, first, last, every, width, max_iter, x_min, dx, y_min, dy
        )
    return total


@njit(parallel=True, nogil=True, cache=True)
def _triad_prange(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float, n_lanes: int
) -> float:
    total = 0.0
    for lane in prange(n_lanes):
        first, last = block(lane, n_lanes, a.shape[0])
        total += stream_triad(a[first:last], b[first:last], c[first:last], scalar)
    return total


# --- compiled at import, for the types gilkit passes ------------------------------------------

SQUARES = "uint64(intp, intp, intp)"
MANDELBROT = "int64(intp, intp, intp, intp, intp, float64, float64, float64, float64)"
TRIAD = "float64(float64[::1], float64[::1], float64[::1], float64)"
# The prange entry points also take the number of lanes (mandelbrot: and the interleaving).
SQUARES_PRANGE = SQUARES.replace(")", ", intp)")
MANDELBROT_PRANGE = MANDELBROT.replace(")", ", intp, boolean)")
TRIAD_PRANGE = TRIAD.replace(")", ", intp)")

ENTRY_POINTS: dict[str, dict[str, tuple[Any, str]]] = {  # impl: {kernel: (function, signature)}
    "numba": {
        "squares": (_squares_nogil, SQUARES),
        "mandelbrot": (_mandelbrot_nogil, MANDELBROT),
        "triad": (_triad_nogil, TRIAD),
    },
    "numba-gil": {
        "squares": (_squares_gil, SQUARES),
        "mandelbrot": (_mandelbrot_gil, MANDELBROT),
        "triad": (_triad_gil, TRIAD),
    },
    "numba-prange": {
        "squares": (_squares_prange, SQUARES_PRANGE),
        "mandelbrot": (_mandelbrot_prange, MANDELBROT_PRANGE),
        "triad": (_triad_prange, TRIAD_PRANGE),
    },
}


def compile_entry_points() -> tuple[dict[str, dict[str, float]], bool]:
    """Compile (or load from Numba's cache) every entry point, then forbid more compiling;
    return the seconds each took, {impl: {kernel: s}}, and whether all came from the cache."""
    seconds: dict[str, dict[str, float]] = {}
    from_cache = True
    for impl, kernels in ENTRY_POINTS.items():
        for kernel, (function, signature) in kernels.items():
            began = time.perf_counter()
            function.compile(signature)
            seconds.setdefault(impl, {})[kernel] = time.perf_counter() - began
            function.disable_compile()
            from_cache = from_cache and not function.stats.cache_misses
    return seconds, from_cache


COMPILE_S, FROM_CACHE = compile_entry_points()


# --- the functions gilkit's kernels call: checked in Python, then the compiled call ----------


def squares(start: int, stop: int, step: int = 1) -> int:
    check_range(start, step)
    return int(_squares_nogil(start, stop, step))


def squares_gil(start: int, stop: int, step: int = 1) -> int:
    check_range(start, step)
    return int(_squares_gil(start, stop, step))


def mandelbrot(start: int, stop: int, step: int, *grid: Any) -> int:
    """grid: width, max_iter, x_min, dx, y_min, dy, as for _native.mandelbrot."""
    check_range(start, step)
    return int(_mandelbrot_nogil(start, stop, step, *grid))


def mandelbrot_gil(start: int, stop: int, step: int, *grid: Any) -> int:
    check_range(start, step)
    return int(_mandelbrot_gil(start, stop, step, *grid))


def triad(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float) -> float:
    return float(_triad_nogil(*check_triad(a, b, c), scalar))


def triad_gil(a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float) -> float:
    return float(_triad_gil(*check_triad(a, b, c), scalar))


@contextmanager
def threads(n_threads: int) -> Iterator[None]:
    """Run this thread's parallel=True calls on n_threads of Numba's pool, then restore."""
    pool = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]  # set when imported
    if not 1 <= n_threads <= pool:
        raise ValueError(
            f"expected 1 <= n_threads <= {pool} (Numba's pool, sized by NUMBA_NUM_THREADS when "
            f"Numba was imported), got {n_threads}"
        )
    previous = numba.get_num_threads()  # per thread, like OpenMP's num_threads
    numba.set_num_threads(n_threads)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _on_threads(function: Callable[..., Any], n_threads: int, *args: Any) -> Any:
    """function(*args, n_threads) on n_threads threads: one lane per thread."""
    with threads(n_threads):
        return function(*args, n_threads)


def squares_prange(start: int, stop: int, step: int, n_threads: int) -> int:
    check_range(start, step)
    return int(_on_threads(_squares_prange, n_threads, start, stop, step))


def mandelbrot_prange(start: int, stop: int, step: int, *grid_threads_interleaved: Any) -> int:
    """After the range: width, max_iter, x_min, dx, y_min, dy, n_threads, interleaved, as for
    _prange.mandelbrot."""
    *grid, n_threads, interleaved = grid_threads_interleaved
    check_range(start, step)
    with threads(n_threads):
        rows: Callable[..., int] = _mandelbrot_prange  # a Dispatcher: mypy cannot see its args
        return int(rows(start, stop, step, *grid, n_threads, bool(interleaved)))


def triad_prange(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, scalar: float, n_threads: int
) -> float:
    return float(_on_threads(_triad_prange, n_threads, *check_triad(a, b, c), scalar))
