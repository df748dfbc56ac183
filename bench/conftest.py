"""The benchmark session: gilkit's own run Session over every cell of the suite.

Kernel data is made once and every pool is started before the first benchmark, process pools
first, exactly as `gilkit run` does (gilkit.engine.session.Session); pytest-benchmark then times
the calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gilkit.engine.session import Session
from gilkit.host import metadata
from gilkit.host.threadpools import pin_native_threads
from gilkit.model.plan import Plan


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """What gilkit records about a run, so that `gilkit report` can show it for the suite."""
    meta = metadata.collect_metadata()
    machine_info["gilkit"] = {"python": meta["python"], "cpu": meta["cpu"]}


@pytest.fixture(scope="session")
def session(request: pytest.FixtureRequest) -> Iterator[Session]:
    cells = [
        item.callspec.params["cell"]
        for item in request.session.items
        if hasattr(item, "callspec")
        and "cell" in item.callspec.params
        and not item.get_closest_marker("skip")
    ]
    pin_native_threads()
    with Session(Plan.of(cells)) as started:
        yield started
