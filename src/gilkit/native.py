"""The compiled modules, loaded once, with the reason when one is missing.

Everything that needs `gilkit._native` or `gilkit._prange` asks here, so a plain checkout
without built extensions still runs the Python and NumPy impls and says once how to build.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

BUILD_HINT = "build them with: pip install -e ."


class NativeUnavailable(RuntimeError):
    """A compiled module is not importable; the message says why and how to fix it.

    `import_error` is the ImportError's own message where the module is there but refused to
    load (a subinterpreter, a broken build), None where it was never built.
    """

    def __init__(self, reason: str, import_error: str | None = None) -> None:
        super().__init__(reason)
        self.import_error = import_error


_import_errors: dict[str, str] = {}  # name -> the message of the ImportError that _load met


@cache
def _load(name: str) -> ModuleType | str:
    try:
        return importlib.import_module(f"gilkit.{name}")
    except ImportError as error:
        if error.name != f"gilkit.{name}":  # there, but it did not load
            _import_errors[name] = str(error)
        if name == "_prange" and _is_importable("_native"):
            return "built without OpenMP (the compiler could not compile and link -fopenmp)"
        if not error.name or not error.name.startswith("gilkit._"):
            return f"extensions do not load ({error}); rebuild them with: pip install -e ."
        return f"extensions not built; {BUILD_HINT}"


def _is_importable(name: str) -> bool:
    return isinstance(_load(name), ModuleType)


def module(name: str) -> ModuleType:
    """The compiled module `gilkit.<name>`, or NativeUnavailable saying why not."""
    loaded = _load(name)
    if isinstance(loaded, str):
        raise NativeUnavailable(loaded, _import_errors.get(name))
    return loaded


def unavailable_reason(name: str) -> str | None:
    """None when `gilkit.<name>` imports, else a one-line reason."""
    loaded = _load(name)
    return loaded if isinstance(loaded, str) else None


def built_with(name: str) -> dict[str, str] | None:
    """The Cython version and C flags `gilkit.<name>` was compiled with, if it is built."""
    return None if unavailable_reason(name) else dict(module(name).BUILT_WITH)


def openmp_max_threads() -> int | None:
    """OpenMP's default team size, or None without the OpenMP module."""
    return None if unavailable_reason("_prange") else module("_prange").max_threads()
