"""Build gilkit's Cython kernels; all metadata lives in pyproject.toml.

`pip install -e .` compiles the modules in ext/ into the gilkit package; run it again after
editing a .pyx and only what changed is rebuilt. The OpenMP module (`_prange`) is built only
when the compiler can compile *and* link an OpenMP program; without it the rest still builds
and gilkit reports `cython-prange` as unavailable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import Cython
from Cython.Build import cythonize
from setuptools import Extension, setup

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

OPENMP_PROBE = r"""
#include <omp.h>
int main(void) {
    int n = 0;
    #pragma omp parallel reduction(+:n)
    n += 1;
    return omp_get_max_threads() > 0 ? 0 : 1;
}
"""


def compiler_has_openmp() -> bool:
    """Compile and link a tiny OpenMP program with the compiler Python was built with."""
    if os.environ.get("GILKIT_NO_OPENMP"):
        return False
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    if shutil.which(cc[0]) is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "probe.c")
        with open(source, "w") as f:
            f.write(OPENMP_PROBE)
        command = [*cc, *OPENMP_FLAGS, source, "-o", os.path.join(tmp, "probe")]
        result = subprocess.run(command, capture_output=True, check=False)
    return result.returncode == 0


def build_info(compile_args: list[str]) -> list[tuple[str, str]]:
    """C macros that let each module report how it was built (gilkit info, result files)."""
    return [
        ("GILKIT_CYTHON_VERSION", f'"{Cython.__version__}"'),
        ("GILKIT_COMPILE_ARGS", '"' + " ".join(compile_args) + '"'),
    ]


def extensions() -> list[Extension]:
    modules = [
        Extension(
            "gilkit._native",
            ["ext/_native.pyx"],
            extra_compile_args=COMPILE_ARGS,
            define_macros=build_info(COMPILE_ARGS),
        )
    ]
    if compiler_has_openmp():
        modules.append(
            Extension(
                "gilkit._prange",
                ["ext/_prange.pyx"],
                extra_compile_args=COMPILE_ARGS + OPENMP_FLAGS,
                extra_link_args=OPENMP_FLAGS,
                define_macros=build_info(COMPILE_ARGS + OPENMP_FLAGS),
            )
        )
    else:
        print(
            "gilkit: WARNING: the compiler cannot build OpenMP code; "
            "building without the cython-prange impl",
            file=sys.stderr,
        )
    return cythonize(modules, compiler_directives=COMPILER_DIRECTIVES, include_path=["ext"])


setup(ext_modules=extensions())
