"""Is a difference between two sets of timings more than noise? The Mann-Whitney U test.

A rank test: it assumes no distribution of the timings (which are skewed and, on a shared
machine, often bimodal), only that the repeats are independent. As scipy's
mannwhitneyu(method="auto") does, the two-sided p-value is exact where that is cheap and
meaningful (no ties, at most EXACT_MAX_PAIRS pairs: the distribution of U counted as the
coefficients of a q-binomial, in a list of n_a * n_b + 1 integers, not by recursion), and the
normal approximation with tie and continuity correction beyond, so a comparison of files with
hundreds of repeats costs milliseconds. With 3 repeats a side no difference can reach
p < 0.05; 5 a side can.

A comparison tests many cells at once, and at p < 0.05 one cell in twenty differs by chance
alone. The p-values of one comparison are therefore adjusted by Benjamini and Hochberg's
procedure (the false discovery rate), which keeps such chance hits out while still finding a
change that shows in several cells. A lone changed cell needs p < 0.05 / cells, so more
repeats: 7 a side can reach it among 31 cells, 5 cannot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from math import comb

ALPHA = 0.05
# Beyond this many pairs (50 repeats a side), or with ties, the normal approximation.
EXACT_MAX_PAIRS = 2500


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            result[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return result


def u_statistic(a: Sequence[float], b: Sequence[float]) -> float:
    """U of sample a: pairs (x in a, y in b) with x > y, ties counting one half."""
    rank_sum = sum(ranks([*a, *b])[: len(a)])
    return rank_sum - len(a) * (len(a) + 1) / 2


@cache
def u_counts(n_a: int, n_b: int) -> tuple[int, ...]:
    """counts[u]: how many interleavings of n_a and n_b distinct values give U = u. They are
    the coefficients of the q-binomial [n_a + n_b choose n_a], built as prod (1 - q^(n-k+i)) /
    (1 - q^i) in series truncated past the degree n_a * n_b: linear memory, no recursion."""
    size = n_a * n_b + 1
    counts = [1] + [0] * (size - 1)
    k, n = min(n_a, n_b), n_a + n_b
    for i in range(1, k + 1):
        step = n - k + i
        for u in range(size - 1, step - 1, -1):  # times (1 - q^step)
            counts[u] -= counts[u - step]
        for u in range(i, size):  # divided by (1 - q^i)
            counts[u] += counts[u - i]
    return tuple(counts)


def _normal_p(u: float, values: Sequence[float], n_a: int, n_b: int) -> float:
    """Two-sided p of U by the normal approximation, with tie and continuity correction."""
    n = n_a + n_b
    tied: dict[float, int] = {}
    for value in values:
        tied[value] = tied.get(value, 0) + 1
    ties = sum(t**3 - t for t in tied.values())
    variance = n_a * n_b / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0  # every value equal: nothing to tell apart
    z = (abs(u - n_a * n_b / 2) - 0.5) / math.sqrt(variance)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


def p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value that a and b come from one distribution; 1.0 when undecidable."""
    n_a, n_b = len(a), len(b)
    if n_a == 0 or n_b == 0:
        return 1.0
    values = [*a, *b]
    u = u_statistic(a, b)
    if n_a * n_b > EXACT_MAX_PAIRS or len(set(values)) < len(values):
        return _normal_p(u, values, n_a, n_b)
    low = int(min(u, n_a * n_b - u))  # the tail nearer to zero
    return min(1.0, 2 * sum(u_counts(n_a, n_b)[: low + 1]) / comb(n_a + n_b, n_a))


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
