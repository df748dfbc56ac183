"""The `interpreters` runner: subinterpreters with a GIL each, in this process.

Where it cannot run (3.11, or 3.13 without the backport) only the one-line reason is tested and
the rest is skipped, saying why; CI runs this file under a 3.13 GIL build (.ci/run).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
import time
from concurrent.futures import BrokenExecutor
from pathlib import Path

import pytest

from gilkit import Plan, run_plan
from gilkit.analysis.stats import cell_stats
from gilkit.engine.session import _start_order
from gilkit.host.extensions import NativeUnavailable
from gilkit.host.metadata import gil_enabled
from gilkit.kernels import KERNELS, Task, make_ready, run_task
from gilkit.kernels.in_interpreter import PipeBarrier, Unsupported, run_guarded, unsupported_reason
from gilkit.kernels.splitting import split
from gilkit.model.plan import Cell
from gilkit.runners import RUNNERS, NotSupported
from gilkit.runners.base import PoolRunner, RunnerError
from gilkit.runners.interpreters import InterpreterRunner

from .conftest import impl_params, requires_interpreters

REASON = InterpreterRunner.unavailable_reason()


def tasks(kernel: str, impl: str, n: int, n_parts: int, params: object) -> list[Task]:
    how = KERNELS[kernel].splits[0]
    return [Task(kernel, impl, part, params) for part in split(n, n_parts, how)]


# --- everywhere: what the runner says about itself ---------------------------------------------


@pytest.mark.skipif(REASON is None, reason="the interpreters runner works here")
def test_the_runner_says_in_one_line_why_it_cannot_run() -> None:
    assert "\n" not in str(REASON)
    if sys.version_info < (3, 12):
        minor = sys.version_info.minor
        assert REASON == (
            "needs CPython 3.14+, or 3.13 with pip install 'gilkit[interpreters]' (3.12: a "
            f"backport gilkit has not tested): this is 3.{minor}"
        )


def test_it_shares_the_process_but_not_the_interpreter() -> None:
    assert InterpreterRunner.facts.in_process
    assert not InterpreterRunner.facts.shares_interpreter
    assert "pickled" in InterpreterRunner.facts.data


@pytest.mark.skipif(REASON is None, reason="the interpreters runner works here")
def test_asking_for_it_where_it_cannot_run_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gilkit", "run", "--runner", "interpreters", "--kernel", "squares"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "interpreters" in done.stderr
    assert str(REASON) in done.stderr


def test_gilkit_list_tells_whether_it_is_available() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gilkit", "list"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "250"},
    )
    row = next(line for line in done.stdout.splitlines() if "interpreters" in line)
    assert ("yes" if REASON is None else "no: ") in row


def test_the_kernels_import_without_numpy_or_psutil() -> None:
    """What a subinterpreter imports must not pull in what cannot load there."""
    code = (
        "import sys, gilkit, gilkit.kernels, gilkit.kernels.in_interpreter; "
        "print(sorted(m for m in ('numpy', 'psutil') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_package_still_offers_its_names() -> None:
    import gilkit

    assert {name for name in gilkit.__all__ if not hasattr(gilkit, name)} == set()
    assert "run_plan" in dir(gilkit)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        gilkit.nope  # noqa: B018


def test_a_pipe_barrier_lets_workers_go_only_once_all_arrived() -> None:
    import threading

    barrier = PipeBarrier.make(2)
    went = []
    worker = threading.Thread(target=lambda: (barrier.arrive(5), went.append(1)))
    worker.start()
    with pytest.raises(TimeoutError, match="1 of 2 workers ready"):
        barrier.wait(0.2)  # one is missing: it gives up, and lets the one waiting go
    worker.join(5)
    assert went == [1]
    barrier.close()


def test_a_pipe_barrier_stops_waiting_once_told_a_worker_will_never_arrive() -> None:
    """An interpreter that could not be made ended its task at once, yet the start waited
    its whole 120 s for it (a CI run lost two minutes so)."""
    barrier = PipeBarrier.make(2)
    asked: list[int] = []
    with pytest.raises(TimeoutError, match="0 of 2 workers ready"):
        barrier.wait(30, given_up=lambda: asked.append(1) is None)  # gives up when first asked
    assert asked == [1]
    barrier.close()


@pytest.mark.parametrize(("cause", "starts"), [(BrokenExecutor, 2), (OSError, 1)])
def test_a_pool_whose_interpreter_could_not_be_made_is_started_once_more(
    monkeypatch: pytest.MonkeyPatch, cause: type[Exception], starts: int
) -> None:
    """CPython fails now and then to make one of several interpreters made at once: a second
    start; any other failure is the start's error."""
    tries: list[int] = []

    def start(self: PoolRunner, n_workers: int) -> float:
        tries.append(n_workers)
        if len(tries) == 1:
            raise RunnerError("interpreters pool of 2 failed to start") from cause("made")
        return 0.5

    monkeypatch.setattr(PoolRunner, "start", start)
    runner = InterpreterRunner()
    if starts == 2:
        assert runner.start(2) == 0.5
    else:
        with pytest.raises(RunnerError, match="failed to start"):
            runner.start(2)
    assert tries == [2] * starts


