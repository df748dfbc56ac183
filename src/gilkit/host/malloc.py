"""One state of glibc's allocator for every cell, so that a serial baseline and a pool's worker
allocate alike.

glibc's malloc starts with a 128 KiB mmap threshold (larger blocks are mapped, and unmapped when
freed) and a 128 KiB trim threshold (free memory at a heap's top is given back), and raises both
the first time a process frees a large mapped block, up to 32 MiB and 64 MiB. So how a NumPy call
that makes temporaries of a few MiB allocates depends on what its process freed before, and on
its thread's arena: the same `mandelbrot` numpy call of 701 rows took 88-94 ms in gilkit's
serial caller thread, 78 ms in a fresh pool thread and 90-98 ms in a worker process, and threads
× 1 read 1.12-1.20x "faster" than serial. With both thresholds fixed at those maxima from the
start (which also stops their changing), in gilkit's process and in every process it starts,
the three took 66-70 ms and agreed within their spread.

The `gilkit` command fixes them (steady_malloc); a value set in the environment is kept. Only on
glibc; elsewhere nothing changes and the result file says so.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

M_TRIM_THRESHOLD = -1  # from <malloc.h>
M_MMAP_THRESHOLD = -3
# glibc's own maxima for its dynamic thresholds on 64-bit systems.
THRESHOLDS = {
    "MALLOC_MMAP_THRESHOLD_": (M_MMAP_THRESHOLD, 32 << 20),
    "MALLOC_TRIM_THRESHOLD_": (M_TRIM_THRESHOLD, 64 << 20),
}


def steady_malloc() -> dict[str, int] | None:
    """Fix glibc's thresholds here (mallopt) and for the processes started from now on (the
    environment, which glibc reads at start); what each now is, or None off glibc."""
    mallopt = _mallopt()
    if mallopt is None:
        return None
    settings = {}
    for name, (option, default) in THRESHOLDS.items():
        value = _int(os.environ.get(name))
        if value is None:  # a value the user set was applied by glibc at start: kept
            value = default
            os.environ[name] = str(value)
            mallopt(option, value)
        settings[_key(name)] = value
    return settings


def malloc_settings() -> dict[str, int] | None:
    """The thresholds this process and its children run with, as the environment says (None:
    glibc's defaults, which change as the process frees memory)."""
    found = {_key(name): _int(os.environ.get(name)) for name in THRESHOLDS}
    settings = {name: value for name, value in found.items() if value is not None}
    return settings if len(settings) == len(found) else None


def _key(name: str) -> str:
    """`MALLOC_MMAP_THRESHOLD_` -> `mmap_threshold`, as the result file names it."""
    return name.strip("_").lower().removeprefix("malloc_")


def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's mallopt(), or None elsewhere (its options are glibc's; musl has none)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (present on glibc only)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    function: Callable[[int, int], int] = mallopt
    return function


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None
