"""`--size auto`: pick each kernel's n so that one serial call takes a target time here.

Pure Python is sized to TARGET_PYTHON_S (long enough to swamp timer and scheduling noise,
short enough for a matrix of a minute); the other impls share one n sized for the fastest
compiled impl to take TARGET_NATIVE_S, never below the kernel's floor (for triad: arrays
larger than the cache).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gilkit.kernels import KERNELS, Kernel, Task, run_task

TARGET_PYTHON_S = 0.3
TARGET_NATIVE_S = 0.05
MAX_STEPS = 8


def time_one_call(kernel: Kernel, impl: str, n: int, split: str) -> float:
    """Best of two serial calls over [0, n)."""
    with kernel.params_for(n, split) as params:
        extra = (1,) if kernel.in_call_parallel(impl) else ()
        task = Task(kernel.name, impl, range(n), params, *extra)
        best = float("inf")
        for _ in range(2):
            began = time.perf_counter()
            run_task(task)
            best = min(best, time.perf_counter() - began)
    return best


def size_for_work(work: Callable[[int], float], goal: float) -> int:
    """The smallest n whose work reaches `goal` units (work grows with n)."""
    low, high = 1, 2
    while work(high) < goal:
        low, high = high, high * 2
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if work(middle) < goal else (low, middle)
    return low


def calibrate(kernel: Kernel, impl: str, target_s: float, split: str, start: int) -> int:
    """Scale n by target / measured time until one call lands within 30 % of the target."""
    n = max(1, start)
    for _ in range(MAX_STEPS):
        seconds = time_one_call(kernel, impl, n, split)
        if abs(seconds - target_s) <= 0.3 * target_s:
            break
        growth = min(target_s / max(seconds, 1e-6), 100.0)  # bounded: no leap past the target
        n = size_for_work(kernel.work, kernel.work(n) * growth)
    return n


def calibrated_sizes(
    kernel_names: list[str], impls: list[str], splits: dict[str, str]
) -> dict[str, dict[str, int]]:
    sizes: dict[str, dict[str, int]] = {}
    for name in kernel_names:
        kernel = KERNELS[name]
        chosen = sizes.setdefault(name, {})
        others = [i for i in impls if i != "python" and i in kernel.chunk_fns]
        if "python" in impls:
            start = max(1, kernel.python_size() // 10)
            chosen["python"] = calibrate(kernel, "python", TARGET_PYTHON_S, splits[name], start)
        if others:
            fastest = "cython-nogil" if "cython-nogil" in others else others[0]
            n = calibrate(
                kernel, fastest, TARGET_NATIVE_S, splits[name], max(1, kernel.native_size() // 10)
            )
            chosen.update(dict.fromkeys(others, max(n, kernel.native_floor())))
    return sizes
