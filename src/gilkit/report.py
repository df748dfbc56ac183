"""Format a run for people: one table per kernel, the pools, then the fastest cell per kernel.

format_* functions build renderables from results and never measure or print.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator

from rich.table import Table
from rich.text import Text

from gilkit.host_speed import describe, host_speed
from gilkit.kernels import IMPLS, IN_CALL_PARALLEL, KERNELS
from gilkit.metadata import steal_share
from gilkit.results import CellRecord, RunResult
from gilkit.runners import RUNNERS
from gilkit.stats import CellStats, Key, cell_stats, fastest

RUNNER_ORDER = list(RUNNERS)
IMPL_ORDER = list(IMPLS)
STEAL_WARNING = 0.01  # share of cpu time taken by the hypervisor worth a warning


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


def format_percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{fraction:.0%}"


def format_bytes(n_bytes: int | None) -> str:
    return "–" if n_bytes is None else f"{n_bytes / 2**20:.0f} MiB"


def runner_label(record: CellRecord) -> str:
    if record.impl in IN_CALL_PARALLEL:
        return "serial (OpenMP)"
    if record.runner == "processes" and record.start_method:
        return f"processes ({record.start_method})"
    return record.runner


def sort_key(record: CellRecord) -> tuple[int, int, int]:
    impl = IMPL_ORDER.index(record.impl) if record.impl in IMPL_ORDER else len(IMPL_ORDER)
    return (impl, RUNNER_ORDER.index(record.runner), record.n_workers)


COLUMNS = (
    "impl",
    "runner",
    "workers",
    "median",
    "spread",
    "vs serial",
    "vs python",
    "efficiency",
    "cpu use",
    "GIL wait",
    "check",
)


def format_kernel_table(result: RunResult, kernel: str, stats: dict[Key, CellStats]) -> Table:
    records = sorted((r for r in result.cells if r.kernel == kernel), key=sort_key)
    table = Table(title=format_title(kernel, records), title_justify="left")
    for header in COLUMNS:
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


def row_values(record: CellRecord, stats: CellStats | None) -> list[str]:
    """One cell's row as plain text, in COLUMNS order, for any output format."""
    head = [record.impl, runner_label(record), str(record.n_workers)]
    if record.error is not None or stats is None:
        blanks = [""] * (len(COLUMNS) - len(head) - 2)
        return [*head, f"error: {record.error or 'not measured'}"[:70], *blanks, "error"]
    noisy = " noisy" if stats.time.noisy else ""
    return [
        *head,
        format_seconds(stats.median_s),
        f"±{stats.time.cv:.0%}{noisy}",
        format_ratio(stats.speedup_vs_serial),
        format_ratio(stats.speedup_vs_python),
        format_percent(stats.efficiency),
        format_percent(stats.cpu_utilisation),
        "–" if stats.gil_contention is None else f"{stats.gil_contention:.2f}",
        "ok" if record.agrees else "WRONG",
    ]


STYLES = {"error": "red", "WRONG": "bold red", "ok": "green"}


def _row(record: CellRecord, stats: CellStats | None) -> list[str | Text]:
    """row_values, coloured: errors and wrong results red, noisy spreads yellow."""
    values: list[str | Text] = list(row_values(record, stats))
    spread, check = COLUMNS.index("spread"), len(COLUMNS) - 1
    if values[check] == "error":
        values[spread] = Text(str(values[spread]), style="red")
    elif str(values[spread]).endswith("noisy"):
        values[spread] = Text(str(values[spread]), style="yellow")
    values[check] = Text(str(values[check]), style=STYLES[str(values[check])])
    return values