def test_import_errors_become_unsupported_with_the_telling_line() -> None:
    def numpy_like(task: object) -> None:
        try:
            raise ImportError("module numpy._core._x does not support loading in subinterpreters")
        except ImportError as inner:
            raise ImportError("\n\nIMPORTANT: PLEASE READ THIS\nadvice") from inner

    got = run_guarded(numpy_like, None)
    assert got == Unsupported("module numpy._core._x does not support loading in subinterpreters")
    refused = NativeUnavailable("extensions do not load", "module gilkit._native does not ...")
    assert unsupported_reason(refused) == "module gilkit._native does not ..."
    assert unsupported_reason(NativeUnavailable("extensions not built")) is None
    assert unsupported_reason(ValueError("no")) is None


# --- where it runs ------------------------------------------------------------------------------


@requires_interpreters
def test_start_up_waits_for_every_interpreter_and_the_pool_is_in_this_process() -> None:
    with InterpreterRunner() as runner:
        startup = runner.start(2)
        assert startup > 0
        assert runner.worker_pids == ()  # nothing to kill or measure apart: the workers are ours
        assert runner.gil_enabled == gil_enabled()  # a GIL each on a GIL build, none on 3.13t
        assert runner.dispatch_overhead() > 0


@requires_interpreters
def test_results_past_64_bits_come_back() -> None:
    """The backport sends ints natively and hung on one past 64 bits: results travel pickled."""
    part = range(3_037_000_500, 3_037_000_501)  # i*i just past 2**63
    with InterpreterRunner() as runner:
        runner.start(1)
        (got,) = runner.map(run_task, [Task("squares", "python", part, None)])
    assert got == run_task(Task("squares", "python", part, None)) >= 2**63


@requires_interpreters
@pytest.mark.parametrize(
    "impl",
    impl_params(
        [
            *("python", "cython", "cython-nogil", "cython-prange"),
            *("c-api-gil", "c-api", "pybind11-gil", "pybind11"),
        ]
    ),
)
@pytest.mark.parametrize("kernel", ["squares", "mandelbrot", "triad"])
def test_compiled_and_python_impls_run_in_subinterpreters(kernel: str, impl: str) -> None:
    """gilkit's Cython, C API and pybind11 modules declare own-GIL subinterpreter support;
    triad's arrays are the parent's shared memory, attached by name in each interpreter."""
    n = 40 if kernel == "mandelbrot" else 5000
    k = KERNELS[kernel]
    with k.params_for(n, k.splits[0]) as params, InterpreterRunner() as runner:
        runner.start(2)
        if impl == "cython-prange":  # parallel inside the call: one task on two OpenMP threads
            parts = [Task(kernel, impl, range(n), params, 2)]
        else:
            parts = tasks(kernel, impl, n, 2, params)
        expected = k.combine([run_task(Task(kernel, "python", range(n), params))])
        assert k.combine(runner.map(run_task, parts)) == expected


@requires_interpreters
def test_numpy_is_not_supported_and_the_pool_goes_on() -> None:
    with InterpreterRunner() as runner:
        runner.start(2)
        with pytest.raises(NotSupported, match=r"not supported in subinterpreters: .*numpy"):
            runner.map(run_task, tasks("squares", "numpy", 1000, 2, None))
        assert sum(runner.map(run_task, tasks("squares", "python", 1000, 2, None))) == sum(
            i * i for i in range(1000)
        )


@requires_interpreters
@pytest.mark.parametrize("impl", impl_params(["ctypes", "ctypes-gil"]))
def test_the_ctypes_impls_need_numpy_so_are_not_supported(impl: str) -> None:
    with InterpreterRunner() as runner:
        runner.start(2)
        with pytest.raises(NotSupported, match=r"not supported in subinterpreters: .*numpy"):
            runner.map(run_task, tasks("squares", impl, 1000, 2, None))


@requires_interpreters
def test_each_interpreter_runs_a_function_once_as_the_impls_are_made_ready() -> None:
    """gilkit.engine.session imports the impls' modules in every interpreter before any timed
    call."""
    with InterpreterRunner() as runner:
        runner.start(2)
        assert runner.run_in_each_worker(functools.partial(make_ready, ["python", "cython"])) == []
        problems = runner.run_in_each_worker(functools.partial(int, "x"))
        assert len(problems) == 2
        assert all(p.startswith("ValueError: invalid literal") for p in problems)
        assert sum(runner.map(run_task, tasks("squares", "python", 1000, 2, None))) == sum(
            i * i for i in range(1000)
        )


