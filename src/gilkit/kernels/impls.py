"""The impls, the ways one part of a kernel is computed: what each does with the GIL, and what
it needs to run.

Every impl has a kind:

    python            pure Python: takes turns on the GIL with the other Python threads
    holds             native code that holds the GIL for the whole call
    releases          native code that releases the GIL around its loop
    in-call-parallel  parallel inside one call, on threads of its own: gilkit runs it on the
                      serial runner, and its threads are the cell's workers
    vectorized        NumPy: releases the GIL inside large enough array operations

and a family, the way it is written: `cython`, `c-api`, `ctypes`, `pybind11`, `numba`. Within
a family the impls share one core and differ in their binding only: the one that holds the GIL
is the control of the one that releases it. `gilkit run --impl c-api` runs the whole family.

A compiled impl's functions live in a binding module, loaded through gilkit.host.extensions, which
offers one function per kernel with the arguments of _native's: `squares`, `mandelbrot` and
`triad`, each followed by the impl's suffix (`_capi.squares_gil` for c-api-gil).

A user's kernel may name impls of its own; their kind is given to define_kernel (`kinds=`) or
inferred with gilkit's probe (gilkit.gil.kinds), and is "unknown" until then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gilkit.host import extensions as compiled_modules

KINDS: Mapping[str, str] = {
    "python": "pure Python: takes turns on the GIL with other Python threads",
    "holds": "native code that holds the GIL for the whole call",
    "releases": "native code that releases the GIL around its loop",
    "in-call-parallel": "parallel inside one call on its own threads (workers = its threads)",
    "vectorized": "NumPy: releases the GIL inside large enough array operations",
    "unknown": "not given, and not inferred",
}
IN_CALL = "in-call-parallel"


@dataclass(frozen=True)
class Impl:
    name: str
    kind: str
    family: str
    what: str
    # the module of its functions (see gilkit.host.extensions); None: Python
    module: str | None = None
    suffix: str = ""  # after the kernel's name in that module: `squares_gil`
    threads: str = ""  # in-call-parallel only: whose threads (the tables' runner column)
    in_default_run: bool = True  # run by `gilkit run` without --impl

    @property
    def in_call_parallel(self) -> bool:
        return self.kind == IN_CALL


def _registry(*impls: Impl) -> dict[str, Impl]:
    return {impl.name: impl for impl in impls}


# The order is the tables': each family together, its control first.
IMPLS: Mapping[str, Impl] = _registry(
    Impl("python", "python", "python", "pure-Python loops: takes turns on the GIL, the baseline"),
    Impl(
        "cython", "holds", "cython",
        "Cython, compiled and typed, GIL held for the whole call: the control", "_native",
    ),
    Impl(
        "cython-nogil", "releases", "cython",
        "the same Cython core inside `with nogil:`", "_native", "_nogil",
    ),
    Impl(
        "cython-prange", IN_CALL, "cython",
        "the same core over OpenMP threads inside one call (prange)", "_prange", "", "OpenMP",
    ),
    Impl(
        "c-api-gil", "holds", "c-api",
        "a hand-written C extension around the C core, GIL held: the control",
        "_capi", "_gil", in_default_run=False,
    ),
    Impl(
        "c-api", "releases", "c-api",
        "the same C function, the core between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS",
        "_capi", in_default_run=False,
    ),
    Impl(
        "ctypes-gil", "holds", "ctypes",
        "the C core called through ctypes.PyDLL, which holds the GIL: the control",
        "ctypes_lib", "_gil", in_default_run=False,
    ),
    Impl(
        "ctypes", "releases", "ctypes",
        "the same C function through ctypes.CDLL, which releases the GIL for the call",
        "ctypes_lib", in_default_run=False,
    ),
    Impl(
        "pybind11-gil", "holds", "pybind11",
        "the C core bound with pybind11, GIL held: the control",
        "_pybind11", "_gil", in_default_run=False,
    ),
    Impl(
        "pybind11", "releases", "pybind11",
        "the same binding, the core under a py::gil_scoped_release",
        "_pybind11", in_default_run=False,
    ),
    Impl(
        "numba-gil", "holds", "numba",
        "the loops compiled by Numba with @njit, GIL held: the control",
        "numba_cores", "_gil", in_default_run=False,
    ),
    Impl(
        "numba", "releases", "numba",
        "the same loops compiled with @njit(nogil=True)",
        "numba_cores", in_default_run=False,
    ),
    Impl(
        "numba-prange", IN_CALL, "numba",
        "the same core over Numba's threads inside one call (parallel=True, prange)",
        "numba_cores", "_prange", "Numba", in_default_run=False,
    ),
    Impl(
        "numpy", "vectorized", "numpy",
        "vectorized NumPy: releases the GIL inside large enough array operations",
    ),
)  # fmt: skip

# The built-in impls whose functions live in a binding module, in table order.
COMPILED_IMPLS = tuple(name for name, impl in IMPLS.items() if impl.module is not None)
# Built-in impls that are parallel inside one call.
IN_CALL_PARALLEL = frozenset(name for name, impl in IMPLS.items() if impl.in_call_parallel)

# family -> its impls, in table order.
FAMILIES: Mapping[str, tuple[str, ...]] = {
    family: tuple(name for name, impl in IMPLS.items() if impl.family == family)
    for family in dict.fromkeys(impl.family for impl in IMPLS.values())
}


def impl_unavailable_reason(impl: str) -> str | None:
    """None when `impl` can run in this installation (a user's impl always can), else why not."""
    found = IMPLS.get(impl)
    if found is None or found.module is None:
        return None
    return compiled_modules.unavailable_reason(found.module)


def compiled(impl: str, kernel: str) -> Callable[..., Any]:
    """The function of compiled impl `impl` for `kernel`: `_capi.squares_gil` for c-api-gil."""
    found = IMPLS[impl]
    if found.module is None:
        raise ValueError(f"{impl!r} is not a compiled impl")
    module = compiled_modules.module(found.module)
    function: Callable[..., Any] = getattr(module, kernel + found.suffix)
    return function


def build_facts(impl: str) -> dict[str, Any]:
    """What a result file should say about how `impl` was made ready: Numba's compile times,
    once its module is loaded here. Empty for the others."""
    found = IMPLS.get(impl)
    loaded = compiled_modules.loaded(found.module) if found and found.module else None
    compile_s = getattr(loaded, "COMPILE_S", {}).get(impl)
    if compile_s is None:
        return {}
    return {
        "compile_s": dict(compile_s),  # kernel -> seconds, before any timed call
        "compiled_from_cache": bool(getattr(loaded, "FROM_CACHE", False)),
    }
