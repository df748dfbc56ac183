"""Every runner returns the same combined result, and pool start-up is measured apart."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from gilkit.kernels import KERNELS, Task, run_task
from gilkit.kernels.splitting import split
from gilkit.runners import RUNNERS, START_METHODS, RunnerError
from gilkit.runners.processes import ProcessRunner

from .conftest import CPU_KERNELS, runner_params


def tasks(kernel: str, n: int, n_parts: int, params: object) -> list[Task]:
    how = KERNELS[kernel].splits[0]
    return [Task(kernel, "python", part, params) for part in split(n, n_parts, how)]


# The joblib and dask runners, which need optional packages: test_optional_runners.py.
POOLS = [name for name, r in RUNNERS.items() if r.package is None and not r.awaits]


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize("runner_name", runner_params(POOLS))
@pytest.mark.parametrize("n_workers", [1, 3])
def test_runners_agree_with_serial(kernel: str, runner_name: str, n_workers: int) -> None:
    n = 40 if kernel == "mandelbrot" else 5000
    k = KERNELS[kernel]
    with k.params_for(n, k.splits[0]) as params:
        expected = k.combine([run_task(t) for t in tasks(kernel, n, 1, params)])
        with RUNNERS[runner_name]() as runner:
            runner.start(n_workers)
            got = k.combine(runner.map(run_task, tasks(kernel, n, n_workers, params)))
            again = k.combine(runner.map(run_task, tasks(kernel, n, n_workers, params)))
    assert got == again == expected


@pytest.mark.parametrize("method", [m for m in ("spawn", "forkserver") if m in START_METHODS])
def test_processes_work_with_fresh_interpreters(method: str) -> None:
    """spawn and forkserver import the kernels anew and attach shared arrays by name."""
    k = KERNELS["triad"]
    with k.params_for(1000, "contiguous") as data, ProcessRunner(method) as runner:
        runner.start(2)
        parts = [Task("triad", "numpy", p, data) for p in split(1000, 2)]
        assert k.combine(runner.map(run_task, parts)) == k.reference(1000)
        assert runner.start_method == method


def test_pool_workers_all_start_before_start_returns() -> None:
    """start() returns with every worker alive, so no timed call pays for starting one."""
    import threading

    before = set(threading.enumerate())
    with RUNNERS["threads"]() as runner:
        runner.start(4)
        started = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        assert len(started) == 4, started  # before any task was sent
        with RUNNERS["processes"]("fork") as processes:
            processes.start(2)
            assert len(processes.worker_pids) == 2
            assert all(psutil.pid_exists(pid) for pid in processes.worker_pids)


def test_map_before_start_is_an_error() -> None:
    with pytest.raises(RunnerError, match="before start"):
        RUNNERS["threads"]().map(str, [1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_whose_parent_died_before_it_asked_to_die_with_it_ends_at_once() -> None:
    """The request to die with the parent is made a few ms after the fork: a parent killed in
    between sends nothing. The child then finds another parent, and ends itself."""
    script = (
        "import os, sys\n"
        "from gilkit.host.worker_process import die_with_parent\n"
        "die_with_parent(int(sys.argv[1]))\n"
        "print('went on')\n"
    )
    ours = os.getpid()  # the child's real parent: it goes on
    done = subprocess.run([sys.executable, "-c", script, str(ours)], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "went on\n")
    gone = ours + 1_000_000  # no such parent: as if it had died and the child was reparented
    done = subprocess.run([sys.executable, "-c", script, str(gone)], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (1, "")
