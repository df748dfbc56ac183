/* gilkit's C API impls: the shared C cores (gilkit_cores.h) in a hand-written extension.
 *
 *   squares(...), mandelbrot(...), triad(...)     impl `c-api`: the arguments are parsed and
 *       checked with the GIL, then the core runs between Py_BEGIN_ALLOW_THREADS and
 *       Py_END_ALLOW_THREADS, so other Python threads run meanwhile.
 *   squares_gil(...), mandelbrot_gil(...), ...    impl `c-api-gil`: the same function without
 *       the release, the control: other Python threads wait until it returns.
 *
 * Both variants of a kernel are one C function (squares_impl, ...) told RELEASE_GIL or
 * HOLD_GIL, so the release is the only difference between them. They are METH_FASTCALL
 * functions, as Cython's and pybind11's are: the arguments arrive as a C array, with no tuple
 * built for them and none parsed by format (PyArg_ParseTuple), so the per-call cost the
 * patterns are compared on is like for like. The first macro saves this
 * thread's state and releases the GIL; the second waits for the GIL and restores the state
 * (they open and close one C block, so variables set between them are declared before). In
 * between, this thread must touch no Python object: the cores take C numbers and pointers
 * only. A buffer's memory may be used there because the buffer stays exported
 * (PyObject_GetBuffer) until after the GIL is back, so its owner cannot free or resize it.
 *
 * The module uses multi-phase initialisation (PEP 489) and declares, with its slots, that it
 * keeps no global state: it supports one GIL per interpreter (Python 3.12+ subinterpreters),
 * and it does not need the GIL, so a free-threaded interpreter (3.13t+) keeps the GIL off when
 * importing it, where a module without the Py_mod_gil slot would turn it back on. Like the
 * Cython modules' freethreading_compatible directive, these are declarations: they hold
 * because the functions share no mutable state.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>


#include <limits.h>

#include "gilkit_cores.h"

/* The GIL is released, or held: the only difference between an impl and its control. */
enum gil { HOLD_GIL = 0, RELEASE_GIL = 1 };

/* --- argument checks: with the GIL, before any release, so that they can raise ---------- */

/* The count of positional arguments a fast call got, against what `name` takes. */
static int
check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t least, Py_ssize_t most)
{
    if (nargs < least || nargs > most) {
        if (least == most) {
            PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments, got %zd",
                         name, least, nargs);
        }
        else {
            PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd arguments, got %zd",
                         name, least, most, nargs);
        }
        return -1;
    }
    return 0;
}

/* An index-like argument (an int, or an object with __index__) as a Py_ssize_t, as the
   "n" format converts it: OverflowError past the type. */
static int
as_ssize(PyObject *obj, Py_ssize_t *out)
{
    *out = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* A float argument, as the "d" format converts it (__float__, or __index__). */
static int
as_double(PyObject *obj, double *out)
{
    *out = PyFloat_AsDouble(obj);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* An int argument within C's int, as the "i" format converts it. */
static int
as_int(PyObject *obj, int *out)
{
    long value = PyLong_AsLong(obj);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (value < INT_MIN || value > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "signed integer is out of C int's range");
        return -1;
    }
    *out = (int)value;
    return 0;
}

static int
check_range(Py_ssize_t start, Py_ssize_t step)
{
    if (start < 0) {
        PyErr_Format(PyExc_ValueError, "expected start >= 0, got %zd", start);
        return -1;
    }
    if (step < 1) {
        PyErr_Format(PyExc_ValueError, "expected step >= 1, got %zd", step);
        return -1;
    }
    return 0;
}

/* Export `obj`'s memory as a 1-d C-contiguous array of doubles (a float64 NumPy array,
   array.array('d'), a memoryview cast to 'd', a ctypes c_double array: gk_is_float64_format),
   writable if asked; else ValueError, and nothing left to release. */
static int
get_doubles(PyObject *obj, Py_buffer *view, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        return -1;
    }
    const char *given = view->format != NULL ? view->format : "B";  /* NULL means bytes */
    if (!gk_is_float64_format(view->format) || view->itemsize != sizeof(double)) {
        PyErr_Format(PyExc_ValueError, "%s must hold float64 ('d'), got format '%s'",
                     name, given);
    }
    else if (view->ndim != 1) {
        /* Contiguity was part of the request: an exporter that cannot give it refuses. */
        PyErr_Format(PyExc_ValueError, "%s must be 1-d and contiguous, got %d dimension(s)",
                     name, view->ndim);
    }
    else {
        return 0;
    }
    PyBuffer_Release(view);
    return -1;
}

