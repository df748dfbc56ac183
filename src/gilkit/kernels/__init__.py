"""The kernel registry, and the one function every worker runs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gilkit.kernels import mandelbrot, squares, triad
from gilkit.kernels.base import IMPLS, IN_CALL_PARALLEL, Kernel, impl_unavailable_reason

KERNELS: dict[str, Kernel] = {k.name: k for k in (squares.KERNEL, mandelbrot.KERNEL, triad.KERNEL)}

__all__ = [
    "IMPLS",
    "IN_CALL_PARALLEL",
    "KERNELS",
    "Kernel",
    "Task",
    "impl_unavailable_reason",
    "run_task",
    "run_task_counting_cpu",
]


@dataclass(frozen=True)
class Task:
    """One part of one cell: small and picklable, so process workers look the code up by name."""

    kernel: str
    impl: str
    part: range
    params: Any
    n_threads: int = 1


def run_task(task: Task) -> Any:
    chunk = KERNELS[task.kernel].chunk_fns[task.impl]
    if task.impl in IN_CALL_PARALLEL:
        return chunk(task.part, task.params, task.n_threads)
    return chunk(task.part, task.params)


def run_task_counting_cpu(task: Task) -> tuple[Any, float]:
    """run_task in a worker process, with the CPU seconds that process spent on it."""
    began = time.process_time()
    partial = run_task(task)
    return partial, time.process_time() - began
