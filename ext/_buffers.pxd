# The triad kernels' arrays as raw buffers (the buffer protocol): a pointer and a length each.
#
# Not typed memoryviews (double[::1]): Cython's memoryview support keeps state for the whole
# process, and a module that used them crashed ("double free or corruption") as soon as two
# interpreters of one process had called it (Cython 3.3.1, CPython 3.13.5, measured here; see
# docs/subinterpreters.md). Cython warns as much for a module that declares
# subinterpreters_compatible and uses memoryviews. These loops need nothing a Py_buffer lacks.

from cpython.buffer cimport (
    PyBUF_C_CONTIGUOUS,
    PyBUF_FORMAT,
    PyBUF_WRITABLE,
    PyBuffer_Release,
    PyObject_GetBuffer,
)


cdef extern from "gilkit_cores.h" nogil:
    # The rule every binding shares for a float64 buffer's format (written once, in C): an
    # 8-byte float in this machine's byte order, native or explicit ('<d' on little-endian
    # machines, as ctypes' c_double arrays say). It allocates nothing and cannot fail.
    bint is_float64 "gk_is_float64_format"(const char* fmt)


cdef inline int get_doubles(object obj, Py_buffer* view, bint writable, str name) except -1:
    """Acquire `obj` as a C-contiguous 1-d float64 buffer; release it with PyBuffer_Release."""
    cdef int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (PyBUF_WRITABLE if writable else 0)
    PyObject_GetBuffer(obj, view, flags)
    if view.ndim != 1 or view.itemsize != 8 or view.format == NULL or not is_float64(view.format):
        fmt = "?" if view.format == NULL else (<bytes>view.format).decode("ascii", "replace")
        ndim = view.ndim
        PyBuffer_Release(view)
        raise ValueError(f"{name}: expected a 1-d float64 buffer, got {ndim}-d of format {fmt!r}")
    return 0


cdef inline Py_ssize_t get_triad(object a, object b, object c,
                                 Py_buffer* va, Py_buffer* vb, Py_buffer* vc) except -1:
    """Acquire a (written), b and c (read), all of one length; return that length. On an
    error every buffer acquired so far is released; else release them with release_triad."""
    get_doubles(a, va, True, "a")
    try:
        get_doubles(b, vb, False, "b")
    except BaseException:
        PyBuffer_Release(va)
        raise
    try:
        get_doubles(c, vc, False, "c")
    except BaseException:
        PyBuffer_Release(va)
        PyBuffer_Release(vb)
        raise
    if not (va.shape[0] == vb.shape[0] == vc.shape[0]):
        lengths = (va.shape[0], vb.shape[0], vc.shape[0])
        release_triad(va, vb, vc)
        raise ValueError("a, b and c must have one length, got {}, {}, {}".format(*lengths))
    return va.shape[0]


cdef inline void release_triad(Py_buffer* va, Py_buffer* vb, Py_buffer* vc) noexcept:
    PyBuffer_Release(va)
    PyBuffer_Release(vb)
    PyBuffer_Release(vc)
