"""Format a run for people: one table per kernel, the pools, then the fastest cell per kernel.

format_* functions build renderables from results and never measure or print.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Mapping
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from gilkit.analysis.machine_speed import SLOW_FACTOR, HostSpeed, host_speed, steal_share
from gilkit.analysis.stats import (
    CELL_SHARE,
    ESTIMATE_FLOOR_S,
    ESTIMATE_MISSED,
    LEAST_TICKS,
    RUN_SHARE,
    TICK_S,
    CellStats,
    Key,
    capacity,
    capacity_moves,
    cell_stats,
    estimate_ratio,
    shares_taken,
)
from gilkit.analysis.verdicts import (
    Fastest,
    costliest_overheads,
    fastest,
    impossible,
    impossible_cause,
    sat_idle,
    slowed_each_other,
    unjudged,
)
from gilkit.model.results import CellRecord, RunResult
from gilkit.model.units import (
    DASH,
    format_bytes,
    format_percent,
    format_ratio,
    format_seconds,
    format_wall,
    format_workers,
    plural,
)
from gilkit.present.formatting import (
    cell_name,
    cell_order,
    format_python,
    in_call_label,
    runner_label,
)

STEAL_WARNING = 0.01  # share of cpu time taken by the hypervisor worth a warning
SHOWN_IDLE = 4  # cells named in the `idle workers` line; the rest are counted
CONTENTION = (
    "contention on what they share (reference counts of shared objects, the allocator, "
    "cache lines), not the GIL, which was off"
)


COLUMNS = (
    "impl",
    "runner",
    "workers",
    "median",
    "spread",
    "vs serial",
    "of ideal",
    "of cap",
    "vs python",
    "cpu use",
    "GIL wait",
    "check",
)
NOISY_MARK = "*"  # after a spread over gilkit.analysis.stats.NOISY_CV
IMPOSSIBLE_MARK = "?"  # after a spread: a speedup the strategy cannot give (a cold baseline)
# after a spread: other processes or the hypervisor took the cpus (analysis.stats.CELL_SHARE)
TAKEN_MARK = "!"


def compact_table(title: str) -> Table:
    """gilkit's tables of figures: no vertical rules and no padding, so that a kernel's table
    fits a 100-column terminal; rich still wraps a narrower one."""
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=0, show_edge=False)


def format_kernel_table(result: RunResult, kernel: str, stats: dict[Key, CellStats]) -> Table:
    records = sorted((r for r in result.cells if r.kernel == kernel), key=cell_order(result))
    # The check column only where a cell failed (a line under the tables says when all agree).
    table = compact_table(format_title(result, kernel, records))
    columns = COLUMNS if any(not r.ok for r in records) else COLUMNS[:-1]
    for header in columns:
        table.add_column(header, justify="left" if header in ("impl", "runner") else "right")
    previous_impl = None
    for record in records:
        if previous_impl is not None and record.impl != previous_impl:
            table.add_section()
        previous_impl = record.impl
        table.add_row(*_row(result, record, stats.get(record.key), stats)[: len(columns)])
    return table


def format_title(result: RunResult, kernel: str, records: list[CellRecord]) -> str:
    unit = result.kernels.get(kernel, {}).get("unit", "items")
    per_worker = weak_sizes(records)
    sizes: dict[int, list[str]] = {}
    for record in records:
        size = record.size if per_worker is None else per_worker[record.impl]
        if record.impl not in sizes.setdefault(size, []):
            sizes[size].append(record.impl)
    if len(sizes) == 1:
        size_text = f"n = {next(iter(sizes)):,} {unit}"
    else:
        size_text = "; ".join(f"{', '.join(impls)}: n = {size:,}" for size, impls in sizes.items())
        size_text += f" {unit}"
    if per_worker is not None:
        size_text += " per worker (weak scaling: W workers do W times that)"
    return f"[bold]{kernel}[/]  {size_text}, split {records[0].split}"


def weak_sizes(records: list[CellRecord]) -> dict[str, int] | None:
    """Each impl's n on one worker, where every cell's n is that times its workers and some
    cell has more than one (weak scaling); else None."""
    base = {r.impl: r.size for r in records if r.n_workers == 1}
    weak = all(r.impl in base and r.size == base[r.impl] * r.n_workers for r in records)
    return base if weak and any(r.n_workers > 1 for r in records) else None


def row_values(
    result: RunResult,
    record: CellRecord,
    stats: CellStats | None,
    all_stats: dict[Key, CellStats] | None = None,
) -> list[str]:
    """One cell's row as plain text, in COLUMNS order, for any output format; `all_stats`
    (the run's) lets it mark a speedup the strategy cannot give."""
    # The runner without the start method, which the pools table gives: rows stay narrow.
    runner = record.runner
    if result.in_call_parallel(record.impl):
        runner = in_call_label(result, record.impl)
    head = [record.impl, runner, str(record.n_workers)]
    if record.unsupported is not None:  # a finding, not a failure; the legend gives the reason
        blanks = [""] * (len(COLUMNS) - len(head) - 2)
        return [*head, record.unsupported.split(": ")[0][:70], *blanks, UNSUPPORTED]
    blanks = [""] * (len(COLUMNS) - len(head) - 2)
    if record.stopped:  # format_check says so under the tables
        return [*head, STOPPED, *blanks, DASH]
    if record.error is not None or stats is None:
        return [*head, f"error: {record.error or 'not measured'}"[:70], *blanks, "error"]
    marks = (NOISY_MARK if stats.time.noisy else "") + (TAKEN_MARK if stats.interfered else "")
    marks += IMPOSSIBLE_MARK if impossible(result, record, all_stats or {}) else ""
    return [
        *head,
        format_seconds(stats.median_s),
        (f"±{stats.time.cv:.0%}" if stats.time.known else DASH) + marks,
        format_ratio(stats.speedup_vs_serial),
        format_percent(stats.efficiency),
        format_percent(stats.of_capacity),
        format_ratio(stats.speedup_vs_python),
        format_percent(stats.cpu_utilisation),
        DASH if stats.gil_contention is None else f"{stats.gil_contention:.2f}",
        "ok" if record.agrees else "WRONG",
    ]


UNSUPPORTED = "n/a"  # the check column of a cell its runner cannot run
STOPPED = "stopped"  # the median of a cell the run's stop cut before its first timed call
STYLES = {"error": "red", "WRONG": "bold red", "ok": "green", UNSUPPORTED: "yellow", DASH: "dim"}


def _row(
    result: RunResult,
    record: CellRecord,
    stats: CellStats | None,
    all_stats: dict[Key, CellStats],
) -> list[str | Text]:
    """row_values, coloured: errors and wrong results red, noisy spreads yellow. An error or
    the reason a runner cannot run the impl is said under the tables (format_errors,
    format_unsupported), not in the median column, which it would widen past the terminal."""
    values: list[str | Text] = list(row_values(result, record, stats, all_stats))
    check, at = len(COLUMNS) - 1, COLUMNS.index("median")
    if values[check] in ("error", UNSUPPORTED):
        values[at] = Text(str(values[check]), style=STYLES[str(values[check])])
    elif values[check] == DASH:
        values[at] = Text(STOPPED, style="yellow")
    elif str(values[COLUMNS.index("spread")]).endswith((NOISY_MARK, TAKEN_MARK, IMPOSSIBLE_MARK)):
        at = COLUMNS.index("spread")
        values[at] = Text(str(values[at]), style="yellow")
    values[check] = Text(str(values[check]), style=STYLES[str(values[check])])
    return values


POOL_COLUMNS = (
    "runner",
    "workers",
    "start-up",
    "per empty task",
    "per empty call",
    "batch",
    "memory added",
    "per worker",
)


def pool_rows(result: RunResult) -> list[list[str]]:
    """Start-up, per-task cost and memory of each pool: what using a runner costs by itself."""
    pools: dict[tuple[str, int], CellRecord] = {}
    for record in result.cells:
        if record.runner != "serial" and record.pool_startup_s is not None:
            pools.setdefault((record.runner, record.n_workers), record)
    runners = list(dict.fromkeys(r.runner for r in result.cells))
    rows = []
    for (_, n_workers), record in sorted(
        pools.items(), key=lambda item: (runners.index(item[0][0]), item[0][1])
    ):
        added = record.pool_memory_bytes
        rows.append(
            [
                runner_label(result, record),
                str(n_workers),
                format_seconds(record.pool_startup_s),
                format_seconds(record.dispatch_s),
                format_seconds(record.call_overhead_s),
                DASH if record.batch_size is None else str(record.batch_size),
                format_bytes(added),
                format_bytes(None if added is None else added / n_workers),
            ]
        )
    return rows


def format_cluster(result: RunResult) -> Iterator[str]:
    """Where a cluster's workers were (the dask pools' hosts), and the kernels whose data the
    workers made themselves, out of reach of this host's shared memory."""
    cluster = result.metadata.get("dask_cluster")
    if not cluster or not cluster.get("workers"):
        return
    hosts: dict[str, int] = {}
    for facts in cluster["workers"].values():
        hosts[facts["host"]] = hosts.get(facts["host"], 0) + 1
    named = ", ".join(
        f"{host} ({count} worker{'s' * (count > 1)})" for host, count in hosts.items()
    )
    yield f"cluster at {cluster['scheduler']}: workers on {named}"
    for kernel in result.metadata.get("data_made_by_workers", []):
        yield (
            f"{kernel}: the cluster's workers run on other hosts, out of reach of this host's "
            "shared memory and 127.0.0.1: each made the kernel's data itself, by the same rule "
            "(results checked against the reference as everywhere)"
        )


def format_pools_table(result: RunResult, label: str = "") -> Table | None:
    """The pools of a run; `label` names its interpreter where several runs are shown."""
    rows = pool_rows(result)
    if not rows:
        return None
    table = compact_table(f"[bold]pools[/]{f' ({label})' if label else ''}")
    for header in POOL_COLUMNS:
        table.add_column(header, justify="left" if header == "runner" else "right")
    for row in rows:
        table.add_row(*row)
    return table


# Cells named in a "tied with" clause; the rest are counted.
SHOWN_TIED = 2


def format_fastest(result: RunResult, kernel: str, stats: dict[Key, CellStats]) -> str:
    found = fastest(result, stats, kernel)
    if found is None:
        cells = [r for r in result.cells if r.kernel == kernel]
        if any(r.key in stats for r in cells):
            return f"{kernel}: no cell finished with the reference result"
        if any(r.stopped for r in cells):
            return f"{kernel}: no cell measured before the run stopped"
        return f"{kernel}: no cell finished"
    records = {r.key: r for r in result.cells}

    def way(key: Key) -> str:
        record = records[key]
        return f"{record.impl} × {runner_label(result, record)} × {format_workers(key[3])}"

    best = stats[found.key]
    vs_python = (
        f", {format_ratio(best.speedup_vs_python)} pure-Python serial"
        if best.speedup_vs_python is not None
        else ""
    )
    line = f"{kernel}: fastest is {way(found.key)}, {format_seconds(best.median_s)}{vs_python}"
    if found.tied_with:
        named = ", ".join(way(key) for key in found.tied_with[:SHOWN_TIED])
        more = len(found.tied_with) - SHOWN_TIED
        named += f" and {more} more" if more > 0 else ""
        line += f"; tied with {named} (its repeats cannot tell them apart)"
    return line + untold_clause(found)


def untold_clause(found: Fastest) -> str:
    """Why some cells are neither tied nor untied with the fastest: one timed call."""
    if not found.untold:
        return ""
    count = len(found.untold)
    cells = f"{count} other cell{'s tie' if count > 1 else ' ties'}"
    return (
        f"; whether {cells} with it cannot be told: one timed call has no spread "
        "(--repeat 2 or more)"
    )


def format_header(result: RunResult) -> str:
    cpu = result.metadata["cpu"]
    return (
        f"{format_python(result.metadata['python'])} on {cpu['model']}, "
        f"{cpu['usable_cpus']} usable cpus: ideal speedup = min(workers, {cpu['usable_cpus']})"
    )


def format_idle(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """One line naming the cells whose workers sat idle with nothing in their way."""
    idle = [r for r in result.cells if sat_idle(result, r, stats.get(r.key))]
    if not idle:
        return
    named = ", ".join(
        f"{cell_name(result, r)} "
        f"({format_ratio(stats[r.key].speedup_vs_serial)}, cpu use "
        f"{format_percent(stats[r.key].cpu_utilisation)})"
        for r in idle[:SHOWN_IDLE]
    )
    more = f" and {len(idle) - SHOWN_IDLE} more" if len(idle) > SHOWN_IDLE else ""
    yield (
        f"idle workers: {named}{more}: below the ideal with the cpus free and no GIL in the "
        "way (none shared, or the monitor saw little wait), so something else kept the "
        "workers waiting: the call's own costs (dispatch, "
        "the OS placing them on cpus), locks or brief GIL holds inside the impl, or uneven "
        "parts; a larger --size tells the call's own costs apart "
        "(docs/methodology.md#short-calls)"
    )


def format_contention(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """A line for each free-threaded threads cell whose threads were busy yet slow."""
    for record in result.cells:
        cell = stats.get(record.key)
        if cell is not None and slowed_each_other(result, record, cell):
            yield (
                f"{cell_name(result, record)}: "
                f"{format_ratio(cell.speedup_vs_serial)} with cpu use "
                f"{format_percent(cell.cpu_utilisation)}: the threads were busy but slowed each "
                f"other: {CONTENTION} (docs/free-threading.md)"
            )


def format_check(result: RunResult) -> Iterator[str]:
    """The line that says every measured cell computed its kernel's reference result; none
    where one did not (the table's check column and format_errors say which); and the cells
    that the run's stop left unmeasured, which neither passed nor failed."""
    stopped = sum(r.stopped for r in result.cells)
    measured = sum(r.unsupported is None for r in result.cells) - stopped
    if stopped:
        yield (
            f"{STOPPED}: {plural(stopped, 'cell')} not measured: the run stopped "
            "before their first timed call (not a failure)."
        )
    if measured and all(r.ok for r in result.cells):
        yield f"check: all {measured} measured cells computed the kernel's reference result."


def format_errors(result: RunResult) -> Iterator[str]:
    """A line for each cell that failed, its error whole: the table only says `error`."""
    for record in result.cells:
        if record.unsupported is None and record.error is not None:
            yield f"error: {cell_name(result, record)}: {record.error}"


def format_unsupported(result: RunResult) -> Iterator[str]:
    """Why a runner could not run an impl at all, once per reason."""
    reasons: dict[str, list[str]] = {}
    for record in result.cells:
        if record.unsupported is not None:
            ways = reasons.setdefault(record.unsupported, [])
            if f"{record.impl} × {record.runner}" not in ways:
                ways.append(f"{record.impl} × {record.runner}")
    for reason, ways in reasons.items():
        yield f"{', '.join(ways)}: {reason} (not a failure: that runner cannot load the impl)."


def at_workers(sizing: Mapping[str, Any]) -> str:
    """`at 2 workers`, and the kernels sized for another count: `at 2 workers (io at 16)`."""
    others = sizing.get("kernel_workers") or {}
    by_kernel = ", ".join(f"{name} at {format_workers(n)}" for name, n in others.items())
    if set(others) >= set(sizing["serial_s"]) - set(sizing.get("declared") or []):
        return f"with {by_kernel}" if others else f"at {format_workers(sizing['workers'])}"
    return f"at {format_workers(sizing['workers'])}" + (f" ({by_kernel})" if others else "")


def format_sizing(sizing: Mapping[str, Any]) -> str:
    """How the sizes were chosen, in a line (after `sizes: ` on the terminal)."""
    declared = sizing.get("declared") or []
    timed = not declared or any(name not in declared for name in sizing["serial_s"])
    estimate = f"; the matrix should take about {format_wall(sizing['estimated_s'])}"
    own = f"{', '.join(declared)} at the sizes its author declared" if declared else ""
    if not timed:
        return f"{own}{estimate}"
    part = format_seconds(sizing["part_s"])
    where = (
        "at every worker count (weak scaling: n grows with the workers)"
        if sizing["scaling"] == "weak"
        else at_workers(sizing)
    )
    line = f"each worker's part lasts about {part} {where}"
    if sizing.get("costliest_runner"):
        line += f" (long enough that a {sizing['costliest_runner']} call's own cost stays ~5%)"
    if sizing["part_s"] < sizing["target_part_s"]:
        line += (
            f", shortened from {format_seconds(sizing['target_part_s'])} to fit the "
            f"{format_wall(sizing['budget_s'])} budget (--budget)"
        )
    return line + (f"; {own}" if own else "") + estimate


def format_estimate(result: RunResult) -> Iterator[str]:
    """The matrix's time beside the sizing's estimate, a warning where it missed by 2x or
    more; and the whole run's, whose other steps the estimate leaves out."""
    ratio = estimate_ratio(result)
    if ratio is None:
        return
    metadata, said = result.metadata, result.options["sizing"]["estimated_s"]
    took = ratio * said
    line = f"the matrix took {format_wall(took)}; the sizing estimated about {format_wall(said)}"
    missed = ratio >= ESTIMATE_MISSED or ratio <= 1 / ESTIMATE_MISSED
    if missed and max(took, said) >= ESTIMATE_FLOOR_S:
        line = f"warning: {line} ({format_ratio(ratio)}): its model missed this machine or kernel"
    if "matrix_s" in metadata and "run_s" in metadata:
        line += (
            f"; the whole run {format_wall(metadata['run_s'])}, with the capacity, the "
            "kernels' data and the pools' start"
        )
    yield line


def format_capacity(result: RunResult) -> Iterator[str]:
    """What the machine gave N busy native threads: the yardstick of the `of cap` column."""
    measured = result.metadata.get("capacity")
    if not measured:
        return
    if "unavailable" in measured:
        yield f"capacity: not measured ({measured['unavailable']})"
        return
    counts = sorted(int(n) for n in measured["compute"] if n != "1")
    if not counts:
        return  # one worker only: nothing to compare one loop with
    after = result.metadata.get("capacity_after") or {}
    for loop, what in (("compute", "busy loops"), ("memory", "STREAM triads")):
        figures = "before the matrix " + ", ".join(
            f"{n}: {format_ratio(capacity(measured[loop], n))}" for n in counts
        )
        if isinstance(after.get(loop), dict):
            figures += "; after it " + ", ".join(
                f"{n}: {format_ratio(capacity(after[loop], n))}" for n in counts
            )
        yield f"capacity of {what} (the work of N threads over one alone's): {figures}"
    for move in capacity_moves(result):
        what = "busy loops" if move.loop == "compute" else "STREAM triads"
        yield (
            f"warning: the machine's capacity moved during the run: {what} in {move.n_workers} "
            f"threads reached {_span(move.before)} before the matrix and {_span(move.after)} "
            "after it, beyond the spread of either; `of cap` uses the mean of the two"
        )


def _span(low_high: tuple[float, float]) -> str:
    low, high = low_high
    return f"{format_ratio(low)} to {format_ratio(high)}"


def format_interference(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """Whether other processes took the cpus during the calls: a warning, or a quiet line."""
    shares = shares_taken(result.cells, result.usable_cpus)
    if shares is None:
        return
    others, steal = shares.others, shares.steal
    taken = [key for key, cell in stats.items() if cell.interfered]
    if not shares.told:
        yield (
            f"other processes: too short to tell (the calls lasted "
            f"{format_seconds(shares.ticks * TICK_S)} in all, under the {LEAST_TICKS} ticks of "
            f"{TICK_S * 1e3:.0f} ms in which /proc/stat counts the cpus' time)"
        )
        return
    if others < RUN_SHARE and not taken:
        yield f"other processes: {others:.0%} of the cpus during the calls (idle)"
        return
    yield (
        f"warning: other processes took {others:.0%} of the cpus during the calls "
        f"({others * result.usable_cpus:.2f} of {result.usable_cpus}), and the hypervisor "
        f"{steal:.0%}; cells that lost over {CELL_SHARE:.0%} ({TAKEN_MARK}): {len(taken)}, "
        "and their speedups understate the strategy"
    )


def format_impossible(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """A line per cell whose speedup the strategy cannot have given."""
    for record in result.cells:
        why = impossible(result, record, stats)
        if why is not None:
            cause = impossible_cause(record, stats)
            yield f"warning: {cell_name(result, record)}: {why} ({IMPOSSIBLE_MARK}): {cause}"
    single = [r for r in result.cells if unjudged(result, r, stats)]
    if single:
        many = len(single) > 1
        count = f"speedup{'s' * many} of {len(single)} cell{'s were' if many else ' was'}"
        yield (
            f"the {count} not checked against the ideal or the capacity "
            f"({IMPOSSIBLE_MARK}): the cell or its serial baseline had one timed call, whose "
            "spread is unknown (--repeat 2 or more)"
        )


def format_warnings(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """What makes this run's figures less trustworthy, or needs telling, said once."""
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
    yield from format_capacity(result)  # (the sizes were said before the run)
    yield from format_estimate(result)
    yield from format_interference(result, stats)
    stolen = steal_share(cpu)
    if stolen is not None and stolen >= STEAL_WARNING:
        yield (
            f"warning: the hypervisor took {stolen:.1%} of the cpu time during the run "
            "(steal time): the machine is shared, and its figures move with its neighbours"
        )
    speed = host_speed(result.cells)
    if speed is not None:
        yield describe_speed(speed)
    costs = [s.monitor_cost for s in stats.values() if s.monitor_cost is not None]
    if costs:
        yield (
            "the GIL monitor's own cost: monitored calls took "
            f"{format_ratio(statistics.median(costs))} the median call (median over cells)"
        )
    yield from format_contention(result, stats)
    yield from format_impossible(result, stats)
    yield from format_idle(result, stats)
    noisy = [key for key, cell in stats.items() if cell.time.noisy]
    if noisy:
        yield (
            f"{len(noisy)} of {len(result.cells)} cells are noisy (spread, the coefficient "
            "of variation, over 10%): compare them with care, or rerun with more --repeat"
        )


def format_overheads(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """Per kernel, the pool whose own cost weighs most beside a call of that kernel; kernels
    whose costliest pool and verdict are the same share one line."""
    lines: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for kernel, worst in costliest_overheads(result, stats).items():
        record = worst.record
        share = worst.share
        weight = f"{share:.0%} of" if share < 1 else f"{format_ratio(share)} as long as"
        per_task = f"{format_seconds(record.dispatch_s)} per task"
        cost = (
            f"{format_seconds(record.call_overhead_s)} per empty call ({per_task})"
            if record.call_overhead_s
            else per_task
        )
        pool = f"{runner_label(result, record)} × {format_workers(record.n_workers)}"
        weighed = f"{weight} a {format_seconds(worst.call_s)} call ({record.impl}, serial)"
        lines.setdefault((pool, cost, worst.verdict), []).append((kernel, weighed))
    for (pool, cost, verdict), kernels in lines.items():
        names = ", ".join(kernel for kernel, _ in kernels)
        weighed = ", ".join(
            weighed if len(kernels) == 1 else f"{weighed} for {kernel}"
            for kernel, weighed in kernels
        )
        yield f"{names}: {pool} costs most beside the work: {cost}, {weighed}: {verdict}"


def format_legend(result: RunResult) -> Iterator[str]:
    """What the columns mean."""
    yield (
        f"spread: coefficient of variation ({DASH} with one timed call), {NOISY_MARK} over "
        f"10% (noisy), {TAKEN_MARK} other "
        f"processes or the hypervisor took over {CELL_SHARE:.0%} of the cpus meanwhile, "
        f"{IMPOSSIBLE_MARK} a speedup the strategy cannot give (see the warning); "
        "vs serial: speedup over the same impl on the serial runner with 1 worker; "
        "of ideal = vs serial / ideal; of cap = vs serial / what as many busy native threads "
        "reach on this machine (its capacity: the mean of its figures before and after the "
        "matrix); "
        "vs python: over pure-Python serial, per unit of work where n differs; vs serial and "
        "vs python are paired ratios (the median of round-by-round ratios), so on a machine "
        "whose speed drifts they may order cells unlike the medians, by which the fastest line "
        "ranks; "
        "cpu use = CPU time / (wall time × workers), at most 100%; "
        "GIL wait: share of extra calls (about 0.2 s) during which a monitor thread "
        "waited for the GIL, not counting its waits for a cpu."
    )
    yield from format_check(result)
    yield from format_unsupported(result)
    in_call = dict.fromkeys(r.impl for r in result.cells if result.in_call_parallel(r.impl))
    for impl in in_call:
        threads = result.threads_of(impl)
        yield f"{impl}: one call on the serial runner; workers = {threads} threads in it."
    compiled = {impl: facts for impl, facts in result.impls.items() if facts.get("compile_s")}
    if compiled:
        seconds = sum(sum(facts["compile_s"].values()) for facts in compiled.values())
        cached = all(facts.get("compiled_from_cache") for facts in compiled.values())
        how = "loaded from Numba's cache" if cached else "compiled"
        yield (
            f"{', '.join(compiled)}: {how} before any timed call, {format_seconds(seconds)} "
            "here, not counted."
        )


def format_run(result: RunResult) -> Iterator[str | Table]:
    kernels = list(dict.fromkeys(r.kernel for r in result.cells))
    stats = cell_stats(result)
    yield format_header(result)
    for kernel in kernels:
        yield ""
        yield format_kernel_table(result, kernel, stats)
    pools = format_pools_table(result)
    if pools is not None:
        yield ""
        yield pools
    yield from format_cluster(result)
    yield from format_errors(result)
    yield from format_legend(result)
    yield from format_warnings(result, stats)
    yield from format_overheads(result, stats)
    for kernel in kernels:
        yield format_fastest(result, kernel, stats)


def describe_speed(speed: HostSpeed) -> str:
    text = (
        f"machine speed: a fixed Python loop timed before each call took "
        f"{speed.fastest_s * 1e3:.2f} ms at best and {speed.slowest_s * 1e3:.2f} ms at the "
        f"95th percentile ({speed.swing:.2f}×)"
    )
    if speed.steady:
        return text + ": steady"
    return (
        f"warning: {text}; {speed.slow_share:.0%} of calls ran over {SLOW_FACTOR}× slower than "
        "the fastest: the machine itself changed speed during the run, and cells spread with it"
    )
