"""The rules `gilkit advise` judges its measurements by, on plain figures (tests feed them
made-up ones): which way to recommend, why each other way loses, from what task length a
pool's own cost pays, and what more cpus would give.

A pool's own cost "pays" when it is under OWN_COST_SHARE of the work it carries: a task at
least 1/OWN_COST_SHARE times the pool's cost per task (its empty task, plus pickling the
task's input and result where the pool copies them), and a map at least 1/OWN_COST_SHARE
times its start-up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gilkit.analysis.significance import ALPHA, p_value
from gilkit.analysis.stats import karp_flatt
from gilkit.model.units import format_bytes, format_percent, format_ratio, format_seconds, plural

OWN_COST_SHARE = 0.10
# Cpu counts the projection goes to: those past this machine's, up to this many.
PROJECT_UP_TO = 64
SERIAL = "serial"


@dataclass(frozen=True)
class Way:
    """One way of doing the map, as measured: a runner at a worker count."""

    runner: str
    workers: int
    speedup: float | None = None  # median of the round-by-round ratios to serial, per task
    low: float | None = None  # the least and the most of those ratios: its spread
    high: float | None = None
    task_times_s: tuple[float, ...] = ()  # each round's time per task (its ties are judged on)
    error: str | None = None  # why it could not run
    shares_gil: bool = False  # its workers take turns on one GIL (not so without a GIL)
    copies: bool = False  # tasks and results are pickled to its workers and back
    startup_s: float | None = None
    empty_task_s: float | None = None  # the pool's own cost per task, without data
    memory_bytes: int | None = None  # per worker
    python: str | None = None  # another interpreter it ran under (--python), by its label
    # Why its speedup cannot be what the way gave, and what explains it
    # (gilkit.analysis.verdicts.impossible, as `gilkit run` flags a cell), or None.
    impossible: str | None = None

    @property
    def label(self) -> str:
        label = SERIAL if self.runner == SERIAL else f"{self.runner} ×{self.workers}"
        return label if self.python is None else f"{label} on {self.python}"


@dataclass(frozen=True)
class Task:
    """What one task is: its serial duration and what a copying pool moves for it."""

    seconds: float
    kind: str  # the probe's: releases, holds, python (takes turns), unknown
    gil_enabled: bool = True
    moved_bytes: int | None = None  # its input and its result, pickled
    move_s: float | None = None  # pickling and unpickling them, once each way
    n_tasks: int = 1  # in the map measured
    n_map: int | None = None  # in the user's map, where known (--tasks, --inputs)
    spread_s: tuple[float, float] | None = None  # the least and most of the serial rounds

    @property
    def work_s(self) -> float:
        """The user's map's serial work, or the measured map's where the user's is unknown:
        what a pool's start-up is paid once against."""
        return self.seconds * (self.n_map or self.n_tasks)

    def move_cost(self, way: Way) -> float:
        return (self.move_s or 0.0) if way.copies else 0.0


@dataclass(frozen=True)
class Recommendation:
    way: Way
    tied_with: tuple[Way, ...]  # ways its rounds cannot tell apart from it
    batch: int  # tasks per dispatch for its own cost to pay


def recommend(ways: Sequence[Way], task: Task) -> Recommendation:
    """The way with the highest median speedup (serial is 1×); ways whose rounds cannot be
    told apart from its (Mann-Whitney, p >= ALPHA) are named as tied with it, and where serial
    is one of them, serial is recommended. Equal medians go to the way listed first."""
    measured = [way for way in ways if way.speedup is not None and way.error is None]
    if not measured:
        raise ValueError("no way was measured")
    best = max(measured, key=lambda way: way.speedup or 0.0)
    tied = ties(best, measured)
    serial = next((way for way in tied if way.runner == SERIAL), None)
    if serial is not None:  # no pool at all is the simpler way to the same speed
        best, tied = serial, ties(serial, measured)
    return Recommendation(best, tied, pays_from(best, task).batch)


def ties(chosen: Way, ways: Sequence[Way]) -> tuple[Way, ...]:
    """The ways whose per-task times `chosen`'s rounds cannot tell apart from its own."""
    return tuple(
        way
        for way in ways
        if way is not chosen
        and len(way.task_times_s) > 1
        and len(chosen.task_times_s) > 1
        and p_value(chosen.task_times_s, way.task_times_s) >= ALPHA
    )


@dataclass(frozen=True)
class PaysFrom:
    """From what a pool's own cost is under OWN_COST_SHARE of the work."""

    task_s: float  # a task at least this long (0: any task)
    map_s: float  # a map of at least this much serial work (0: any map)
    batch: int  # tasks per dispatch that reach task_s with this map's tasks

    def line(self, way: Way) -> str:
        parts = [f"tasks ≥ {format_seconds(self.task_s)}" if self.task_s else "any task"]
        if self.map_s:
            parts.append(f"a map ≥ {format_seconds(self.map_s)} of work")
        batch = f"; these tasks in batches of {self.batch}+" if self.batch > 1 else ""
        return f"{way.label}: {' and '.join(parts)}{batch}"


