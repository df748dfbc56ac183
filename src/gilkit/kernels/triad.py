"""`triad`: the STREAM triad a = b + scalar*c over float64 arrays larger than the CPU caches.

Each element costs two loads, one store and two flops: the work is bound by memory bandwidth,
so threads stop scaling when the memory bus saturates, GIL or no GIL. The arrays live in shared
memory, made once by the parent (b[i] = i % 7, c[i] = i % 11), so workers of every runner read
the same data and nothing is pickled per chunk. Each part returns sum(a[part]) as a checksum;
all values are small integers, so the sums are exact in float64 whatever the order.

The pure-Python impl and the Cython, C API and pybind11 bindings take any float64 buffer: NumPy
arrays, or, in a subinterpreter, where NumPy cannot be loaded, plain memoryviews of the same
shared block (gilkit.kernels.shared_arrays.views). The NumPy, ctypes and Numba impls need NumPy
arrays, and so cannot run there.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gilkit.host.cpus import last_level_cache_bytes
from gilkit.kernels.base import ChunkFn, Kernel
from gilkit.kernels.impls import COMPILED_IMPLS, IMPLS, compiled
from gilkit.kernels.shared_arrays import SharedArrays, attach, shared_arrays, views

if TYPE_CHECKING:
    import numpy as np

SCALAR = 3.0
B_PERIOD, C_PERIOD = 7, 11


@dataclass(frozen=True)
class TriadData:
    arrays: SharedArrays  # a, b, c
    scalar: float = SCALAR


def max_size() -> int:
    """Three float64 arrays in at most half of the memory available now."""
    import psutil

    return max(1, psutil.virtual_memory().available // 2 // (3 * 8))


def native_size() -> int:
    """Three arrays together 4x the last-level cache, so they cannot stay cached."""
    return max(1_000_000, 4 * last_level_cache_bytes() // (3 * 8))


@contextmanager
def prepare(n: int, split: str) -> Iterator[TriadData]:
    import numpy as np

    with shared_arrays(3, n) as handle:
        _, b, c = attach(handle)
        index = np.arange(n)
        np.remainder(index, B_PERIOD, out=b, casting="unsafe")
        np.remainder(index, C_PERIOD, out=c, casting="unsafe")
        del index, b, c
        yield TriadData(handle)


def _periodic_sum(n: int, period: int) -> int:
    full, rest = divmod(n, period)
    return full * period * (period - 1) // 2 + rest * (rest - 1) // 2


def reference(n: int, scalar: float = SCALAR) -> float:
    """Closed form of sum(b + scalar*c) over [0, n), for tests."""
    return float(_periodic_sum(n, B_PERIOD) + scalar * _periodic_sum(n, C_PERIOD))


def _check_part(part: range) -> None:
    if part.step != 1:
        raise ValueError(f"triad needs contiguous parts, got step {part.step}")


def _slices(part: range, data: TriadData) -> list[Any]:
    """a, b and c over `part` as float64 buffers: NumPy arrays, or memoryviews where NumPy
    cannot be loaded (a subinterpreter)."""
    _check_part(part)
    return [v[part.start : part.stop] for v in views(data.arrays)]


def _array_slices(part: range, data: TriadData) -> list[np.ndarray]:
    _check_part(part)
    return [v[part.start : part.stop] for v in attach(data.arrays)]


def chunk_python(part: range, data: TriadData) -> float:
    a, b, c = _slices(part, data)
    scalar = data.scalar
    values = [x + scalar * y for x, y in zip(memoryview(b), memoryview(c), strict=True)]
    memoryview(a)[:] = array("d", values)
    return sum(values)


# Families whose binding takes NumPy arrays (and imports NumPy anyway): ctypes passes their
# data pointers, Numba compiles for arrays. The others (Cython, C API, pybind11) take any
# float64 buffer, so they also run on memoryviews, where NumPy cannot load.
ARRAY_FAMILIES = frozenset({"ctypes", "numba"})


def chunk_compiled(impl: str) -> ChunkFn:
    """The chunk function of a compiled impl: its binding's `triad` over the part's slices."""
    slices = _array_slices if IMPLS[impl].family in ARRAY_FAMILIES else _slices
    if IMPLS[impl].in_call_parallel:

        def chunk_on_threads(part: range, data: TriadData, n_threads: int) -> float:
            return float(compiled(impl, "triad")(*slices(part, data), data.scalar, n_threads))

        return chunk_on_threads

    def chunk(part: range, data: TriadData) -> float:
        return float(compiled(impl, "triad")(*slices(part, data), data.scalar))

    return chunk


def chunk_numpy(part: range, data: TriadData) -> float:
    import numpy as np

    a, b, c = _array_slices(part, data)
    np.multiply(c, data.scalar, out=a)
    np.add(a, b, out=a)
    return float(a.sum())


def combine(partials: Sequence[float]) -> float:
    return float(sum(partials))


KERNEL = Kernel(
    name="triad",
    summary="STREAM triad a = b + s*c over arrays past the last-level cache: memory-bound",
    unit="elements",
    chunk_fns={
        "python": chunk_python,
        **{impl: chunk_compiled(impl) for impl in COMPILED_IMPLS},
        "numpy": chunk_numpy,
    },
    combine=combine,
    python_size=lambda: 800_000,  # pure Python is CPU-bound here at any size
    native_size=native_size,
    native_floor=native_size,
    max_size=max_size,
    reference=reference,
    prepare=prepare,
    bound="memory",
    needs_this_host="its arrays are in this host's shared memory",
)
