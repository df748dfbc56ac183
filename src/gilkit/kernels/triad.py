"""`triad`: the STREAM triad a = b + scalar*c over float64 arrays larger than the CPU caches.

Each element costs two loads, one store and two flops: the work is bound by memory bandwidth,
so threads stop scaling when the memory bus saturates, GIL or no GIL. The arrays live in shared
memory, made once by the parent (b[i] = i % 7, c[i] = i % 11), so workers of every runner read
the same data and nothing is pickled per chunk. Each part returns sum(a[part]) as a checksum;
all values are small integers, so the sums are exact in float64 whatever the order.

The arrays are held within a memory budget (MEMORY_SHARE of the memory available, at most
MEMORY_CAP_BYTES): a call of more elements than they hold passes over them again, each part
over a region of its own (`segments`), rather than taking the machine's memory. b and c repeat
every PERIOD = 77 elements, so a pass over a region that starts where element i would and is a
multiple of 77 long reads exactly the values of elements i, i+1, ...: the result, and its
reference, are those of n distinct elements. Workers on other hosts cannot reach this host's
shared memory: each makes the same arrays itself (`elsewhere`), from the same rule.

The pure-Python impl and the Cython, C API and pybind11 bindings take any float64 buffer: NumPy
arrays, or, in a subinterpreter, where NumPy cannot be loaded, plain memoryviews of the same
shared block (gilkit.kernels.shared_arrays.views). The NumPy, ctypes and Numba impls need NumPy
arrays, and so cannot run there.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gilkit.host.cpus import last_level_cache_bytes
from gilkit.kernels.base import ChunkFn, Kernel
from gilkit.kernels.impls import COMPILED_IMPLS, IMPLS, compiled
from gilkit.kernels.shared_arrays import SharedArrays, attach, shared_arrays, views

if TYPE_CHECKING:
    import numpy as np

SCALAR = 3.0
B_PERIOD, C_PERIOD = 7, 11
PERIOD = B_PERIOD * C_PERIOD  # b and c together repeat every 77 elements
# The arrays' memory budget: a quarter of the memory available when they are made, 2 GiB at
# most, so that a run never takes the memory that the rest of the machine is using.
MEMORY_SHARE = 0.25
MEMORY_CAP_BYTES = 2 << 30
BYTES_PER_ELEMENT = 3 * 8  # a, b and c in float64


@dataclass(frozen=True)
class TriadData:
    n: int  # the elements of a call
    length: int  # the arrays' (less than n: the parts pass over them again)
    arrays: SharedArrays | None  # a, b, c in shared memory; None: each worker makes its own
    scalar: float = SCALAR


def memory_budget_bytes() -> int:
    import psutil

    return int(min(MEMORY_CAP_BYTES, MEMORY_SHARE * psutil.virtual_memory().available))


def array_length(n: int) -> int:
    """The arrays' length for a call of n elements: n where the three fit the memory budget,
    else the largest multiple of PERIOD that fits (at least two periods)."""
    most = memory_budget_bytes() // BYTES_PER_ELEMENT
    if n <= most:
        return n
    return max(2 * PERIOD, most - most % PERIOD)


def memory_note(n: int) -> str | None:
    """What the run should say where a call of n elements passes over its arrays again."""
    length = array_length(n)
    if length == n:
        return None
    return (
        f"triad: n = {n:,} elements would take {n * BYTES_PER_ELEMENT / 2**30:.1f} GiB; its "
        f"arrays hold {length:,} ({length * BYTES_PER_ELEMENT / 2**30:.1f} GiB, the memory "
        f"budget: a quarter of the memory available, {MEMORY_CAP_BYTES >> 30} GiB at most) "
        f"and each call passes over them {n / length:.1f} times"
    )


def native_size() -> int:
    """Three arrays together 4x the last-level cache, so they cannot stay cached."""
    return max(1_000_000, 4 * last_level_cache_bytes() // (3 * 8))


@contextmanager
def prepare(n: int, split: str) -> Iterator[TriadData]:
    length = array_length(n)
    with shared_arrays(3, length) as handle:
        _fill(*attach(handle))
        yield TriadData(n, length, handle)


def _fill(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    """b[i] = i % 7 and c[i] = i % 11: the same arrays wherever they are made; `a` written
    too, so that no timed call pays for its pages' first touch."""
    a.fill(0.0)
    _repeat_period(b, B_PERIOD)
    _repeat_period(c, C_PERIOD)


def _repeat_period(out: np.ndarray, period: int) -> None:
    """out[i] = i % period, as copies of what is written, doubling: at memory speed, 20x faster
    than the modulo of an index array (which took 1.5 s for the arrays of a default run)."""
    import numpy as np

    done = min(period, len(out))
    out[:done] = np.arange(done)
    while done < len(out):  # `done` stays a multiple of the period until the last copy
        step = min(done, len(out) - done)
        out[done : done + step] = out[:step]
        done += step


