"""Build gilkit's compiled impls; all metadata lives in pyproject.toml.

`pip install -e .` compiles the modules in ext/ into the gilkit package; run it again after
editing a file there and only what changed is rebuilt:

- `_native`, `_prange` (OpenMP) and `_granularity`: Cython, around the cores of _cores.pxd.
- `_capi` (C API), `_ctypes_lib` (a shared library for ctypes) and `_pybind11` (C++): around
  the C cores of gilkit_cores.h, whose loops are those of _cores.pxd.

Every module gets the same C flags (COMPILE_ARGS), so the impls differ only in their binding.
Two modules are optional: `_prange` is built only when the compiler setuptools builds with
(CC, CFLAGS and LDFLAGS honoured) can compile *and* link an OpenMP program, `_pybind11` only
when pybind11 is importable and the C++ compiler can compile and link a C++ program. Without
them, or with GILKIT_NO_OPENMP set, the rest still builds, a warning says so, and gilkit
reports their impls as unavailable.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Iterator, Sequence
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
# declaration again, made for _native and _prange: it is true because they keep no C-level
# global state, never re-take the GIL, and take arrays as raw buffers, since Cython's typed
# memoryviews share state across interpreters and crashed a process whose two interpreters
# used them (ext/_buffers.pxd, docs/subinterpreters.md). _granularity re-takes the GIL, so it
# gets the directive but not the macro, hence no slot. The directive exists from Cython 3.1;
# tested with 3.3.1. The C and C++ modules declare the same in their own source (_capi.c,
# _ctypes_lib.c, _pybind11.cpp).
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
# A tuple, and a fresh list for each Extension: Pybind11Extension adds its flags to the list it
# is given, in place, which must not reach the other modules.
COMPILE_ARGS = (
    ("-O3", "-ffp-contract=off", "-falign-loops=32") if os.name != "nt" else ("/O2", "/fp:precise")
)
OPENMP_FLAGS = ["-fopenmp"] if os.name != "nt" else ["/openmp"]
OPENMP_MODULE = "gilkit._prange"
PYBIND11_MODULE = "gilkit._pybind11"
CXX_STD = 17
CXX_FLAGS = [f"-std=c++{CXX_STD}"] if os.name != "nt" else [f"/std:c++{CXX_STD}"]

OPENMP_PROBE = r"""
#include <omp.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    return omp_get_max_threads() > 0 ? 0 : 1;
}
"""


CXX_PROBE = r"""
#include <string>
int main() {
    std::string ok("ok");
    return ok.size() == 2 ? 0 : 1;
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


def program_builds(
    compiler: Any, source_text: str, suffix: str, flags: list[str], lang: str | None = None
) -> bool:
    """Whether `compiler` compiles *and* links a tiny program with `flags`.

    `compiler` is a setuptools (distutils) CCompiler already customized, so the probe runs the
    very commands, with CC, CFLAGS and LDFLAGS, that build the extensions. Linking is part of
    the test: a compiler that accepts a flag may still lack its runtime library (libgomp,
    libstdc++). Its output is silenced; a failure only means one optional module fewer. As in
    scikit-learn's check_openmp_support, minus running the program, which a cross-compiler
    could not do.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, f"probe{suffix}")
        with open(source, "w") as f:
            f.write(source_text)
        try:
            with _silenced():
                objects = compiler.compile([source], output_dir=tmp, extra_postargs=flags)
                # distutils links executables with the bare CC: LDFLAGS added here, as the
                # extensions get them (a -fsanitize build needs its runtime at link time).
                link_flags = [*flags, *shlex.split(os.environ.get("LDFLAGS", ""))]
                compiler.link_executable(
                    objects, "probe", output_dir=tmp, extra_postargs=link_flags, target_lang=lang
                )
        except (CompileError, LinkError, ExecError, OSError):
            return False
    return True


def openmp_flags_work(compiler: Any) -> bool:
    """Whether `compiler` compiles and links a tiny OpenMP program with OPENMP_FLAGS."""
    return program_builds(compiler, OPENMP_PROBE, ".c", OPENMP_FLAGS)


def cxx_works(compiler: Any) -> bool:
    """Whether `compiler` compiles and links a tiny C++ program (pybind11 needs C++)."""
    return program_builds(compiler, CXX_PROBE, ".cpp", CXX_FLAGS, lang="c++")


class BuildExt(build_ext):
    """build_ext that drops, with a warning, the optional modules this compiler cannot build:
    `_prange` without OpenMP, `_pybind11` without C++."""

    def build_extensions(self) -> None:
        # self.compiler exists and is customized from the environment by now (build_ext.run).
        for name, (reason, impls) in self.unbuildable().items():
            print(f"gilkit: WARNING: {reason}; building without {impls}", file=sys.stderr)
            # In place: it is also the distribution's ext_modules, so the outputs that
            # setuptools lists for the wheel or editable install leave the module out too.
            self.extensions[:] = [e for e in self.extensions if e.name != name]
        super().build_extensions()

    def unbuildable(self) -> dict[str, tuple[str, str]]:
        """{module: (why it cannot be built, the impls it would have given)}."""
        names = {ext.name for ext in self.extensions}
        reasons = {}
        if OPENMP_MODULE in names:
            impls = "the cython-prange impl"
            if os.environ.get("GILKIT_NO_OPENMP"):
                reasons[OPENMP_MODULE] = ("GILKIT_NO_OPENMP is set", impls)
            elif not openmp_flags_work(self.compiler):
                reasons[OPENMP_MODULE] = ("the compiler cannot build OpenMP code", impls)
        if PYBIND11_MODULE in names and not cxx_works(self.compiler):
            reasons[PYBIND11_MODULE] = (
                "the compiler cannot build C++",
                "the pybind11 and pybind11-gil impls",
            )
        return reasons


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


def build_info(compile_args: Sequence[str]) -> list[tuple[str, str]]:
    """C macros that let each module report how it was built (gilkit info, result files)."""
    import Cython

    return [
        ("GILKIT_CYTHON_VERSION", f'"{Cython.__version__}"'),
        ("GILKIT_COMPILE_ARGS", '"' + " ".join(compile_args) + '"'),
    ]


def cython_extensions() -> list[Extension]:
    """The Cython modules, cythonized; BuildExt decides at build time whether `_prange` is."""
    from Cython.Build import cythonize

    directives, macros = subinterpreter_support(cython_version())
    modules = [
        Extension(
            "gilkit._native",
            ["ext/_native.pyx"],
            extra_compile_args=[*COMPILE_ARGS],
            define_macros=build_info(COMPILE_ARGS) + macros,
        ),
        Extension(
            OPENMP_MODULE,
            ["ext/_prange.pyx"],
            extra_compile_args=[*COMPILE_ARGS, *OPENMP_FLAGS],
            extra_link_args=[*OPENMP_FLAGS],
            define_macros=build_info([*COMPILE_ARGS, *OPENMP_FLAGS]) + macros,
        ),
        # Not declared safe in subinterpreters (no module-state macro, so no own-GIL slot):
        # its loops take the GIL back with `with gil:`, which Cython does with
        # PyGILState_Ensure, unsupported in subinterpreters; `gilkit granularity` runs it in
        # the main interpreter only.
        Extension(
            "gilkit._granularity", ["ext/_granularity.pyx"], extra_compile_args=[*COMPILE_ARGS]
        ),
    ]
    return cythonize(
        modules, compiler_directives={**COMPILER_DIRECTIVES, **directives}, include_path=["ext"]
    )


def c_extensions() -> list[Extension]:
    """The C API module and the ctypes library, around the C cores (ext/gilkit_cores.h).

    The ctypes library is built as an extension module, the one kind of compiled file
    setuptools builds and installs into a package for editable installs and wheels alike: its
    exported C functions, plus a stub PyInit that makes an empty module (ext/_ctypes_lib.c
    says why). gilkit.bindings.ctypes_lib finds the file and loads it with ctypes, never imports it.
    """
    macros = [("GILKIT_COMPILE_ARGS", '"' + " ".join(COMPILE_ARGS) + '"')]
    return [
        Extension(
            f"gilkit.{name}",
            [f"ext/{name}.c"],
            include_dirs=["ext"],
            extra_compile_args=[*COMPILE_ARGS],
            define_macros=macros,
        )
        for name in ("_capi", "_ctypes_lib")
    ]


def pybind11_extensions() -> list[Extension]:
    """The pybind11 module, where pybind11 is importable (a build requirement in pyproject.toml,
    so missing only from a build without isolation); BuildExt checks for a C++ compiler."""
    try:
        from pybind11.setup_helpers import Pybind11Extension
    except ImportError:
        print(
            "gilkit: WARNING: pybind11 is not installed; building without the pybind11 and "
            "pybind11-gil impls",
            file=sys.stderr,
        )
        return []
    # Pybind11Extension adds pybind11's headers, C++ mode and its flags (-fvisibility=hidden);
    # cxx_std adds -std=c++17. COMPILE_ARGS come after them, as for every other module.
    return [
        Pybind11Extension(
            PYBIND11_MODULE,
            ["ext/_pybind11.cpp"],
            include_dirs=["ext"],
            extra_compile_args=[*COMPILE_ARGS],
            cxx_std=CXX_STD,
        )
    ]


def extensions() -> list[Extension]:
    return [*cython_extensions(), *c_extensions(), *pybind11_extensions()]


# setuptools runs this file as __main__; tests import it for its compiler probes alone.
if __name__ == "__main__":
    setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
