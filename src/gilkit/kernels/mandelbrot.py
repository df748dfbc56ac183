"""`mandelbrot`: escape-time counts over a grid, one index per row.

Rows through the set cost up to `max_iter` iterations a pixel, rows far from it a few, so a
contiguous split gives some workers far more work than others; the interleaved split deals rows
round-robin. Every impl performs the same floating-point operations in the same order (the C
build forbids fused multiply-add), so the total count agrees exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gilkit.kernels.base import ChunkFn, Kernel
from gilkit.kernels.impls import COMPILED_IMPLS, IMPLS, compiled

X_MIN, X_MAX, Y_MIN, Y_MAX = -2.0, 0.6, -1.2, 1.2
MAX_ITER = 100


@dataclass(frozen=True)
class Grid:
    height: int  # rows: the index space
    width: int
    max_iter: int
    x_min: float
    dx: float
    y_min: float
    dy: float
    interleaved: bool  # only the prange impls read it; pool runners get interleaved parts

    def native_args(self) -> tuple[int, int, float, float, float, float]:
        return (self.width, self.max_iter, self.x_min, self.dx, self.y_min, self.dy)


def grid_width(n_rows: int) -> int:
    """Columns for n_rows rows over the whole region, with square pixels."""
    return max(1, round(n_rows * (X_MAX - X_MIN) / (Y_MAX - Y_MIN)))


def make_grid(n_rows: int, split: str = "interleaved", max_iter: int = MAX_ITER) -> Grid:
    width = grid_width(n_rows)
    return Grid(
        height=n_rows,
        width=width,
        max_iter=max_iter,
        x_min=X_MIN,
        dx=(X_MAX - X_MIN) / width,
        y_min=Y_MIN,
        dy=(Y_MAX - Y_MIN) / max(n_rows, 1),
        interleaved=split == "interleaved",
    )


def chunk_python(part: range, grid: Grid) -> int:
    width, max_iter, x_min, dx, y_min, dy = grid.native_args()
    total = 0
    for row in part:
        y0 = y_min + row * dy
        for col in range(width):
            x0 = x_min + col * dx
            x = y = 0.0
            it = 0
            while it < max_iter:
                x2 = x * x
                y2 = y * y
                if x2 + y2 > 4.0:
                    break
                y = 2.0 * x * y + y0
                x = x2 - y2 + x0
                it += 1
            total += it
    return total


def chunk_compiled(impl: str) -> ChunkFn:
    """The chunk function of a compiled impl: its binding's `mandelbrot` over the part's rows."""
    if IMPLS[impl].in_call_parallel:

        def chunk_on_threads(part: range, grid: Grid, n_threads: int) -> int:
            function = compiled(impl, "mandelbrot")
            args = (*grid.native_args(), n_threads, grid.interleaved)
            return int(function(part.start, part.stop, part.step, *args))

        return chunk_on_threads

    def chunk(part: range, grid: Grid) -> int:
        function = compiled(impl, "mandelbrot")
        return int(function(part.start, part.stop, part.step, *grid.native_args()))

    return chunk


def chunk_numpy(part: range, grid: Grid) -> int:
    """All pixels of the part at once; pixels that escape are dropped from the arrays."""
    import numpy as np  # here: the kernel module must import where NumPy cannot (subinterpreters)

    y0 = grid.y_min + np.arange(part.start, part.stop, part.step, dtype=np.int64) * grid.dy
    x0 = grid.x_min + np.arange(grid.width, dtype=np.int64) * grid.dx
    cy = np.repeat(y0, grid.width)
    cx = np.tile(x0, len(y0))
    x = np.zeros_like(cx)
    y = np.zeros_like(cy)
    total = 0
    for it in range(grid.max_iter):
        x2 = x * x
        y2 = y * y
        inside = x2 + y2 <= 4.0
        n_inside = int(np.count_nonzero(inside))
        total += it * (inside.size - n_inside)  # those escaping now took `it` iterations
        if n_inside < inside.size:
            x, y, x2, y2, cx, cy = (v[inside] for v in (x, y, x2, y2, cx, cy))
        if n_inside == 0:
            break
        y = 2.0 * x * y + cy
        x = x2 - y2 + cx
    return total + grid.max_iter * x.size  # the rest never escaped


def combine(partials: Sequence[int]) -> int:
    return sum(partials)


KERNEL = Kernel(
    name="mandelbrot",
    summary="escape-time counts over an n-row grid: CPU-bound, rows cost unevenly",
    unit="rows",
    chunk_fns={
        "python": chunk_python,
        **{impl: chunk_compiled(impl) for impl in COMPILED_IMPLS},
        "numpy": chunk_numpy,
    },
    combine=combine,
    python_size=lambda: 150,
    native_size=lambda: 700,
    work=lambda n: float(n * grid_width(n)),  # pixels
    make_params=make_grid,
    splits=("interleaved", "contiguous"),
)