def elsewhere(data: TriadData) -> TriadData:
    """The params for workers on other hosts: no shared memory, each makes its own arrays."""
    return replace(data, arrays=None)


# A worker's own arrays, by length: made at its first call of each size (a run has one or
# two), kept for the later ones, which the interleaved rounds alternate.
_own: dict[int, list[np.ndarray]] = {}
_own_lock = threading.Lock()


def _own_arrays(length: int) -> list[np.ndarray]:
    """A worker's own a, b and c (a worker on another host), made once per process and size."""
    import numpy as np

    with _own_lock:
        if length not in _own:
            arrays = [np.empty(length) for _ in range(3)]
            _fill(*arrays)
            _own[length] = arrays
        return _own[length]


def segments(part: range, n: int, length: int) -> Iterator[tuple[int, int]]:
    """The part's elements as (start, stop) slices of arrays of `length`.

    Where the arrays hold all n, that is the part itself. Else the part passes over a region
    of its own, the share of the arrays that its share of [0, n) is (so that parts running at
    once write apart, where each share is a few periods long), starting where element
    part.start would (congruent modulo PERIOD) and a multiple of PERIOD long: every slice then
    reads the values of the elements it stands for.
    """
    if n <= length:
        if part:
            yield part.start, part.stop
        return
    blocks = length // PERIOD
    size = max(1, len(part) * blocks // n - 1)  # in blocks, one left for the offset
    first = min(part.start * blocks // n, blocks - size - 1)
    offset, region = first * PERIOD + part.start % PERIOD, size * PERIOD
    done = 0
    while done < len(part):
        lo = offset + done % region
        take = min(len(part) - done, offset + region - lo)
        yield lo, lo + take
        done += take


def _periodic_sum(n: int, period: int) -> int:
    full, rest = divmod(n, period)
    return full * period * (period - 1) // 2 + rest * (rest - 1) // 2


def reference(n: int, scalar: float = SCALAR) -> float:
    """Closed form of sum(b + scalar*c) over [0, n), for tests."""
    return float(_periodic_sum(n, B_PERIOD) + scalar * _periodic_sum(n, C_PERIOD))


def _check_part(part: range) -> None:
    if part.step != 1:
        raise ValueError(f"triad needs contiguous parts, got step {part.step}")


def _slices(part: range, data: TriadData) -> Iterator[list[Any]]:
    """a, b and c over each of the part's segments as float64 buffers: NumPy arrays, or
    memoryviews where NumPy cannot be loaded (a subinterpreter)."""
    _check_part(part)
    arrays = _own_arrays(data.length) if data.arrays is None else views(data.arrays)
    for lo, hi in segments(part, data.n, data.length):
        yield [v[lo:hi] for v in arrays]


def _array_slices(part: range, data: TriadData) -> Iterator[list[np.ndarray]]:
    _check_part(part)
    arrays = _own_arrays(data.length) if data.arrays is None else attach(data.arrays)
    for lo, hi in segments(part, data.n, data.length):
        yield [v[lo:hi] for v in arrays]


def chunk_python(part: range, data: TriadData) -> float:
    scalar, total = data.scalar, 0.0
    for a, b, c in _slices(part, data):
        values = [x + scalar * y for x, y in zip(memoryview(b), memoryview(c), strict=True)]
        memoryview(a)[:] = array("d", values)
        total += sum(values)
    return total


# Families whose binding takes NumPy arrays (and imports NumPy anyway): ctypes passes their
# data pointers, Numba compiles for arrays. The others (Cython, C API, pybind11) take any
# float64 buffer, so they also run on memoryviews, where NumPy cannot load.
ARRAY_FAMILIES = frozenset({"ctypes", "numba"})


def chunk_compiled(impl: str) -> ChunkFn:
    """The chunk function of a compiled impl: its binding's `triad` over the part's slices."""
    slices = _array_slices if IMPLS[impl].family in ARRAY_FAMILIES else _slices
    if IMPLS[impl].in_call_parallel:

        def chunk_on_threads(part: range, data: TriadData, n_threads: int) -> float:
            triad = compiled(impl, "triad")
            return sum(float(triad(*abc, data.scalar, n_threads)) for abc in slices(part, data))

        return chunk_on_threads

    def chunk(part: range, data: TriadData) -> float:
        triad = compiled(impl, "triad")
        return sum(float(triad(*abc, data.scalar)) for abc in slices(part, data))

    return chunk


def chunk_numpy(part: range, data: TriadData) -> float:
    import numpy as np

    total = 0.0
    for a, b, c in _array_slices(part, data):
        np.multiply(c, data.scalar, out=a)
        np.add(a, b, out=a)
        total += float(a.sum())
    return total


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
    reference=reference,
    prepare=prepare,
    params_elsewhere=elsewhere,
    memory_note=memory_note,
    bound="memory",
)
