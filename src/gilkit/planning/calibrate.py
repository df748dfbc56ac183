"""Timing a kernel's serial call to size it (gilkit.planning.sizing), and the check that a size
asked for can finish within the limit on one call."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable, Iterable

from gilkit.engine.limits import Caller, trial_in_child
from gilkit.kernels import KERNELS, SOURCES, Kernel, Task, run_task
from gilkit.planning.values import UsageError

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


def calibrate(
    kernel: Kernel, impl: str, target_s: float, split: str, start: int
) -> tuple[int, float]:
    """Scale n by target / measured time until one call lands within 30 % of the target;
    return n and the time its call took (scaled, if the steps ran out first)."""
    n = max(1, start)
    for _ in range(MAX_STEPS):
        seconds = time_one_call(kernel, impl, n, split)
        if abs(seconds - target_s) <= 0.3 * target_s:
            return n, seconds
        growth = min(target_s / max(seconds, 1e-6), 100.0)  # bounded: no leap past the target
        n = size_for_work(kernel.work, kernel.work(n) * growth)
    return n, seconds * growth


# The probe call of check_sizes: a small part of the default n, and a limit on its time.
PROBE_FRACTION = 20
PROBE_LIMIT_S = 10.0


class SizeError(ValueError):
    """A size this machine cannot run: past the kernel's index type, memory or time limit."""


def estimate_call_s(kernel: Kernel, impl: str, n: int, split: str) -> float:
    """Seconds for one serial call at n, from a small call scaled by the work."""
    probe = max(1, min(n, kernel.default_size(impl) // PROBE_FRACTION))
    return time_one_call(kernel, impl, probe, split) * kernel.work(n) / max(kernel.work(probe), 1)


def probe_estimate(
    kernel: Kernel, impl: str, n: int, split: str, limit_s: float = PROBE_LIMIT_S
) -> float | None:
    """estimate_call_s, run like any call of a run: in a caller thread with a time limit, so
    that a kernel that hangs or fails here is left to fail its cells instead (None). A Ctrl-C
    of the user's, raised here in the waiting thread, goes on: only the kernel's own
    SystemExit or KeyboardInterrupt, caught in the caller thread, is the kernel's failure."""
    caller = Caller()
    try:
        return caller.call(lambda: _estimate_or_none(kernel, impl, n, split), limit_s)
    except Exception:
        return None
    finally:
        caller.close()


def _estimate_or_none(kernel: Kernel, impl: str, n: int, split: str) -> float | None:
    try:
        return estimate_call_s(kernel, impl, n, split)
    except (Exception, SystemExit, KeyboardInterrupt):
        return None


# How long the trial of a user's impl on a small part may take: far more than such a part
# needs; past it the impl is left to the run, whose per-call limit deals with a hang.
TRIAL_S = 2.0


def try_users_impls(
    kernels: Iterable[str], impls: Iterable[str], splits: dict[str, str], limit_s: float
) -> None:
    """Call each impl of a kernel of the user's own once, on a small part, in a forked child,
    before gilkit calls it in its own process (the sizing, the serial cells): one that
    crashes or ends its process (os._exit) would end gilkit there without a word. Raise
    UsageError naming the impl and how its call ended; a hang is left to the run's limits."""
    for name in kernels:
        kernel = KERNELS[name]
        if SOURCES.get(name) == "built-in":
            continue  # gilkit's own, tested
        for impl in (impl for impl in impls if impl in kernel.chunk_fns):
            n = max(1, kernel.default_size(impl) // PROBE_FRACTION)
            call = functools.partial(time_one_call, kernel, impl, n, splits[name])
            how = trial_in_child(call, limit_s, hang_is_fine=True)
            if how is not None:
                raise UsageError(
                    f"--kernel: {name}: its {impl} impl {how} when tried on n = {n:,} in a "
                    "process of its own; valid: impls whose calls return or raise"
                )


def check_sizes(sizes: dict[str, dict[str, int]], splits: dict[str, str], limit_s: float) -> None:
    """Raise SizeError, naming the limit, for a size past a kernel's largest n or whose serial
    call would outlast `limit_s` (the per-call limit) here."""
    for name, by_impl in sizes.items():
        kernel = KERNELS[name]
        for impl, n in by_impl.items():
            most = kernel.max_size()
            if n > most:
                why = "its index type" if most == sys.maxsize else "half of the free memory"
                raise SizeError(
                    f"{name} at n = {n:,} is past its largest n here ({why}); valid: 1 to {most:,}"
                )
            if impl not in kernel.chunk_fns or n <= kernel.default_size(impl):
                continue  # a kernel's own default sizes need no check
            seconds = probe_estimate(kernel, impl, n, splits[name])
            if seconds is not None and seconds > limit_s:
                most = size_for_work(kernel.work, kernel.work(n) * limit_s / seconds)
                raise SizeError(
                    f"{name} at n = {n:,} would take about {seconds:.3g} s per {impl} call "
                    f"here, past the {limit_s:.3g} s limit on one call (--timeout); "
                    f"n up to about {most:,} fits"
                )
