"""Loading the compiled modules, and the ctypes and Numba bindings of the C cores."""
