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


cdef inline uint64_t sum_of_squares(Py_ssize_t start, Py_ssize_t stop,
                                    Py_ssize_t step) noexcept nogil:
    """Sum of i*i for i in range(start, stop, step), modulo 2**64 (unsigned wrap-around).

    Callers guarantee step >= 1. (A `for i in range(...)` whose step is only known at run time
    is not turned into a C loop by Cython, hence the while.)
    """
    cdef uint64_t total = 0
    cdef Py_ssize_t i = start
    while i < stop:
        total += <uint64_t>i * <uint64_t>i
        i += step
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
    cdef Py_ssize_t row = start
    while row < stop:
        total += escape_counts_of_row(y_min + row * dy, width, max_iter, x_min, dx)
        row += step
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
