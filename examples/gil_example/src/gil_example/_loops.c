/* The sum of i*i over range(n), modulo 2**64, computed with the GIL released (squares) or
 * held (squares_locked). The loop touches no Python object, so it may run without the GIL;
 * only `squares` lets other threads run meanwhile. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static uint64_t
sum_of_squares(uint64_t n)
{
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        total += i * i;
    }
    return total;
}

static PyObject *
squares(PyObject *module, PyObject *arg)
{
    unsigned long long n = PyLong_AsUnsignedLongLong(arg);
    uint64_t total;
    if (n == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    total = sum_of_squares(n);
    Py_END_ALLOW_THREADS
    return PyLong_FromUnsignedLongLong(total);
}

static PyObject *
squares_locked(PyObject *module, PyObject *arg)
{
    unsigned long long n = PyLong_AsUnsignedLongLong(arg);
    if (n == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(sum_of_squares(n));
}

static PyMethodDef methods[] = {
    {"squares", squares, METH_O, "Sum of i*i over range(n) modulo 2**64; releases the GIL."},
    {"squares_locked", squares_locked, METH_O,
     "Sum of i*i over range(n) modulo 2**64; holds the GIL throughout."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#ifdef Py_mod_gil  /* 3.13+: safe on a free-threaded interpreter (no shared state) */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "gil_example._loops", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit__loops(void)
{
    return PyModuleDef_Init(&module);
}
