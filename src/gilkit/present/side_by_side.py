"""One matrix measured under several interpreters, side by side.

Each interpreter ran `gilkit run` in its own process (gilkit.cli.each_python) and wrote its own
result file; the table puts the interpreters next to each other for every cell, and names the
free-threaded build's single-thread cost: serial pure Python on each interpreter against the
first one.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.table import Table

from gilkit.analysis.stats import CellStats, Key, cell_stats, serial_key, work
from gilkit.model.results import RunResult
from gilkit.model.units import DASH, format_ratio, format_seconds
from gilkit.present.formatting import cell_name, cell_order, format_python, runner_label
from gilkit.present.tables import (
    UNSUPPORTED,
    compact_table,
    format_check,
    format_errors,
    format_fastest,
    format_pools_table,
    format_unsupported,
    format_warnings,
)


def serial_python_per_unit(
    result: RunResult, stats: dict[Key, CellStats], kernel: str
) -> float | None:
    """Serial pure Python's median time per unit of the kernel's work: comparable between
    runs even where their sizes differ."""
    key = serial_key(kernel, "python")
    record = next((r for r in result.cells if r.key == key), None)
    if record is None or key not in stats:
        return None
    return stats[key].median_s / work(result.kernels.get(kernel), record.size)


def format_side_by_side(runs: list[tuple[str, RunResult]]) -> Iterator[str | Table]:
    """One table per kernel: each cell's median and speedup under every interpreter; then
    each interpreter's pools, the impls a runner could not load there, and its busy-but-slow
    free-threaded cells."""
    stats = {label: cell_stats(result) for label, result in runs}
    first_label, first = runs[0]
    for label, result in runs:
        yield f"{label}: {format_python(result.metadata['python'])}"
    kernels = list(dict.fromkeys(r.kernel for _, result in runs for r in result.cells))
    for kernel in kernels:
        table = compact_table(f"[bold]{kernel}[/]")
        for header in ("impl", "runner", "workers"):
            table.add_column(header, justify="left" if header != "workers" else "right")
        for label, _ in runs:
            table.add_column(f"{label}\nmedian", justify="right")
            table.add_column(f"{label}\nvs serial", justify="right")
        keys = {r.key: r for _, result in runs for r in result.cells if r.kernel == kernel}
        unsupported = {
            (label, r.key) for label, result in runs for r in result.cells if r.unsupported
        }
        order = cell_order(first)
        for key, record in sorted(keys.items(), key=lambda item: order(item[1])):
            row = [record.impl, runner_label(first, record), str(record.n_workers)]
            for label, _ in runs:
                cell = stats[label].get(key)
                if (label, key) in unsupported:
                    row += [UNSUPPORTED, UNSUPPORTED]
                elif cell is None:
                    row += [DASH, DASH]
                else:
                    row += [format_seconds(cell.median_s), format_ratio(cell.speedup_vs_serial)]
            table.add_row(*row)
        yield table
        base = serial_python_per_unit(first, stats[first_label], kernel)
        for label, result in runs[1:]:
            other = serial_python_per_unit(result, stats[label], kernel)
            if base is not None and other is not None:
                yield (
                    f"{kernel}: serial pure Python on {label} takes {other / base:.2f}× the "
                    f"time it takes on {first_label} per unit of work (single-thread cost)"
                )
    for label, result in runs:
        pools = format_pools_table(result, label)
        if pools is not None:
            yield ""
            yield pools
        for line in per_interpreter(result, stats[label]):
            yield f"{label}: {line}"


def per_interpreter(result: RunResult, stats: dict[Key, CellStats]) -> Iterator[str]:
    """What one interpreter's own run says under its tables: its check of the results, what
    its figures rest on (capacity, load, interference, warnings), the runners that could not
    load an impl, and the fastest way."""
    yield from format_check(result)
    yield from format_errors(result)
    for record in result.cells:
        if record.error is None and record.agrees is False:
            yield f"check: {cell_name(result, record)} computed a wrong result"
    yield from format_warnings(result, stats)
    yield from format_unsupported(result)
    for kernel in dict.fromkeys(r.kernel for r in result.cells):
        yield format_fastest(result, kernel, stats)
