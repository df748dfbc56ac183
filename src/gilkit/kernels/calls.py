"""`calls`: a user's own function mapped over tasks, for `gilkit advise`.

Task i calls `function(inputs[i], *args, **kwargs)`, or `function(*args, **kwargs)` when there
are no inputs (`--tasks N`: N copies of one call). Inputs are taken in turn (i modulo their
number), so that any n works: the probe grows a part past the inputs to time a call long
enough. A part returns its calls' results, so that a pool which copies data moves them back as
the user's map would; `combine` keeps only their count, which every runner must reproduce
(the results themselves may not compare: arrays, objects without ==).

A process worker finds this kernel by its name, `gilkit.kernels.calls:KERNEL`, and the
function inside the params, which pickle it by reference (module and name): a function that
cannot be imported by name (a lambda, a closure) runs in threads only, and its process cells
say why.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gilkit.kernels.base import Kernel

NAME = "gilkit.kernels.calls:KERNEL"
IMPL = "call"


@dataclass(frozen=True)
class Calls:
    """What every task of a map calls; the params of the `calls` kernel."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    inputs: Sequence[Any] | None = None  # one per task, taken in turn; None: no input
    first: int = 0  # the index of inputs[0]: a part's own inputs start at its first index

    def call(self, index: int) -> Any:
        if self.inputs is None:
            return self.function(*self.args, **self.kwargs)
        return self.function(self.input(index), *self.args, **self.kwargs)

    def input(self, index: int) -> Any:
        assert self.inputs is not None
        return self.inputs[(index - self.first) % len(self.inputs)]

    def for_part(self, part: range) -> Calls:
        """These calls with only the part's own inputs: all a worker that copies them needs."""
        if self.inputs is None:
            return self
        return replace(self, inputs=[self.input(i) for i in part], first=part.start)

    def __reduce__(self) -> tuple[Callable[[bytes], Unpickled], tuple[bytes]]:
        """Travel as bytes that are unpickled at the first call, inside the task: there a
        module that cannot load in the worker (NumPy in a subinterpreter) is the task's
        error, which the runner reports, and not the pool's, which can hang it."""
        return Unpickled, (pickle.dumps(self.fields(), protocol=pickle.HIGHEST_PROTOCOL),)

    def fields(self) -> tuple[Any, ...]:
        """What travels to a worker: Calls(*fields) makes these calls again."""
        return (self.function, self.args, dict(self.kwargs), self.inputs, self.first)


class Unpickled:
    """Calls received by a worker, unpickled at their first use."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._calls: Calls | None = None

    def call(self, index: int) -> Any:
        if self._calls is None:
            self._calls = Calls(*pickle.loads(self._data))
        return self._calls.call(index)

    def __reduce__(self) -> tuple[type[Unpickled], tuple[bytes]]:
        return Unpickled, (self._data,)


def call_each(part: range, calls: Calls | Unpickled) -> list[Any]:
    """The results of the part's tasks, in order."""
    return [calls.call(i) for i in part]


def count_results(partials: Sequence[list[Any]]) -> int:
    return sum(len(results) for results in partials)


def no_calls(n: int, split: str) -> Calls:
    raise LookupError(
        f"{NAME} has no function here: gilkit.advise registers one "
        "(gilkit.kernels.calls.with_calls)"
    )


KERNEL = Kernel(
    name=NAME,
    summary="a user's function mapped over tasks (gilkit advise)",
    unit="tasks",
    chunk_fns={IMPL: call_each},
    combine=count_results,
    python_size=lambda: 1,
    native_size=lambda: 1,
    reference=lambda n: n,  # one result per task, whichever runner ran them
    make_params=no_calls,
    part_params=lambda calls, part: calls.for_part(part),
    in_default_run=False,
)


def with_calls(calls: Calls, kind: str | None = None, verdict: str | None = None) -> Kernel:
    """The kernel for these calls, to register in the process that plans: its params are
    `calls`, and `kind` is what the probe found the function does with the GIL."""
    kernel = replace(KERNEL, make_params=lambda n, split: calls)
    if kind is not None:
        kernel = kernel.with_inferred_kinds({IMPL: (kind, verdict or kind)})
    return kernel
