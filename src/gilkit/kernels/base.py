"""The kernel contract: impls that compute one part of [0, n), and how parts combine.

A kernel's impls are plain functions, `chunk(part, params) -> partial`, looked up by the
kernel's and the impl's names in every worker, so only names cross a process boundary. Impls
that parallelise inside one call (kind `in-call-parallel`: `cython-prange`, `numba-prange`)
take a third argument, `n_threads`. `combine` turns the partials of any split into the same
result, which every impl must reproduce exactly. What each impl is, and its kind, is in
gilkit.kernels.impls.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from gilkit.kernels.impls import IMPLS, IN_CALL, KINDS, build_facts
from gilkit.model.facts import ideal_rule

# A name the command line can list: `--impl a,b` (no commas, no spaces).
IMPL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")

Partial = Any
ChunkFn = Callable[..., Partial]


class KernelParamsError(RuntimeError):
    """A kernel's params function raised: the user's error, which the CLI says in one line."""


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
    # The largest n the kernel's index type (Py_ssize_t in the compiled impls) or this
    # machine's memory allows: larger sizes are refused before anything is made.
    max_size: Callable[[], int] = field(default=lambda: sys.maxsize)
    # Units of work in a call of size n, for throughput (n for linear kernels).
    work: Callable[[int], float] = field(default=lambda n: float(n))
    # The exact result for size n, where a closed form exists (tests and cross-checks).
    reference: Callable[[int], Any] | None = None
    make_params: Callable[[int, str], Any] = field(default=lambda n, split: None)
    # Shared data a kernel needs for size n, as a context manager yielding the params.
    prepare: Callable[[int, str], AbstractContextManager[Any]] | None = None
    # The params one part needs, where they hold an item per index (a user's inputs): a pool
    # that copies its tasks then moves each part's own items only, as the user's map would.
    part_params: Callable[[Any, range], Any] | None = None
    splits: tuple[str, ...] = ("contiguous",)  # the first is the default
    rel_tol: float = 0.0  # impls must agree exactly unless a kernel states a tolerance
    # Coroutine impls, `async chunk(part, params)`, for the asyncio runner.
    async_chunk_fns: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # What limits one worker: "cpu", "memory" (bandwidth) or "io" (waiting). It decides the
    # ideal speedup: busy work cannot beat one worker per cpu; waiting can (ideal = workers).
    bound: str = "cpu"
    # The params for workers on other hosts, where the usual ones cannot reach (this host's
    # shared memory, a server on its 127.0.0.1): the data is made there, by the same rule.
    params_elsewhere: Callable[[Any], Any] | None = None
    # What the run should say about a call of size n where it is not what n suggests (triad:
    # arrays held within a memory budget, passed over again), or None.
    memory_note: Callable[[int], str | None] = field(default=lambda n: None)
    in_default_run: bool = True
    # Worker counts when none are asked for: None means gilkit.model.plan.default_workers.
    default_workers: Callable[[int], list[int]] | None = None
    # The kinds of impls the kernel names itself (not built-in impls): given to define_kernel,
    # or inferred with gilkit's probe (gilkit.gil.kinds), then `inferred` holds its verdict.
    impl_kinds: Mapping[str, str] = field(default_factory=dict)
    inferred: Mapping[str, str] = field(default_factory=dict)  # impl -> the probe's verdict

    def renamed(self, name: str) -> Kernel:
        return replace(self, name=name)

    def with_inferred_kinds(self, kinds: Mapping[str, tuple[str, str]]) -> Kernel:
        """This kernel, with kinds inferred for some of its impls: {impl: (kind, verdict)}."""
        return replace(
            self,
            impl_kinds={**self.impl_kinds, **{impl: kind for impl, (kind, _) in kinds.items()}},
            inferred={**self.inferred, **{impl: note for impl, (_, note) in kinds.items()}},
        )

    def kind_of(self, impl: str) -> str:
        """What the impl does with the GIL (gilkit.kernels.impls.KINDS)."""
        if impl in IMPLS:
            return IMPLS[impl].kind
        return self.impl_kinds.get(impl, "unknown")

    def in_call_parallel(self, impl: str) -> bool:
        """Whether the impl parallelises inside one call: chunk(part, params, n_threads)."""
        return self.kind_of(impl) == IN_CALL

    def default_size(self, impl: str) -> int:
        return self.python_size() if impl == "python" else self.native_size()

    def params_for(self, n: int, split: str) -> AbstractContextManager[Any]:
        if self.prepare is not None:
            return self.prepare(n, split)
        try:
            return nullcontext(self.make_params(n, split))
        except Exception as error:  # a user's params function: its error, not a traceback
            raise KernelParamsError(
                f"{self.name!r}: its params function raised {type(error).__name__}: {error} "
                f"(n={n}, split {split!r})"
            ) from error

    @property
    def impls(self) -> tuple[str, ...]:
        """Built-in impls in table order, then the kernel's own."""
        built_in = tuple(impl for impl in IMPLS if impl in self.chunk_fns)
        return built_in + tuple(impl for impl in self.chunk_fns if impl not in IMPLS)

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