/* --- squares: sum of i*i over range(start, stop, step), modulo 2**64 --------------------- */

static PyObject *
squares_impl(PyObject *const *args, Py_ssize_t nargs, enum gil gil)
{
    Py_ssize_t start, stop, step = 1;
    uint64_t total;

    if (check_nargs("squares", nargs, 2, 3) < 0 || as_ssize(args[0], &start) < 0
            || as_ssize(args[1], &stop) < 0 || (nargs == 3 && as_ssize(args[2], &step) < 0)
            || check_range(start, step) < 0) {
        return NULL;
    }
    if (gil == RELEASE_GIL) {
        Py_BEGIN_ALLOW_THREADS
        total = gk_sum_of_squares(start, stop, step);
        Py_END_ALLOW_THREADS
    }
    else {
        total = gk_sum_of_squares(start, stop, step);
    }
    return PyLong_FromUnsignedLongLong(total);
}

static PyObject *
squares(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return squares_impl(args, nargs, RELEASE_GIL);
}

static PyObject *
squares_gil(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return squares_impl(args, nargs, HOLD_GIL);
}

/* --- mandelbrot: total escape-time count over rows range(start, stop, step) -------------- */

static PyObject *
mandelbrot_impl(PyObject *const *args, Py_ssize_t nargs, enum gil gil)
{
    Py_ssize_t start, stop, step, width;
    int max_iter;
    double x_min, dx, y_min, dy;
    int64_t total;

    if (check_nargs("mandelbrot", nargs, 9, 9) < 0 || as_ssize(args[0], &start) < 0
            || as_ssize(args[1], &stop) < 0 || as_ssize(args[2], &step) < 0
            || as_ssize(args[3], &width) < 0 || as_int(args[4], &max_iter) < 0
            || as_double(args[5], &x_min) < 0 || as_double(args[6], &dx) < 0
            || as_double(args[7], &y_min) < 0 || as_double(args[8], &dy) < 0
            || check_range(start, step) < 0) {
        return NULL;
    }
    if (gil == RELEASE_GIL) {
        Py_BEGIN_ALLOW_THREADS
        total = gk_escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy);
        Py_END_ALLOW_THREADS
    }
    else {
        total = gk_escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy);
    }
    return PyLong_FromLongLong(total);
}

static PyObject *
mandelbrot(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return mandelbrot_impl(args, nargs, RELEASE_GIL);
}

static PyObject *
mandelbrot_gil(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return mandelbrot_impl(args, nargs, HOLD_GIL);
}

/* --- triad: a = b + scalar*c, returning sum(a) ------------------------------------------- */

static PyObject *
triad_impl(PyObject *const *args, Py_ssize_t nargs, enum gil gil)
{
    PyObject *result = NULL;
    Py_buffer a = {0}, b = {0}, c = {0};  /* obj == NULL: nothing to release yet */
    double scalar, total;

    if (check_nargs("triad", nargs, 4, 4) < 0 || as_double(args[3], &scalar) < 0) {
        return NULL;
    }
    if (get_doubles(args[0], &a, 1, "a") < 0 || get_doubles(args[1], &b, 0, "b") < 0
            || get_doubles(args[2], &c, 0, "c") < 0) {
        goto done;
    }
    if (a.shape[0] != b.shape[0] || a.shape[0] != c.shape[0]) {
        PyErr_Format(PyExc_ValueError, "a, b and c must have one length, got %zd, %zd, %zd",
                     a.shape[0], b.shape[0], c.shape[0]);
        goto done;
    }
    if (gil == RELEASE_GIL) {
        Py_BEGIN_ALLOW_THREADS
        total = gk_stream_triad(a.buf, b.buf, c.buf, a.shape[0], scalar);
        Py_END_ALLOW_THREADS
    }
    else {
        total = gk_stream_triad(a.buf, b.buf, c.buf, a.shape[0], scalar);
    }
    result = PyFloat_FromDouble(total);
done:
    /* With the GIL held: an exporter's release function may run Python code. */
    PyBuffer_Release(&a);
    PyBuffer_Release(&b);
    PyBuffer_Release(&c);
    return result;
}

