"""The joblib and dask runners, on a real loky executor and real Dask LocalClusters.

Small sizes, two workers: each test takes a second or two. They skip, saying why, where
joblib or distributed is not installed (`pip install -e ".[test]"` installs both).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from gilkit import Plan, RunInterrupted, cli, run_plan
from gilkit.kernels import KERNELS, Task, run_task_counting_cpu
from gilkit.kernels.splitting import split
from gilkit.model.plan import Cell
from gilkit.planning.matrix import cells_for
from gilkit.runners import RUNNERS, RunnerError, dask_cluster
from gilkit.runners.dask_cluster import choose_workers, incompatibility, worker_facts

from .conftest import requires_package_of

OPTIONAL = ["joblib-threads", "joblib-loky", "dask-threads", "dask-processes"]


def runner_params(names: list[str]) -> list[object]:
    return [pytest.param(name, id=name, marks=requires_package_of(name)) for name in names]


def gilkit_children() -> set[int]:
    """This process's children but the resource trackers (one each for multiprocessing and
    loky), which start once and end with this process."""
    return {
        p.pid
        for p in psutil.Process().children(recursive=True)
        if not any("resource_tracker" in part for part in _cmdline(p))
    }


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def wait_until_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = {pid for pid in pids if psutil.pid_exists(pid)}
        if not left or all(psutil.Process(p).status() == psutil.STATUS_ZOMBIE for p in left):
            return set()
        time.sleep(0.1)
    return left


@pytest.mark.parametrize("runner_name", runner_params(OPTIONAL))
def test_each_runner_computes_squares_and_records_its_pool(runner_name: str) -> None:
    before = gilkit_children()
    cells = [
        Cell("squares", impl, runner, workers, 20_000)
        for impl in ("python", "numpy")
        for runner, workers in (("serial", 1), (runner_name, 2))
    ]
    result = run_plan(Plan.of(cells, n_repeats=1, n_warmups=0))
    assert result.complete
    assert all(r.ok and r.agrees for r in result.cells), [r.error for r in result.cells]
    assert result.references["squares"]["20000"] == KERNELS["squares"].reference(20_000)
    pool = next(r for r in result.cells if r.runner == runner_name)
    assert pool.pool_startup_s is not None
    assert pool.pool_startup_s > 0
    assert pool.dispatch_s is not None
    assert pool.dispatch_s > 0
    assert pool.call_overhead_s is not None
    assert pool.call_overhead_s > 0
    assert pool.pool_memory_bytes is not None
    assert pool.batch_size == RUNNERS[runner_name].batch_size
    if not RUNNERS[runner_name].facts.shares_interpreter:
        assert pool.cpu_workers_s
        assert pool.cpu_workers_s[0] > 0
    assert wait_until_gone(gilkit_children() - before) == set()  # every worker is gone


@pytest.mark.parametrize("runner_name", OPTIONAL)
def test_joblib_runners_have_no_one_worker_cells(runner_name: str) -> None:
    runner = RUNNERS[runner_name]
    cells = cells_for(["squares"], ["python"], [runner_name], [1, 2], {"squares": {"python": 9}})
    workers = sorted(c.n_workers for c in cells if c.runner == runner_name)
    assert workers == ([2] if runner.min_workers == 2 else [1, 2])


@requires_package_of("dask-processes")
def test_dask_scatters_a_kernels_params_once_to_each_worker() -> None:
    kernel = KERNELS["mandelbrot"]
    n = 30
    grid = kernel.make_params(n, "interleaved")
    tasks = [Task("mandelbrot", "python", part, grid) for part in split(n, 2, "interleaved")]
    expected = kernel.combine([kernel.chunk_fns["python"](range(n), grid)])
    with RUNNERS["dask-processes"]() as runner:
        runner.start(2)
        for _ in range(3):
            pairs = runner.map(run_task_counting_cpu, tasks)
            assert kernel.combine([partial for partial, _ in pairs]) == expected
        scattered = {future.key for _, future in runner._scattered.values()}
        assert len(scattered) == 2  # once per worker, however many calls: tasks carry keys
        holdings = runner._client.has_what()
        grids = [{key for key in held if key.startswith("Grid")} for held in holdings.values()]
        assert sorted(map(len, grids)) == [1, 1]  # each worker holds its own copy
        assert set.union(*grids) == scattered


def dashboard_feeds() -> tuple[bool, str, str]:
    import dask

    return (
        dask.config.get("distributed.worker.profile.enabled"),
        dask.config.get("distributed.admin.tick.interval"),
        dask.config.get("distributed.admin.system-monitor.interval"),
    )


@requires_package_of("dask-threads")
def test_gilkits_clusters_run_without_what_only_feeds_the_dashboard() -> None:
    """Idle clusters of a run must not take the cpus from the cells measured meanwhile; this
    process's own Dask settings stay as they were."""
    before = dashboard_feeds()
    with RUNNERS["dask-threads"]() as runner:
        runner.start(2)
        [in_worker] = runner._client.run(dashboard_feeds).values()
        assert in_worker == (False, "1s", "5s")
    assert dashboard_feeds() == before != in_worker


