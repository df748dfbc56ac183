"""The kernel registry, and the one function every worker runs.

Built-in kernels are registered at import. A user's kernel is named `module:attribute` (from
`gilkit run --kernel`), or registered by an installed package under the `gilkit.kernels` entry
point group; either way a worker process that has not seen it yet imports it by that name, so
only the name crosses the process boundary, never the functions.
"""

from __future__ import annotations

import importlib
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from gilkit.kernels import io, mandelbrot, squares, triad
from gilkit.kernels.base import (
    IMPLS,
    IN_CALL_PARALLEL,
    Kernel,
    describe_impls,
    impl_unavailable_reason,
)

ENTRY_POINT_GROUP = "gilkit.kernels"

KERNELS: dict[str, Kernel] = {
    k.name: k for k in (squares.KERNEL, mandelbrot.KERNEL, triad.KERNEL, io.KERNEL)
}
SOURCES: dict[str, str] = dict.fromkeys(KERNELS, "built-in")  # name -> where it came from

__all__ = [
    "ENTRY_POINT_GROUP",
    "IMPLS",
    "IN_CALL_PARALLEL",
    "KERNELS",
    "SOURCES",
    "Kernel",
    "KernelLoadError",
    "Task",
    "describe_impls",
    "get_kernel",
    "impl_unavailable_reason",
    "load_entry_points",
    "load_kernel",
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
    if not module_name or not attribute:
        raise KernelLoadError(f"{spec!r} is not of the form module:attribute")
    if "" not in sys.path:
        sys.path.insert(0, "")  # a module beside the user, as `python -m` would find it
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise KernelLoadError(f"cannot import {module_name!r} ({error})") from error
    kernel = getattr(module, attribute, None)
    if not isinstance(kernel, Kernel):
        found = "nothing" if kernel is None else type(kernel).__name__
        raise KernelLoadError(
            f"{spec!r} is {found}, not a gilkit kernel (make one with gilkit.define_kernel)"
        )
    return _register(kernel, spec, f"module {spec}")


def load_entry_points() -> dict[str, str]:
    """Register the kernels installed packages declare; return {name: error} for failures."""
    failures = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in KERNELS:
            continue
        try:
            kernel = entry_point.load()
        except Exception as error:  # a broken plugin must not stop gilkit
            failures[entry_point.name] = f"{type(error).__name__}: {error}"
            continue
        if not isinstance(kernel, Kernel):
            failures[entry_point.name] = f"{entry_point.value} is not a gilkit kernel"
            continue
        dist = entry_point.dist.name if entry_point.dist else "?"
        _register(kernel, entry_point.name, f"entry point of {dist} ({entry_point.value})")
    return failures


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


def run_task(task: Task) -> Any:
    chunk = get_kernel(task.kernel).chunk_fns[task.impl]
    if task.impl in IN_CALL_PARALLEL:
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
