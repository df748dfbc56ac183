/* The shared C cores (gilkit_cores.h) as a plain shared library, for gilkit's ctypes impls.
 *
 * ctypes calls exported C functions: these take and return C numbers and pointers, never a
 * Python object, and cannot raise, so gilkit's Python side (gilkit/ctypes_lib.py) checks the
 * arguments before each call. Whether the GIL is released is ctypes's choice, not this file's:
 * a function loaded with ctypes.CDLL releases it for the duration of the call (impl `ctypes`),
 * the same function loaded with ctypes.PyDLL holds it (impl `ctypes-gil`, the control).
 *
 * Why it is built as an extension module: setuptools builds and installs compiled files of a
 * package only as extension modules, so the library is one, and `pip install -e .` (or a
 * wheel) puts it beside the package's modules, named with this interpreter's extension
 * suffix, built with the same compiler and flags as the other impls. (build_clib makes static
 * libraries, which ctypes cannot load; a custom build step would have to teach editable
 * installs and wheels about a file setuptools does not know.) An extension must define
 * PyInit_<name>: on Windows the linker is told to export it. So the end of this file has a
 * stub that makes an empty module; gilkit never imports it, it finds the file and loads it
 * with ctypes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>  /* for the stub only: the exported functions use none of it */

#include "gilkit_cores.h"

/* Exported from the shared library, whatever visibility the compiler flags default to. */
#if defined(_WIN32)
#  define GILKIT_EXPORT __declspec(dllexport)
#else
#  define GILKIT_EXPORT __attribute__((visibility("default")))
#endif

GILKIT_EXPORT uint64_t
gilkit_squares(ptrdiff_t start, ptrdiff_t stop, ptrdiff_t step)
{
    return gk_sum_of_squares(start, stop, step);
}

GILKIT_EXPORT int64_t
gilkit_mandelbrot(ptrdiff_t start, ptrdiff_t stop, ptrdiff_t step, ptrdiff_t width,
                  int max_iter, double x_min, double dx, double y_min, double dy)
{
    return gk_escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy);
}

GILKIT_EXPORT double
gilkit_triad(double *a, const double *b, const double *c, ptrdiff_t n, double scalar)
{
    return gk_stream_triad(a, b, c, n, scalar);
}

/* --- the stub module (see the top of this file) ------------------------------------------ */

static PyModuleDef_Slot stub_slots[] = {
#ifdef Py_mod_multiple_interpreters  /* 3.12+ */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil  /* 3.13+: importing it anyway keeps a free-threaded interpreter's GIL off */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef stub_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gilkit._ctypes_lib",
    .m_doc = "A shared library of C functions for ctypes (gilkit.ctypes_lib loads it); "
             "this module is empty.",
    .m_size = 0,
    .m_slots = stub_slots,
};

PyMODINIT_FUNC
PyInit__ctypes_lib(void)
{
    return PyModuleDef_Init(&stub_module);
}