static PyObject *
triad(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return triad_impl(args, nargs, RELEASE_GIL);
}

static PyObject *
triad_gil(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return triad_impl(args, nargs, HOLD_GIL);
}

/* --- the module ------------------------------------------------------------------------- */

static PyMethodDef capi_methods[] = {
    {"squares", (PyCFunction)(void (*)(void))squares, METH_FASTCALL,
     "squares(start, stop, step=1)\n--\n\n"
     "Sum of i*i over range(start, stop, step) modulo 2**64; GIL released around the loop."},
    {"squares_gil", (PyCFunction)(void (*)(void))squares_gil, METH_FASTCALL,
     "squares_gil(start, stop, step=1)\n--\n\n"
     "Sum of i*i over range(start, stop, step) modulo 2**64; GIL held throughout."},
    {"mandelbrot", (PyCFunction)(void (*)(void))mandelbrot, METH_FASTCALL,
     "mandelbrot(start, stop, step, width, max_iter, x_min, dx, y_min, dy)\n--\n\n"
     "Total escape-time count over rows range(start, stop, step); GIL released around the "
     "loop."},
    {"mandelbrot_gil", (PyCFunction)(void (*)(void))mandelbrot_gil, METH_FASTCALL,
     "mandelbrot_gil(start, stop, step, width, max_iter, x_min, dx, y_min, dy)\n--\n\n"
     "Total escape-time count over rows range(start, stop, step); GIL held throughout."},
    {"triad", (PyCFunction)(void (*)(void))triad, METH_FASTCALL,
     "triad(a, b, c, scalar)\n--\n\n"
     "STREAM triad a = b + scalar*c over float64 buffers; returns sum(a). GIL released "
     "around the loop."},
    {"triad_gil", (PyCFunction)(void (*)(void))triad_gil, METH_FASTCALL,
     "triad_gil(a, b, c, scalar)\n--\n\n"
     "STREAM triad a = b + scalar*c over float64 buffers; returns sum(a). GIL held "
     "throughout."},
    {NULL, NULL, 0, NULL},
};

/* Py_mod_exec: runs on each import, in each interpreter, into a fresh module object. */
static int
capi_exec(PyObject *module)
{
#ifdef GILKIT_COMPILE_ARGS
    return PyModule_AddStringConstant(module, "COMPILE_ARGS", GILKIT_COMPILE_ARGS);
#else
    return 0;
#endif
}

static PyModuleDef_Slot capi_slots[] = {
    {Py_mod_exec, capi_exec},
#ifdef Py_mod_multiple_interpreters  /* 3.12+ */
    /* No global state: each interpreter may import it under its own GIL. */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil  /* 3.13+; ignored by interpreters that have a GIL */
    /* Safe without the GIL: a free-threaded interpreter keeps it off on import. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef capi_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "gilkit._capi",
    .m_doc = "gilkit's C API impls: each kernel releasing the GIL (c-api) and holding it "
             "(c-api-gil, the control), around the shared C cores.",
    .m_size = 0,  /* no per-module state */
    .m_methods = capi_methods,
    .m_slots = capi_slots,
};

PyMODINIT_FUNC
PyInit__capi(void)
{
    return PyModuleDef_Init(&capi_module);
}
