"""`gilkit compare A.json B.json`: the same cells of two runs side by side.

For each cell found in both runs: the two medians, the ratio, and whether the difference is
significant over the repeats (Mann-Whitney U, see gilkit.significance); then the geometric
mean of the ratios per kernel. Typical uses: one matrix under two interpreters (GIL and
free-threaded), or before and after a change.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from gilkit.report import format_seconds, runner_label, sort_key
from gilkit.results import CellRecord, RunResult
from gilkit.significance import ALPHA, p_value

Key = tuple[str, str, str, int]


@dataclass(frozen=True)
class Pair:
    a: CellRecord
    b: CellRecord

    @property
    def ratio(self) -> float:
        """B's median over A's: below 1, B is faster."""
        return statistics.median(self.b.times_s) / statistics.median(self.a.times_s)

    @property
    def p_value(self) -> float:
        return p_value(self.a.times_s, self.b.times_s)


def pairs(a: RunResult, b: RunResult) -> list[Pair]:
    """Cells timed in both runs at the same size, in A's order."""
    b_cells = {(r.key, r.size): r for r in b.cells if r.times_s and r.error is None}
    return [
        Pair(record, b_cells[record.key, record.size])
        for record in sorted(a.cells, key=sort_key)
        if record.times_s and record.error is None and (record.key, record.size) in b_cells
    ]


def geometric_mean(ratios: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(r) for r in ratios))


def describe_interpreter(result: RunResult) -> str:
    python = result.metadata["python"]
    build = "free-threaded" if python["free_threaded_build"] else "GIL"
    gil = "on" if python["gil_enabled"] else "off"
    return f"{python['implementation']} {python['version']} ({build} build, GIL {gil})"


def format_change(ratio: float) -> str:
    return f"{1 / ratio:.2f}× faster" if ratio < 1 else f"{ratio:.2f}× slower"


def format_comparison(
    a: RunResult, b: RunResult, a_name: str, b_name: str
) -> Iterator[str | Table]:
    matched = pairs(a, b)
    yield f"A: {a_name}: {describe_interpreter(a)}, {a.metadata['date']}"
    yield f"B: {b_name}: {describe_interpreter(b)}, {b.metadata['date']}"
    if not matched:
        yield "no cell was timed in both runs at the same size: nothing to compare"
        return
    for kernel in dict.fromkeys(p.a.kernel for p in matched):
        mine = [p for p in matched if p.a.kernel == kernel]
        table = Table(title=f"[bold]{kernel}[/]", title_justify="left")
        for header in (
            "impl",
            "runner",
            "workers",
            "A median",
            "B median",
            "B vs A",
            "p",
            "significant",
        ):
            table.add_column(header, justify="left" if header in ("impl", "runner") else "right")
        for pair in mine:
            p = pair.p_value
            verdict = Text("yes", style="bold") if p < ALPHA else Text("no", style="dim")
            table.add_row(
                pair.a.impl,
                runner_label(pair.a),
                str(pair.a.n_workers),
                format_seconds(statistics.median(pair.a.times_s)),
                format_seconds(statistics.median(pair.b.times_s)),
                format_change(pair.ratio),
                f"{p:.3f}",
                verdict,
            )
        yield table
        mean = geometric_mean([p.ratio for p in mine])
        n_significant = sum(p.p_value < ALPHA for p in mine)
        yield (
            f"{kernel}: B is {format_change(mean)} than A (geometric mean over "
            f"{len(mine)} cells; {n_significant} significant at p < {ALPHA})"
        )
    only = len(a.cells) + len(b.cells) - 2 * len(matched)
    if only:
        yield f"{only} cell(s) appear in one run only, or at another size, and are not compared"
    yield "p: two-sided Mann-Whitney U test over the repeats of each cell."