def describe_impls(impls: Iterable[str], kernels: Iterable[Kernel] = ()) -> dict[str, Any]:
    """The impls a run used, in table order, as a result file records them: what each is, its
    kind and where that came from, whether it is parallel inside one call. An impl that is not
    built in is described from the first of `kernels` that has it."""
    kernels = list(kernels)
    impls = list(dict.fromkeys(impls))
    built_in = [impl for impl in IMPLS if impl in impls]  # in table order; the others as given
    described = {}
    for impl in [*built_in, *(impl for impl in impls if impl not in IMPLS)]:
        if impl in IMPLS:
            found = IMPLS[impl]
            facts = {"what": found.what, "kind": found.kind, "kind_from": "gilkit"}
            facts.update(family=found.family, **build_facts(impl))
            if found.threads:
                facts["threads"] = found.threads
        else:
            owner = next((k for k in kernels if impl in k.chunk_fns), None)
            facts = _describe_own_impl(impl, owner)
        described[impl] = {**facts, "in_call_parallel": facts["kind"] == IN_CALL}
    return described


def _describe_own_impl(impl: str, kernel: Kernel | None) -> dict[str, Any]:
    """A user's impl: its kind, and whether the kernel gave it or the probe inferred it."""
    if kernel is None:
        return {"what": "an impl of a user's kernel", "kind": "unknown", "kind_from": None}
    kind = kernel.kind_of(impl)
    if impl in kernel.inferred:
        kind_from: str | None = "probe"
        what = f"an impl of {kernel.name}; gilkit's probe: {kernel.inferred[impl]}"
    else:
        kind_from = "kernel" if kind != "unknown" else None
        what = f"an impl of {kernel.name}: {KINDS[kind]}"
    return {"what": what, "kind": kind, "kind_from": kind_from}


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
    kinds: Mapping[str, str] | None = None,
) -> Kernel:
    """A kernel from plain functions, for `gilkit run --kernel module:attribute`.

    `impls` maps impl names to `chunk(part, params)` functions that compute one part of
    [0, n); `combine` turns the parts' results into the result every impl must agree on. An
    impl may take a built-in name (python, numpy, cython-nogil, ...: the built-in's kind) or a
    name of your own (letters, digits and `_.+-`). `kinds` says what your own impls do with the
    GIL: {"c-nogil": "releases"}, one of python, holds, releases, in-call-parallel (then
    `chunk(part, params, n_threads)`) and vectorized; `gilkit run` infers the kind of the
    others with gilkit's probe. `params` is passed to every chunk: a value, or a function
    `(n, split) -> params` (it must pickle, for the process runner). `size` is the default n,
    `python_size` a smaller one for the python impl if it is much slower.
    """
    if not impls:
        raise ValueError(f"kernel {name!r} has no impls; valid: {', '.join(IMPLS)} or your own")
    bad = [impl for impl in impls if not isinstance(impl, str) or not IMPL_NAME.fullmatch(impl)]
    if bad:
        raise ValueError(
            f"bad impl name(s) {bad}; valid: letters, digits and _.+- (no commas or spaces), "
            f"e.g. {', '.join(IMPLS)} or c-nogil"
        )
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
        impl_kinds=check_kinds(kinds or {}, impls),
    )


def check_kinds(kinds: Mapping[str, str], impls: Iterable[str]) -> dict[str, str]:
    """`kinds` if it gives valid kinds to impls of the kernel's own naming, else ValueError."""
    valid = [kind for kind in KINDS if kind != "unknown"]
    for impl, kind in kinds.items():
        if impl in IMPLS:
            raise ValueError(
                f"kinds: {impl!r} is a built-in impl, of kind {IMPLS[impl].kind!r}; valid: "
                "kinds for impls of your own naming"
            )
        if impl not in impls:
            raise ValueError(f"kinds: {impl!r} is not an impl of this kernel; valid: {list(impls)}")
        if kind not in valid:
            raise ValueError(f"kinds: {impl!r} has kind {kind!r}; valid: {', '.join(valid)}")
    return dict(kinds)
