# gilkit's OpenMP kernels (impl `cython-prange`): one call spreads its loop over `n_threads`
# OpenMP threads with `prange`, inside `with nogil:`. The parallelism lives inside the call, so
# gilkit runs this impl with its serial runner and reports n_threads as the cell's workers.
#
# The thread count is passed explicitly (num_threads=...), so OMP_NUM_THREADS, which gilkit
# sets to 1 to keep BLAS from oversubscribing, does not cap it. Loops use schedule="static":
# equal contiguous blocks, or round-robin rows (chunksize=1) when the caller asks for the
# interleaved split. Each `total +=` in a prange body is an OpenMP reduction: every thread sums
# privately and the partial sums are added once at the end, so no lock is needed.
#
# This module is built only when the compiler supports OpenMP (see setup.py). Directives are
# set once, in setup.py.

from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint64_t

cimport openmp

from _buffers cimport get_triad, release_triad
from _build_info cimport built_with
from _cores cimport check_range, escape_counts_of_row, range_length


def max_threads():
    """OpenMP's default team size here (omp_get_max_threads): what a bare prange would use."""
    return openmp.omp_get_max_threads()


cdef int check_threads(int n_threads) except -1:
    if n_threads < 1:
        raise ValueError(f"expected n_threads >= 1, got {n_threads}")
    return 0


def squares(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step, int n_threads):
    """Sum of i*i over range(start, stop, step) modulo 2**64, on n_threads threads."""
    cdef uint64_t total = 0
    cdef uint64_t i
    cdef Py_ssize_t k, n
    check_threads(n_threads)
    check_range(start, step)
    # prange(start, stop, step) would count its iterations as (stop - start + step - 1) /
    # step, which overflows near PY_SSIZE_T_MAX; so the terms are counted first (start >= 0
    # keeps the count within Py_ssize_t), and the loop runs over k.
    n = <Py_ssize_t>range_length(start, stop, step)
    with nogil:
        for k in prange(n, num_threads=n_threads, schedule="static"):
            i = <uint64_t>start + <uint64_t>k * <uint64_t>step  # <= stop - 1
            total += i * i
    return total


def mandelbrot(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step, Py_ssize_t width,
               int max_iter, double x_min, double dx, double y_min, double dy,
               int n_threads, bint interleaved):
    """Total escape-time count over rows range(start, stop, step), on n_threads threads."""
    cdef int64_t total = 0
    cdef Py_ssize_t k, row, n
    cdef Py_ssize_t chunk
    check_threads(n_threads)
    check_range(start, step)
    n = <Py_ssize_t>range_length(start, stop, step)
    if n == 0:
        return 0
    # Rows near the set cost far more than rows far from it: round-robin rows balance that.
    chunk = 1 if interleaved else (n + n_threads - 1) // n_threads
    with nogil:
        for k in prange(n, num_threads=n_threads, schedule="static", chunksize=chunk):
            row = start + k * step
            total += escape_counts_of_row(y_min + row * dy, width, max_iter, x_min, dx)
    return total


def triad(a, b, c, double scalar, int n_threads):
    """STREAM triad a = b + scalar*c on n_threads threads; returns sum(a). a, b and c:
    C-contiguous 1-d float64 buffers of one length (raw buffers: see _buffers.pxd)."""
    cdef Py_buffer va, vb, vc
    cdef double total = 0.0
    cdef Py_ssize_t i, n
    cdef double* pa
    cdef const double* pb
    cdef const double* pc
    check_threads(n_threads)
    n = get_triad(a, b, c, &va, &vb, &vc)
    pa, pb, pc = <double*>va.buf, <const double*>vb.buf, <const double*>vc.buf
    with nogil:
        for i in prange(n, num_threads=n_threads, schedule="static"):
            pa[i] = pb[i] + scalar * pc[i]
            total += pa[i]
    release_triad(&va, &vb, &vc)
    return total


# --- how this module was built (macros defined by setup.py) ---------------------------------

BUILT_WITH = built_with()