@pytest.mark.parametrize("runner_name", runner_params(["joblib-loky", "dask-processes"]))
def test_an_interrupted_run_closes_the_pool(runner_name: str) -> None:
    before = gilkit_children()
    cells = [Cell("squares", "python", runner_name, 2, 2_000)]
    calls = []

    def interrupt(cell: Cell) -> None:
        calls.append(cell)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted):
        run_plan(Plan.of(cells, n_repeats=3, n_warmups=0), interrupt)
    assert wait_until_gone(gilkit_children() - before) == set()


WORKERS_OF_A_KILLED_GILKIT = """
from gilkit.runners import RUNNERS
loky, dask = RUNNERS["joblib-loky"](), RUNNERS["dask-processes"]()
loky.start(2)
dask.start(2)
print(*loky.worker_pids, *dask.worker_pids, flush=True)
import time
time.sleep(60)
"""


@requires_package_of("joblib-loky")
@requires_package_of("dask-processes")
def test_workers_die_with_a_killed_gilkit() -> None:
    """SIGKILL leaves gilkit no chance to close its pools: its workers must go by themselves."""
    process = subprocess.Popen(
        [sys.executable, "-c", WORKERS_OF_A_KILLED_GILKIT], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        pids = {int(pid) for pid in process.stdout.readline().split()}
        assert len(pids) == 4
        assert all(psutil.pid_exists(pid) for pid in pids)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert wait_until_gone(pids) == set()


@pytest.mark.slow
@requires_package_of("joblib-loky")
def test_the_gilkit_command_ends_with_loky_pools_cleanly(tmp_path: Path) -> None:
    """At its exit gilkit ends what is left below it, but not loky's resource tracker: ended
    early, it is started again to unregister the pools' semaphores, and prints a traceback for
    each (KeyError: '/loky-...')."""
    cells = ["--runner", "joblib-loky", "--kernel", "squares", "--impl", "python", "--workers", "2"]
    quick = ["--size", "20000", "--repeat", "3", "--warmup", "0", "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "gilkit", "run", *cells, *quick, "--json", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "resource_tracker" not in done.stderr


@pytest.fixture
def cluster() -> Iterator[str]:
    """A LocalCluster that gilkit did not start: two workers of one thread each."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as local:
        yield local.scheduler_address


@pytest.mark.slow
@requires_package_of("dask-processes")
def test_scheduler_option_uses_an_existing_cluster_and_records_it(
    cluster: str, tmp_path: Path
) -> None:
    out = tmp_path / "run.json"
    argv = ["run", "--kernel", "squares", "--impl", "python", "--runner", "dask-processes"]
    argv += ["--workers", "2", "--size", "5000", "--repeat", "1", "--warmup", "0"]
    assert cli.main([*argv, "--scheduler", cluster, "--json", str(out), "--quiet"]) == 0
    document = json.loads(out.read_text())
    assert document["options"]["scheduler"] == cluster
    recorded = document["metadata"]["dask_cluster"]
    assert recorded["scheduler"] == cluster
    assert len(recorded["workers"]) == 2
    for facts in recorded["workers"].values():
        assert facts["nthreads"] == 1
        assert facts["python"] == worker_facts()["python"]
        assert facts["versions"]["gilkit"] == worker_facts()["versions"]["gilkit"]
        assert isinstance(facts["gil_enabled"], bool)
    cell = next(c for c in document["cells"] if c["runner"] == "dask-processes")
    assert cell["agrees"]
    assert cell["error"] is None


@requires_package_of("dask-processes")
def test_scheduler_option_refuses_more_workers_than_the_cluster_has(
    cluster: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--kernel", "squares", "--impl", "python", "--runner", "dask-processes"]
    assert cli.main([*argv, "--workers", "4", "--scheduler", cluster]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "4 workers wanted" in err
    assert "up to 2 workers" in err


def test_a_cluster_on_another_gilkit_or_python_is_refused() -> None:
    here = {"python": "3.11.7", "versions": {"gilkit": "0.1.0"}}
    same = {"python": "3.11.7", "versions": {"gilkit": "0.1.0"}}
    other = {"python": "3.12.1", "versions": {"gilkit": "0.1.0"}}
    assert incompatibility(here, {"tcp://a:1": same}) is None
    why = incompatibility(here, {"tcp://a:1": same, "tcp://b:2": other})
    assert why is not None
    assert "tcp://b:2 runs gilkit 0.1.0 on Python 3.12.1" in why
    assert "tcp://a:1" not in why
    assert "valid: a cluster whose workers run gilkit 0.1.0 on Python 3.11.7" in why
    free_threaded = {"python": "3.11.7t", "versions": {"gilkit": "0.1.0"}}
    assert incompatibility(here, {"tcp://c:3": free_threaded}) is not None
    no_gilkit = {"python": "3.11.7", "versions": {"gilkit": None}}
    assert "runs gilkit none" in (incompatibility(here, {"tcp://d:4": no_gilkit}) or "")


def test_pools_choose_the_workers_of_a_cluster_by_shape() -> None:
    nthreads = {"tcp://b:2": 4, "tcp://a:1": 1, "tcp://c:3": 2}
    assert choose_workers(nthreads, 2, one_process=False) == ["tcp://a:1", "tcp://b:2"]
    assert choose_workers(nthreads, 2, one_process=True) == ["tcp://b:2"]
    with pytest.raises(ValueError, match="no worker has 8 threads"):
        choose_workers(nthreads, 8, one_process=True)
    with pytest.raises(ValueError, match="4 workers wanted"):
        choose_workers(nthreads, 4, one_process=False)


@pytest.mark.parametrize("runner_name", OPTIONAL)
def test_a_missing_package_is_one_line_naming_the_install(
    runner_name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = RUNNERS[runner_name]
    monkeypatch.setattr(runner, "package", f"gilkit_lacks_{runner.package}")
    assert cli.main(["run", "--runner", runner_name]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"--runner: {runner_name!r} needs gilkit_lacks_" in err
    assert "pip install 'gilkit[gilkit_lacks_" in err
    monkeypatch.setenv("COLUMNS", "400")  # a table cell wraps at the terminal's width
    assert cli.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "no: needs gilkit_lacks_" in listed


@requires_package_of("dask-threads")
@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--scheduler", "tcp://127.0.0.1:1"], ["--scheduler", "dask-threads"]),
        (["--runner", "dask-threads", "--scheduler", "nowhere"], ["'nowhere'", "tcp://HOST"]),
        (["--runner", "dask-threads", "--scheduler", "tcp://:x"], ["'tcp://:x'", "tcp://HOST"]),
    ],
)
def test_bad_scheduler_is_one_line(
    argv: list[str], names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for name in names:
        assert name in err


@requires_package_of("dask-threads")
@pytest.mark.parametrize(
    ("address", "content", "reason"),
    [
        ("http://x:1", None, "'http://x:1' is not a tcp:// address"),
        ("FILE", '{"cells": []}', "is not a scheduler file: no 'address'"),
        ("FILE", "not json", "is not a scheduler file (JSONDecodeError"),
        ("FILE", '{"address": "http://x:1"}', "gives 'http://x:1' is not a tcp:// address"),
    ],
)
def test_a_scheduler_of_the_wrong_form_is_refused_before_connecting(
    address: str,
    content: str | None,
    reason: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given to distributed, each waited 20 s, then an empty AssertionError and a traceback."""
    monkeypatch.setattr(dask_cluster, "connect", _no_connecting)
    if content is not None:
        address = str(tmp_path / "scheduler.json")
        Path(address).write_text(content)
    argv = ["run", "--runner", "dask-threads", "--scheduler", address, "--quiet"]
    assert cli.main([*argv, "--json", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert reason in err
    assert "valid: tcp://HOST:PORT or the path of a scheduler file" in err


def _no_connecting(scheduler: str) -> None:
    raise AssertionError(f"connected to {scheduler!r}")


@pytest.mark.parametrize("runner_name", OPTIONAL)
def test_a_run_whose_runner_package_fails_to_import_records_it_in_its_cells(
    runner_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found (so the options pass) yet failing to import: the pool's cells say why."""
    package = RUNNERS[runner_name].package
    monkeypatch.setitem(sys.modules, package, None)  # import fails, as if broken
    cells = [
        Cell("squares", "python", "serial", 1, 1000),
        Cell("squares", "python", runner_name, 2, 1000),
    ]
    result = run_plan(Plan.of(cells, n_repeats=1, n_warmups=0, measure_capacity=False))
    failed = next(r for r in result.cells if r.runner == runner_name)
    assert failed.error is not None
    assert f"pip install 'gilkit[{package}]'" in failed.error
    assert next(r for r in result.cells if r.runner == "serial").ok


@pytest.mark.parametrize("runner_name", OPTIONAL)
def test_making_a_pool_without_its_package_says_what_to_install(
    runner_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = RUNNERS[runner_name].package
    monkeypatch.setitem(sys.modules, package, None)  # import fails, as if not installed
    with pytest.raises(RunnerError, match=rf"pip install 'gilkit\[{package}\]'"):
        RUNNERS[runner_name]()


def _leave_a_mark(folder: Path) -> None:
    """In a worker: one file per run, named by the worker's pid and a fresh counter."""
    import os

    mine = sorted(folder.glob(f"{os.getpid()}-*"))
    (folder / f"{os.getpid()}-{len(mine)}").touch()


@requires_package_of("joblib-loky")
def test_loky_runs_a_function_once_in_each_worker_every_time(tmp_path: Path) -> None:
    """Its start barrier serves again: a second use cannot let one worker run twice."""
    import functools

    runner = RUNNERS["joblib-loky"]()
    runner.start(2)
    try:
        for _ in range(3):
            assert runner.run_in_each_worker(functools.partial(_leave_a_mark, tmp_path)) == []
    finally:
        runner.close()
    marks = sorted(path.name.split("-") for path in tmp_path.iterdir())
    assert {pid for pid, _ in marks} == {str(pid) for pid in runner.worker_pids}
    assert sorted(int(n) for _, n in marks) == [0, 0, 1, 1, 2, 2]
