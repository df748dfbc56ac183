# The typed cores of gilkit's kernels, shared by every compiled impl.
#
# Each core is `noexcept nogil`: it touches no Python object, so it *may* run without the GIL,
# and it never raises, so callers in a nogil loop don't re-take the GIL to check for an error.
# `nogil` here releases nothing: the callers in _native.pyx choose whether to hold the GIL
# (`cython`) or release it (`cython-nogil`). One core per kernel means the only difference
# measured between those two impls is the release. _prange.pyx calls the mandelbrot core (one
# row per iteration) from OpenMP threads; its squares and triad loops are written inline, since
# an OpenMP reduction needs the `total +=` in the prange body itself.
#
# Compiler directives (boundscheck, wraparound, cdivision, freethreading_compatible, ...) are
# set once, in setup.py.

from libc.stdint cimport int64_t, uint64_t


cdef inline int check_range(Py_ssize_t start, Py_ssize_t step) except -1:
    """Reject what the cores don't handle (start >= 0 and step >= 1), with the GIL, before any
    nogil block: the one check of every Cython impl (_native, _prange)."""
    if start < 0:
        raise ValueError(f"expected start >= 0, got {start}")
    if step < 1:
        raise ValueError(f"expected step >= 1, got {step}")
    return 0


cdef inline size_t range_length(Py_ssize_t start, Py_ssize_t stop,
                                Py_ssize_t step) noexcept nogil:
    """The number of terms of range(start, stop, step), step >= 1, as CPython's range counts
    them: in unsigned arithmetic, so that no value past `stop` is ever formed. A loop that
    stepped a signed index instead (`while i < stop: i += step`) overflows when stop is near
    PY_SSIZE_T_MAX: undefined behaviour, in practice a loop that never ends."""
    if stop <= start:
        return 0
    return (<size_t>stop - <size_t>start - 1) // <size_t>step + 1


cdef inline uint64_t sum_of_squares(Py_ssize_t start, Py_ssize_t stop,
                                    Py_ssize_t step) noexcept nogil:
    """Sum of i*i for i in range(start, stop, step), modulo 2**64 (unsigned wrap-around).

    Callers guarantee start >= 0 and step >= 1. The index is unsigned: after the last term it
    may pass PY_SSIZE_T_MAX, harmlessly, since the loop counts terms and never reads it again.
    """
    cdef uint64_t total = 0
    cdef uint64_t i = <uint64_t>start
    cdef size_t k, n = range_length(start, stop, step)
    for k in range(n):
        total += i * i
        i += <uint64_t>step
    return total


cdef inline int64_t escape_counts_of_row(double y0, Py_ssize_t width, int max_iter,
                                         double x_min, double dx) noexcept nogil:
    """Sum over one row of the Mandelbrot escape-time counts (iterations before |z| > 2)."""
    cdef int64_t total = 0
    cdef Py_ssize_t col
    cdef int it
    cdef double x0, x, y, x2, y2
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
            # The same operations, in the same order, as the Python and NumPy impls
            # (and no FMA, see setup.py), so every impl returns the same counts.
            y = 2.0 * x * y + y0
            x = x2 - y2 + x0
            it += 1
        total += it
    return total


cdef inline int64_t escape_counts(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step,
                                  Py_ssize_t width, int max_iter, double x_min, double dx,
                                  double y_min, double dy) noexcept nogil:
    """Sum of the escape-time counts of rows range(start, stop, step); step >= 1."""
    cdef int64_t total = 0
    cdef size_t k, n = range_length(start, stop, step)
    cdef Py_ssize_t row
    for k in range(n):
        row = start + <Py_ssize_t>k * step  # <= stop - 1: no overflow
        total += escape_counts_of_row(y_min + row * dy, width, max_iter, x_min, dx)
    return total


cdef inline double stream_triad(double* a,           # OUT
                                const double* b,     # IN
                                const double* c,     # IN
                                Py_ssize_t n, double scalar) noexcept nogil:
    """STREAM triad a = b + scalar*c over n doubles; returns sum(a) as a checksum. The
    callers acquire the buffers and check their lengths (_buffers.pxd)."""
    cdef double total = 0.0
    cdef Py_ssize_t i
    for i in range(n):
        a[i] = b[i] + scalar * c[i]
        total += a[i]
    return total