@requires_interpreters
def test_a_hung_call_in_a_subinterpreter_is_abandoned_and_the_run_goes_on(tmp_path: Path) -> None:
    """A subinterpreter is a thread: it cannot be killed, so its call is named abandoned."""
    (tmp_path / "hangs_for_interpreters.py").write_text(
        textwrap.dedent(
            """
            import time

            from gilkit import define_kernel

            def hangs(part, params):
                time.sleep(3600)
                return 0

            def healthy(part, params):
                return sum(i * i for i in part)

            HANGS = define_kernel("hangs", {"python": hangs}, size=20_000)
            HEALTHY = define_kernel("healthy", {"python": healthy}, size=20_000)
            """
        )
    )
    out = tmp_path / "out.json"
    began = time.monotonic()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "gilkit", "run", "--kernel"),
            "hangs_for_interpreters:HANGS,hangs_for_interpreters:HEALTHY",
            *("--runner", "interpreters", "--workers", "2", "--timeout", "1"),
            *("--repeat", "3", "--warmup", "0", "--quiet", "--json", str(out)),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": ""},
    )
    took = time.monotonic() - began
    assert done.returncode == 1, done.stdout + done.stderr
    document = json.loads(out.read_text())
    cells = {(c["kernel"], c["runner"]): c for c in document["cells"]}
    hung = cells["hangs_for_interpreters:HANGS", "interpreters"]["error"]
    assert hung == "timed out after 1 s: still running, threads cannot be killed"
    assert document["metadata"]["abandoned_calls"] == [
        "hangs_for_interpreters:HANGS python × serial × 1",
        "hangs_for_interpreters:HANGS python × interpreters × 2",
    ]
    healthy = cells["hangs_for_interpreters:HEALTHY", "interpreters"]
    assert healthy["agrees"]
    assert len(healthy["times_s"]) == 3
    # The hung calls are not waited for, at the end either: 5.8 s here against their hour; a
    # 4x slower machine still passes.
    assert took < 60


def test_pools_start_process_like_first_then_subinterpreters_then_threads() -> None:
    """Fork wants no threads yet, and the other process pools come before the pools whose
    workers are threads of this process."""
    order = [name for name, _ in sorted(((name, 2) for name in RUNNERS), key=_start_order)]
    assert order[0] == "processes"
    at = order.index("interpreters")
    assert {"joblib-loky", "dask-threads", "dask-processes"} <= set(order[1:at])
    assert set(order[at + 1 :]) == {"serial", "threads", "asyncio", "joblib-threads"}


@requires_interpreters
def test_run_plan_marks_numpy_unsupported_measures_the_rest_and_records_the_pool() -> None:
    plan = Plan.of(
        [
            Cell("squares", "python", "serial", 1, 20_000),
            Cell("squares", "python", "interpreters", 2, 20_000),
            Cell("squares", "numpy", "serial", 1, 20_000),
            Cell("squares", "numpy", "interpreters", 2, 20_000),
        ],
        n_repeats=2,
        n_warmups=0,
    )
    result = run_plan(plan)
    cells = {(r.impl, r.runner): r for r in result.cells}
    python, numpy = cells["python", "interpreters"], cells["numpy", "interpreters"]
    assert python.ok
    assert python.agrees
    assert len(python.times_s) == 2
    assert python.gil_contention is None  # the monitor watches the main interpreter's GIL only
    assert python.pool_startup_s is not None
    assert python.pool_startup_s > 0
    # This process's growth: in a long test process the allocator may reuse pages that earlier
    # tests freed (3.13t's mimalloc did, after the whole suite), so it can read 0 here.
    assert python.pool_memory_bytes is not None
    assert python.pool_memory_bytes >= 0
    assert numpy.ok
    assert numpy.error is None
    assert numpy.times_s == []
    assert numpy.unsupported is not None
    assert "numpy" in numpy.unsupported
    assert ("squares", "numpy", "interpreters", 2) not in cell_stats(result)
    assert "pickled" in result.metadata["runners"]["interpreters"]["data"]


@requires_interpreters
def test_a_users_kernel_is_imported_by_name_in_each_interpreter(tmp_path: Path) -> None:
    (tmp_path / "mymod_for_interpreters.py").write_text(
        textwrap.dedent(
            """
            from gilkit import define_kernel

            def python(part, modulus):
                return sum(i % modulus for i in part)

            work = define_kernel("mod", {"python": python}, size=20_000, params=7)
            """
        )
    )
    done = subprocess.run(
        [
            *(sys.executable, "-m", "gilkit", "run", "--kernel", "mymod_for_interpreters:work"),
            *("--runner", "interpreters", "--workers", "2", "--repeat", "1", "--warmup", "0"),
            *("--json", str(tmp_path / "out.json"), "--quiet"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "interpreters" in done.stdout


def test_every_runner_is_listed_with_its_capabilities() -> None:
    assert {"serial", "threads", "processes", "interpreters", "asyncio"} <= set(RUNNERS)
    assert [name for name, r in RUNNERS.items() if not r.facts.in_process] == [
        "processes",
        "joblib-loky",
        "dask-threads",
        "dask-processes",
    ]
