"""`gilkit advise`: for a user's own function and many inputs, which way around the GIL to take
on this machine, what it gains, what it costs, and from what task size it pays.

    import zlib, gilkit
    advice = gilkit.advise(zlib.compress, [b"x" * 4_000_000] * 40)
    print(advice)                      # a few lines: the way to use, why not the others
    advice.recommendation.way.runner   # "threads"

It measures through the engine `gilkit run` uses (gilkit.advise.measure), then judges by
gilkit.advise.rules; the Advice prints itself and goes into the run's result file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from gilkit.advise.advice import Advice
from gilkit.advise.measure import (
    DEFAULT_BUDGET_S,
    N_REPEATS,
    Measured,
    first_calls,
    moving,
    planned_s,
    probe_kind,
    register_calls,
    run,
    tasks_to_measure,
    trial,
)
from gilkit.advise.rules import SERIAL, Task, Way
from gilkit.analysis.stats import CellStats, Key, cell_stats, paired_ratios, serial_key, spread
from gilkit.analysis.verdicts import impossible, impossible_cause
from gilkit.engine.session import OnCall, RunInterrupted
from gilkit.gil.probe import describe
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import gil_enabled
from gilkit.kernels.calls import IMPL, NAME, Calls
from gilkit.model.results import CellRecord, RunResult
from gilkit.model.units import format_seconds
from gilkit.planning import matrix
from gilkit.planning.values import UsageError, parse_runners, parse_workers
from gilkit.present.formatting import format_python
from gilkit.runners import RUNNERS

__all__ = ["DEFAULT_RUNNERS", "Advice", "AdviceInterrupted", "advise", "default_workers", "ways"]

# The ways measured when none are asked for: those the standard library gives (serial too).
DEFAULT_RUNNERS = ("threads", "processes", "interpreters")
ASYNCIO = "asyncio"


GIL_PHRASES = {
    "releases": "releases the GIL",
    "holds": "holds the GIL",
    "python": "takes turns on the GIL, as pure Python does (or takes it back often)",
}


class AdviceInterrupted(KeyboardInterrupt):
    """advise() stopped early (a signal): `advice` rests on the rounds measured so far,
    `result` holds them, `exit_status` is what a command exits with (130, 143)."""

    def __init__(self, advice: Advice, result: RunResult, exit_status: int) -> None:
        super().__init__("advise stopped: the advice rests on the rounds measured so far")
        self.advice, self.result, self.exit_status = advice, result, exit_status


def default_workers(cpus: int) -> list[int]:
    """`gilkit run`'s default counts from 2 up to the usable cpus (2 on one cpu): no more
    workers than cpus, which busy work cannot use."""
    return [n for n in matrix.default_workers(cpus) if 2 <= n <= max(cpus, 2)]


def advise(
    function: Callable[..., Any],
    inputs: Iterable[Any] | None = None,
    *,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    tasks: int | None = None,
    runners: str | Sequence[str] | None = None,
    workers: str | Sequence[int] | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    label: str | None = None,
    say: Callable[[str], None] | None = None,
    on_call: OnCall | None = None,
    keep: Callable[[RunResult], None] | None = None,
) -> Advice:
    """How to map `function` over `inputs` here (each task calls function(item, *args,
    **kwargs)), or over `tasks` copies of function(*args, **kwargs). Measures for about
    `budget_s` seconds, said through `say` before it starts; `on_call(cell)` after each call
    (a progress bar); `keep(result)` with the measurements (a result file). Bad values raise
    UsageError; a signal raises AdviceInterrupted, which holds the advice so far."""
    say = say or (lambda line: None)
    label = label or f"{describe(function)}(…)"
    if inputs is not None and tasks is not None:
        raise UsageError("advise: give inputs or tasks, not both; valid: one of them")
    if tasks is not None and tasks < 1:
        raise UsageError(f"advise: tasks={tasks!r}; valid: an integer >= 1")
    if not budget_s > 0:
        raise UsageError(f"advise: budget_s={budget_s!r}; valid: seconds > 0")
    items = None if inputs is None else list(inputs)
    if items is not None and not items:
        raise UsageError("advise: inputs is empty; valid: an iterable of one item or more")
    calls = Calls(function, tuple(args), dict(kwargs or {}), items)
    n_total = len(items) if items is not None else tasks
    register_calls(calls)
    cpus = usable_cpus()
    runner_names = _runners(runners)
    counts = _workers(workers, cpus, label)
    notes = [
        f"{name}: {reason}"
        for name in DEFAULT_RUNNERS
        if runners is None and (reason := RUNNERS[name].unavailable_reason()) is not None
    ]
    began = time.perf_counter()
    trial(calls, label, limit_s=budget_s / 4)
    warm_s, result = first_calls(calls, label, limit_s=budget_s / 4)
    moved = moving(calls, result)
    if moved.problem is not None:
        notes.append(
            f"a task or its result cannot be pickled ({moved.problem}): only ways "
            "that share this interpreter can run it"
        )
    kind, verdict = probe_kind(calls, warm_s, budget_s, say)
    n_cells = 1 + len(runner_names) * len(counts)
    left = budget_s - (time.perf_counter() - began)
    n = tasks_to_measure(warm_s, n_cells, counts, max(left, 0.0), n_total)
    estimate = planned_s(warm_s, n, n_cells, n_cells - 1)
    say(
        f"measuring {label}: {n:,} tasks of about {format_seconds(warm_s)}, serially and in "
        f"{n_cells - 1} ways, {N_REPEATS} rounds each: about {format_seconds(estimate)}"
    )
    figures = Measured(warm_s, moved, kind, verdict)
    try:
        measured = run(calls, n, runner_names, counts, warm_s, on_call)
    except RunInterrupted as stop:
        if keep is not None:
            keep(stop.result)
        partial = judged(label, stop.result, figures, n_total, notes)
        raise AdviceInterrupted(partial, stop.result, stop.exit_status) from stop
    if keep is not None:
        keep(measured)
    return judged(label, measured, figures, n_total, notes)


def ways() -> list[str]:
    """The runners advise can map a plain function with: a pool, so not serial (always
    measured), nor asyncio, which runs coroutines (a kernel's async impls) only."""
    return [name for name in RUNNERS if name not in (SERIAL, ASYNCIO)]


def _runners(runners: str | Sequence[str] | None) -> list[str]:
    if runners is None:
        return [name for name in DEFAULT_RUNNERS if RUNNERS[name].unavailable_reason() is None]
    text = runners if isinstance(runners, str) else ",".join(runners)
    chosen = [name for name in parse_runners(text) or [] if name != SERIAL]
    if ASYNCIO in chosen:
        raise UsageError(
            f"--runner: {ASYNCIO} runs coroutines on one event loop, and advise maps a plain "
            f"function; valid: {', '.join(ways())}"
        )
    if not chosen:
        raise UsageError(f"--runner: {text!r} has no way but serial; valid: {', '.join(ways())}")
    return chosen


def _workers(workers: str | Sequence[int] | None, cpus: int, label: str) -> list[int]:
    if workers is None:
        return default_workers(cpus)
    text = workers if isinstance(workers, str) else ",".join(map(str, workers))
    return parse_workers(text, [NAME], label) or default_workers(cpus)


def judged(
    label: str, result: RunResult, figures: Measured, n_total: int | None, notes: list[str]
) -> Advice:
    """The Advice these measurements give."""
    records = {r.key: r for r in result.cells}
    serial = records.get(serial_key(NAME, IMPL))
    stats = cell_stats(result)
    ways = [_way(record, serial, result, stats) for record in result.cells]
    n = serial.size if serial is not None else (result.cells[0].size if result.cells else 0)
    per_task = [t / max(n, 1) for t in serial.times_s] if serial and serial.times_s else []
    task = Task(
        seconds=spread(per_task).median if per_task else figures.warm_s,
        kind=figures.kind,
        gil_enabled=gil_enabled(),
        moved_bytes=figures.moving.n_bytes,
        move_s=figures.moving.seconds,
        n_tasks=n,
        n_map=n_total,
        spread_s=(min(per_task), max(per_task)) if per_task else None,
    )
    python = format_python(result.metadata.get("python", {})) if result.metadata else ""
    return Advice(
        target=label,
        task=task,
        ways=tuple(ways),
        cpus=usable_cpus(),
        python=python,
        gil=GIL_PHRASES.get(figures.kind, "what it does with the GIL is unknown"),
        verdict=figures.verdict,
        complete=result.complete,
        notes=tuple(notes),
    )


def _way(
    record: CellRecord, serial: CellRecord | None, result: RunResult, stats: dict[Key, CellStats]
) -> Way:
    facts = result.runner_facts(record.runner)
    ratios = paired_ratios(serial, record) if serial is not None and record.times_s else []
    if record.runner == SERIAL:
        ratios = [1.0] * len(record.times_s)
    error = record.error or record.unsupported
    if error is None and record.agrees is False:
        error = "its calls returned another number of results than the tasks sent"
    if error is None and not record.times_s:
        error = "not measured (the run stopped first)"
    return Way(
        runner=record.runner,
        workers=record.n_workers,
        speedup=spread(ratios).median if ratios and error is None else None,
        low=min(ratios) if ratios and error is None else None,
        high=max(ratios) if ratios and error is None else None,
        task_times_s=tuple(t / max(record.size, 1) for t in record.times_s),
        error=error,
        shares_gil=bool(facts and facts.shares_gil) and record.gil_enabled is not False,
        copies=bool(facts and not facts.shares_interpreter),
        startup_s=record.pool_startup_s,
        empty_task_s=record.dispatch_s,
        memory_bytes=_per_worker(record.pool_memory_bytes, record.n_workers),
        impossible=_impossible(result, record, stats) if error is None else None,
    )


def _impossible(result: RunResult, record: CellRecord, stats: dict[Key, CellStats]) -> str | None:
    """The run's rule for a speedup the way cannot have given, with what explains it."""
    why = impossible(result, record, stats)
    return None if why is None else f"{why}: {impossible_cause(record, stats, 'rerun')}"


def _per_worker(total: int | None, workers: int) -> int | None:
    return None if total is None else total // max(workers, 1)
