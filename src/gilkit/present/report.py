"""`gilkit report`: a run as Markdown, the machine, the tables, the plot and verdicts in words.

Also reads pytest-benchmark's JSON (`pytest bench/ --benchmark-json FILE`) and reports its
cells with the extra figures gilkit's suite stores in `extra_info`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from gilkit.analysis import verdicts
from gilkit.analysis.machine_speed import HostSpeed, host_speed, speed_of, steal_share
from gilkit.analysis.stats import (
    CellStats,
    Key,
    cell_stats,
    kernel_ideal,
    machine_capacity,
    serial_key,
)
from gilkit.analysis.verdicts import (
    Limit,
    Outcome,
    impossible_benchmark,
    is_parallel,
    outcome,
    slowed_each_other,
    takes_gil_turns,
    verdict_cells,
)
from gilkit.model.results import CellRecord, RunResult
from gilkit.model.units import DASH, format_percent, format_ratio, format_seconds
from gilkit.present.formatting import cell_order, format_python, runner_label
from gilkit.present.tables import (
    COLUMNS,
    CONTENTION,
    POOL_COLUMNS,
    format_cluster,
    format_fastest,
    format_legend,
    format_overheads,
    format_sizing,
    format_title,
    format_warnings,
    pool_rows,
    row_values,
)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def verdict(
    stats: CellStats, record: CellRecord, contended: bool = False, turns: bool = False
) -> str:
    """One cell's outcome in words, with the figures that support it. `contended`: threads of
    a free-threaded run that were busy yet slow (analysis.verdicts.slowed_each_other);
    `turns`: workers that take turns on a GIL they share (verdicts.takes_gil_turns)."""
    speedup, ideal = stats.speedup_vs_serial or 0.0, stats.ideal
    machine = "" if stats.capacity is None else f", this machine {stats.capacity:.2f}×"
    figure = f"{speedup:.2f}× on {record.n_workers} workers (ideal {ideal}×{machine})"
    done = outcome(stats)
    if done is Outcome.SCALES:
        return f"{figure}: scales"
    return f"{figure}: {done.value}, {limit(stats, contended, turns)}"


def limit(stats: CellStats, contended: bool = False, turns: bool = False) -> str:
    """What held a cell below its ideal (analysis.verdicts.limit), in words with figures; a
    GIL wait only where one was measured."""
    wait, use = stats.gil_contention, stats.cpu_utilisation
    held = verdicts.limit(stats, contended, turns)
    if held is Limit.INTERFERENCE and stats.taken is not None:
        taken = stats.taken
        by_hypervisor = taken.steal > taken.others
        most, rest = (taken.steal, taken.others) if by_hypervisor else (taken.others, taken.steal)
        besides = "other processes" if by_hypervisor else "the hypervisor"
        also = f"; {besides} {format_percent(rest)}" if rest >= 0.005 else ""
        return (
            f"the cpus were taken by {taken.who} ({format_percent(most)} of them during its "
            f"calls{also}): rerun on a quiet machine"
        )
    if held is Limit.GIL and wait is None:
        return "the GIL serialises it: its workers take turns on the GIL they share"
    if held is Limit.GIL:
        return f"the GIL serialises it (GIL wait {wait:.2f})"
    if held is Limit.CONTENTION:
        return f"the threads were busy (cpu use {use:.0%}) but slowed each other: {CONTENTION}"
    if held is Limit.MACHINE:
        return (
            f"the machine: {stats.capacity:.2f}× is all that as many busy native threads "
            f"reach here, and this cell reached {stats.of_capacity:.0%} of it"
        )
    if held is Limit.BUSY:
        return (
            f"not the GIL: every worker was busy (cpu use {use:.0%}) yet slower than alone, "
            "so the cpus, the memory or the host are the limit"
        )
    if wait is None:  # not measured, or no GIL shared (processes): nothing said of it
        return (
            f"the workers sat idle part of the time (cpu use {format_percent(use)}): dispatch, "
            "the OS placing the workers on cpus or uneven parts are the limit"
        )
    return (
        f"the workers sat idle part of the time (cpu use {format_percent(use)}) with little GIL "
        f"wait ({wait:.2f}): dispatch, the OS placing the workers on cpus, uneven parts or "
        "brief GIL holds are the limit"
    )


def with_min_and_iqr(
    result: RunResult, record: CellRecord, all_stats: dict[Key, CellStats]
) -> list[str]:
    """The terminal's row with the fastest call and the interquartile range after the median;
    a report has the room that a terminal lacks."""
    stats = all_stats.get(record.key)
    values = row_values(result, record, stats, all_stats)
    at = COLUMNS.index("median") + 1
    extra = (
        ["", ""]
        if stats is None or record.error
        else [
            format_seconds(stats.time.minimum),
            format_seconds(stats.time.iqr) if stats.time.known else DASH,
        ]
    )
    return [*values[:at], *extra, *values[at:]]


def machine_speed(result: RunResult) -> str:
    speed = host_speed(result.cells)
    return "not recorded" if speed is None else describe_speed(speed)


def describe_speed(speed: HostSpeed) -> str:
    state = "steady" if speed.steady else f"changed: {speed.slow_share:.0%} of calls slowed"
    return (
        f"reference loop {speed.fastest_s * 1e3:.2f} ms at best, "
        f"{speed.slowest_s * 1e3:.2f} ms at the 95th percentile ({state})"
    )


def format_run_markdown(result: RunResult, plot_file: str | None = None) -> Iterator[str]:
    meta = result.metadata
    cpu = meta["cpu"]
    stats = cell_stats(result)
    yield "# gilkit report"
    yield ""
    yield f"Run of {meta['date']}{'' if result.complete else ' (interrupted: partial)'}."
    yield ""
    yield "## Machine"
    yield ""
    yield from markdown_table(
        ["", ""],
        [
            ["interpreter", format_python(meta["python"])],
            ["cpu", f"{cpu['model']}, {cpu['usable_cpus']} usable of {cpu['logical_cpus']}"],
            ["ideal speedup", f"min(workers, {cpu['usable_cpus']})"],
            [
                "load average before, after",
                f"{(cpu.get('load_average_before') or ['?'])[0]}, "
                f"{(cpu.get('load_average_after') or ['?'])[0]}",
            ],
            ["machine speed", machine_speed(result)],
            [
                "sizes",
                format_sizing(result.options["sizing"])
                if result.options.get("sizing")
                else "as given or the kernels' own",
            ],
            ["cpu time stolen by the hypervisor", format_percent(steal_share(cpu))],
            ["extensions", str(meta["build"]["extensions"])],
        ],
    )
    kernels = list(dict.fromkeys(r.kernel for r in result.cells))
    yield ""
    yield "## Verdicts"
    for kernel in kernels:
        yield ""
        yield f"**{kernel}**"
        yield ""
        for record in verdict_cells(result, stats, kernel):
            baseline = stats.get(serial_key(record.kernel, record.impl))
            noisy = stats[record.key].time.noisy or (baseline is not None and baseline.time.noisy)
            caveat = "; noisy, rerun to confirm" if noisy else ""
            contended = slowed_each_other(result, record, stats[record.key])
            turns = takes_gil_turns(result, record)
            yield (
                f"- {record.impl} × {runner_label(result, record)}: "
                f"{verdict(stats[record.key], record, contended, turns)}{caveat}"
            )
        yield ""
        yield f"{format_fastest(result, kernel, stats)}."
    if plot_file:
        yield ""
        yield f"![speedups]({plot_file})"
    for kernel in kernels:
        records = [r for r in result.cells if r.kernel == kernel]
        title = format_title(result, kernel, records).replace("[bold]", "").replace("[/]", "")
        yield ""
        yield f"## {title}"
        yield ""
        rows = [with_min_and_iqr(result, record, stats) for record in records]
        at = COLUMNS.index("median") + 1
        yield from markdown_table([*COLUMNS[:at], "min", "IQR", *COLUMNS[at:]], rows)
    yield from format_scaling(result, stats)
    yield ""
    yield from (f"{line}  " for line in format_legend(result))
    notes = [*format_warnings(result, stats), *format_cluster(result)]
    if notes:
        yield ""
        yield "## What the figures rest on"
        yield ""
        yield from (f"- {line}" for line in notes)
    pools = pool_rows(result)
    if pools:
        yield ""
        yield "## Pools"
        yield ""
        yield from markdown_table(POOL_COLUMNS, pools)
        overheads = list(format_overheads(result, stats))
        if overheads:
            yield ""
            yield from (f"- {line}" for line in overheads)


def format_scaling(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """Per kernel, each parallel way's speedup at every worker count, with the Karp-Flatt
    serial fraction e: how a way stops scaling, not just that it does."""
    for kernel in dict.fromkeys(r.kernel for r in result.cells):
        ways: dict[str, dict[int, CellStats]] = {}
        for record in sorted(result.cells, key=cell_order(result)):
            cell = stats.get(record.key)
            if record.kernel == kernel and is_parallel(result, record) and cell is not None:
                way = f"{record.impl} × {runner_label(result, record)}"
                ways.setdefault(way, {})[record.n_workers] = cell
        counts = sorted({n for cells in ways.values() for n in cells if n > 1})
        if not counts:
            continue
        yield ""
        yield f"### {kernel}: scaling"
        yield ""
        machine = [machine_capacity(result, kernel, n) for n in counts]
        rows = [
            ["ideal", *(f"{kernel_ideal(result, kernel, n)}×" for n in counts)],
            ["this machine", *(format_ratio(c) for c in machine)],
        ]
        for way, cells in ways.items():
            row = [way]
            for n in counts:
                cell = cells.get(n)
                speedup = None if cell is None else cell.speedup_vs_serial
                e = None if cell is None else cell.serial_fraction
                row.append(
                    DASH
                    if speedup is None
                    else f"{format_ratio(speedup)}" + ("" if e is None else f" (e {e:.2f})")
                )
            rows.append(row)
        yield from markdown_table(["speedup at", *(f"{n} workers" for n in counts)], rows)
    yield ""
    yield (
        "e: the Karp-Flatt serial fraction, (1/speedup - 1/p) / (1 - 1/p) with p = the "
        "ideal speedup (min(workers, usable cpus); the workers for waiting work such as io): "
        "steady as workers grow, a fixed serial part; growing, an overhead that grows with "
        "the workers."
    )


def is_pytest_benchmark(document: Any) -> bool:
    return isinstance(document, dict) and "benchmarks" in document and "machine_info" in document


BENCHMARK_COLUMNS = (
    "kernel",
    "impl",
    "runner",
    "workers",
    "median",
    "IQR",
    "rounds",
    "vs serial",
    "vs python",
    "cpu use",
    "GIL wait",
    "GIL on",
)


def benchmark_cell(bench: dict[str, Any]) -> list[str]:
    """kernel, impl, runner, workers: from gilkit's extra_info, else from the test's id."""
    info = bench.get("extra_info", {})
    if "impl" in info:
        kernel = info.get("kernel", bench.get("group") or "?")
        return [kernel, info["impl"], info.get("runner", "?"), str(info.get("workers", "?"))]
    return [bench["name"], "", "", ""]


def yes_no(value: Any) -> str:
    return DASH if value is None else "yes" if value else "no"


def benchmark_machine(document: dict[str, Any]) -> list[list[str]]:
    """The machine facts the suite recorded: interpreter, cpus, speed and load."""
    machine = document["machine_info"]
    gilkit = machine.get("gilkit", {})
    python, cpu = gilkit.get("python"), gilkit.get("cpu", {})
    interpreter = (
        format_python(python)
        if python
        else f"{machine.get('python_implementation', '')} {machine.get('python_version', '')}"
    )
    model = cpu.get("model") or machine.get("cpu", {}).get("brand_raw") or "?"
    infos = [bench.get("extra_info", {}) for bench in document["benchmarks"]]
    speed = speed_of([i["host_reference_s"] for i in infos if "host_reference_s" in i])
    loads = [i["load_average"][0] for i in infos if i.get("load_average")]
    before = (cpu.get("load_average_before") or [None])[0]
    rows = [
        ["interpreter", interpreter],
        ["cpu", f"{model}, {cpu.get('usable_cpus', '?')} usable cpus"],
        ["date", str(document.get("datetime", ""))],
        ["machine speed", "not recorded" if speed is None else describe_speed(speed)],
    ]
    if before is not None or loads:
        after = loads[-1] if loads else "?"
        rows.append(
            ["load average before, after", f"{before if before is not None else '?'}, {after}"]
        )
    return rows


def format_benchmark_markdown(document: dict[str, Any]) -> Iterator[str]:
    """pytest-benchmark's JSON, grouped as it was, with gilkit's extra_info where present."""
    yield "# gilkit report (pytest-benchmark)"
    yield ""
    yield from markdown_table(["", ""], benchmark_machine(document))
    groups: dict[str, list[dict[str, Any]]] = {}
    for bench in document["benchmarks"]:
        groups.setdefault(bench.get("group") or "ungrouped", []).append(bench)
    for group, benches in groups.items():
        yield ""
        yield f"## {group}"
        yield ""
        rows = []
        for bench in benches:
            info, stats = bench.get("extra_info", {}), bench.get("stats", {})
            wait = info.get("gil_contention")
            rows.append(
                [
                    *benchmark_cell(bench),
                    format_seconds(stats.get("median")),
                    format_seconds(stats.get("iqr")),
                    str(stats.get("rounds", "")),
                    format_ratio(info.get("speedup_vs_serial"))
                    + ("?" if impossible_benchmark(info) else ""),
                    format_ratio(info.get("speedup_vs_python")),
                    format_percent(info.get("cpu_utilisation")),
                    DASH if wait is None else f"{wait:.2f}",
                    yes_no(info.get("gil_enabled")),
                ]
            )
        yield from markdown_table(BENCHMARK_COLUMNS, rows)
    yield from format_scaling_benchmarks(document["benchmarks"])


SCALING_COLUMNS = (
    "test",
    "call",
    "runner",
    "workers",
    "speedup",
    "of ideal",
    "of cap",
    "GIL (probe)",
    "machine",
)


def format_scaling_benchmarks(benches: list[dict[str, Any]]) -> Iterator[str]:
    """The rows of gilkit's pytest plugin (gil_scaling), with what it measured."""
    rows = []
    for bench in benches:
        info = bench.get("extra_info", {})
        scaling = info.get("gil_scaling")
        if not isinstance(scaling, dict):
            continue
        rows.append(
            [
                str(bench.get("name", "?")),
                str(info.get("kernel", "?")),
                str(info.get("runner", "?")),
                str(info.get("workers", "?")),
                f"{format_ratio(info.get('speedup_vs_serial'))} (±{info.get('speedup_cv', 0):.0%})",
                format_percent(scaling.get("efficiency")),
                format_percent(scaling.get("of_capacity")),
                str(scaling.get("verdict", "?")),
                "others took the cpus" if scaling.get("interfered") else "quiet",
            ]
        )
    if rows:
        yield ""
        yield "## GIL scaling (gilkit's pytest plugin)"
        yield ""
        yield from markdown_table(SCALING_COLUMNS, rows)


def is_claims(document: Any) -> bool:
    return isinstance(document, dict) and document.get("schema") == "gilkit.claims"


def format_claims_markdown(document: dict[str, Any]) -> Iterator[str]:
    """`gilkit claims --json` as Markdown: each claim, what was measured, the verdict."""
    python = document["metadata"]["python"]
    cpu = document["metadata"]["cpu"]
    yield "# gilkit report: the seed's claims, checked"
    yield ""
    yield (
        f"{python['implementation']} {python['version']} "
        f"({'free-threaded' if python['free_threaded_build'] else 'GIL'} build) on "
        f"{cpu['model']}, {cpu['usable_cpus']} usable cpus, {document['metadata']['date']}"
        f"{'' if document['complete'] else ' (interrupted: partial)'}."
    )
    yield ""
    rows = [
        [str(c["number"]), c["claim"], c["measured"], f"**{c['verdict']}**"]
        for c in document["claims"]
    ]
    yield from markdown_table(["#", "claim", "measured here", "verdict"], rows)
