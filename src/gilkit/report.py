"""Format a run for people: one table per kernel, then the fastest cell per kernel.

format_* functions build renderables from results and never measure or print.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.table import Table
from rich.text import Text

from gilkit.kernels import IMPLS, IN_CALL_PARALLEL, KERNELS
from gilkit.results import CellRecord, RunResult
from gilkit.runners import RUNNERS
from gilkit.stats import CellStats, cell_stats, fastest

RUNNER_ORDER = list(RUNNERS)
IMPL_ORDER = list(IMPLS)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def format_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


def runner_label(record: CellRecord) -> str:
    if record.impl in IN_CALL_PARALLEL:
        return "serial (OpenMP)"
    if record.runner == "processes" and record.start_method:
        return f"processes ({record.start_method})"
    return record.runner


def _sort_key(record: CellRecord) -> tuple[int, int, int]:
    return (IMPL_ORDER.index(record.impl), RUNNER_ORDER.index(record.runner), record.n_workers)


def format_kernel_table(result: RunResult, kernel: str) -> Table:
    n_cpus = result.metadata["cpu"]["usable_cpus"]
    stats = cell_stats(result.cells, n_cpus)
    records = sorted((r for r in result.cells if r.kernel == kernel), key=_sort_key)
    table = Table(title=format_title(kernel, records), title_justify="left")
    for header in (
        "impl",
        "runner",
        "workers",
        "median",
        "min–max",
        "vs serial",
        "vs python",
        "ideal",
        "efficiency",
        "pool start",
        "check",
    ):
        table.add_column(header, justify="left" if header in ("impl", "runner") else "right")
    previous_impl = None
    for record in records:
        if previous_impl is not None and record.impl != previous_impl:
            table.add_section()
        previous_impl = record.impl
        table.add_row(*_row(record, stats.get(record.key)))
    return table


def format_title(kernel: str, records: list[CellRecord]) -> str:
    unit = KERNELS[kernel].unit if kernel in KERNELS else "items"
    sizes: dict[int, list[str]] = {}
    for record in records:
        if record.impl not in sizes.setdefault(record.size, []):
            sizes[record.size].append(record.impl)
    if len(sizes) == 1:
        size_text = f"n = {records[0].size:,} {unit}"
    else:
        size_text = "; ".join(f"{', '.join(impls)}: n = {size:,}" for size, impls in sizes.items())
        size_text += f" {unit}"
    return f"[bold]{kernel}[/]  {size_text}, split {records[0].split}"


def _row(record: CellRecord, stats: CellStats | None) -> list[str | Text]:
    head = [record.impl, runner_label(record), str(record.n_workers)]
    if record.error is not None or stats is None:
        message = record.error or "no timing"
        return [*head, Text(message[:60], style="red"), *[""] * 6, Text("error", style="red")]
    check = Text("ok", style="green") if record.agrees else Text("WRONG", style="bold red")
    efficiency = "–" if stats.efficiency is None else f"{stats.efficiency:.0%}"
    return [
        *head,
        format_seconds(stats.median_s),
        f"{format_seconds(stats.min_s)}–{format_seconds(stats.max_s)}",
        format_ratio(stats.speedup_vs_serial),
        format_ratio(stats.speedup_vs_python),
        f"{stats.ideal}×",
        efficiency,
        format_seconds(record.pool_startup_s),
        check,
    ]


def format_fastest(result: RunResult, kernel: str) -> str:
    stats = cell_stats(result.cells, result.metadata["cpu"]["usable_cpus"])
    key = fastest(stats, kernel)
    if key is None:
        return f"{kernel}: no cell finished"
    best = stats[key]
    _, impl, _, n_workers = key
    record = next(r for r in result.cells if r.key == key)
    vs_python = (
        f", {format_ratio(best.speedup_vs_python)} pure-Python serial"
        if best.speedup_vs_python is not None
        else ""
    )
    return (
        f"{kernel}: fastest is {impl} × {runner_label(record)} × {n_workers} workers, "
        f"{format_seconds(best.median_s)}{vs_python}"
    )


def format_header(result: RunResult) -> str:
    python = result.metadata["python"]
    cpu = result.metadata["cpu"]
    build = "free-threaded" if python["free_threaded_build"] else "GIL"
    gil = "enabled" if python["gil_enabled"] else "disabled"
    return (
        f"{python['implementation']} {python['version']} ({build} build, GIL {gil}) on "
        f"{cpu['model']}, {cpu['usable_cpus']} usable cpus: "
        f"ideal speedup = min(workers, {cpu['usable_cpus']})"
    )


def format_run(result: RunResult) -> Iterator[str | Table]:
    kernels = list(dict.fromkeys(r.kernel for r in result.cells))
    yield format_header(result)
    for kernel in kernels:
        yield format_kernel_table(result, kernel)
    yield (
        "vs serial: speedup over the same impl on the serial runner with 1 worker; "
        "vs python: over pure-Python serial, per unit of work where n differs; "
        "efficiency = vs serial / ideal."
    )
    if any(r.impl in IN_CALL_PARALLEL for r in result.cells):
        yield "cython-prange: one call on the serial runner; workers = OpenMP threads in it."
    for kernel in kernels:
        yield format_fastest(result, kernel)
