"""What `gilkit advise` measures, in the order it does: the call alone (twice: a cold first call,
then a warm one that sizes the rest), what pickling one task and its result costs, what the
call does with the GIL (gilkit's probe, as `gilkit run` asks it of a kernel's own impls), and
then the map in every way through the engine `gilkit run` uses: interleaved rounds, paired
ratios, the interference and capacity figures, the pools' start-up and cost per task."""

from __future__ import annotations

import functools
import math
import pickle
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gilkit.engine.limits import Caller, CallTimeout, trial_in_child
from gilkit.engine.session import OnCall, run_plan
from gilkit.gil.kinds import kind_of
from gilkit.gil.probe import MIN_CALL_S, estimated_s, releases_gil
from gilkit.kernels import register, register_inferred_kinds
from gilkit.kernels.calls import IMPL, NAME, Calls, with_calls
from gilkit.model.plan import Cell, Plan
from gilkit.model.results import RunResult
from gilkit.model.units import format_seconds
from gilkit.planning.values import UsageError

# The budget when none is given: about 30 s on 2 cpus (more ways to measure on more cpus).
DEFAULT_BUDGET_S = 30.0
N_REPEATS = 7  # as `gilkit run`: enough rounds for ties to be told (Mann-Whitney)
N_WARMUPS = 1
# Each worker gets at least this many tasks, so that a way's figure is not one task's.
MIN_TASKS_PER_WORKER = 2
MOST_TASKS = 10_000_000
# The probe may take this share of the budget, or PROBE_ALWAYS_S whatever the budget (a probe
# of calls grouped to last 0.1 s takes about 1.5 s); past it, the call's GIL use is not probed.
PROBE_SHARE = 0.25
PROBE_ALWAYS_S = 2.0
# The batch of calls the probe watches lasts about this long: past its shortest (MIN_CALL_S,
# 20 ms) by a margin, and short, since a call that takes the GIL back often is slowed up to
# 100x beside the probe's counter (each return waits for a switch interval).
PROBE_CALL_S = 0.03
# What the run itself is given beyond the planned rounds: pool start-ups, the capacity loops.
START_ALLOWANCE_S = 0.3  # per pool
CAPACITY_S = 1.5

# Tasks in the part whose inputs are pickled to cost moving one task's.
MOVE_TASKS = 64
MOVE_BYTES = 32 << 20  # fewer tasks where their data would pass this
# Warm calls are timed in batches of at least this long, at most MOST_BATCHES tries.
WARM_BATCH_S = 0.02
MOST_BATCHES = 6

Say = Callable[[str], None]


@dataclass(frozen=True)
class Moving:
    """What a pool that copies its tasks moves for one task, and what pickling costs."""

    n_bytes: int | None
    seconds: float | None
    problem: str | None = None  # why it cannot be pickled


@dataclass(frozen=True)
class Measured:
    """What is measured before the map: one warm call, moving a task, the probe's verdict."""

    warm_s: float  # one warm call
    moving: Moving
    kind: str
    verdict: str


def trial(calls: Calls, label: str, limit_s: float) -> None:
    """One call in a forked child first: a call that crashes the interpreter (a segfault,
    os._exit) or hangs is a UsageError naming what it did, and this process lives on."""
    went_wrong = trial_in_child(functools.partial(calls.call, 0), limit_s)
    if went_wrong is not None:
        raise UsageError(
            f"advise: {label} {went_wrong} in a trial call in a child process; valid: a call "
            f"that returns within {format_seconds(limit_s)}, the budget's share for one call"
        )


def first_calls(calls: Calls, label: str, limit_s: float) -> tuple[float, Any]:
    """Call (a cold call, then warm ones), each batch within `limit_s`: a call that raises,
    exits or outlives it is a UsageError naming what it did. Returns (seconds a warm call
    takes, a result). Short calls are timed in batches that last WARM_BATCH_S: one call of a
    few µs, timed alone, reads ten times too long."""
    caller = Caller()
    try:
        batch = 1
        for attempt in range(MOST_BATCHES):
            began = time.perf_counter()
            try:
                result = caller.call(functools.partial(call_batch, calls, batch), limit_s)
            except CallTimeout:
                raise UsageError(
                    f"advise: {label} took over {format_seconds(limit_s)}, the budget's share "
                    "for one call; valid: a call that ends sooner (a smaller input), or a "
                    "larger --budget"
                ) from None
            except (Exception, SystemExit) as error:
                raise UsageError(
                    f"advise: {label} raised {type(error).__name__}: {error}; valid: "
                    "arguments (--arg, --kwarg, --inputs) that the function accepts"
                ) from None
            took = time.perf_counter() - began
            per_call = took / batch
            if attempt > 0 and took >= WARM_BATCH_S:
                break
            if attempt > 0:  # the first, cold call is not a warm call's measure
                batch *= max(2, min(64, math.ceil(WARM_BATCH_S / max(took, 1e-7))))
    finally:
        if not caller.stuck:
            caller.close()
    return per_call, result


def call_batch(calls: Calls, batch: int) -> Any:
    """The calls of the first `batch` tasks; the last one's result."""
    for index in range(batch):
        result = calls.call(index)
    return result


