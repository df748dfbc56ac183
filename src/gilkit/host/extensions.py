"""The modules behind the compiled impls, loaded once, with the reason when one is missing.

Everything that needs one of them asks here, so that a plain checkout without built extensions
still runs the Python and NumPy impls and says once how to build the rest:

- extension modules built by `pip install -e .` (ext/): `_native`, `_prange` (OpenMP),
  `_capi`, `_pybind11`, `_granularity`, and `_ctypes_lib`, the shared library that
  `gilkit.bindings.ctypes_lib` loads with ctypes;
- `ctypes_lib` and `numba_cores`, plain Python modules that load a library or compile with one
  at import. Whether Numba is installed is checked without importing it (which takes half a
  second, and compiles gilkit's Numba impls).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import sysconfig
from functools import cache
from types import ModuleType

BUILD_HINT = "build them with: pip install -e ."

# The extension modules `pip install -e .` builds from ext/, and the impls or command each is for.
EXTENSIONS = {
    "_native": "cython, cython-nogil",
    "_prange": "cython-prange",
    "_capi": "c-api, c-api-gil",
    "_ctypes_lib": "ctypes, ctypes-gil",
    "_pybind11": "pybind11, pybind11-gil",
    "_granularity": "gilkit granularity",
}

# Modules that a build may leave out while building the others, and what to say then.
OPTIONAL_EXTENSIONS = {
    "_prange": "built without OpenMP (the compiler could not compile and link -fopenmp)",
    "_pybind11": "built without pybind11 (no C++ compiler, or no pybind11, at build time)",
}
# Python modules that need an optional package: {module: (package, what to say without it)}.
NEEDS_PACKAGE = {
    "numba_cores": (
        "numba",
        "Numba is not installed; it has no build for free-threaded Python yet"
        if sysconfig.get_config_var("Py_GIL_DISABLED")
        else "Numba is not installed (pip install 'gilkit[numba]')",
    ),
}
# Python modules that load an extension rather than being one.
LOADS_EXTENSION = {"ctypes_lib": "_ctypes_lib"}
# The Python modules above live beside this one; the extensions at the package's top.
BINDING_MODULES = ("ctypes_lib", "numba_cores")


def qualified(name: str) -> str:
    """The full module name of compiled module or binding `name`."""
    return f"gilkit.bindings.{name}" if name in BINDING_MODULES else f"gilkit.{name}"


class NativeUnavailable(RuntimeError):
    """A compiled module is not importable; the message says why and how to fix it.

    `import_error` is the ImportError's own message where the module is there but refused to
    load (a subinterpreter, a broken build), None where it was never built.
    """

    def __init__(self, reason: str, import_error: str | None = None) -> None:
        super().__init__(reason)
        self.import_error = import_error


_import_errors: dict[str, str] = {}  # name -> the message of the ImportError that _load met


def _extension_reason(name: str, error: ImportError | None = None) -> str:
    """Why extension `gilkit.<name>` does not load."""
    if name in OPTIONAL_EXTENSIONS and _found("_native"):
        return OPTIONAL_EXTENSIONS[name]
    if error is not None and not (error.name or "").startswith("gilkit._"):
        return f"extensions do not load ({error}); rebuild them with: pip install -e ."
    if _found("_native"):  # built before this module existed: an older build
        return f"gilkit.{name} is not built; rebuild the extensions with: pip install -e ."
    return f"extensions not built; {BUILD_HINT}"


def _found(name: str) -> bool:
    """Whether `gilkit.<name>` exists, without importing it."""
    return importlib.util.find_spec(qualified(name)) is not None


@cache
def _load(name: str) -> ModuleType | str:
    if name in NEEDS_PACKAGE:
        package, missing = NEEDS_PACKAGE[name]
        if importlib.util.find_spec(package) is None:
            return missing
    try:
        return importlib.import_module(qualified(name))
    except ImportError as error:
        # Not there at all, or there but refusing to load (a subinterpreter, a broken build):
        # the latter's own message is kept for NativeUnavailable.import_error.
        if error.name not in {qualified(name), qualified(LOADS_EXTENSION.get(name, name))}:
            _import_errors[name] = telling_line(error)
        if name in NEEDS_PACKAGE:
            return f"{NEEDS_PACKAGE[name][0]} does not load ({error})"
        return _extension_reason(LOADS_EXTENSION.get(name, name), error)


def error_chain(error: BaseException) -> list[BaseException]:
    """`error`, then what caused it, then what caused that, ..."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def telling_line(error: BaseException) -> str:
    """The line that says why an import failed: from the deepest link of its chain that names
    the interpreter (NumPy wraps the extension's own "does not support loading in
    subinterpreters" in a page of advice that starts elsewhere), else the error's first line."""
    for link in reversed(error_chain(error)):
        if "interpreter" in str(link):
            return first_line(str(link))
    return first_line(str(error))


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def module(name: str) -> ModuleType:
    """The module `gilkit.<name>`, imported, or NativeUnavailable saying why not."""
    loaded = _load(name)
    if isinstance(loaded, str):
        raise NativeUnavailable(loaded, _import_errors.get(name))
    return loaded


def loaded(name: str) -> ModuleType | None:
    """`gilkit.<name>` if this process has imported it already, else None; imports nothing."""
    return sys.modules.get(qualified(name))


def unavailable_reason(name: str) -> str | None:
    """None when `gilkit.<name>` can load, else a one-line reason. Cheap for a module that
    needs an optional package: the package is looked for, not imported, unless it was."""
    if name in NEEDS_PACKAGE and loaded(name) is None:
        package, missing = NEEDS_PACKAGE[name]
        return None if importlib.util.find_spec(package) is not None else missing
    found = _load(name)
    return found if isinstance(found, str) else None


def built_with(name: str) -> dict[str, str] | None:
    """The Cython version and C flags `gilkit.<name>` was compiled with, if it is built."""
    return None if unavailable_reason(name) else dict(module(name).BUILT_WITH)


def openmp_max_threads() -> int | None:
    """OpenMP's default team size, or None without the OpenMP module."""
    return None if unavailable_reason("_prange") else module("_prange").max_threads()
