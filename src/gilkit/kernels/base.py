"""The kernel contract: impls that compute one part of [0, n), and how parts combine.

A kernel's impls are plain module-level functions, `chunk(part, params) -> partial`, so the
process runner can send them by name. Impls that parallelise inside one call (`cython-prange`)
take a third argument, `n_threads`. `combine` turns the partials of any split into the same
result, which every impl must reproduce exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from gilkit import native
from gilkit.stats import ideal_rule

# impl -> what it shows. Order is the order of the tables.
IMPLS: Mapping[str, str] = {
    "python": "pure-Python loops: holds the GIL, the baseline",
    "cython": "compiled and typed, GIL held for the whole call: the control",
    "cython-nogil": "the same compiled core inside `with nogil:`",
    "cython-prange": "the same core over OpenMP threads inside one call (prange)",
    "numpy": "vectorized NumPy: releases the GIL inside large enough array operations",
}

# Impls that are parallel inside one call: run by the serial runner, workers = OpenMP threads.
IN_CALL_PARALLEL = frozenset({"cython-prange"})

_NATIVE_MODULE = {"cython": "_native", "cython-nogil": "_native", "cython-prange": "_prange"}


def impl_unavailable_reason(impl: str) -> str | None:
    """None when `impl` can run in this installation, else why not."""
    module = _NATIVE_MODULE.get(impl)
    return native.unavailable_reason(module) if module else None


Partial = Any
ChunkFn = Callable[..., Partial]


@dataclass(frozen=True)
class Kernel:
    name: str
    summary: str
    unit: str  # what one index of [0, n) is: "integers", "rows", "elements"
    chunk_fns: Mapping[str, ChunkFn]
    combine: Callable[[Sequence[Partial]], Any]
    # Default n for pure Python, and for the compiled and NumPy impls, which run 10-100x
    # faster: at one n, either Python takes minutes or compiled calls last a millisecond,
    # too short for a thread pool to pay off. Speedups across sizes compare throughput.
    python_size: Callable[[], int]
    native_size: Callable[[], int]
    # The least n for compiled impls that `--size auto` may choose (triad: past the cache).
    native_floor: Callable[[], int] = field(default=lambda: 1)
    # Units of work in a call of size n, for throughput (n for linear kernels).
    work: Callable[[int], float] = field(default=lambda n: float(n))
    # The exact result for size n, where a closed form exists (tests and cross-checks).
    reference: Callable[[int], Any] | None = None
    make_params: Callable[[int, str], Any] = field(default=lambda n, split: None)
    # Shared data a kernel needs for size n, as a context manager yielding the params.
    prepare: Callable[[int, str], AbstractContextManager[Any]] | None = None
    splits: tuple[str, ...] = ("contiguous",)  # the first is the default
    rel_tol: float = 0.0  # impls must agree exactly unless a kernel states a tolerance
    # Coroutine impls, `async chunk(part, params)`, for the asyncio runner.
    async_chunk_fns: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # What limits one worker: "cpu", "memory" (bandwidth) or "io" (waiting). It decides the
    # ideal speedup: busy work cannot beat one worker per cpu; waiting can (ideal = workers).
    bound: str = "cpu"
    # Why its params reach only workers on this host (a server on 127.0.0.1, this host's
    # shared memory), or None: a Dask cluster's workers elsewhere cannot run it.
    needs_this_host: str | None = None
    in_default_run: bool = True
    # Worker counts when none are asked for: None means gilkit.plan.default_workers.
    default_workers: Callable[[int], list[int]] | None = None

    def renamed(self, name: str) -> Kernel:
        return replace(self, name=name)

    def default_size(self, impl: str) -> int:
        return self.python_size() if impl == "python" else self.native_size()

    def params_for(self, n: int, split: str) -> AbstractContextManager[Any]:
        if self.prepare is not None:
            return self.prepare(n, split)
        return nullcontext(self.make_params(n, split))

    @property
    def impls(self) -> tuple[str, ...]:
        return tuple(impl for impl in IMPLS if impl in self.chunk_fns)

    def describe(self, sizes: Iterable[int]) -> dict[str, Any]:
        """What a result file needs to be read without this kernel: its unit, what bounds
        it and so its ideal speedup, and the units of work in a call of each size run."""
        return {
            "summary": self.summary,
            "unit": self.unit,
            "bound": self.bound,
            "ideal": ideal_rule(self.bound),
            "work": {str(n): self.work(n) for n in sorted(sizes)},
            "rel_tol": self.rel_tol,
        }


def describe_impls(impls: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The impls a run used, in table order, as a result file records them."""
    order = {impl: index for index, impl in enumerate(IMPLS)}
    return {
        impl: {"what": IMPLS.get(impl, impl), "in_call_parallel": impl in IN_CALL_PARALLEL}
        for impl in sorted(set(impls), key=lambda impl: (order.get(impl, len(order)), impl))
    }


def define_kernel(
    name: str,
    impls: Mapping[str, ChunkFn],
    *,
    size: int,
    python_size: int | None = None,
    combine: Callable[[Sequence[Partial]], Any] = sum,
    params: Any = None,
    splits: tuple[str, ...] = ("contiguous",),
    rel_tol: float = 0.0,
    unit: str = "items",
    summary: str = "",
) -> Kernel:
    """A kernel from plain functions, for `gilkit run --kernel module:attribute`.

    `impls` maps impl names (python, numpy, cython, cython-nogil) to `chunk(part, params)`
    functions that compute one part of [0, n); `combine` turns the parts' results into the
    result every impl must agree on. `params` is passed to every chunk: a value, or a function
    `(n, split) -> params` (it must pickle, for the process runner). `size` is the default n,
    `python_size` a smaller one for the python impl if it is much slower.
    """
    unknown = sorted(set(impls) - set(IMPLS))
    if unknown:
        raise ValueError(f"unknown impl name(s) {unknown}; valid: {', '.join(IMPLS)}")
    if not impls:
        raise ValueError(f"kernel {name!r} has no impls; valid: {', '.join(IMPLS)}")
    if size < 1 or (python_size is not None and python_size < 1):
        raise ValueError(f"sizes must be >= 1, got size={size!r}, python_size={python_size!r}")
    make_params = params if callable(params) else (lambda n, split: params)
    return Kernel(
        name=name,
        summary=summary or name,
        unit=unit,
        chunk_fns=dict(impls),
        combine=combine,
        python_size=lambda: python_size or size,
        native_size=lambda: size,
        make_params=make_params,
        splits=splits,
        rel_tol=rel_tol,
    )
