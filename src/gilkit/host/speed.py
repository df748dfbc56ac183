"""How fast this machine runs right now: a fixed pure-Python loop, timed before every call.

On a virtual or shared machine the host can change a cpu's speed by up to 2x for seconds at a
time (another tenant on the sibling hyperthread, a power or thermal limit), and neither the
governor, the load average nor steal time shows it. Timed before every call, the same small
loop shows when the machine itself changed speed: a noisy cell can then be told apart from
noisy work, and a comparison of two runs can say how much of a difference the machine made.
The loop costs about a millisecond per call and runs while every pool is idle; what the times
say about a run is gilkit.analysis.machine_speed's.
"""

from __future__ import annotations

import time

REFERENCE_ITERATIONS = 10_000


def reference_loop(n: int = REFERENCE_ITERATIONS) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def time_reference() -> float:
    """Seconds for the reference loop: the best of two, so one interrupt does not count."""
    best = float("inf")
    for _ in range(2):
        began = time.perf_counter()
        reference_loop()
        best = min(best, time.perf_counter() - began)
    return best
