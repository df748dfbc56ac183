"""float64 arrays in shared memory, made once by the parent and seen by every worker.

The process runner then hands workers a name, not the data: a triad measures memory bandwidth,
not pickling. In the parent and in forked children the arrays are found in `_blocks`; spawned
children attach by name.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory

import numpy as np

_blocks: dict[str, tuple[SharedMemory, list[np.ndarray]]] = {}


@dataclass(frozen=True)
class SharedArrays:
    """A picklable handle: the block's name and the arrays' shape."""

    name: str
    n_arrays: int
    length: int
    # Before 3.13: the resource tracker that registered the block, to tell a child that
    # shares it (see attach).
    tracker: int | None = None


def _views(shm: SharedMemory, n_arrays: int, length: int) -> list[np.ndarray]:
    flat = np.ndarray((n_arrays * length,), dtype=np.float64, buffer=shm.buf)
    return [flat[k * length : (k + 1) * length] for k in range(n_arrays)]


@contextmanager
def shared_arrays(n_arrays: int, length: int) -> Iterator[SharedArrays]:
    """Create `n_arrays` zeroed float64 arrays of `length`; unlink them on exit."""
    shm = SharedMemory(create=True, size=max(8, n_arrays * length * 8))
    _blocks[shm.name] = (shm, _views(shm, n_arrays, length))
    try:
        yield SharedArrays(shm.name, n_arrays, length, _tracker_id())
    finally:
        del _blocks[shm.name]
        try:
            shm.close()
        except BufferError:  # a view is still referenced somewhere; the unlink still frees it
            pass
        shm.unlink()


def attach(handle: SharedArrays) -> list[np.ndarray]:
    """The arrays behind `handle`, in this process."""
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
        _blocks[handle.name] = (shm, _views(shm, handle.n_arrays, handle.length))
    return _blocks[handle.name][1]


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
