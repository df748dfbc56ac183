"""What a plan of explicit cells (`Plan.of`) leaves to the engine, filled in as planning does:
each kernel's default split, and the check calls that compare impls run at different sizes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from gilkit.kernels import KERNELS
from gilkit.model.plan import Cell, Plan
from gilkit.runners import RUNNERS


def checks_for(cells: Sequence[Cell]) -> list[Cell]:
    """One serial call per impl at its kernel's smallest size, for impls timed at another n."""
    smallest: dict[str, int] = {}
    for cell in cells:
        smallest[cell.kernel] = min(cell.size, smallest.get(cell.kernel, cell.size))
    checks: dict[Cell, None] = {}
    for cell in cells:
        if cell.size != smallest[cell.kernel]:
            # Two threads, so that the check goes through the parallel reduction.
            n_workers = 2 if KERNELS[cell.kernel].in_call_parallel(cell.impl) else 1
            checks[Cell(cell.kernel, cell.impl, "serial", n_workers, smallest[cell.kernel])] = None
    return list(checks)


def completed(plan: Plan) -> Plan:
    """`plan` with every kernel's split and the checks stated: what the engine runs."""
    splits = {c.kernel: KERNELS[c.kernel].splits[0] for c in plan.cells}
    splits.update(plan.splits)
    checks = plan.checks if plan.checks is not None else tuple(checks_for(plan.cells))
    return dataclasses.replace(plan, splits=splits, checks=checks)


def n_calls(plan: Plan) -> int:
    """Calls the run will make: checks, every round, and the monitored round."""
    in_process = [c for c in plan.cells if RUNNERS[c.runner].facts.shares_interpreter]
    rounds = len(plan.cells) * (plan.n_repeats + plan.n_warmups)
    checks = len(plan.checks) if plan.checks is not None else len(checks_for(plan.cells))
    return checks + rounds + (len(in_process) if plan.monitor_gil else 0)
