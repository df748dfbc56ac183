"""`squares`: the seed's example, the sum of i*i over [0, n).

The result is defined modulo 2**64, i.e. the unsigned 64-bit wrap-around that C's uint64_t
gives for free; Python and NumPy reduce to the same value, so every impl returns the very
same integer for any n.
"""

from __future__ import annotations

from collections.abc import Sequence

from gilkit.kernels.base import ChunkFn, Kernel
from gilkit.kernels.impls import COMPILED_IMPLS, IMPLS, compiled

MASK = 2**64 - 1
# NumPy works through the range in blocks: bounded memory, and each block is far above the
# ~500 elements under which NumPy keeps the GIL.
NUMPY_BLOCK = 1 << 16


def reference(n: int) -> int:
    """Closed form of sum(i*i for i in range(n)) mod 2**64, for tests."""
    return ((n - 1) * n * (2 * n - 1) // 6) & MASK if n > 0 else 0


def chunk_python(part: range, params: None) -> int:
    total = 0
    for i in part:
        total += i * i
    return total & MASK


def chunk_compiled(impl: str) -> ChunkFn:
    """The chunk function of a compiled impl: its binding's `squares` over the part's range."""
    if IMPLS[impl].in_call_parallel:

        def chunk_on_threads(part: range, params: None, n_threads: int) -> int:
            return int(compiled(impl, "squares")(part.start, part.stop, part.step, n_threads))

        return chunk_on_threads

    def chunk(part: range, params: None) -> int:
        return int(compiled(impl, "squares")(part.start, part.stop, part.step))

    return chunk


def chunk_numpy(part: range, params: None) -> int:
    import numpy as np  # here: the kernel module must import where NumPy cannot (subinterpreters)

    total = 0
    for first in range(part.start, part.stop, NUMPY_BLOCK * part.step):
        last = min(first + NUMPY_BLOCK * part.step, part.stop)
        i = np.arange(first, last, part.step, dtype=np.uint64)
        total += int((i * i).sum(dtype=np.uint64))  # uint64 arrays wrap modulo 2**64
    return total & MASK


def combine(partials: Sequence[int]) -> int:
    return sum(partials) & MASK


KERNEL = Kernel(
    name="squares",
    summary="sum of i*i over [0, n) mod 2**64 (the seed's example): CPU-bound, even cost",
    unit="integers",
    chunk_fns={
        "python": chunk_python,
        **{impl: chunk_compiled(impl) for impl in COMPILED_IMPLS},
        "numpy": chunk_numpy,
    },
    combine=combine,
    python_size=lambda: 2_000_000,
    native_size=lambda: 60_000_000,
    reference=reference,
)
