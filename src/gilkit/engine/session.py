"""run_plan: everything a run does between a plan and its result file.

One orchestrator for every front end: `gilkit run`, `gilkit claims` and the pytest-benchmark
suite in bench/ all come through here. It pins native thread pools (so workers never
oversubscribe), collects the metadata, makes each kernel's data once, starts every pool the
plan needs (process pools first, before any thread exists, as fork wants) and times it apart
from the work, then times the cells in interleaved rounds (gilkit.engine.measure), checks every
result against the kernel's reference, and describes the kernels in the result so that the file
reads without them.

    import gilkit
    result = gilkit.run_plan(gilkit.plan(kernels="squares", runners="serial,threads"))
"""

from __future__ import annotations

import functools
import math
import os
import pickle
import signal
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from gilkit.engine import memory
from gilkit.engine.defaults import completed
from gilkit.engine.descriptions import describe_runners
from gilkit.engine.limits import Caller, CallTimeout, Stop, stop_on_signals
from gilkit.engine.measure import CallFigures, call, record_call, tasks_for
from gilkit.host import metadata
from gilkit.host.capacity import measure_capacity
from gilkit.host.threadpools import pin_native_threads
from gilkit.kernels import KERNELS, Task, describe_impls, make_ready
from gilkit.model.plan import Cell, Plan
from gilkit.model.results import CellRecord, RunResult
from gilkit.runners import RUNNERS, RunnerError, dask_cluster, default_start_method
from gilkit.runners.base import Runner

OnCall = Callable[[Cell], None]
# Per-call time limits when the plan sets none: a call may take CALL_LIMIT_FACTOR times the
# slowest call of its kernel, impl and n so far, and no less than MIN_CALL_LIMIT_S (a pool may
# pause for a moment); the very first call of each, with nothing to go by, FIRST_CALL_LIMIT_S.
CALL_LIMIT_FACTOR = 10.0
MIN_CALL_LIMIT_S = 10.0
FIRST_CALL_LIMIT_S = 300.0
EXIT_TIME_LIMIT = 124  # as timeout(1) exits


class RunInterrupted(KeyboardInterrupt):
    """A run stopped early (a signal, its time limit); `result` holds every cell measured so
    far (complete=False), `reason` says why and `exit_status` is what a command should exit
    with (130 for SIGINT, 143 for SIGTERM, 124 for the time limit)."""

    def __init__(self, result: RunResult, reason: str, exit_status: int) -> None:
        super().__init__(f"run stopped ({reason}): the result holds the cells measured so far")
        self.result = result
        self.reason = reason
        self.exit_status = exit_status


@dataclass(frozen=True)
class Pool:
    """A started runner, or why it could not start, and what starting it cost."""

    runner: Runner | None
    startup_s: float | None = None
    dispatch_s: float | None = None
    call_s: float | None = None
    memory_bytes: int | None = None
    error: str | None = None


