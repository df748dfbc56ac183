"""A cell: one (kernel, impl, runner, workers) combination at one size n, the unit of the matrix.

Plain data that every layer shares: plans are made of cells, runs measure them, results
record them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Cell:
    kernel: str
    impl: str
    runner: str
    n_workers: int
    size: int

    @property
    def label(self) -> str:
        return label(self.kernel, self.impl, self.runner, self.n_workers)


def label(kernel: str, impl: str, runner: str, n_workers: int) -> str:
    """How a cell is named in every message and table: `squares python × threads × 2`."""
    return f"{kernel} {impl} × {runner} × {n_workers}"
