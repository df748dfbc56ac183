"""`gilkit compare A.json B.json`: the same cells of two runs side by side.

For each cell found in both runs: the two medians, the ratio, and whether the difference is
significant over the repeats (Mann-Whitney U, adjusted for the number of cells compared: see
gilkit.analysis.significance); then, per kernel, how many cells agree, the geometric mean of the
ratios and a sign test over the cells (did the kernel as a whole move?); last, how much the
machine's own speed moved (gilkit.analysis.machine_speed), which is part of every ratio. Typical
uses: one matrix under two interpreters (GIL and free-threaded), or before and after a change.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from gilkit.analysis.machine_speed import host_speed
from gilkit.analysis.significance import (
    ALPHA,
    adjusted,
    p_value,
    repeats_needed,
    sign_test_p,
    smallest_p,
)
from gilkit.model.results import CellRecord, RunResult
from gilkit.model.units import format_change, format_seconds, plural
from gilkit.present.formatting import cell_order, format_python, runner_label
from gilkit.present.tables import compact_table

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
        for record in sorted(a.cells, key=cell_order(a))
        if record.times_s and record.error is None and (record.key, record.size) in b_cells
    ]


def geometric_mean(ratios: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(r) for r in ratios))


def format_p(p: float, equals: str = "") -> str:
    return f"{equals}{p:.3f}" if p >= 0.001 else "< 0.001"


CANNOT_TELL = "can't tell"


def verdict_of(pair: Pair, q: float, n_cells: int) -> str:
    """yes: differs; no: agrees, where a change in this cell alone could have shown; else
    the repeats were too few for the test to tell (complete separation of the times would
    still not be significant once adjusted for the kernel's cells)."""
    if q < ALPHA:
        return "yes"
    could_show = smallest_p(len(pair.a.times_s), len(pair.b.times_s)) * n_cells < ALPHA
    return "no" if could_show else CANNOT_TELL


def power_hint(mine: list[Pair]) -> str | None:
    """Say so when the repeats are too few for the test to show a difference at all."""
    best = min(smallest_p(len(p.a.times_s), len(p.b.times_s)) for p in mine)
    needed = repeats_needed(len(mine))
    if best >= ALPHA:
        return (
            "too few repeats for any difference to show (even completely separated times "
            f"give p = {best:.2f}): run both with --repeat {needed} or more"
        )
    if best * len(mine) >= ALPHA:
        return (
            "with these repeats a change shows only where several cells share it; "
            f"--repeat {needed} or more would show it in a single cell of {len(mine)}"
        )
    return None


def machine_difference(a: RunResult, b: RunResult) -> Iterator[str]:
    """How much faster or slower the machine itself ran in B: a part of every ratio above."""
    speed_a, speed_b = host_speed(a.cells), host_speed(b.cells)
    if speed_a is None or speed_b is None:
        return
    if format_python(a.metadata["python"]) != format_python(b.metadata["python"]):
        # The reference is a Python loop: another interpreter runs it at another speed.
        yield "machine speed: not compared, the runs used different interpreters"
        return
    change = format_change(speed_b.median_s / speed_a.median_s, "A")
    yield (
        f"machine speed: B ran the reference loop {change} (median before each call); "
        "a change of that size in a cell may be the machine's, not the code's"
    )


def format_comparison(
    a: RunResult, b: RunResult, a_name: str, b_name: str
) -> Iterator[str | Table]:
    matched = pairs(a, b)
    yield f"A: {a_name}: {format_python(a.metadata['python'])}, {a.metadata['date']}"
    yield f"B: {b_name}: {format_python(b.metadata['python'])}, {b.metadata['date']}"
    if not matched:
        yield "no cell was timed in both runs at the same size: nothing to compare"
        return
    for kernel in dict.fromkeys(p.a.kernel for p in matched):
        mine = [p for p in matched if p.a.kernel == kernel]
        table = compact_table(f"[bold]{kernel}[/]")
        for header in (
            "impl",
            "runner",
            "workers",
            "A median",
            "B median",
            "B vs A",
            "p",
            "q",
            "differs",
        ):
            table.add_column(header, justify="left" if header in ("impl", "runner") else "right")
        p_values = [pair.p_value for pair in mine]
        q_values = adjusted(p_values)
        verdicts = [verdict_of(pair, q, len(mine)) for pair, q in zip(mine, q_values, strict=True)]
        for pair, p, q, said in zip(mine, p_values, q_values, verdicts, strict=True):
            verdict = Text(said, style={"yes": "bold", "no": "dim"}.get(said, "yellow"))
            table.add_row(
                pair.a.impl,
                runner_label(a, pair.a),
                str(pair.a.n_workers),
                format_seconds(statistics.median(pair.a.times_s)),
                format_seconds(statistics.median(pair.b.times_s)),
                format_change(pair.ratio),
                format_p(p),
                format_p(q),
                verdict,
            )
        yield table
        mean = geometric_mean([p.ratio for p in mine])
        n_differ, n_unknown = verdicts.count("yes"), verdicts.count(CANNOT_TELL)
        n_faster = sum(p.ratio < 1 for p in mine)
        n_slower = sum(p.ratio > 1 for p in mine)
        unknown = f", {n_unknown} cannot tell with these repeats" if n_unknown else ""
        yield (
            f"{kernel}: {verdicts.count('no')} of {len(mine)} cells agree, {n_differ} differ"
            f"{unknown}; "
            f"B is {format_change(mean, 'A')} (geometric mean; faster in {n_faster}, slower "
            f"in {n_slower} cells: sign test p {format_p(sign_test_p(n_faster, n_slower), '= ')})"
        )
        hint = power_hint(mine)
        if hint:
            yield f"{kernel}: {hint}"
    yield from machine_difference(a, b)
    only = len(a.cells) + len(b.cells) - 2 * len(matched)
    if only:
        yield f"not compared: {plural(only, 'cell')} in one run only, or at another size"
    yield (
        "p: two-sided Mann-Whitney U test over the repeats of each cell; q: p adjusted for the "
        f"cells of the kernel (Benjamini-Hochberg); a cell differs where q < {ALPHA}."
    )
