# gilkit's compiled kernels, each in two variants around one typed core (_cores.pxd):
#
#   <kernel>(...)        impl `cython`:       compiled and typed, but the GIL is held for the
#                                             whole call: other Python threads wait. The control.
#   <kernel>_nogil(...)  impl `cython-nogil`: validates its arguments with the GIL, then runs
#                                             the same core inside `with nogil:`, so other
#                                             threads run Python meanwhile.
#
# Compiler directives (boundscheck, wraparound, cdivision, freethreading_compatible,
# subinterpreters_compatible, ...) are set once, in setup.py.

from libc.stdint cimport int64_t, uint64_t

from _buffers cimport get_triad, release_triad
from _build_info cimport built_with
from _cores cimport check_range, escape_counts, stream_triad, sum_of_squares


# --- squares: sum of i*i over range(start, stop, step), modulo 2**64 -----------------------

def squares(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step=1):
    """GIL held throughout."""
    check_range(start, step)
    return sum_of_squares(start, stop, step)


def squares_nogil(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step=1):
    """GIL released around the loop."""
    cdef uint64_t total
    check_range(start, step)
    with nogil:
        total = sum_of_squares(start, stop, step)
    return total


# --- mandelbrot: total escape-time count over rows range(start, stop, step) -----------------

def mandelbrot(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step, Py_ssize_t width,
               int max_iter, double x_min, double dx, double y_min, double dy):
    """GIL held throughout."""
    check_range(start, step)
    return escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy)


def mandelbrot_nogil(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step, Py_ssize_t width,
                     int max_iter, double x_min, double dx, double y_min, double dy):
    """GIL released around the loop."""
    cdef int64_t total
    check_range(start, step)
    with nogil:
        total = escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy)
    return total


# --- triad: a = b + scalar*c, returning sum(a) -----------------------------------------------
# a, b and c: C-contiguous 1-d float64 buffers of one length (NumPy arrays, memoryviews of
# shared memory); a is written. Raw buffers, not typed memoryviews: see _buffers.pxd.

def triad(a, b, c, double scalar):
    """GIL held throughout."""
    cdef Py_buffer va, vb, vc
    cdef Py_ssize_t n = get_triad(a, b, c, &va, &vb, &vc)
    cdef double total = stream_triad(<double*>va.buf, <const double*>vb.buf,
                                     <const double*>vc.buf, n, scalar)
    release_triad(&va, &vb, &vc)
    return total


def triad_nogil(a, b, c, double scalar):
    """GIL released around the loop."""
    cdef Py_buffer va, vb, vc
    cdef Py_ssize_t n = get_triad(a, b, c, &va, &vb, &vc)
    cdef double total
    with nogil:
        total = stream_triad(<double*>va.buf, <const double*>vb.buf, <const double*>vc.buf,
                             n, scalar)
    release_triad(&va, &vb, &vc)
    return total


# --- how this module was built (macros defined by setup.py) ---------------------------------

BUILT_WITH = built_with()
