"""The benchmark session: gilkit's own run Session over every cell of the suite.

The cells come from gilkit.plan with BENCH_OPTIONS, the step `gilkit run` takes with the same
options, so a benchmark has the n that `gilkit run` picks here. Kernel data is made once and
every pool is started before the first benchmark, process pools first, exactly as `gilkit run`
does (gilkit.engine.session.Session); pytest-benchmark then times the calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import gilkit
from gilkit.engine.session import Session
from gilkit.host import metadata
from gilkit.host.cpus import usable_cpus
from gilkit.kernels import IMPLS, SOURCES, impl_unavailable_reason
from gilkit.model.plan import Plan

# Every built-in kernel and every impl built here, on the standard runners (asyncio for the
# impls that have a coroutine version), at 1, 2 and all usable cpus.
BENCH_OPTIONS: dict[str, Any] = {
    "kernels": [name for name, source in SOURCES.items() if source == "built-in"],
    "impls": [impl for impl in IMPLS if impl_unavailable_reason(impl) is None],
    "runners": ["serial", "threads", "processes", "asyncio"],
    "workers": sorted({1, 2, usable_cpus()}),
}


def bench_plan() -> Plan:
    """The suite's plan: gilkit.plan over BENCH_OPTIONS, sized for this machine."""
    return gilkit.plan(**BENCH_OPTIONS)


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """What gilkit records about a run, so that `gilkit report` can show it for the suite."""
    meta = metadata.collect_metadata()
    machine_info["gilkit"] = {"python": meta["python"], "cpu": meta["cpu"]}


@pytest.fixture(scope="session")
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    selected = {
        item.callspec.params["cell"]
        for item in request.session.items
        if hasattr(item, "callspec") and "cell" in item.callspec.params
    }
    plan = PLAN
    cells = tuple(cell for cell in plan.cells if cell in selected)
    with Session(Plan.of(cells, splits=plan.splits)) as started:
        yield started


PLAN = bench_plan()  # at collection: the parameters of test_cell are its cells
