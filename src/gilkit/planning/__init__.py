"""plan(): the one planning step that `gilkit run`, `gilkit claims`, bench/ and library users
share. It checks every value (a UsageError whose message is the line the CLI prints), sizes
the built-in kernels for this machine, asks the probe what a user's impls of unknown kind do
with the GIL, checks a Dask cluster once, and returns a Plan: plain data that run_plan runs.

    import gilkit
    plan = gilkit.plan(kernels="squares", impls="cython-nogil", runners="serial,threads")
    result = gilkit.run_plan(plan)

Each value takes what the `gilkit run` option of the same name takes, as text ("2,4") or as
Python values ([2, 4]); None is the option's default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gilkit.engine.defaults import checks_for
from gilkit.engine.session import FIRST_CALL_LIMIT_S
from gilkit.gil.kinds import infer_kind, without_kind
from gilkit.host.cpus import usable_cpus
from gilkit.host.threadpools import pin_native_threads
from gilkit.kernels import KERNELS
from gilkit.model.plan import DEFAULT_REPEATS, DEFAULT_WARMUPS, Plan
from gilkit.model.units import format_seconds
from gilkit.planning import values
from gilkit.planning.calibrate import TRIAL_S, SizeError, check_sizes, try_users_impls
from gilkit.planning.cluster import check_cluster
from gilkit.planning.matrix import DEFAULT_RUNNERS, SCALINGS, cells_for, workers_for
from gilkit.planning.sizing import machine_sizes
from gilkit.planning.values import UsageError

__all__ = ["DEFAULT_RUN_LIMIT_S", "Say", "UsageError", "plan"]

DEFAULT_RUN_LIMIT_S = 3600.0  # an hour: ten times a default run on 2 cores
Value = str | int | float | Sequence[Any] | Mapping[str, int] | None
Say = Callable[[str], None]


def as_text(value: Value) -> str | None:
    """An option's value as `gilkit run` takes it: comma lists, `kernel=n` pairs, numbers."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return ",".join(f"{key}={n}" for key, n in value.items())
    if isinstance(value, Sequence):
        return ",".join(str(item) for item in value)
    return str(value)


def plan(
    kernels: Value = None,
    impls: Value = None,
    runners: Value = None,
    workers: Value = None,
    *,
    size: Value = "auto",
    scaling: str | None = None,
    budget_s: float | str | None = None,
    split: str | None = None,
    repeat: int | str | None = None,
    warmup: int | str | None = None,
    start_method: str | None = None,
    scheduler: str | None = None,
    timeout_s: float | str | None = None,
    max_time_s: float | str | None = None,
    here: bool = True,
    size_here: bool = True,
    monitor_gil: bool = True,
    measure_capacity: bool = True,
    say: Say | None = None,
) -> Plan:
    """The plan these values ask for, sized for this machine.

    `size="auto"` (the default) times the built-in kernels here, a few seconds, said through
    `say`; `size_here=False` checks the values alone, without timing or probing anything.
    `here=False`: the plan will run under another interpreter (`--python`), whose own gilkit
    checks the runners and the cluster. `monitor_gil` (a last round of in-process calls with
    the GIL monitor) and `measure_capacity` (what N busy native threads give here, before the
    matrix) are on for `gilkit run`; the claims' short experiments leave them off.
    """
    say = say or (lambda line: None)
    kernel_names = values.parse_kernels(as_text(kernels))
    impl_names, unavailable = values.parse_impls(as_text(impls), kernel_names)
    runner_names = values.parse_runners(as_text(runners), here)
    counts = values.parse_workers(as_text(workers), kernel_names)
    splits = values.parse_splits(split, kernel_names)
    how = values.one_of("--scaling", SCALINGS)("strong" if scaling is None else scaling)
    call_limit_s = values.parse_seconds("--timeout", as_text(timeout_s), None)
    n_repeats = values.parse_count("--repeat", as_text(repeat), DEFAULT_REPEATS, 1)
    n_warmups = values.parse_count("--warmup", as_text(warmup), DEFAULT_WARMUPS, 0)
    budget = values.parse_seconds("--budget", as_text(budget_s), None)
    method = values.parse_start_method(start_method)
    run_limit_s = values.parse_seconds("--max-time", as_text(max_time_s), DEFAULT_RUN_LIMIT_S)
    cluster = values.parse_scheduler(scheduler, runner_names)
    size_text = as_text(size)
    cpus = usable_cpus()
    sizing = None
    if here and size_here:  # before gilkit first calls a kernel of the user's in its process
        try_users_impls(kernel_names, impl_names, splits, min(call_limit_s or TRIAL_S, TRIAL_S))
    if size_text in (None, "auto") and size_here:
        if here:
            check_cluster(cluster, runner_names, kernel_names, counts, cpus)  # before timing
        say("sizing the kernels for this machine...")
        chosen = machine_sizes(
            kernel_names,
            impl_names,
            splits,
            {k: workers_for(KERNELS[k], counts, cpus) for k in kernel_names},
            cpus,
            runners=runner_names or DEFAULT_RUNNERS,
            scaling=how,
            n_rounds=n_repeats + n_warmups,
            budget_s=budget,
        )
        sizes, sizing = chosen.sizes, chosen.record()
    else:
        explicit = None if size_text == "auto" else size_text
        sizes = values.parse_sizes(explicit, kernel_names, impl_names)
        if explicit is not None and size_here:
            try:
                check_sizes(sizes, splits, call_limit_s or FIRST_CALL_LIMIT_S)
            except SizeError as error:
                raise UsageError(f"--size: {error}") from error
    cells = cells_for(kernel_names, impl_names, runner_names, counts, sizes, cpus, how)
    for cell in cells:
        largest = KERNELS[cell.kernel].max_size()
        if cell.size > largest:
            raise UsageError(
                f"--size: {cell.kernel} at n = {cell.size:,} ({cell.label}) is past its "
                f"largest n here; valid: 1 to {largest:,}"
            )
    if not cells:
        raise UsageError("nothing to run: no selected kernel has the selected impls")
    made = Plan(
        cells=tuple(cells),
        checks=tuple(checks_for(cells)),
        splits=splits,
        n_repeats=n_repeats,
        n_warmups=n_warmups,
        start_method=method,
        scheduler=cluster,
        unavailable=unavailable,
        call_limit_s=call_limit_s,
        run_limit_s=run_limit_s,
        monitor_gil=monitor_gil,
        measure_capacity=measure_capacity,
        sizing=sizing,
    )
    if here and size_here:
        if size_text not in (None, "auto"):
            check_cluster(cluster, runner_names, kernel_names, counts, cpus)
        infer_kinds(made, say)
    return made


def infer_kinds(plan: Plan, say: Say) -> None:
    """Ask gilkit's probe what the kernels' own impls without a given kind do with the GIL."""
    missing = without_kind((c.kernel, c.impl, c.size) for c in plan.cells)
    if missing:
        pin_native_threads()  # as run_plan will: no BLAS threads of its own beside the probe
    for (kernel, impl), n in missing.items():

        def announce(seconds: float, impl: str = impl) -> None:
            say(f"{impl}: no kind given; asking gilkit's probe (about {format_seconds(seconds)})")

        say(infer_kind(kernel, impl, n, plan.splits[kernel], announce).line())
