"""The io kernel: requests to a local server, under every runner including asyncio."""

from __future__ import annotations

import socket

import pytest

from gilkit.kernels import KERNELS, Task, run_task, run_task_async
from gilkit.kernels.io_server import port_of
from gilkit.kernels.splitting import split
from gilkit.planning.matrix import cells_for
from gilkit.runners import RUNNERS

IO = KERNELS["io"]


@pytest.mark.parametrize("runner_name", ["serial", "threads", "processes", "asyncio"])
def test_every_runner_fetches_every_byte(runner_name: str) -> None:
    n = 20
    with IO.params_for(n, "contiguous") as site, RUNNERS[runner_name]() as runner:
        runner.start(8)
        fn = run_task_async if runner.awaits else run_task
        tasks = [Task("io", "python", part, site) for part in split(n, 8)]
        assert IO.combine(runner.map(fn, tasks)) == IO.reference(n) == n * site.payload_bytes


def test_the_server_stops_with_the_run() -> None:
    with IO.params_for(1, "contiguous") as site:
        port = port_of(site.base_url)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=5),
    ):
        pass


def test_asyncio_cells_exist_only_where_a_coroutine_impl_does() -> None:
    sizes = {"io": {"python": 8}, "squares": {"python": 8}}
    cells = cells_for(["io", "squares"], ["python"], None, [2], sizes, n_cpus=2)
    assert {(c.kernel, c.runner) for c in cells if c.runner == "asyncio"} == {("io", "asyncio")}
    default = cells_for(["io"], ["python"], None, None, sizes, n_cpus=2)
    assert max(c.n_workers for c in default) > 2  # waiting scales past the cpus