def moving(calls: Calls, result: Any) -> Moving:
    """What a pool that copies its tasks moves per task, and what pickling and unpickling it
    costs: what MOVE_TASKS more tasks (fewer where their data passes MOVE_BYTES) add to a
    part, their inputs there and their results back, per task."""
    try:
        copy = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)

        def part(n_tasks: int) -> tuple[float, int]:
            """A part's inputs out and its results back, as one list of distinct copies
            (pickle would send one object once, however often a list holds it)."""
            results = [pickle.loads(copy) for _ in range(n_tasks)]
            out_s, out_bytes = pickled(calls.for_part(range(n_tasks)).fields())
            back_s, back_bytes = pickled(results)
            return out_s + back_s, out_bytes + back_bytes

        one_task = len(copy) + len(pickle.dumps(calls.for_part(range(1)).fields()))
        k = max(1, min(MOVE_TASKS, MOVE_BYTES // max(one_task, 1)))
        small_s, small_bytes = part(k)
        large_s, large_bytes = part(2 * k)
    except Exception as error:
        return Moving(None, None, f"{type(error).__name__}: {error}")
    # What one more task adds: a part's own envelope (the function, by name) is paid once.
    return Moving(max(0, large_bytes - small_bytes) // k, max(0.0, large_s - small_s) / k)


def pickled(value: Any, repeats: int = 5) -> tuple[float, int]:
    """(seconds to pickle and unpickle `value`, the median of a few; its pickled bytes)."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)
        times.append(time.perf_counter() - began)
        if times[-1] > 0.2:  # one is enough for a slow one
            break
    return statistics.median(times), len(data)


def probe_kind(calls: Calls, warm_s: float, budget_s: float, say: Say) -> tuple[str, str]:
    """What the call does with the GIL: gilkit's probe on a batch of calls that lasts about
    PROBE_CALL_S, recorded on the calls kernel; or why it was not asked."""
    batch = max(1, math.ceil(PROBE_CALL_S / max(warm_s, 1e-9)))
    began = time.perf_counter()
    call_batch(calls, batch)  # warm calls run faster than the first ones: size on one batch
    batch = max(1, math.ceil(batch * PROBE_CALL_S / max(time.perf_counter() - began, 1e-9)))
    cost = estimated_s(max(warm_s * batch, MIN_CALL_S))
    if cost > max(PROBE_SHARE * budget_s, PROBE_ALWAYS_S):
        return "unknown", (
            f"not probed: one task takes {format_seconds(warm_s)}, the probe would take about "
            f"{format_seconds(cost)}"
        )
    say(f"asking gilkit's probe what the call does with the GIL (about {format_seconds(cost)})")
    kind, verdict = kind_of(releases_gil(call_batch, calls, batch))
    register_inferred_kinds(NAME, {IMPL: (kind, verdict)})
    return kind, verdict


def tasks_to_measure(
    warm_s: float, n_ways: int, counts: Sequence[int], budget_s: float, n_total: int | None
) -> int:
    """As many tasks as fit the budget in N_WARMUPS + N_REPEATS rounds of every way (each
    way assumed as slow as serial: the budget is not overrun when none scales), at least
    MIN_TASKS_PER_WORKER per worker, a multiple of every worker count (5 tasks on 2 workers
    could not go past 5/3x), and no more than the user's map."""
    rounds = N_WARMUPS + N_REPEATS
    fits = int(budget_s / (rounds * n_ways * max(warm_s, 1e-7)))
    n = max(MIN_TASKS_PER_WORKER * max(counts), min(fits, MOST_TASKS))
    whole = math.lcm(*counts)
    n = max(whole, n // whole * whole) if whole <= n else n
    return n if n_total is None else max(1, min(n, n_total))


def cells(n: int, runners: Sequence[str], counts: Sequence[int]) -> list[Cell]:
    made = [Cell(NAME, IMPL, "serial", 1, n)]
    made += [Cell(NAME, IMPL, runner, w, n) for runner in runners for w in counts]
    return made


def planned_s(warm_s: float, n: int, n_cells: int, n_pools: int) -> float:
    return (N_WARMUPS + N_REPEATS) * n_cells * n * warm_s + n_pools * START_ALLOWANCE_S + CAPACITY_S


def register_calls(calls: Calls) -> None:
    """The calls kernel, with these calls, under the name every worker finds it by."""
    register(with_calls(calls), NAME, "gilkit advise")


def run(
    calls: Calls,
    n: int,
    runners: Sequence[str],
    counts: Sequence[int],
    warm_s: float,
    on_call: OnCall | None = None,
) -> RunResult:
    """The map of n tasks, serially and in every way, as `gilkit run` measures a kernel."""
    plan = Plan.of(
        cells(n, runners, counts),
        n_repeats=N_REPEATS,
        n_warmups=N_WARMUPS,
        monitor_gil=False,
        measure_capacity=True,
        # A call may take ten times a serial map (a pool that thrashes), never under 10 s.
        call_limit_s=max(10.0, 10 * n * warm_s),
    )
    return run_plan(plan, on_call)
