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
    """A compiled module is not importable; the message says why and how to fix it."""


@cache
def _load(name: str) -> ModuleType | str:
    try:
        return importlib.import_module(f"gilkit.{name}")
    except ImportError as error:
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
        raise NativeUnavailable(loaded)
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
