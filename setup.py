"""Build gilkit's Cython kernels; all metadata lives in pyproject.toml.

`pip install -e .` compiles the modules in ext/ into the gilkit package; run it again after
editing a .pyx and only what changed is rebuilt. The OpenMP module (`_prange`) is built only
when the compiler setuptools builds with (CC, CFLAGS and LDFLAGS honoured) can compile *and*
link an OpenMP program; without it, or with GILKIT_NO_OPENMP set, the rest still builds, a
warning says so, and gilkit reports `cython-prange` as unavailable.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, ExecError, LinkError

# Every directive in one place. Kernels index only inside loops whose bounds they check first,
# so bounds and negative-index checks are off; cdivision drops Python's zero-division and
# modulo-sign checks from C arithmetic. freethreading_compatible declares the modules safe to
# import on a free-threaded interpreter (3.13t+) without re-enabling the GIL: a declaration,
# not a guarantee; the kernels share no mutable state, which is what makes it true.
COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "freethreading_compatible": True,
}

# Subinterpreters with a GIL each (PEP 684, CPython 3.12+; gilkit's `interpreters` runner).
# subinterpreters_compatible="own_gil" makes Cython give each module the slot
# Py_mod_multiple_interpreters = Py_MOD_PER_INTERPRETER_GIL_SUPPORTED, but only where the C
# macro CYTHON_USE_MODULE_STATE=1 keeps the module's globals in a per-module state instead of C
# statics; without both, CPython refuses to load the module in such an interpreter. A
# declaration again: it is true because the modules keep no C-level global state, never
# re-take the GIL, and take arrays as raw buffers, since Cython's typed memoryviews share state
# across interpreters and crashed a process whose two interpreters used them (ext/_buffers.pxd,
# docs/subinterpreters.md). The directive exists from Cython 3.1; tested with 3.3.1.
SUBINTERPRETERS_MIN_CYTHON = (3, 1)
SUBINTERPRETERS_DIRECTIVES = {"subinterpreters_compatible": "own_gil"}
SUBINTERPRETERS_MACROS = [("CYTHON_USE_MODULE_STATE", "1")]

# -ffp-contract=off: no fused multiply-add, so the compiled Mandelbrot does exactly the
# floating-point operations the Python and NumPy versions do and all impls agree bit for bit.
# -falign-loops=32: every loop starts on a 32-byte boundary. The kernels' hot loops are a few
# instructions long, and one that straddles a 32-byte boundary can run 2x slower on x86 cores
# (measured on the machine gilkit was written on: the same sum-of-squares loop, in two builds
# that differed only in where the loop landed, took 20 and 40 ms). Without it, speedups would
# depend on how an unrelated edit shifted the code.
COMPILE_ARGS = (
    ["-O3", "-ffp-contract=off", "-falign-loops=32"] if os.name != "nt" else ["/O2", "/fp:precise"]
)
OPENMP_FLAGS = ["-fopenmp"] if os.name != "nt" else ["/openmp"]
OPENMP_MODULE = "gilkit._prange"

OPENMP_PROBE = r"""
#include <omp.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    return omp_get_max_threads() > 0 ? 0 : 1;
}
"""


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Send this process's stdout and stderr, the compiler's included, to the null device."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def openmp_flags_work(compiler: Any) -> bool:
    """Whether `compiler` compiles *and* links a tiny OpenMP program with OPENMP_FLAGS.

    `compiler` is a setuptools (distutils) CCompiler already customized, so the probe runs the
    very commands, with CC, CFLAGS and LDFLAGS, that build the extensions. Linking is part of
    the test: a compiler that accepts -fopenmp may still lack the runtime library (libgomp,
    libomp). Its output is silenced; a failure only means no `_prange`. As in scikit-learn's
    check_openmp_support, minus running the program, which a cross-compiler could not do.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "openmp_probe.c")
        with open(source, "w") as f:
            f.write(OPENMP_PROBE)
        try:
            with _silenced():
                objects = compiler.compile([source], output_dir=tmp, extra_postargs=OPENMP_FLAGS)
                compiler.link_executable(
                    objects, "openmp_probe", output_dir=tmp, extra_postargs=OPENMP_FLAGS
                )
        except (CompileError, LinkError, ExecError, OSError):
            return False
    return True


class BuildExt(build_ext):
    """build_ext that drops `_prange`, with a warning, where OpenMP cannot be built."""

    def build_extensions(self) -> None:
        # self.compiler exists and is customized from the environment by now (build_ext.run).
        if any(ext.name == OPENMP_MODULE for ext in self.extensions):
            reason = None
            if os.environ.get("GILKIT_NO_OPENMP"):
                reason = "GILKIT_NO_OPENMP is set"
            elif not openmp_flags_work(self.compiler):
                reason = "the compiler cannot build OpenMP code"
            if reason is not None:
                print(
                    f"gilkit: WARNING: {reason}; building without the cython-prange impl",
                    file=sys.stderr,
                )
                # In place: it is also the distribution's ext_modules, so the outputs that
                # setuptools lists for the wheel or editable install leave `_prange` out too.
                self.extensions[:] = [e for e in self.extensions if e.name != OPENMP_MODULE]
        super().build_extensions()


def cython_version() -> tuple[int, ...]:
    import Cython  # here, not at the top, so tests can import this file without Cython

    return version_tuple(Cython.__version__)


def version_tuple(version: str) -> tuple[int, ...]:
    """(3, 1) from "3.1.0b2": the leading numeric parts."""
    match = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def subinterpreter_support(version: tuple[int, ...]) -> tuple[dict[str, Any], list[Any]]:
    """The directives and C macros that declare subinterpreter support, where this Cython
    can declare it; none before SUBINTERPRETERS_MIN_CYTHON (the modules then refuse to load in
    a subinterpreter, and gilkit reports their cells as not supported there)."""
    if version < SUBINTERPRETERS_MIN_CYTHON:
        return {}, []
    return dict(SUBINTERPRETERS_DIRECTIVES), list(SUBINTERPRETERS_MACROS)


def build_info(compile_args: list[str]) -> list[tuple[str, str]]:
    """C macros that let each module report how it was built (gilkit info, result files)."""
    import Cython

    return [
        ("GILKIT_CYTHON_VERSION", f'"{Cython.__version__}"'),
        ("GILKIT_COMPILE_ARGS", '"' + " ".join(compile_args) + '"'),
    ]


def extensions() -> list[Extension]:
    """Both modules, cythonized; BuildExt decides at build time whether `_prange` is built."""
    from Cython.Build import cythonize

    directives, macros = subinterpreter_support(cython_version())
    modules = [
        Extension(
            "gilkit._native",
            ["ext/_native.pyx"],
            extra_compile_args=COMPILE_ARGS,
            define_macros=build_info(COMPILE_ARGS) + macros,
        ),
        Extension(
            OPENMP_MODULE,
            ["ext/_prange.pyx"],
            extra_compile_args=COMPILE_ARGS + OPENMP_FLAGS,
            extra_link_args=OPENMP_FLAGS,
            define_macros=build_info(COMPILE_ARGS + OPENMP_FLAGS) + macros,
        ),
    ]
    return cythonize(
        modules, compiler_directives={**COMPILER_DIRECTIVES, **directives}, include_path=["ext"]
    )


# setuptools runs this file as __main__; tests import it for openmp_flags_work alone.
if __name__ == "__main__":
    setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
