/* gilkit's kernel cores in plain C, shared by the C API, ctypes and pybind11 impls.
 *
 * Each loop is the loop of the same name in _cores.pxd (the Cython impls' cores), statement
 * for statement, and setup.py compiles every module with the same flags (COMPILE_ARGS: no
 * fused multiply-add, loops aligned to 32 bytes). So every impl returns the same results, bit
 * for bit, and runs the same machine code: the bindings around these functions differ only in
 * how Python calls them and in whether they release the GIL. tests/test_kernels.py checks the
 * results of every impl against the same references.
 *
 * Nothing here includes Python.h or touches a Python object, so each function may run without
 * the GIL. None can fail: the callers check their arguments first (start >= 0, step >= 1,
 * arrays of one length), with the GIL, where they can still raise. No loop steps a signed
 * index past `stop`: each counts its terms first, as CPython's range() computes its length
 * (gk_range_length), so `stop` may be anything up to PTRDIFF_MAX and `step` anything >= 1
 * without an overflow (undefined behaviour in C) or a loop that never ends. `static inline`: every
 * module that includes this file gets its own copy, inlined into its entry points, as Cython
 * does with the `cdef inline` cores of _cores.pxd.
 *
 * Index arguments are ptrdiff_t: the width of Py_ssize_t, and of ctypes.c_ssize_t.
 */
#ifndef GILKIT_CORES_H
#define GILKIT_CORES_H

#include <stddef.h>
#include <stdint.h>

/* The number of terms of range(start, stop, step) for step >= 1, in unsigned arithmetic:
   (stop - start - 1) / step + 1 without forming a value past either argument. */
static inline size_t
gk_range_length(ptrdiff_t start, ptrdiff_t stop, ptrdiff_t step)
{
    if (stop <= start) {
        return 0;
    }
    return ((size_t)stop - (size_t)start - 1) / (size_t)step + 1;
}

/* Sum of i*i for i in range(start, stop, step), modulo 2**64 (unsigned wrap-around).
   Callers guarantee start >= 0 and step >= 1. The index is unsigned: after the last term it
   may pass PTRDIFF_MAX, harmlessly, since the loop counts terms and never reads it again. */
static inline uint64_t
gk_sum_of_squares(ptrdiff_t start, ptrdiff_t stop, ptrdiff_t step)
{
    uint64_t total = 0;
    uint64_t i = (uint64_t)start;
    size_t n = gk_range_length(start, stop, step);
    for (size_t k = 0; k < n; k++) {
        total += i * i;
        i += (uint64_t)step;
    }
    return total;
}

/* Sum over one row of the Mandelbrot escape-time counts (iterations before |z| > 2). */
static inline int64_t
gk_escape_counts_of_row(double y0, ptrdiff_t width, int max_iter, double x_min, double dx)
{
    int64_t total = 0;
    for (ptrdiff_t col = 0; col < width; col++) {
        double x0 = x_min + col * dx;
        double x = 0.0;
        double y = 0.0;
        int it = 0;
        while (it < max_iter) {
            double x2 = x * x;
            double y2 = y * y;
            if (x2 + y2 > 4.0) {
                break;
            }
            /* The same operations, in the same order, as the Python, NumPy and Cython impls
               (and no FMA: -ffp-contract=off), so every impl returns the same counts. */
            y = 2.0 * x * y + y0;
            x = x2 - y2 + x0;
            it += 1;
        }
        total += it;
    }
    return total;
}

/* Sum of the escape-time counts of rows range(start, stop, step); step >= 1. */
static inline int64_t
gk_escape_counts(ptrdiff_t start, ptrdiff_t stop, ptrdiff_t step, ptrdiff_t width,
                 int max_iter, double x_min, double dx, double y_min, double dy)
{
    int64_t total = 0;
    size_t n = gk_range_length(start, stop, step);
    for (size_t k = 0; k < n; k++) {
        ptrdiff_t row = start + (ptrdiff_t)k * step; /* <= stop - 1: no overflow */
        total += gk_escape_counts_of_row(y_min + row * dy, width, max_iter, x_min, dx);
    }
    return total;
}

/* The one rule for the buffers every binding accepts as float64 (C API, pybind11 and, through
   _buffers.pxd, Cython; gilkit.bindings.arguments says the same for ctypes and Numba): a
   struct-module format of one 8-byte float in this machine's byte order, that is "d", "@d"
   and "=d" (native), or the explicit order that matches it ("<d" on little-endian machines,
   as ctypes' c_double arrays describe themselves; ">d" on big-endian ones). */
static inline int
gk_is_float64_format(const char *format)
{
    const uint16_t one = 1;
    const char explicit_order = (*(const char *)&one == 1) ? '<' : '>';
    if (format == NULL) {
        return 0; /* NULL means unsigned bytes */
    }
    if (format[0] == '@' || format[0] == '=' || format[0] == explicit_order) {
        format++;
    }
    return format[0] == 'd' && format[1] == '\0';
}

/* STREAM triad a = b + scalar*c over n elements; returns sum(a) as a checksum.
   a may alias b or c: each element is read before it is written. */
static inline double
gk_stream_triad(double *a, const double *b, const double *c, ptrdiff_t n, double scalar)
{
    double total = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        a[i] = b[i] + scalar * c[i];
        total += a[i];
    }
    return total;
}

#endif /* GILKIT_CORES_H */
