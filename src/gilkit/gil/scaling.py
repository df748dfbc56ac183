"""Does a call still scale? W calls one after another against W calls at once in a runner,
through gilkit's engine and judge: the call becomes a kernel of W tasks, planned as a serial
cell and a pool cell per worker count, measured in interleaved rounds (paired ratios), and
read back with the machine's capacity and the interference during the calls. The probe says
what the call does with the GIL. What the pytest plugin's `gil_scaling` fixture returns.

    scaling = measure_scaling(my_extension.kernel, (big_input,), workers=[2])
    scaling.speedup[2].median, scaling.verdict, scaling.efficiency[2]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gilkit.analysis.stats import CellStats, Spread, Taken, cell_stats, spread
from gilkit.engine.session import run_plan
from gilkit.gil.probe import GilProbe, Verdict, describe, releases_gil
from gilkit.host.cpus import usable_cpus
from gilkit.kernels import register
from gilkit.kernels.base import define_kernel
from gilkit.model.plan import Cell, Plan
from gilkit.model.results import RunResult
from gilkit.model.units import format_percent, format_ratio, format_seconds

# The runners whose workers are threads of this process: the call and its arguments are used
# where they are, never pickled.
RUNNERS = ("threads", "joblib-threads", "asyncio")
IMPL = "call"
# Rounds measured within the budget: at least MIN_ROUNDS, so that a paired ratio has a spread;
# at most MAX_ROUNDS, past which more rounds add little.
MIN_ROUNDS, MAX_ROUNDS = 3, 15
DEFAULT_BUDGET_S = 4.0
_names = itertools.count(1)


def default_workers(n_cpus: int) -> list[int]:
    """2 and the usable cpus: the first step, and the whole machine."""
    return sorted({2, max(2, n_cpus)})


class CannotMeasure(ValueError):
    """A scaling that cannot be asked for (a runner that would pickle the call, say)."""


@dataclass(frozen=True)
class Scaling:
    """What W calls at once gained over W calls one after another, per worker count W."""

    name: str  # the function, as tests name it
    runner: str
    verdict: Verdict  # the probe's: releases, holds, shares, cannot-judge, ...
    probe: GilProbe
    speedup: Mapping[int, Spread]  # paired ratios serial / parallel, round by round
    efficiency: Mapping[int, float | None]  # speedup / the ideal, min(W, usable cpus)
    of_capacity: Mapping[int, float | None]  # speedup / what W busy native threads reach
    capacity: Mapping[int, float | None]
    taken: Taken | None  # what others took during the calls (other processes, hypervisor)
    usable_cpus: int
    call_s: float  # one call alone, from the serial cells
    result: RunResult = field(repr=False)  # every raw figure, as `gilkit run` writes them

    @property
    def interfered(self) -> bool:
        """Other processes or the hypervisor took enough of the cpus to spoil the figures."""
        return self.taken is not None and self.taken.interfered

    def figures(self, n_workers: int) -> str:
        spread_ = self.speedup[n_workers]
        ideal = min(n_workers, self.usable_cpus)
        capacity = self.capacity.get(n_workers)
        machine = "" if capacity is None else f", this machine {format_ratio(capacity)}"
        return (
            f"{format_ratio(spread_.median)} (±{spread_.cv:.0%}) on {n_workers} {self.runner} "
            f"(ideal {ideal}×{machine}; calls of {format_seconds(self.call_s)})"
        )

    def why_not_measurable(self, min_efficiency: float) -> str | None:
        """Why this machine could not show scaling just now, or None."""
        if self.usable_cpus < 2:
            return f"{self.usable_cpus} usable cpu: nothing to run in parallel on"
        if self.interfered and self.taken is not None:
            return (
                f"{self.taken.who} took {format_percent(self.taken.total)} of the cpus during "
                "the calls: rerun on a quiet machine"
            )
        for n_workers, capacity in self.capacity.items():
            ideal = min(n_workers, self.usable_cpus)
            if capacity is not None and capacity < min_efficiency * ideal:
                return (
                    f"{n_workers} busy native threads reach only {format_ratio(capacity)} here, "
                    f"below {min_efficiency:.0%} of the ideal {ideal}×: the machine cannot show it"
                )
        return None

    def assert_scales(self, min_efficiency: float = 0.8) -> None:
        """Fail, quoting the figures, where the call did not reach `min_efficiency` of the
        ideal on a machine that could show it; skip, saying why, where it could not."""
        reason = self.why_not_measurable(min_efficiency)
        if reason is not None:
            _skip(f"cannot tell whether {self.name} scales: {reason}")
            return
        for n_workers, efficiency in self.efficiency.items():
            if efficiency is not None and efficiency < min_efficiency:
                raise AssertionError(
                    f"{self.name} does not scale: {self.figures(n_workers)}, "
                    f"{efficiency:.0%} of the ideal, below {min_efficiency:.0%}; "
                    f"gilkit's probe: {self.probe.headline()}"
                )


def measure_scaling(
    fn: Callable[..., object],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    workers: Sequence[int] | None = None,
    runner: str = "threads",
    tasks: int | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    capacity: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Scaling:
    """Measure how fn(*args, **kwargs) scales in `runner` (see the module's docstring).

    `tasks`: calls per cell (default: W, one per worker); `capacity`: gilkit.host.capacity's
    raw times, measured once per session by the plugin (None: no capacity figures).
    """
    if runner not in RUNNERS:
        raise CannotMeasure(f"runner {runner!r} would pickle the call; valid: {', '.join(RUNNERS)}")
    kwargs = dict(kwargs or {})
    cpus = usable_cpus()
    counts = sorted(set(workers or default_workers(cpus)))
    if not counts or counts[0] < 1:
        raise CannotMeasure(f"workers must be >= 1, got {list(workers or [])}")
    probe = releases_gil(fn, *args, **kwargs)
    label = name or describe(fn)
    kernel_name = f"gil_scaling:{label}#{next(_names)}"

    def call_each(part: range, params: None) -> int:
        for _ in part:
            fn(*args, **kwargs)
        return len(part)

    register(define_kernel(kernel_name, {IMPL: call_each}, size=1), kernel_name, "gil_scaling")
    sizes = {n: tasks or n for n in counts}
    cells = [
        cell
        for n in counts
        for cell in (
            Cell(kernel_name, IMPL, "serial", 1, sizes[n]),
            Cell(kernel_name, IMPL, runner, n, sizes[n]),
        )
    ]
    cells = list(dict.fromkeys(cells))
    round_s = sum(sizes[n] * probe.call_s * (1 + 1 / min(n, cpus)) for n in counts)
    rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, budget_s / max(round_s, 1e-9))))
    plan = Plan.of(cells, n_repeats=rounds, n_warmups=1, monitor_gil=False)
    result = run_plan(plan)
    if capacity is not None:
        result.metadata["capacity"] = dict(capacity)
    failed = [r for r in result.cells if not r.ok]
    if failed:
        raise AssertionError(f"{label}: {failed[0].label}: {failed[0].error or 'wrong result'}")
    stats = cell_stats(result)
    parallel = {n: stats[kernel_name, IMPL, runner, n] for n in counts}
    serial = stats[kernel_name, IMPL, "serial", 1]
    return Scaling(
        name=label,
        runner=runner,
        verdict=probe.verdict,
        probe=probe,
        speedup={n: _paired_spread(result, kernel_name, runner, n) for n in counts},
        efficiency={n: parallel[n].efficiency for n in counts},
        of_capacity={n: parallel[n].of_capacity for n in counts},
        capacity={n: parallel[n].capacity for n in counts},
        taken=_taken(parallel.values()),
        usable_cpus=cpus,
        call_s=serial.median_s / sizes[counts[0]],
        result=result,
    )


def _paired_spread(result: RunResult, kernel: str, runner: str, n: int) -> Spread:
    """The speedup of each round (serial time over parallel time, same tasks), spread."""
    records = {(r.runner, r.n_workers): r for r in result.cells if r.kernel == kernel}
    serial = [r for (name, _), r in records.items() if name == "serial"]
    pool = records[runner, n]
    base = next(r for r in serial if r.size == pool.size)
    return spread([s / t for s, t in zip(base.times_s, pool.times_s, strict=False) if t > 0])


def _taken(cells: Iterable[CellStats]) -> Taken | None:
    """The worst that others took during any parallel cell."""
    taken = [c.taken for c in cells if c.taken is not None]
    return max(taken, key=lambda t: t.total, default=None)


def _skip(reason: str) -> None:
    try:
        import pytest
    except ImportError:
        return
    pytest.skip(reason)
