"""Stubs for gilkit._ctypes_lib (ext/_ctypes_lib.c): an empty module. The file is a shared
library of C functions that gilkit.bindings.ctypes_lib loads with ctypes; the module exists so that
setuptools builds and installs it."""
