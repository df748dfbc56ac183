"""The experiments in the seed's order, and the loop that runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from gilkit.claims import (
    cpu_bound,
    footprint,
    gil_release,
    io_bound,
    isolation,
    killable,
    races,
    startup,
    subinterpreters,
)
from gilkit.claims.base import Claim, ClaimResult, not_measured


@dataclass(frozen=True)
class Experiment:
    claim: Claim
    run: Callable[[], ClaimResult]  # measures now; the verdict comes from this measurement


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(startup.CLAIM, startup.thread_starts_faster),
    Experiment(footprint.CLAIM, footprint.threads_are_lighter),
    Experiment(cpu_bound.THREADS_CLAIM, cpu_bound.threads_no_effect),
    Experiment(cpu_bound.PROCESSES_CLAIM, cpu_bound.processes_scale),
    Experiment(io_bound.CLAIM, io_bound.threads_overlap_io),
    Experiment(gil_release.CLAIM, gil_release.native_scales),
    Experiment(killable.CLAIM, killable.processes_killable),
    Experiment(races.CLAIM, races.threads_race),
    Experiment(isolation.CLAIM, isolation.memory_not_shared),
    # What the seed could not know: subinterpreters with a GIL each (CPython 3.12+).
    Experiment(subinterpreters.PARALLEL_CLAIM, subinterpreters.interpreters_scale),
    Experiment(subinterpreters.COST_CLAIM, subinterpreters.interpreters_cost),
)
NUMBERS = tuple(experiment.claim.number for experiment in EXPERIMENTS)

OnProgress = Callable[[Claim], None]


def failed(result: ClaimResult) -> bool:
    """Whether the experiment broke (as opposed to the claim not holding, a finding)."""
    return "error" in result.figures


def run_one(experiment: Experiment) -> ClaimResult:
    """The experiment's result; an experiment that raises is reported, not fatal to the rest."""
    try:
        return experiment.run()
    except Exception as error:
        reason = f"the experiment failed: {type(error).__name__}: {error}"
        return experiment.claim.result(
            f"nothing: {reason}",
            not_measured(reason),
            {"error": f"{type(error).__name__}: {error}"},
        )


def iter_claims(
    numbers: Iterable[int] | None = None, on_progress: OnProgress | None = None
) -> Iterator[ClaimResult]:
    """Run the chosen experiments (default: all) in order, yielding each result as it comes.

    `on_progress(claim)` is called as each experiment starts. A caller that keeps what it got
    still has it after Ctrl-C (KeyboardInterrupt is never caught here).
    """
    chosen = set(NUMBERS if numbers is None else numbers)
    for experiment in EXPERIMENTS:
        if experiment.claim.number in chosen:
            if on_progress is not None:
                on_progress(experiment.claim)
            yield run_one(experiment)


def run_claims(
    on_progress: OnProgress | None = None, numbers: Iterable[int] | None = None
) -> list[ClaimResult]:
    """Run the chosen experiments (default: all) and return their results in claim order."""
    return list(iter_claims(numbers, on_progress))