class Session:
    """A plan's kernel data and started pools, held open; closed on exit.

    run_plan uses it for the rounds; bench/ uses it directly so that pytest-benchmark can
    time the calls itself. Every pool is started on entry, process pools first.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = completed(plan)
        self.params: dict[tuple[str, int], Any] = {}
        self.pools: dict[tuple[str, int], Pool] = {}
        self.abandoned: list[str] = []  # calls still running in threads that cannot be killed
        self._caller = Caller()
        self._slowest: dict[tuple[str, str, int], float] = {}  # (kernel, impl, n) -> seconds
        self._deadline = None if plan.run_limit_s is None else time.monotonic() + plan.run_limit_s
        self._stack = ExitStack()

    def __enter__(self) -> Session:
        pin_native_threads()  # workers x BLAS or OpenMP threads never oversubscribe
        with ExitStack() as stack:
            stack.push(self)  # closes what was opened if starting fails
            # Data is made, and the impls made ready (compiled modules imported, Numba's
            # functions compiled), before any pool starts, so that forked workers inherit them.
            for kernel, n in sorted(self.plan.sizes):
                context = KERNELS[kernel].params_for(n, self.plan.splits[kernel])
                self.params[kernel, n] = self._stack.enter_context(context)
            make_ready(self.impls)
            groups = {(c.runner, c.n_workers) for c in self.plan.cells}
            for group in sorted(groups, key=_start_order):
                self.pools[group] = self._start(*group)
            stack.pop_all()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:  # stopping: no waiting for calls in flight
            for pool in self.pools.values():
                if pool.runner is not None:
                    pool.runner.abandon()
        self._caller.close()
        self._stack.close()

    @property
    def impls(self) -> list[str]:
        return list(dict.fromkeys(c.impl for c in (*self.plan.cells, *(self.plan.checks or ()))))

    def _start(self, runner_name: str, n_workers: int) -> Pool:
        runner: Runner | None = None
        try:
            # Made first: a runner imports its optional package (joblib, distributed) here,
            # once, so that neither its start-up nor its memory counts that import.
            runner = RUNNERS[runner_name](self.plan.start_method, self.plan.scheduler)
            rss_before = memory.current_rss(os.getpid())
            startup = runner.start(n_workers)
            # Untimed: worker processes that did not inherit the impls load them now (spawn,
            # forkserver), so that no timed call imports a module or compiles. A failure here
            # is the impl's cells' to report, when they call it.
            runner.run_in_each_worker(functools.partial(make_ready, self.impls))
        except RunnerError as error:
            if runner is not None:  # else making it failed: its package does not import
                runner.close()
            return Pool(None, error=str(error))
        self._stack.enter_context(runner)
        return Pool(
            runner,
            startup_s=None if runner_name == "serial" else startup,
            dispatch_s=runner.dispatch_overhead(),
            call_s=runner.call_overhead(),
            memory_bytes=_memory_added(rss_before, runner),
        )

    def runner(self, cell: Cell) -> Runner | None:
        return self.pools[cell.runner, cell.n_workers].runner

    def tasks(self, cell: Cell) -> list[Task]:
        """The cell's tasks, with the params its workers can reach: made on their own hosts
        where they run elsewhere and the kernel can (Kernel.params_elsewhere)."""
        split, params = self.plan.splits[cell.kernel], self.params[cell.kernel, cell.size]
        elsewhere = KERNELS[cell.kernel].params_elsewhere
        if elsewhere is not None and not self.on_this_host(cell):
            params = elsewhere(params)
        return tasks_for(cell, split, params)

    def on_this_host(self, cell: Cell) -> bool:
        pool = self.pools.get((cell.runner, cell.n_workers))
        return pool is None or pool.runner is None or pool.runner.on_this_host

    def call(self, cell: Cell) -> CallFigures:
        """One call of `cell` over its kernel's whole index space."""
        runner = self.runner(cell)
        if runner is None:
            raise RunnerError(self.pools[cell.runner, cell.n_workers].error)
        return call(runner, cell, self.tasks(cell))

    def restart(self, cell: Cell, abandon: bool = False) -> None:
        """A pool whose worker died, or hung, is broken: give the other cells a fresh one."""
        runner = self.runner(cell)
        if runner is not None:
            runner.abandon() if abandon else runner.close()
        self.pools[cell.runner, cell.n_workers] = self._start(cell.runner, cell.n_workers)

    def limit_s(self, cell: Cell) -> float:
        """How long a call of `cell` may take: the plan's limit, else CALL_LIMIT_FACTOR x the
        slowest call of its kernel, impl and n so far (at least MIN_CALL_LIMIT_S), else
        FIRST_CALL_LIMIT_S; never past the run's own deadline."""
        limit = self.plan.call_limit_s
        if limit is None:
            slowest = self._slowest.get((cell.kernel, cell.impl, cell.size))
            limit = (
                FIRST_CALL_LIMIT_S
                if slowest is None
                else max(MIN_CALL_LIMIT_S, CALL_LIMIT_FACTOR * slowest)
            )
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise Stop("the run's time limit", EXIT_TIME_LIMIT)
            limit = min(limit, left)
        return limit

    def record(
        self, record: CellRecord, runner: Runner, cell: Cell, tasks: list[Task], kind: str
    ) -> bool:
        """One call of `cell` in the caller thread, within its time limit. A call that
        outlives it is the cell's error; returns True then: its runner holds a stuck call."""
        limit = self.limit_s(cell)
        began = time.monotonic()
        try:
            record_call(record, runner, cell, tasks, kind, lambda fn: self._caller.call(fn, limit))
        except CallTimeout:
            if self._deadline is not None and time.monotonic() >= self._deadline:
                raise Stop("the run's time limit", EXIT_TIME_LIMIT) from None
            self._caller = Caller()  # the old one is stuck in the call
            if runner.facts.in_process:
                self.abandoned.append(cell.label)
                fate = "still running, threads cannot be killed"
            else:
                fate = "its worker processes were killed"
            record.error = f"timed out after {limit:.3g} s: {fate}"
            return True
        key = (cell.kernel, cell.impl, cell.size)
        self._slowest[key] = max(self._slowest.get(key, 0.0), time.monotonic() - began)
        return False

    def measure(
        self, result: RunResult, on_call: OnCall, on_round: Callable[[], None] = lambda: None
    ) -> None:
        """Fill `result` as the rounds go, so that an interruption keeps what was measured.

        Checks first (untimed, serial), then warm-up rounds, timed rounds and a last round
        with the GIL monitor on; one call of every cell per round (A B C A B C ...), so that
        a drift in the machine's speed hits every cell alike. A failing cell is recorded with
        its error and left out of later rounds.
        """
        plan = self.plan
        serial = RUNNERS["serial"]()
        for cell in plan.checks or ():
            record = new_record(cell, plan)
            result.checks.append(record)
            self.record(record, serial, cell, self.tasks(cell), "check")
            on_call(cell)
        rounds = []
        for cell in plan.cells:
            record, tasks = new_record(cell, plan), self.tasks(cell)
            pool = self.pools[cell.runner, cell.n_workers]
            record.error = pool.error
            if pool.runner is not None:
                record.start_method = pool.runner.start_method
                record.pool_startup_s = pool.startup_s
                record.dispatch_s = pool.dispatch_s
                record.call_overhead_s = pool.call_s
                record.pool_memory_bytes = pool.memory_bytes
                record.batch_size = pool.runner.batch_size
                if not pool.runner.facts.shares_interpreter:
                    record.error = _unpicklable(tasks, cell.runner)
                if KERNELS[cell.kernel].params_elsewhere and not self.on_this_host(cell):
                    made = result.metadata.setdefault("data_made_by_workers", [])
                    made += [cell.kernel] if cell.kernel not in made else []
            result.cells.append(record)
            rounds.append((record, cell, tasks))
        n_rounds = plan.n_warmups + plan.n_repeats
        for round_index in range(n_rounds + int(plan.monitor_gil)):
            kind = "warmup" if round_index < plan.n_warmups else "timed"
            kind = "monitored" if round_index == n_rounds else kind
            for record, cell, tasks in rounds:
                runner = self.runner(cell)
                if kind == "monitored" and (runner is None or not runner.facts.shares_interpreter):
                    continue  # the monitor sees only the GIL of this process
                ready = record.error is None and record.unsupported is None
                if runner is not None and ready:
                    stuck = self.record(record, runner, cell, tasks, kind)
                    if stuck and cell.runner != "serial":
                        self.restart(cell, abandon=True)
                    elif record.error and not runner.facts.in_process:
                        self.restart(cell)  # a worker process may have died with it
                on_call(cell)
            on_round()


