"""How an index space [0, n) is cut into parts, one part per worker.

`contiguous` is the seed's advice ("split the data into equal parts"); `interleaved` deals
indices out round-robin, which balances work whose cost varies along the index (Mandelbrot rows).
"""

from __future__ import annotations

SPLITS = ("contiguous", "interleaved")


def split(n: int, n_parts: int, how: str = "contiguous") -> list[range]:
    """`n_parts` ranges that together cover range(n) once; sizes differ by at most one."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    if n_parts < 1:
        raise ValueError(f"n_parts must be >= 1, got {n_parts!r}")
    if how == "interleaved":
        return [range(k, n, n_parts) for k in range(n_parts)]
    if how != "contiguous":
        raise ValueError(f"unknown split {how!r}; valid: {', '.join(SPLITS)}")
    base, extra = divmod(n, n_parts)
    bounds = [k * base + min(k, extra) for k in range(n_parts + 1)]
    return [range(bounds[k], bounds[k + 1]) for k in range(n_parts)]
