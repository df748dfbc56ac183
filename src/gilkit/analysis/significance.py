"""Is a difference between two sets of timings more than noise? The Mann-Whitney U test.

A rank test: it assumes no distribution of the timings (which are skewed and, on a shared
machine, often bimodal), only that the repeats are independent. The two-sided p-value is exact,
by counting the orderings of the two samples, which is cheap for the handful of repeats a
benchmark has. With 3 repeats a side no difference can reach p < 0.05; 5 a side can.

A comparison tests many cells at once, and at p < 0.05 one cell in twenty differs by chance
alone. The p-values of one comparison are therefore adjusted by Benjamini and Hochberg's
procedure (the false discovery rate), which keeps such chance hits out while still finding a
change that shows in several cells. A lone changed cell needs p < 0.05 / cells, so more
repeats: 7 a side can reach it among 31 cells, 5 cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from math import comb

ALPHA = 0.05


def u_statistic(a: Sequence[float], b: Sequence[float]) -> float:
    """U of sample a: pairs (x in a, y in b) with x > y, ties counting one half."""
    return sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)


@cache
def _n_orderings(n_a: int, n_b: int, u: int) -> int:
    """How many interleavings of n_a and n_b values give U exactly u."""
    if u < 0 or u > n_a * n_b:
        return 0
    if n_a == 0 or n_b == 0:
        return 1 if u == 0 else 0
    # The largest value is either from a (beating all n_b of b) or from b (beating nothing).
    return _n_orderings(n_a - 1, n_b, u - n_b) + _n_orderings(n_a, n_b - 1, u)


def p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value that a and b come from one distribution; 1.0 when undecidable."""
    n_a, n_b = len(a), len(b)
    if n_a == 0 or n_b == 0:
        return 1.0
    u = u_statistic(a, b)
    low = min(u, n_a * n_b - u)  # the tail nearer to zero
    tail = sum(_n_orderings(n_a, n_b, k) for k in range(int(low) + 1))
    return min(1.0, 2 * tail / comb(n_a + n_b, n_a))


def significant(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> bool:
    return p_value(a, b) < alpha


def adjusted(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg q-values, in the given order: significant where q < ALPHA."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):  # from the largest p down, keeping q monotone
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = min(1.0, running)
    return q


def smallest_p(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value that n_a and n_b repeats can give: complete separation."""
    return min(1.0, 2 / comb(n_a + n_b, n_a)) if n_a and n_b else 1.0


def repeats_needed(n_cells: int) -> int:
    """Repeats a side with which a change in one cell of n_cells can show once adjusted."""
    n = 2
    while smallest_p(n, n) * n_cells >= ALPHA:
        n += 1
    return n


def sign_test_p(n_faster: int, n_slower: int) -> float:
    """Two-sided exact sign test: are the cells of a kernel faster in one run than chance?

    Cells of one run share the machine's state, so a small p here says that the runs as a
    whole differ, by a change in the code or in the machine, not that each cell does.
    """
    n = n_faster + n_slower
    if n == 0:
        return 1.0
    extreme = max(n_faster, n_slower)
    tail: int = sum(comb(n, k) for k in range(extreme, n + 1))
    return min(1.0, 2 * tail / (1 << n))
