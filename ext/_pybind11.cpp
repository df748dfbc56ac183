// gilkit's pybind11 impls: the shared C cores (gilkit_cores.h) bound with pybind11.
//
//   squares(...), mandelbrot(...), triad(...)     impl `pybind11`: pybind11 converts the
//       arguments with the GIL, the function checks them, then a py::gil_scoped_release
//       releases the GIL for the core's call, and takes it back when it goes out of scope.
//   squares_gil(...), mandelbrot_gil(...), ...    impl `pybind11-gil`: the same function without
//       the gil_scoped_release, the control.
//
// The release is written as a scoped object, after the checks, rather than as
// py::call_guard<py::gil_scoped_release>() on the binding: a call guard releases the GIL
// before the function's first line, and these functions must raise py::value_error, and
// request buffers, with the GIL held. Between the release and the end of its scope no Python
// object may be touched: the cores take C numbers and pointers only.
//
// PYBIND11_MODULE's options declare that the module does not need the GIL (a free-threaded
// interpreter keeps it off on import) and supports one GIL per interpreter: true because the
// functions share no mutable state.

#include <pybind11/pybind11.h>

#include <string>

#include "gilkit_cores.h"

namespace py = pybind11;

namespace {

void check_range(py::ssize_t start, py::ssize_t step) {
    if (start < 0) {
        throw py::value_error("expected start >= 0, got " + std::to_string(start));
    }
    if (step < 1) {
        throw py::value_error("expected step >= 1, got " + std::to_string(step));
    }
}

// --- squares: sum of i*i over range(start, stop, step), modulo 2**64 -------------------------

uint64_t squares(py::ssize_t start, py::ssize_t stop, py::ssize_t step) {
    check_range(start, step);
    py::gil_scoped_release release;  // no GIL from here to the end of the function
    return gk_sum_of_squares(start, stop, step);
}

uint64_t squares_gil(py::ssize_t start, py::ssize_t stop, py::ssize_t step) {
    check_range(start, step);
    return gk_sum_of_squares(start, stop, step);
}

// --- mandelbrot: total escape-time count over rows range(start, stop, step) ------------------

int64_t mandelbrot(py::ssize_t start, py::ssize_t stop, py::ssize_t step, py::ssize_t width,
                   int max_iter, double x_min, double dx, double y_min, double dy) {
    check_range(start, step);
    py::gil_scoped_release release;
    return gk_escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy);
}

int64_t mandelbrot_gil(py::ssize_t start, py::ssize_t stop, py::ssize_t step, py::ssize_t width,
                       int max_iter, double x_min, double dx, double y_min, double dy) {
    check_range(start, step);
    return gk_escape_counts(start, stop, step, width, max_iter, x_min, dx, y_min, dy);
}

// --- triad: a = b + scalar*c, returning sum(a) -----------------------------------------------

// The buffer of a 1-d contiguous float64 array (NumPy, array.array('d'), memoryview, ctypes
// c_double array: gk_is_float64_format, the rule every binding shares), writable
// if asked; else ValueError. The buffer_info keeps the export until it is destroyed.
py::buffer_info doubles(const py::buffer &buffer, bool writable, const char *name) {
    py::buffer_info info = buffer.request(writable);
    if (!gk_is_float64_format(info.format.c_str()) || info.itemsize != sizeof(double)) {
        throw py::value_error(std::string(name) + " must hold float64 ('d'), got format '"
                              + info.format + "'");
    }
    if (info.ndim != 1 || (info.shape[0] > 1 && info.strides[0] != sizeof(double))) {
        throw py::value_error(std::string(name) + " must be 1-d and contiguous, got "
                              + std::to_string(info.ndim) + " dimension(s), strides in bytes "
                              + (info.ndim ? std::to_string(info.strides[0]) : "none"));
    }
    return info;
}

struct TriadBuffers {
    py::buffer_info a, b, c;  // exported for as long as this object lives

    TriadBuffers(const py::buffer &a_, const py::buffer &b_, const py::buffer &c_)
        : a(doubles(a_, true, "a")), b(doubles(b_, false, "b")), c(doubles(c_, false, "c")) {
        if (a.shape[0] != b.shape[0] || a.shape[0] != c.shape[0]) {
            throw py::value_error("a, b and c must have one length, got "
                                  + std::to_string(a.shape[0]) + ", "
                                  + std::to_string(b.shape[0]) + ", "
                                  + std::to_string(c.shape[0]));
        }
    }

    double run(double scalar) const {
        return gk_stream_triad(static_cast<double *>(a.ptr), static_cast<const double *>(b.ptr),
                               static_cast<const double *>(c.ptr), a.shape[0], scalar);
    }
};

double triad(const py::buffer &a, const py::buffer &b, const py::buffer &c, double scalar) {
    TriadBuffers buffers(a, b, c);
    double total;
    {
        py::gil_scoped_release release;
        total = buffers.run(scalar);
    }  // the GIL is back here, before `buffers` releases the exports (that needs the GIL)
    return total;
}

double triad_gil(const py::buffer &a, const py::buffer &b, const py::buffer &c, double scalar) {
    TriadBuffers buffers(a, b, c);
    return buffers.run(scalar);
}

}  // namespace

PYBIND11_MODULE(_pybind11, m, py::mod_gil_not_used(),
                py::multiple_interpreters::per_interpreter_gil()) {
    m.doc() = "gilkit's pybind11 impls: each kernel releasing the GIL (pybind11) and holding it "
              "(pybind11-gil, the control), around the shared C cores.";
    m.def("squares", &squares, py::arg("start"), py::arg("stop"), py::arg("step") = 1,
          "Sum of i*i over range(start, stop, step) modulo 2**64; GIL released around the loop.");
    m.def("squares_gil", &squares_gil, py::arg("start"), py::arg("stop"), py::arg("step") = 1,
          "Sum of i*i over range(start, stop, step) modulo 2**64; GIL held throughout.");
    m.def("mandelbrot", &mandelbrot, py::arg("start"), py::arg("stop"), py::arg("step"),
          py::arg("width"), py::arg("max_iter"), py::arg("x_min"), py::arg("dx"),
          py::arg("y_min"), py::arg("dy"),
          "Total escape-time count over rows range(start, stop, step); GIL released around "
          "the loop.");
    m.def("mandelbrot_gil", &mandelbrot_gil, py::arg("start"), py::arg("stop"), py::arg("step"),
          py::arg("width"), py::arg("max_iter"), py::arg("x_min"), py::arg("dx"),
          py::arg("y_min"), py::arg("dy"),
          "Total escape-time count over rows range(start, stop, step); GIL held throughout.");
    m.def("triad", &triad, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("scalar"),
          "STREAM triad a = b + scalar*c over float64 buffers; returns sum(a). GIL released "
          "around the loop.");
    m.def("triad_gil", &triad_gil, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("scalar"),
          "STREAM triad a = b + scalar*c over float64 buffers; returns sum(a). GIL held "
          "throughout.");
}
