"""The kernel registry, and the one function every worker runs.

Built-in kernels are registered at import. A user's kernel is named `module:attribute` (from
`gilkit run --kernel`), or registered by an installed package under the `gilkit.kernels` entry
point group; either way a worker process that has not seen it yet imports it by that name, so
only the name crosses the process boundary, never the functions.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from gilkit.host import extensions as compiled
from gilkit.host.plugins import load_plugins
from gilkit.kernels import io, mandelbrot, squares, triad
from gilkit.kernels.base import Kernel, KernelParamsError, describe_impls
from gilkit.kernels.impls import (
    FAMILIES,
    IMPLS,
    IN_CALL_PARALLEL,
    KINDS,
    Impl,
    impl_unavailable_reason,
)

ENTRY_POINT_GROUP = "gilkit.kernels"

KERNELS: dict[str, Kernel] = {
    k.name: k for k in (squares.KERNEL, mandelbrot.KERNEL, triad.KERNEL, io.KERNEL)
}
SOURCES: dict[str, str] = dict.fromkeys(KERNELS, "built-in")  # name -> where it came from

__all__ = [
    "ENTRY_POINT_GROUP",
    "FAMILIES",
    "IMPLS",
    "IN_CALL_PARALLEL",
    "KERNELS",
    "KINDS",
    "SOURCES",
    "Impl",
    "Kernel",
    "KernelLoadError",
    "KernelParamsError",
    "Task",
    "describe_impls",
    "get_kernel",
    "impl_unavailable_reason",
    "load_entry_points",
    "load_kernel",
    "make_ready",
    "register",
    "register_inferred_kinds",
    "run_task",
    "run_task_async",
    "run_task_counting_cpu",
    "run_task_counting_thread_cpu",
]


class KernelLoadError(LookupError):
    """A user's kernel could not be found or is not a gilkit Kernel; the message says why."""


def load_kernel(spec: str) -> Kernel:
    """Import `module:attribute` (the current directory included) and register its kernel.

    The kernel is registered under the spec itself, so that workers can import it again.
    """
    if spec in KERNELS:
        return KERNELS[spec]
    module_name, _, attribute = spec.partition(":")
    dotted = module_name.split(".")
    if not all(part.isidentifier() for part in [*dotted, attribute]):
        raise KernelLoadError(
            f"{spec!r} is not of the form module:attribute (a dotted module name, then the "
            "name of its kernel)"
        )
    if "" not in sys.path:
        sys.path.insert(0, "")  # a module beside the user, as `python -m` would find it
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise KernelLoadError(f"cannot import {module_name!r} ({error})") from error
    except (Exception, SystemExit, KeyboardInterrupt) as error:
        # A user's module that raises, calls sys.exit() or is interrupted while importing:
        # one line naming what it did, not a traceback, and not gilkit's own exit.
        raise KernelLoadError(f"importing {module_name!r} {_what_it_did(error)}") from None
    if not hasattr(module, attribute):
        raise KernelLoadError(f"{module_name!r} has no attribute {attribute!r}")
    kernel = getattr(module, attribute)
    if not isinstance(kernel, Kernel):
        raise KernelLoadError(
            f"{spec!r} is {type(kernel).__name__}, not a gilkit kernel (make one with "
            "gilkit.define_kernel)"
        )
    return _register(kernel, spec, f"module {spec}")


def _what_it_did(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})"
    if isinstance(error, KeyboardInterrupt):
        return "was interrupted (KeyboardInterrupt)"
    return f"raised {type(error).__name__}: {error}"


def load_entry_points() -> dict[str, str]:
    """Register the kernels installed packages declare; return {name: why it failed to load}."""

    def problem(found: object) -> str | None:
        if isinstance(found, Kernel):
            return None
        return f"is {type(found).__name__}, not a gilkit kernel"

    loaded, failures = load_plugins(ENTRY_POINT_GROUP, KERNELS, problem)
    for name, (kernel, where) in loaded.items():
        _register(cast(Kernel, kernel), name, where)
    return failures


def register(kernel: Kernel, name: str, source: str) -> Kernel:
    """Register `kernel` under `name` in this process (threads and subinterpreters-free runs
    find it by name); `source` says where it came from (`gilkit list`)."""
    return _register(kernel, name, source)


def _register(kernel: Kernel, name: str, source: str) -> Kernel:
    if kernel.name != name:
        kernel = kernel.renamed(name)
    KERNELS[name] = kernel
    SOURCES[name] = source
    return kernel


def get_kernel(name: str) -> Kernel:
    """The kernel called `name`, loading it here first if this worker has not seen it."""
    if name not in KERNELS:
        if ":" in name:
            load_kernel(name)
        else:
            load_entry_points()
    return KERNELS[name]


@dataclass(frozen=True)
class Task:
    """One part of one cell: small and picklable, so process workers look the code up by name."""

    kernel: str
    impl: str
    part: range
    params: Any
    n_threads: int = 1


def register_inferred_kinds(name: str, kinds: dict[str, tuple[str, str]]) -> Kernel:
    """Record kinds inferred for kernel `name`'s own impls: {impl: (kind, the probe's verdict)}."""
    kernel = KERNELS[name].with_inferred_kinds(kinds)
    KERNELS[name] = kernel
    return kernel


def make_ready(impls: Iterable[str]) -> None:
    """Load what the impls need, here: import their compiled modules, and so compile the Numba
    ones, before anything is timed. gilkit.engine.session calls it in the process that runs the
    plan and in every worker process (an impl that cannot load fails its cells later, with the
    reason)."""
    for impl in dict.fromkeys(impls):
        found = IMPLS.get(impl)
        if found is not None and found.module is not None and not impl_unavailable_reason(impl):
            # Whatever fails here fails again, and is recorded, in the impl's first call.
            with contextlib.suppress(Exception):
                compiled.module(found.module)


def run_task(task: Task) -> Any:
    kernel = get_kernel(task.kernel)
    chunk = kernel.chunk_fns[task.impl]
    if kernel.in_call_parallel(task.impl):
        return chunk(task.part, task.params, task.n_threads)
    return chunk(task.part, task.params)


async def run_task_async(task: Task) -> Any:
    """run_task for the asyncio runner: the kernel's coroutine impl."""
    return await get_kernel(task.kernel).async_chunk_fns[task.impl](task.part, task.params)


def run_task_counting_cpu(task: Task) -> tuple[Any, float]:
    """run_task in a worker process, with the CPU seconds that process spent on it."""
    began = time.process_time()
    partial = run_task(task)
    return partial, time.process_time() - began


def run_task_counting_thread_cpu(task: Task) -> tuple[Any, float]:
    """run_task in a worker thread of a worker process, with the CPU seconds of its thread:
    the process's would count its sibling threads' work too (dask-threads)."""
    began = time.thread_time()
    partial = run_task(task)
    return partial, time.thread_time() - began