def run_plan(
    plan: Plan,
    on_call: OnCall | None = None,
    on_round: Callable[[RunResult], None] | None = None,
) -> RunResult:
    """Measure every cell of `plan`; return the result, every call's raw figures in it.

    `on_call(cell)` is called after each call (a progress bar); `on_round(result)` after each
    round, with every result checked so far (a journal: the CLI writes the file there, so a
    crash loses at most the round in flight). SIGINT, SIGTERM or the plan's run limit raise
    RunInterrupted, whose `result` holds what was measured, checked and described, marked
    incomplete; every worker process is gone by then. Calls still running in threads that
    cannot be killed are named in `result.metadata["abandoned_calls"]`.
    """
    plan = completed(plan)
    began = time.perf_counter()
    result = RunResult({}, plan_record(plan))
    records = [*plan.cells, *(plan.checks or ())]
    result.kernels = {
        name: KERNELS[name].describe({c.size for c in records if c.kernel == name})
        for name in dict.fromkeys(c.kernel for c in records)
    }
    kernels = [KERNELS[name] for name in result.kernels]

    def describe() -> None:
        """The impls as the file records them: again once made ready (Numba's compile times)."""
        result.impls = describe_impls((c.impl for c in records), kernels)

    describe()

    def round_done() -> None:
        describe()
        result.references = check_results(result.cells, result.checks)
        if on_round is not None:
            on_round(result)

    session = Session(plan)
    with stop_on_signals():  # from the first step: a signal always ends in RunInterrupted
        try:
            pinned = pin_native_threads()
            result.metadata = metadata.collect_metadata()
            result.metadata["native_threads"] = pinned
            result.metadata["runners"] = describe_runners(c.runner for c in records)
            if plan.scheduler is not None:
                result.metadata["dask_cluster"] = _describe_cluster(plan.scheduler)
            busy = [c for c in plan.cells if KERNELS[c.kernel].bound != "io"]
            if plan.measure_capacity:  # threads, all joined before any process pool forks
                result.metadata["capacity"] = measure_capacity(c.n_workers for c in busy)
            with session:  # made the kernels' data and started the pools
                matrix_began = time.perf_counter()
                session.measure(result, on_call or (lambda cell: None), round_done)
                result.metadata["matrix_s"] = time.perf_counter() - matrix_began
            if plan.measure_capacity:  # again, the pools closed: did the machine itself change?
                result.metadata["capacity_after"] = measure_capacity(c.n_workers for c in busy)
            result.complete = True
        except (Stop, KeyboardInterrupt) as stop:
            reason = stop.reason if isinstance(stop, Stop) else "KeyboardInterrupt"
            status = stop.exit_status if isinstance(stop, Stop) else 128 + signal.SIGINT
            raise RunInterrupted(result, reason, status) from stop
        finally:
            describe()
            result.references = check_results(result.cells, result.checks)
            result.metadata["abandoned_calls"] = session.abandoned
            result.metadata["run_s"] = time.perf_counter() - began
            cpu = result.metadata.setdefault("cpu", {})
            cpu["load_average_after"] = metadata.load_average()
            cpu["cpu_seconds_after"] = metadata.cpu_seconds()
    return result


