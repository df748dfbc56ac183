"""`gilkit plot`: per kernel, speedup against workers with the ideal and this machine's
capacity (gilkit.host.capacity), on a log2 axis for many worker counts, and a bar chart of
each way's speedup over pure-Python serial. matplotlib is optional: `pip install "gilkit[plot]"`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gilkit.analysis.stats import CellStats, Key, cell_stats, machine_capacity
from gilkit.model.facts import IDEAL_CPUS, ideal_speedup
from gilkit.model.results import RunResult
from gilkit.present.formatting import in_call_label


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display needed
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise PlotUnavailable('plotting needs matplotlib: pip install "gilkit[plot]"') from error
    return plt


# One colour per impl, one line style per way of running it, so a glance finds both.
IMPL_COLOURS = {
    "python": "tab:gray",
    "cython": "tab:red",
    "cython-nogil": "tab:green",
    "cython-prange": "tab:purple",
    "c-api-gil": "tab:brown",
    "c-api": "tab:olive",
    "ctypes-gil": "tab:pink",
    "ctypes": "tab:cyan",
    "pybind11-gil": "maroon",
    "pybind11": "darkgreen",
    "numba-gil": "orange",
    "numba": "gold",
    "numba-prange": "indigo",
    "numpy": "tab:blue",
}
# (line style, marker) per way: two runners of one impl (threads and asyncio, say) must not
# draw the same line.
RUNNER_STYLES: dict[str, tuple[Any, str]] = {
    "threads": ("-", "o"),
    "processes": ("--", "s"),
    "interpreters": ("-.", "^"),
    "asyncio": (":", "v"),
    "joblib-threads": ((0, (5, 1)), "<"),
    "joblib-loky": ((0, (5, 1, 1, 1)), ">"),
    "dask-threads": ((0, (1, 1)), "D"),
    "dask-processes": ((0, (3, 1, 1, 1, 1, 1)), "P"),
    "openmp": ("-.", "*"),
    "numba": (":", "X"),
}
OTHER_STYLE = ("-", "o")  # a runner of your own
LINEAR_AXIS_COUNTS = 4  # more worker counts than this: a log2 axis


def _way(result: RunResult, impl: str, runner: str) -> str:
    """The runner, or whose threads (openmp, numba) for an impl parallel inside one call."""
    return in_call_label(result, impl) if result.in_call_parallel(impl) else runner


def _series(
    result: RunResult, stats: dict[Key, CellStats], kernel: str
) -> dict[tuple[str, str], list[tuple[int, float, bool]]]:
    """(impl, runner) -> [(workers, speedup over the same impl serial, noisy)], parallel ways."""
    series: dict[tuple[str, str], list[tuple[int, float, bool]]] = {}
    for (k, impl, runner, n_workers), cell in sorted(stats.items()):
        if k != kernel or cell.speedup_vs_serial is None:
            continue
        if runner == "serial" and not result.in_call_parallel(impl):
            continue
        series.setdefault((impl, _way(result, impl, runner)), []).append(
            (n_workers, cell.speedup_vs_serial, cell.time.noisy)
        )
    return series


def _best_per_way(
    result: RunResult, stats: dict[Key, CellStats], kernel: str
) -> dict[tuple[str, str], float]:
    """(impl, way) -> its best speedup over pure-Python serial, slowest first."""
    best: dict[tuple[str, str], float] = {}
    for (k, impl, runner, _), cell in stats.items():
        if k == kernel and cell.speedup_vs_python is not None:
            way = (impl, _way(result, impl, runner))
            best[way] = max(best.get(way, 0.0), cell.speedup_vs_python)
    return dict(sorted(best.items(), key=lambda item: item[1]))


# The figure's height in inches, and the top strip of it the title keeps: the legend starts
# below it, never over it.
HEIGHT_IN = 9
TITLE_ROOM = 0.6 / HEIGHT_IN


def plot_run(result: RunResult, path: Path) -> Path:
    plt = _pyplot()
    figure = draw_run(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_run(result: RunResult) -> Any:
    """The figure of plot_run, not yet saved (matplotlib's Figure)."""
    plt = _pyplot()
    from matplotlib import ticker

    n_cpus = result.usable_cpus
    stats = cell_stats(result)
    kernels = list(dict.fromkeys(r.kernel for r in result.cells))
    width = 6 * len(kernels) + 3
    figure, axes = plt.subplots(2, len(kernels), figsize=(width, HEIGHT_IN), squeeze=False)
    for column, kernel in enumerate(kernels):
        top, bottom = axes[0][column], axes[1][column]
        series = _series(result, stats, kernel)
        rule = result.kernels.get(kernel, {}).get("ideal", IDEAL_CPUS)
        workers = sorted({w for points in series.values() for w, _, _ in points} | {1})
        top.plot(
            workers,
            [ideal_speedup(rule, w, n_cpus) for w in workers],
            "k--",
            lw=2,
            label=f"ideal: {rule.replace('usable cpus', str(n_cpus))}",
        )
        machine = [(w, machine_capacity(result, kernel, w)) for w in workers]
        if all(c is not None for _, c in machine):
            top.plot(
                [w for w, _ in machine],
                [c for _, c in machine],
                color="k",
                linestyle=":",
                lw=2,
                label="this machine: as many busy native threads",
            )
        for (impl, way), points in series.items():
            points.sort()
            colour = IMPL_COLOURS.get(impl)
            style, marker = RUNNER_STYLES.get(way, OTHER_STYLE)
            top.plot(
                [w for w, _, _ in points],
                [y for _, y, _ in points],
                color=colour,
                linestyle=style,
                marker=marker,
                markerfacecolor=colour,
                label=f"{impl} × {way}",
            )
            noisy = [(w, y) for w, y, is_noisy in points if is_noisy]
            if noisy:  # hollow markers: cells whose times spread over the noisy threshold
                top.plot(
                    *zip(*noisy, strict=True),
                    marker,
                    linestyle="none",
                    color=colour,
                    markerfacecolor="white",
                )
        if len(workers) > LINEAR_AXIS_COUNTS:  # 1 to 64 workers: evenly spaced doublings
            top.set_xscale("log", base=2)
        top.set(
            title=f"{kernel}: speedup over the same impl, serial",
            xlabel="workers",
            ylabel="speedup",
            xticks=workers,
            xticklabels=[str(w) for w in workers],
        )
        top.set_ylim(bottom=0)
        top.grid(alpha=0.3)
        best = _best_per_way(result, stats, kernel)
        labels = [f"{impl} × {way}" for impl, way in best]
        colours = [IMPL_COLOURS.get(impl, "tab:blue") for impl, _ in best]
        bottom.barh(labels, list(best.values()), color=colours)
        bottom.set_xscale("log")
        # `2×`, `100×`, not `10^2` nor `1.01×10^0` on a short range.
        bottom.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        bottom.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:g}×"))
        bottom.xaxis.set_minor_formatter(ticker.NullFormatter())
        bottom.axvline(1.0, color="k", lw=1)
        bottom.set(
            title=f"{kernel}: best speedup over pure-Python serial",
            xlabel="× pure-Python serial (log scale)",
        )
        bottom.tick_params(axis="y", labelsize=8)
        for y, value in enumerate(best.values()):
            bottom.text(value, y, f" {value:.1f}×", va="center", fontsize=7)
    # One legend for the whole row, outside the plots, so that no line hides behind it.
    legend: dict[str, Any] = {}
    for ax in axes[0]:
        handles, names = ax.get_legend_handles_labels()
        legend.update(zip(names, handles, strict=True))
    legend["noisy cell (spread over 10%)"] = plt.Line2D(
        [], [], marker="o", color="k", markerfacecolor="white", linestyle="none"
    )
    figure.legend(
        legend.values(),
        legend.keys(),
        loc="upper right",
        bbox_to_anchor=(1, 1 - TITLE_ROOM),
        fontsize=8,
    )
    python = result.metadata["python"]
    figure.suptitle(
        f"gilkit: {python['implementation']} {python['version']}, "
        f"{result.metadata['cpu']['model']}, {n_cpus} usable cpus"
    )
    figure.tight_layout(rect=(0, 0, 1 - 2.8 / width, 1 - TITLE_ROOM))
    return figure
