"""float64 arrays in shared memory, made once by the parent and seen by every worker.

The pools whose workers have memory of their own (processes, joblib-loky, Dask on this host,
subinterpreters) then hand workers a name, not the data: a triad measures memory bandwidth,
not pickling. In the parent and in forked children the block is found in
`_blocks`; spawned children and subinterpreters attach by name, so every worker reads and
writes the very same pages. `attach` gives NumPy arrays; `attach_buffers` gives memoryviews,
for code that must run where NumPy cannot be imported (a subinterpreter); `views` gives
whichever this interpreter can use.

Memoryviews only where NumPy cannot be loaded: on a free-threaded 3.13, threads that slice one
memoryview at once can release it under each other ("operation forbidden on released
memoryview object", CPython gh-155606), while each interpreter of the interpreters runner has
a single thread.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

_blocks: dict[str, SharedMemory] = {}  # the blocks this interpreter has open, by name
_arrays: dict[str, list[np.ndarray]] = {}  # NumPy views of them, made once
_arrays_lock = threading.Lock()  # threads may attach at once
_without_numpy = False  # this interpreter cannot load NumPy (set by without_numpy)

# madvise(MADV_POPULATE_WRITE), Linux 5.14+ (Python names it from 3.14): the kernel allocates
# every page of a new block at once. The first touch of a page of shared memory otherwise costs a
# fault each: filling the 1.6 GB of a large triad took 4.2 s that way here, 0.9 s populated.
POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23) if sys.platform == "linux" else None


@dataclass(frozen=True)
class SharedArrays:
    """A picklable handle: the block's name and the arrays' shape."""

    name: str
    n_arrays: int
    length: int
    # Before 3.13: the resource tracker that registered the block, to tell a child that
    # shares it (see _open).
    tracker: int | None = None


@contextmanager
def shared_arrays(n_arrays: int, length: int) -> Iterator[SharedArrays]:
    """Create `n_arrays` zeroed float64 arrays of `length`; unlink them on exit."""
    shm = SharedMemory(create=True, size=max(8, n_arrays * length * 8))
    _blocks[shm.name] = shm
    try:
        _populate(shm)
        yield SharedArrays(shm.name, n_arrays, length, _tracker_id())
    finally:
        _arrays.pop(shm.name, None)
        del _blocks[shm.name]
        try:
            shm.close()
        except BufferError:  # a view is still referenced somewhere; the unlink still frees it
            pass
        shm.unlink()


def _populate(shm: SharedMemory) -> None:
    """Allocate the block's pages now, where the kernel can (else the first writes fault them
    in, as everywhere)."""
    mapping = getattr(shm, "_mmap", None)  # SharedMemory keeps its mmap private
    if POPULATE_WRITE is not None and isinstance(mapping, mmap.mmap):
        with contextlib.suppress(OSError):  # an older kernel: EINVAL
            mapping.madvise(POPULATE_WRITE)


def _open(handle: SharedArrays) -> SharedMemory:
    """The block behind `handle`, attached here by name the first time."""
    if handle.name not in _blocks:
        if sys.version_info >= (3, 13):
            shm = SharedMemory(handle.name, track=False)
        else:
            shm = SharedMemory(handle.name)
            # Before 3.13 attaching registers the block with the resource tracker as if this
            # process owned it. A tracker of this process's own would then report it leaked,
            # and unlink it, when this process ends: take that registration back. A child
            # started by multiprocessing (spawn, forkserver), loky or a Dask nanny of gilkit
            # shares the creator's tracker, which holds each name once: the registration
            # changed nothing there, and taking it back would drop the creator's.
            if handle.tracker is None or _tracker_id() != handle.tracker:
                resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
        _blocks[handle.name] = shm
    return _blocks[handle.name]


def attach(handle: SharedArrays) -> list[np.ndarray]:
    """The arrays behind `handle`, in this process, as NumPy arrays."""
    with _arrays_lock:
        if handle.name not in _arrays:
            import numpy as np

            flat = np.ndarray(
                (handle.n_arrays * handle.length,), dtype=np.float64, buffer=_open(handle).buf
            )
            _arrays[handle.name] = [
                flat[k * handle.length : (k + 1) * handle.length] for k in range(handle.n_arrays)
            ]
        return _arrays[handle.name]


def without_numpy() -> None:
    """Say that this interpreter cannot load NumPy (a subinterpreter): `views` then gives
    memoryviews."""
    global _without_numpy
    _without_numpy = True


def views(handle: SharedArrays) -> list[Any]:
    """The arrays behind `handle` as NumPy arrays, or as memoryviews in an interpreter that
    cannot load NumPy (without_numpy). Both are float64 buffers of the same pages."""
    return attach_buffers(handle) if _without_numpy else attach(handle)


def attach_buffers(handle: SharedArrays) -> list[memoryview[float]]:
    """The arrays behind `handle` as 1-d float64 memoryviews, without NumPy.

    Made anew on each call and kept by no one here, so that none outlives its caller: a block
    with a view still exported cannot be closed when a subinterpreter ends. For one thread of
    an interpreter at a time (see the module's docstring).
    """
    length, buf = handle.length, _open(handle).buf
    assert buf is not None, "the block is closed"
    flat = buf[: handle.n_arrays * length * 8].cast("d")
    return [flat[k * length : (k + 1) * length] for k in range(handle.n_arrays)]


def _tracker_id() -> int | None:
    """The resource tracker this process talks to, as its pipe's inode (the same in every
    process that shares it), or None where that cannot be read (3.13+ has no need)."""
    fd = getattr(getattr(resource_tracker, "_resource_tracker", None), "_fd", None)
    if sys.version_info >= (3, 13) or fd is None:
        return None
    try:
        return os.fstat(fd).st_ino
    except OSError:
        return None
