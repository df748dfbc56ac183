# cython: subinterpreters_compatible=no
#
# Taking the GIL back inside a nogil loop: the loops of `gilkit granularity` (gilkit.gil.granularity).
#
# Each function computes what the `cython-nogil` squares impl computes, the sum of i*i over
# range(start, stop) modulo 2**64, with the GIL released; but it cuts the range into blocks of
# k iterations and takes the GIL back after each block, as real code does to report progress
# or to let Ctrl-C through:
#
#   squares_calling_back      `with gil: callback()`: a Python callable after every block.
#   squares_checking_signals  `with gil: PyErr_CheckSignals()`: runs Python's signal handlers
#                             (they run in the main thread only), so that Ctrl-C raises
#                             KeyboardInterrupt within one block instead of after the loop.
#
# Taking the GIL back is cheap when no other thread wants it; when one does, each time costs a
# hand-over between threads, which is what the experiment measures for k from 10**3 up.
#
# Both stop early once `budget_s` seconds have passed (if > 0), checked between blocks without
# the GIL: a loop slowed down by waiting for the GIL at every block still ends in bounded time.
# They return (total, iterations done). Directives are set once, in setup.py, but for one:
# this module declares itself unfit for subinterpreters (the line at the top) rather than
# inheriting the others' `own_gil`: `with gil:` is PyGILState_Ensure, which subinterpreters do
# not support, so the declaration must not depend on a build macro being left out.

from cpython.exc cimport PyErr_CheckSignals
from cpython.time cimport perf_counter
from libc.stdint cimport uint64_t

from _cores cimport sum_of_squares


cdef int check_blocks(Py_ssize_t start, Py_ssize_t k) except -1:
    """Reject what the loops don't handle, with the GIL, before the nogil block."""
    if start < 0:
        raise ValueError(f"expected start >= 0, got {start}")
    if k < 1:
        raise ValueError(f"expected k >= 1, got {k}")
    return 0


def squares_calling_back(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t k, object callback,
                         double budget_s=0.0):
    """Sum of i*i over range(start, stop) in blocks of k, calling callback() after each block
    with the GIL; returns (total, iterations done). An exception from the callback ends the
    loop and propagates."""
    cdef uint64_t total = 0
    cdef Py_ssize_t first = start, last
    cdef double began = perf_counter()
    check_blocks(start, k)
    with nogil:
        while first < stop:
            last = first + k if stop - first > k else stop
            total += sum_of_squares(first, last, 1)
            first = last
            with gil:  # waits here while another thread holds the GIL
                callback()
            if budget_s > 0 and perf_counter() - began > budget_s:
                break
    return total, max(first - start, 0)


def squares_checking_signals(Py_ssize_t start, Py_ssize_t stop, Py_ssize_t k,
                             double budget_s=0.0):
    """Sum of i*i over range(start, stop) in blocks of k, running the signal handlers after
    each block with the GIL; returns (total, iterations done). A handler's exception (Ctrl-C:
    KeyboardInterrupt) ends the loop and propagates."""
    cdef uint64_t total = 0
    cdef Py_ssize_t first = start, last
    cdef double began = perf_counter()
    check_blocks(start, k)
    with nogil:
        while first < stop:
            last = first + k if stop - first > k else stop
            total += sum_of_squares(first, last, 1)
            first = last
            with gil:  # PyErr_CheckSignals needs the GIL; it is declared `except -1`
                PyErr_CheckSignals()
            if budget_s > 0 and perf_counter() - began > budget_s:
                break
    return total, max(first - start, 0)
