"""What this machine gives N busy workers that share nothing: its capacity, measured first.

The ideal speedup, min(workers, usable cpus), assumes that N busy cpus each run as fast as
one. A virtual machine's often do not (turbo budgets, the host's other tenants, hyperthread
siblings), and memory bandwidth stops growing long before the cpus run out. Before the matrix,
N threads each run a compiled loop inside `with nogil:` on work of their own, with no pool and
nothing shared: N times one thread's time over their time together is the most that N workers
can give here. A cell's speedup over that is the part the strategy itself lost.

Two loops, one per bound: the sum of squares for cpu-bound kernels (pure arithmetic, no
memory traffic), and the STREAM triad over arrays past the last-level cache for memory-bound
ones. Only raw times are recorded; gilkit.analysis.stats computes the capacity when a file is read.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from gilkit.host import extensions as compiled
from gilkit.host.cpus import last_level_cache_bytes, usable_cpus

CALL_S = 0.05  # one loop alone: long enough for thread start-up to vanish, short overall
N_ROUNDS = 3  # per worker count, interleaved across counts so drift hits them alike
LOOPS = {"compute": "squares_nogil", "memory": "triad_nogil"}


def measure_capacity(worker_counts: Iterable[int], cpus: int | None = None) -> dict[str, Any]:
    """Raw times of 1..N concurrent loops per loop kind, or why they could not be measured.
    N goes up to the usable cpus only: more busy threads than cpus measure nothing new (the
    cpus' capacity, shared), and 1,024 of them would take long to learn it."""
    reason = compiled.unavailable_reason("_native")
    if reason is not None:
        return {"unavailable": reason}
    module = compiled.module("_native")
    most = usable_cpus() if cpus is None else cpus
    counts = sorted({1, *(min(n, most) for n in worker_counts)})
    return {
        "compute": _times(counts, _compute_loop(module)),
        "memory": _times(counts, _memory_loop(module, max(counts))),
    }


Loop = Callable[[int], None]  # run the loop once, as worker number i


def _times(counts: list[int], loop: Loop) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {str(n): [] for n in counts}
    for _ in range(N_ROUNDS):
        for n in counts:
            times[str(n)].append(_together(loop, n))
    return times


def _together(loop: Loop, n: int) -> float:
    """Wall time of n threads each running the loop once, from a common start."""
    barrier = threading.Barrier(n + 1)

    def worker(i: int) -> None:
        barrier.wait()
        loop(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def _compute_loop(module: Any) -> Loop:
    """squares_nogil over a range sized to take CALL_S alone."""
    n = 1_000_000
    while (took := _timed(partial(module.squares_nogil, 0, n))) < CALL_S / 4:
        n *= 4
    n = math.ceil(n * CALL_S / took)
    return lambda i: module.squares_nogil(0, n)


def _memory_loop(module: Any, most: int) -> Loop:
    """Passes of triad_nogil over arrays 4x the cache, each worker writing its own `a`."""
    import numpy as np  # a dependency, but only this loop needs it here

    n = max(1_000_000, 4 * last_level_cache_bytes() // (3 * 8))
    b, c = np.arange(n, dtype=np.float64), np.ones(n)
    outputs = [np.empty(n) for _ in range(most)]
    for a in outputs:  # the first pass over an array also maps its pages: not bandwidth
        module.triad_nogil(a, b, c, 3.0)
    passes = max(1, math.ceil(CALL_S / _timed(lambda: module.triad_nogil(outputs[0], b, c, 3.0))))

    def loop(i: int) -> None:
        for _ in range(passes):
            module.triad_nogil(outputs[i], b, c, 3.0)

    return loop


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began
