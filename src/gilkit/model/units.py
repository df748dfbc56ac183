"""One place for units: durations, ratios, shares, memory, worker counts.

Every table, report, plot title, claim and probe line formats its figures through these, so a
figure reads the same wherever it is shown (pyperf's _formatter). Labels that need a result
file (the interpreter line, runner labels) are gilkit.present.formatting's.
"""

from __future__ import annotations

import math

DASH = "–"  # a figure that was not measured


def format_seconds(seconds: float | None) -> str:
    """A duration in ns, µs, ms or s, three significant figures at most; never `0.0 ms`."""
    if seconds is None:
        return DASH
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    if seconds >= 1e-6:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e9:.0f} ns"


def plural(count: int, noun: str) -> str:
    """`1 task`, `2 tasks`, `1,000 tasks`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def format_wall(seconds: float) -> str:
    """A run's or a step's time: whole seconds from 10 s, finer below (a short run read `0 s`)."""
    return f"{seconds:.0f} s" if seconds >= 10 else format_seconds(seconds)


def format_ratio(ratio: float | None) -> str:
    """A speedup or a cost ratio: two decimals where they matter, none where they are noise;
    `∞×` for a thread that never ran."""
    if ratio is None:
        return DASH
    if math.isinf(ratio):
        return "∞×"
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    return f"{ratio:.1f}×" if ratio >= 10 else f"{ratio:.2f}×"


def format_change(ratio: float, than: str = "") -> str:
    """A time over another's: `1.20× slower`, `2.00× faster`, `∞× slower`, or `as fast` where
    the two round alike (not `1.00× slower`, nor `0.98× slower`); `than X` where a sentence
    needs it."""
    if f"{ratio:.2f}" == "1.00":
        return f"as fast as {than}" if than else "as fast"
    faster = 1 / ratio if ratio > 0 else math.inf
    change = f"{format_ratio(faster)} faster" if ratio < 1 else f"{format_ratio(ratio)} slower"
    return f"{change} than {than}" if than else change


def format_percent(fraction: float | None) -> str:
    return DASH if fraction is None else f"{fraction:.0%}"


def format_bytes(n_bytes: float | None) -> str:
    """A memory size in bytes, KiB or MiB."""
    if n_bytes is None:
        return DASH
    if abs(n_bytes) >= 2**20:
        return f"{n_bytes / 2**20:.1f} MiB"
    if abs(n_bytes) < 2**10:
        return f"{n_bytes:.0f} B"
    return f"{n_bytes / 2**10:.0f} KiB"


def format_workers(n_workers: int) -> str:
    return f"{n_workers} worker" if n_workers == 1 else f"{n_workers} workers"
