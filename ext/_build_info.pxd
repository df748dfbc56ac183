# How a module was built: C macros that setup.py defines for every extension, read back as a
# dict so that `gilkit info` and the result files can say which Cython and flags made it.

cdef extern from *:
    const char* GILKIT_CYTHON_VERSION
    const char* GILKIT_COMPILE_ARGS


cdef inline dict built_with():
    return {
        "cython": GILKIT_CYTHON_VERSION.decode(),
        "compile_args": GILKIT_COMPILE_ARGS.decode(),
    }
