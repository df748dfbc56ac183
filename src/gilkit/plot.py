"""`gilkit plot`: per kernel, speedup against workers with the ideal line, and a bar chart of
each way's speedup over pure-Python serial. matplotlib is optional: `pip install "gilkit[plot]"`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gilkit.kernels import IN_CALL_PARALLEL
from gilkit.results import RunResult
from gilkit.stats import CellStats, Key, cell_stats


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
    "numpy": "tab:blue",
}
RUNNER_STYLES = {"threads": "-", "processes": "--", "OpenMP": ":"}


def _way(impl: str, runner: str) -> str:
    return "OpenMP" if impl in IN_CALL_PARALLEL else runner


def _series(
    stats: dict[Key, CellStats], kernel: str
) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """(impl, runner) -> [(workers, speedup over the same impl serial)], parallel ways only."""
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for (k, impl, runner, n_workers), cell in sorted(stats.items()):
        if k != kernel or cell.speedup_vs_serial is None:
            continue
        if runner == "serial" and impl not in IN_CALL_PARALLEL:
            continue
        series.setdefault((impl, _way(impl, runner)), []).append(
            (n_workers, cell.speedup_vs_serial)
        )
    return series


def _best_per_way(stats: dict[Key, CellStats], kernel: str) -> dict[str, float]:
    """impl × runner -> its best speedup over pure-Python serial."""
    best: dict[str, float] = {}
    for (k, impl, runner, _), cell in stats.items():
        if k == kernel and cell.speedup_vs_python is not None:
            label = f"{impl} × {_way(impl, runner)}"
            best[label] = max(best.get(label, 0.0), cell.speedup_vs_python)
    return dict(sorted(best.items(), key=lambda item: item[1]))


def plot_run(result: RunResult, path: Path) -> Path:
    plt = _pyplot()
    n_cpus = result.metadata["cpu"]["usable_cpus"]
    stats = cell_stats(result.cells, n_cpus)
    kernels = list(dict.fromkeys(r.kernel for r in result.cells))
    figure, axes = plt.subplots(2, len(kernels), figsize=(6 * len(kernels), 9), squeeze=False)
    for column, kernel in enumerate(kernels):
        top, bottom = axes[0][column], axes[1][column]
        series = _series(stats, kernel)
        workers = sorted({w for points in series.values() for w, _ in points} | {1})
        top.plot(
            workers,
            [min(w, n_cpus) for w in workers],
            "k--",
            lw=2,
            label=f"ideal: min(workers, {n_cpus})",
        )
        for (impl, way), points in series.items():
            xs, ys = zip(*sorted(points), strict=True)
            top.plot(
                xs,
                ys,
                marker="o",
                label=f"{impl} × {way}",
                color=IMPL_COLOURS.get(impl),
                linestyle=RUNNER_STYLES.get(way, "-"),
            )
        top.set(
            title=f"{kernel}: speedup over the same impl, serial",
            xlabel="workers",
            ylabel="speedup",
            xticks=workers,
        )
        top.set_ylim(bottom=0)
        top.grid(alpha=0.3)
        top.legend(fontsize=7)
        best = _best_per_way(stats, kernel)
        bottom.barh(list(best), list(best.values()), color="tab:blue")
        bottom.set_xscale("log")
        bottom.axvline(1.0, color="k", lw=1)
        bottom.set(
            title=f"{kernel}: best speedup over pure-Python serial",
            xlabel="× pure-Python serial (log scale)",
        )
        bottom.tick_params(axis="y", labelsize=8)
        for y, value in enumerate(best.values()):
            bottom.text(value, y, f" {value:.1f}×", va="center", fontsize=7)
    python = result.metadata["python"]
    figure.suptitle(
        f"gilkit: {python['implementation']} {python['version']}, "
        f"{result.metadata['cpu']['model']}, {n_cpus} usable cpus"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