def format_pools_table(result: RunResult) -> Table | None:
    """Start-up, per-task cost and memory of each pool: what using a runner costs by itself."""
    pools: dict[tuple[str, int], CellRecord] = {}
    for record in result.cells:
        if record.runner != "serial" and record.pool_startup_s is not None:
            pools.setdefault((record.runner, record.n_workers), record)
    if not pools:
        return None
    table = Table(title="[bold]pools[/]", title_justify="left")
    for header in ("runner", "workers", "start-up", "per empty task", "memory added", "per worker"):
        table.add_column(header, justify="left" if header == "runner" else "right")
    for (_, n_workers), record in sorted(
        pools.items(), key=lambda item: (RUNNER_ORDER.index(item[0][0]), item[0][1])
    ):
        added = record.pool_memory_bytes
        per_worker = None if added is None else added // n_workers
        table.add_row(
            runner_label(record),
            str(n_workers),
            format_seconds(record.pool_startup_s),
            format_seconds(record.dispatch_s),
            format_bytes(added),
            "–" if per_worker is None else f"{per_worker / 2**20:.1f} MiB",
        )
    return table


def format_fastest(result: RunResult, kernel: str, stats: dict[Key, CellStats]) -> str:
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
    if python["free_threaded_build"] and python.get("gil_reenabled_by"):
        gil += f" by {', '.join(python['gil_reenabled_by'])}"
    return (
        f"{python['implementation']} {python['version']} ({build} build, GIL {gil}) on "
        f"{cpu['model']}, {cpu['usable_cpus']} usable cpus: "
        f"ideal speedup = min(workers, {cpu['usable_cpus']})"
    )


def format_warnings(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """What makes this run's figures less trustworthy, said once."""
    cpu = result.metadata["cpu"]
    governors = (cpu.get("frequency") or {}).get("governors") or []
    if any(g != "performance" for g in governors):
        yield (
            f"warning: cpufreq governor {', '.join(governors)}: the clock may change during "
            "the run; 'performance' gives steadier figures"
        )
    before, after = cpu.get("load_average_before"), cpu.get("load_average_after")
    if before and before[0] > 0.5 * cpu["usable_cpus"]:
        yield f"warning: the machine was busy before the run (load average {before[0]:.2f})"
    if after and before:
        yield f"load average (1 min) before and after: {before[0]:.2f}, {after[0]:.2f}"
    stolen = steal_share(cpu)
    if stolen is not None and stolen >= STEAL_WARNING:
        yield (
            f"warning: the hypervisor took {stolen:.1%} of the cpu time during the run "
            "(steal time): the machine is shared, and its figures move with its neighbours"
        )
    speed = host_speed(result.cells)
    if speed is not None:
        yield describe(speed)
    costs = [s.monitor_cost for s in stats.values() if s.monitor_cost is not None]
    if costs:
        yield (
            f"the GIL monitor's own cost: monitored calls took {statistics.median(costs):.2f}x "
            "the median call (median over cells)"
        )
    noisy = [r for r in result.cells if r.noisy]
    if noisy:
        yield (
            f"{len(noisy)} of {len(result.cells)} cells are noisy (spread, the coefficient "
            "of variation, over 10%): compare them with care, or rerun with more --repeat"
        )


def format_run(result: RunResult) -> Iterator[str | Table]:
    kernels = list(dict.fromkeys(r.kernel for r in result.cells))
    stats = cell_stats(result.cells, result.metadata["cpu"]["usable_cpus"])
    yield format_header(result)
    for kernel in kernels:
        yield format_kernel_table(result, kernel, stats)
    pools = format_pools_table(result)
    if pools is not None:
        yield pools
    yield (
        "vs serial: speedup over the same impl on the serial runner with 1 worker; "
        "vs python: over pure-Python serial, per unit of work where n differs; "
        "efficiency = vs serial / ideal; cpu use = CPU time / (wall time × workers); "
        "GIL wait: share of extra calls (about 0.2 s) during which a monitor thread "
        "waited for the GIL, not counting its waits for a cpu."
    )
    if any(r.impl in IN_CALL_PARALLEL for r in result.cells):
        yield "cython-prange: one call on the serial runner; workers = OpenMP threads in it."
    yield from format_warnings(result, stats)
    for kernel in kernels:
        yield format_fastest(result, kernel, stats)