def plan_record(plan: Plan) -> dict[str, Any]:
    """The plan's options, as the result file keeps them."""
    return {
        "sizes": sorted(plan.sizes),
        "splits": dict(plan.splits),
        "n_repeats": plan.n_repeats,
        "n_warmups": plan.n_warmups,
        "start_method": plan.start_method or default_start_method(),
        "call_limit_s": plan.call_limit_s,
        "sizing": None if plan.sizing is None else dict(plan.sizing),
        "run_limit_s": plan.run_limit_s,
        "scheduler": plan.scheduler,
        "unavailable_impls": dict(plan.unavailable),
    }


def new_record(cell: Cell, plan: Plan) -> CellRecord:
    return CellRecord(
        cell.kernel, cell.impl, cell.runner, cell.n_workers, cell.size, plan.splits[cell.kernel]
    )


def _describe_cluster(scheduler: str) -> dict[str, Any]:
    """The workers of the cluster that the dask runners use, or why they could not be read."""
    try:
        return dask_cluster.describe_cluster(scheduler)
    except Exception as error:  # the dask pools will fail to start, and say why
        return {"scheduler": scheduler, "error": f"{type(error).__name__}: {error}"}


def _unpicklable(tasks: list[Task], runner: str) -> str | None:
    """Why tasks cannot be sent to the workers of `runner` (pickled), or None when they can."""
    try:
        pickle.dumps(tasks)
    except Exception as error:
        return (
            f"cannot be sent to {runner} workers ({type(error).__name__}: {error}); make its "
            "params picklable: module-level classes and functions, no lambdas"
        )
    return None


def _start_order(group: tuple[str, int]) -> tuple[bool, bool, bool, tuple[str, int]]:
    """Pools that fork this process first, before any pool leaves threads running here;
    then the other process pools (loky, Dask); then the in-process ones: subinterpreters,
    then threads."""
    runner = RUNNERS[group[0]]
    return (not runner.forks_here, runner.facts.in_process, runner.facts.shares_interpreter, group)


def _memory_added(rss_before: int | None, runner: Runner) -> int | None:
    """This process's RSS growth since before the pool started, plus each worker's own memory."""
    rss_after = memory.current_rss(os.getpid())
    workers = [memory.unique_memory(pid) for pid in runner.worker_pids]
    if rss_before is None or rss_after is None or None in workers:
        return None
    return max(0, rss_after - rss_before) + sum(w for w in workers if w is not None)


def check_results(records: list[CellRecord], checks: list[CellRecord]) -> dict[str, Any]:
    """Mark every record against the reference result of its kernel and size.

    The reference is pure Python's result where it ran at that size, else the kernel's closed
    form, else the first result at that size. Every impl must reproduce it exactly, or within
    the kernel's stated relative tolerance. Returns {kernel: {size: reference}}.
    """
    references: dict[str, dict[str, Any]] = {}
    done = [r for r in (*records, *checks) if r.error is None and r.result is not None]
    for record in sorted(done, key=lambda r: r.impl != "python"):
        kernel = KERNELS[record.kernel]
        by_size = references.setdefault(record.kernel, {})
        if str(record.size) not in by_size:
            closed_form = kernel.reference(record.size) if kernel.reference else None
            use_closed = record.impl != "python" and closed_form is not None
            by_size[str(record.size)] = closed_form if use_closed else record.result
    for record in done:
        expected = references[record.kernel][str(record.size)]
        rel_tol = KERNELS[record.kernel].rel_tol
        if rel_tol and isinstance(record.result, float):
            record.agrees = math.isclose(record.result, expected, rel_tol=rel_tol)
        else:
            record.agrees = bool(record.result == expected)
    failed_checks = {(c.kernel, c.impl) for c in checks if c.agrees is False}
    for record in records:
        if (record.kernel, record.impl) in failed_checks:
            record.agrees = False
    return references