def pays_from(way: Way, task: Task) -> PaysFrom:
    """The task length and map size from which the way's own cost pays, and the batch size
    that makes this map's tasks long enough."""
    if way.runner == SERIAL:
        return PaysFrom(0.0, 0.0, 1)
    per_task = (way.empty_task_s or 0.0) + task.move_cost(way)
    least_task = per_task / OWN_COST_SHARE
    batch = max(1, math.ceil(least_task / task.seconds)) if task.seconds > 0 else 1
    # Only the pool's own part batches away; the data moved goes with every task anyway.
    if task.move_cost(way) / OWN_COST_SHARE >= task.seconds:
        batch = 1
    return PaysFrom(least_task, (way.startup_s or 0.0) / OWN_COST_SHARE, batch)


def why_not(way: Way, best: Recommendation, task: Task) -> str:
    """Why `way` is not the recommended one, in a phrase: the first reason that holds."""
    chosen = best.way
    if way.error is not None:
        return f"could not run: {way.error}"
    if way.shares_gil and way.workers > 1:
        if task.kind == "python":
            return "the call runs Python, or takes the GIL back often: its workers take turns"
        if task.kind == "holds":
            return "the call holds the GIL: its workers take turns on it"
    if way in best.tied_with:
        return f"tied with {chosen.label} within the spread of its rounds"
    if way.runner == SERIAL:
        return "one worker"
    moving = task.move_cost(way)
    if moving >= OWN_COST_SHARE * task.seconds:
        return (
            f"moves {format_bytes(task.moved_bytes)} per task ({format_seconds(moving)}, "
            f"{format_percent(moving / task.seconds)} of a task)"
        )
    if way.empty_task_s is not None and way.empty_task_s >= OWN_COST_SHARE * task.seconds:
        return (
            f"its own cost, {format_seconds(way.empty_task_s)} per task, against "
            f"{format_seconds(task.seconds)} tasks"
        )
    if way.startup_s is not None and way.startup_s >= OWN_COST_SHARE * task.work_s:
        return (
            f"start-up {format_seconds(way.startup_s)} against {format_seconds(task.work_s)} "
            "of work"
        )
    if way.runner == chosen.runner and way.workers != chosen.workers:
        return f"{way.workers} workers do less than {chosen.workers} here"
    return (
        f"{format_ratio(way.speedup)} against {format_ratio(chosen.speedup)} here{costs(way, task)}"
    )


def costs(way: Way, task: Task) -> str:
    """The way's own costs beside the work, where it has any: what its speedup pays for."""
    per_task = (way.empty_task_s or 0.0) + task.move_cost(way)
    shares = []
    if per_task and task.seconds > 0:
        moved = f" ({format_bytes(task.moved_bytes)} moved)" if task.move_cost(way) else ""
        shares.append(f"{format_percent(per_task / task.seconds)} of each task{moved}")
    if way.startup_s and task.work_s > 0:
        shares.append(f"start-up {format_percent(way.startup_s / task.work_s)} of the map")
    return f"; its own cost: {', '.join(shares)}" if shares else ""


@dataclass(frozen=True)
class Projection:
    """Speedups at more cpus from the serial fraction measured here (Karp-Flatt): a model."""

    serial_fraction: float
    from_workers: int
    speedups: tuple[tuple[int, float], ...]  # (cpus, projected speedup)


# The projection rests on a median of at least this many rounds: one round's figure (an
# interrupted advise) has no spread to tell a fluke from the way's speed.
PROJECT_MIN_ROUNDS = 3


def no_projection(way: Way) -> str | None:
    """Why the way's speedup is no ground for a projection, where it has the figures for one."""
    if way.impossible is not None:
        return f"{way.label}'s speedup cannot be what it gave (see the warning)"
    if len(way.task_times_s) < PROJECT_MIN_ROUNDS:
        return (
            f"{way.label} has {plural(len(way.task_times_s), 'round')} measured; a projection "
            f"needs {PROJECT_MIN_ROUNDS} or more"
        )
    return None


def project(way: Way, cpus: int) -> Projection | None:
    """Amdahl's law with the way's measured serial fraction, at cpu counts past this
    machine's; None for serial, one worker, or ways that take turns on one GIL, and where
    no_projection says why not."""
    workers = min(way.workers, cpus)
    if way.runner == SERIAL or workers < 2 or way.error is not None or no_projection(way):
        return None
    fraction = karp_flatt(way.speedup, workers)
    if fraction is None:
        return None
    fraction = min(1.0, max(0.0, fraction))  # a superlinear run says nothing past linear
    counts = []
    count = 2 ** math.ceil(math.log2(cpus + 1))
    while count <= PROJECT_UP_TO:
        counts.append(count)
        count *= 2
    speedups = tuple((p, 1 / (fraction + (1 - fraction) / p)) for p in counts)
    return Projection(fraction, workers, speedups) if speedups else None
