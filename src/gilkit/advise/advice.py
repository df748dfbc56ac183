"""What `gilkit advise` found, as plain data that prints itself in lines of 100 columns at most,
and writes itself into the run's result file (under "advice")."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gilkit.advise.rules import (
    OWN_COST_SHARE,
    SERIAL,
    PaysFrom,
    Projection,
    Recommendation,
    Task,
    Way,
    no_projection,
    pays_from,
    project,
    recommend,
    why_not,
)
from gilkit.model.units import DASH, format_bytes, format_ratio, format_seconds, plural

WIDTH = 100


@dataclass(frozen=True)
class Advice:
    target: str  # the call, as the user named it: zlib.compress(bytes:4M)
    task: Task
    ways: tuple[Way, ...]
    cpus: int  # usable here
    python: str  # the interpreter, one line
    gil: str  # what the call does with the GIL, in a phrase
    verdict: str  # the probe's verdict and figures
    complete: bool = True  # False: interrupted, advice from the rounds measured
    notes: tuple[str, ...] = ()  # what the user should know: unavailable runners, budget
    recommendation: Recommendation | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        measured = [way for way in self.ways if way.speedup is not None and way.error is None]
        if measured:
            object.__setattr__(self, "recommendation", recommend(self.ways, self.task))

    def joined(self, ways: Sequence[Way], notes: Sequence[str] = ()) -> Advice:
        """This advice with more ways (measured under other interpreters) and notes."""
        return dataclasses.replace(self, ways=(*self.ways, *ways), notes=(*self.notes, *notes))

    def reasons(self) -> dict[str, str]:
        """Why each way but the recommended one loses."""
        best = self.recommendation
        if best is None:
            return {way.label: f"could not run: {way.error}" for way in self.ways if way.error}
        return {
            way.label: why_not(way, best, self.task) for way in self.ways if way is not best.way
        }

    def pays_from(self) -> dict[str, PaysFrom]:
        return {way.label: pays_from(way, self.task) for way in self._pools()}

    def _pools(self) -> list[Way]:
        """The ways that ran in a pool: those whose own cost the advice can weigh."""
        return [way for way in self.ways if way.runner != SERIAL and way.error is None]

    def projection(self) -> Projection | None:
        return None if self.recommendation is None else project(self.recommendation.way, self.cpus)

    def plain(self) -> dict[str, Any]:
        """The advice as a result file keeps it: `recommended` first, then the figures."""
        best = self.recommendation
        recommended = None
        if best is not None:
            recommended = {
                "runner": best.way.runner,
                "workers": best.way.workers,
                "batch": best.batch,
                "speedup": best.way.speedup,
                "low": best.way.low,
                "high": best.way.high,
                "tied_with": [way.label for way in best.tied_with],
            }
        projection = self.projection()
        return {
            "target": self.target,
            "recommended": recommended,
            "why_not": self.reasons(),
            "pays_from": {
                label: dataclasses.asdict(pays) for label, pays in self.pays_from().items()
            },
            "projection": None if projection is None else dataclasses.asdict(projection),
            "task": dataclasses.asdict(self.task),
            "ways": [dataclasses.asdict(way) for way in self.ways],
            "cpus": self.cpus,
            "python": self.python,
            "gil": self.gil,
            "verdict": self.verdict,
            "complete": self.complete,
            "notes": list(self.notes),
        }

    def lines(self, notes: bool = True) -> list[str]:
        """The advice to print; `notes=False` leaves out its notes (`--quiet`)."""
        task = self.task
        spread = ""
        if task.spread_s is not None:
            low, high = (format_seconds(seconds) for seconds in task.spread_s)
            spread = f" ({low} to {high})"
        lines = [
            *_wrapped(
                "", f"{self.target}: {format_seconds(task.seconds)} a task{spread}; {self.gil}"
            ),
            *_wrapped("  ", f"gilkit's probe: {self.verdict}"),
            *_wrapped(
                "measured: ",
                f"{plural(task.n_tasks, 'task')}{self._of_total()} in each way (each worker's "
                f"share sent at once), ways in turn; {self.cpus} usable cpus; {self.python}",
            ),
        ]
        if not self.complete:
            lines.append("interrupted: the advice rests on the rounds measured so far")
        best = self.recommendation
        if best is None:
            lines.append("no way ran: see why below")
        else:
            way = best.way
            batch = f", batches of {best.batch}+ tasks" if best.batch > 1 else ""
            if way.runner == SERIAL:
                lines.append("use: serial, no pool: no way measured beats it here")
            else:
                lines.append(
                    f"use: {way.label}{batch}: {format_ratio(way.speedup)} "
                    f"({format_ratio(way.low)} to {format_ratio(way.high)}) vs serial"
                )
            if best.tied_with:
                tied = ", ".join(w.label for w in best.tied_with)
                lines.append(f"     tied with {tied}: its rounds cannot tell them apart")
        for way in self.ways:
            if way.impossible is not None:
                lines += _wrapped("warning: ", f"{way.label}: {way.impossible}")
        reasons = self.reasons()
        if reasons:
            lines.append("why not the others:")
            width = max(len(label) for label in reasons)
            for label, reason in reasons.items():
                way = next(w for w in self.ways if w.label == label)
                figure = DASH if way.speedup is None else format_ratio(way.speedup)
                lines += _wrapped(f"  {label:<{width}}  {figure:>6}  ", reason)
        pays = [pays_from(way, task).line(way) for way in self._pools()]
        if pays:
            lines.append(
                f"own cost under {OWN_COST_SHARE:.0%} of the work (start-up, per task, data):"
            )
            lines += [f"  {line}" for line in pays]
        lines += self._projection_lines()
        memory = [way for way in self._pools() if way.memory_bytes]
        if memory:
            shown = ", ".join(f"{w.label} {format_bytes(w.memory_bytes)}" for w in memory)
            lines += _wrapped("memory per worker: ", shown)
        for note in self.notes if notes else ():
            lines += _wrapped("note: ", note)
        return lines

    def _projection_lines(self) -> list[str]:
        """The projection to more cpus, or why the recommended pool's figures cannot make one."""
        projection = self.projection()
        if projection is not None:
            steps = ", ".join(f"{p} cpus {format_ratio(s)}" for p, s in projection.speedups)
            return _wrapped(
                "projection: ",
                f"{steps} (a model, not a measurement: Amdahl's law with the serial fraction "
                f"{projection.serial_fraction:.2f} measured here at {projection.from_workers} "
                "workers, Karp-Flatt)",
            )
        best = self.recommendation
        if best is None or best.way.runner == SERIAL or best.way.workers < 2:
            return []
        withheld = no_projection(best.way)
        return [] if withheld is None else _wrapped("projection: ", f"none: {withheld}")

    def _of_total(self) -> str:
        n_map = self.task.n_map
        return "" if n_map is None or n_map == self.task.n_tasks else f" of your {n_map:,}"

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _wrapped(head: str, text: str) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=head,
        subsequent_indent=" " * (len(head) if len(head) <= WIDTH // 2 else 4),
        break_on_hyphens=False,
    )
