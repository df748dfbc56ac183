"""`dask-threads` and `dask-processes`: a Dask cluster, in its two usual shapes.

By default each pool is a `distributed.LocalCluster` that gilkit starts on 127.0.0.1 (no
dashboard) and closes on every way out of a run. Both shapes run their workers in processes
of their own (processes=True); they differ in how the workers are cut:

- `dask-threads`: ONE worker process with n threads. Its threads share that process's GIL,
  so pure Python gains nothing, as with `threads`: the GIL, inside Dask.
- `dask-processes`: n worker processes of one thread each: one GIL per worker.

With `gilkit run --scheduler ADDRESS` the pools use that cluster instead (see dask_cluster):
gilkit neither starts nor changes its workers, and reads neither their memory nor their
signals.

Each call sends one Dask task per part (client.map), pinned to its worker (dask-processes:
part i to worker i), so a call covers [0, n) exactly as the other pools do. The kernel's
params (small picklable handles: a grid, a server's URL, a shared-memory name) are scattered
once to each worker of the pool (client.scatter, a key per worker), and tasks refer to them
by key, so no task carries them. distributed is an optional extra
(`pip install 'gilkit[distributed]'`), imported only when one of these runners is made.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gilkit.host.metadata import gil_enabled
from gilkit.host.worker_process import prepare_worker_process
from gilkit.kernels import Task
from gilkit.model.facts import RunnerFacts, Workers
from gilkit.runners import dask_cluster
from gilkit.runners.base import (
    START_TIMEOUT_S,
    Runner,
    RunnerError,
    closed_if_start_fails,
    kill_processes,
)

LOOPBACK = "127.0.0.1"
CLOSE_TIMEOUT_S = 30.0
# The dashboard is off in gilkit's clusters, and so is what only feeds it: the workers'
# statistical profiler (a thread sampling every 10 ms, with the worker's GIL), the 20 ms
# event-loop ticks and the 0.5 s system monitor of every scheduler, nanny and worker. A run
# keeps its pools open together, its calls interleaved: measured here, six idle clusters took
# 0.42 of 2 cpus from every other cell with them, 0.02 without.
QUIET_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


def _prepare_local_worker(gilkit_pid: int) -> tuple[int, bool]:
    """On each worker of a cluster gilkit started, in its main thread (client.run): ignore
    Ctrl-C, die with gilkit, limit native thread pools, as every gilkit worker does."""
    prepare_worker_process(gilkit_pid)
    return os.getpid(), gil_enabled()


# Handler levels of distributed's loggers in this process before gilkit quieted them, while
# any cluster that gilkit started is open. Each LocalCluster and Nanny quiets them too, and
# puts the level back when it closes; pools closed out of order (a restarted one) would so
# bring back INFO lines about the others. Quieted first, theirs change nothing.
_quieted: dict[logging.Handler, int] = {}
_open_clusters = 0


def _quiet_logs(opening: bool) -> None:
    global _open_clusters
    _open_clusters += 1 if opening else -1
    handlers = logging.getLogger("distributed").handlers
    if opening and _open_clusters == 1:
        for handler in handlers:
            if isinstance(handler, logging.StreamHandler):
                _quieted[handler] = handler.level
                handler.setLevel(logging.ERROR)
    elif not opening and _open_clusters == 0:
        for handler, level in _quieted.items():
            handler.setLevel(level)
        _quieted.clear()


_barriers: dict[str, threading.Barrier] = {}
_barriers_lock = threading.Lock()


def _ready(token: str, parties: int) -> int:
    """A worker process's start barrier: its `parties` threads each run one of these, which
    return together, so each ran on a thread of its own and all of them are up."""
    with _barriers_lock:
        barrier = _barriers.setdefault(token, threading.Barrier(parties))
    barrier.wait(START_TIMEOUT_S)
    with _barriers_lock:
        _barriers.pop(token, None)
    return os.getpid()


def _run_item(fn: Callable[[Any], Any], item: Any, params: Any) -> Any:
    """`fn(item)` on a worker; a task's params come apart, by key, from the worker's memory."""
    if params is not None:
        item = dataclasses.replace(item, params=params)
    return fn(item)


DASK_DATA = (
    "the kernel's params scattered once to each worker (a key per worker), tasks and results "
    "pickled; kernels imported by name; triad's arrays shared without a copy (shared memory: "
    "workers on this host only)"
)


class DaskRunner(Runner):
    """A Dask pool; subclasses say only how many processes and threads it has."""

    package = "distributed"
    # Tasks go through the scheduler and back: 6-11 ms an empty call, measured on 2 cpus.
    call_cost_s = 0.01

    def __init__(self, start_method: str | None = None, scheduler: str | None = None) -> None:
        super().__init__()
        self.scheduler = scheduler
        self._client: Any = None
        self._cluster: Any = None
        self._targets: list[str] = []  # worker addresses; part i goes to _targets[i % len]
        # (id(params), worker address) -> (params, their future on that worker)
        self._scattered: dict[tuple[int, str], tuple[Any, Any]] = {}
        self._quiet = False  # whether this pool holds distributed's logs quiet (_quiet_logs)
        self._held: list[Any] = []  # the last call's futures (see map)

    def _shape(self, n_workers: int) -> tuple[int, int]:
        """(worker processes, threads per process) for a pool of n_workers."""
        return (1, n_workers) if self.facts.one_worker_process else (n_workers, 1)

    def start(self, n_workers: int) -> float:
        super().start(n_workers)
        began = time.perf_counter()
        with closed_if_start_fails(self, n_workers, self.close):  # Ctrl-C too: closed
            if self.scheduler is None:
                self._start_local_cluster(n_workers)
            else:
                self._join_cluster(self.scheduler, n_workers)
            token = f"{id(self)}-{time.monotonic_ns()}"
            n_threads = self._shape(n_workers)[1]
            ready = [
                self._client.submit(_ready, token, n_threads, workers=[address], pure=False)
                for address in self._targets
                for _ in range(n_threads)
            ]
            self._client.gather(ready)
        return time.perf_counter() - began

    def _start_local_cluster(self, n_workers: int) -> None:
        import dask
        from distributed import Client, LocalCluster

        n_processes, n_threads = self._shape(n_workers)
        _quiet_logs(opening=True)
        self._quiet = True
        with dask.config.set(QUIET_CLUSTER):  # read as each server starts; nannies pass it on
            self._cluster = LocalCluster(
                n_workers=n_processes,
                threads_per_worker=n_threads,
                processes=True,
                host=LOOPBACK,
                dashboard_address=None,
                # The scheduler's HTTP server (health checks) still starts: on a free port of
                # the loopback, not on 8787, which another cluster may hold.
                scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"},
                memory_limit=0,  # no spilling, pausing or nanny memory checks while timing
                silence_logs=logging.ERROR,  # in the workers; in this process, _quiet_logs
            )
        self._client = Client(self._cluster, set_as_default=False)
        self._client.wait_for_workers(n_processes, timeout=START_TIMEOUT_S)
        reports = self._client.run(_prepare_local_worker, os.getpid())
        self._targets = sorted(reports)
        self.worker_pids = tuple(sorted(pid for pid, _ in reports.values()))
        self.gil_enabled = any(gil for _, gil in reports.values())

    def _join_cluster(self, scheduler: str, n_workers: int) -> None:
        """Use a cluster someone started: check it, choose its workers, change nothing."""
        self._client = dask_cluster.connect(scheduler)
        facts = self._client.run(dask_cluster.worker_facts)
        problem = dask_cluster.incompatibility(dask_cluster.worker_facts(), facts)
        if problem is not None:
            raise RunnerError(problem)
        nthreads = {address: f["nthreads"] for address, f in facts.items()}
        try:
            one_process = self.facts.one_worker_process
            self._targets = dask_cluster.choose_workers(nthreads, n_workers, one_process)
        except ValueError as error:
            raise RunnerError(f"{scheduler}: {error}") from error
        here = dask_cluster.host_id()
        self.on_this_host = all(facts[a]["host_id"] == here for a in self._targets)
        self.gil_enabled = any(facts[a]["gil_enabled"] for a in self._targets)

    def _params_key(self, params: Any, address: str) -> Any:
        """The params' future on the worker at `address`, scattered there the first time.

        One key per worker, each held by its worker alone: a single key broadcast to all of
        them would be cut back to one copy by Dask's active memory manager between calls,
        and the other workers would fetch it again.
        """
        if (id(params), address) not in self._scattered:
            [future] = self._client.scatter([params], workers=[address], hash=False)
            self._scattered[id(params), address] = (params, future)  # kept: ids stay unique
        return self._scattered[id(params), address][1]

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        if self._client is None:
            raise RunnerError(f"{self.name} runner used before start()")
        items, params = [], []
        for index, item in enumerate(tasks):
            if isinstance(item, Task) and item.params is not None:
                address = self._targets[index % len(self._targets)]
                params.append(self._params_key(item.params, address))
                item = dataclasses.replace(item, params=None)
            else:
                params.append(None)
            items.append(item)
        # One client.map per worker (dask-threads: one for all), its parts pinned to it.
        futures: list[Any] = [None] * len(items)
        for first, address in enumerate(self._targets):
            indices = range(first, len(items), len(self._targets))
            mapped = self._client.map(
                _run_item,
                [fn] * len(indices),
                [items[i] for i in indices],
                [params[i] for i in indices],
                workers=[address],
                pure=False,
            )
            for i, future in zip(indices, mapped, strict=True):
                futures[i] = future
        # The last call's futures are let go only now, after this call's tasks went out, as
        # `futures = client.map(...)` in a loop lets them go: the client batches messages
        # 10 ms apart, and a release sent just before would hold this call's tasks back.
        self._held = futures
        return list(self._client.gather(futures))

    def abandon(self) -> None:
        kill_processes(self.worker_pids)  # a call in flight: close would wait on it
        self.close()

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        self._scattered.clear()
        self._held = []
        try:
            if client is not None:
                client.close(timeout=CLOSE_TIMEOUT_S)
        finally:
            try:
                if cluster is not None:
                    cluster.close(timeout=CLOSE_TIMEOUT_S)
            finally:
                if self._quiet:
                    self._quiet = False
                    _quiet_logs(opening=False)


class DaskThreadsRunner(DaskRunner):
    """One Dask worker process with n threads: the GIL, inside Dask.

    Dask's default for NumPy-heavy work, which releases the GIL in large array operations.
    Pure Python runs one thread at a time in it, as in `threads`; work that releases the GIL
    (Cython inside `with nogil:`, NumPy, I/O) runs in parallel. Each task pays Dask's
    scheduling, about a millisecond: worth it for tasks of 100 ms or more.
    """

    name = "dask-threads"
    description = "Dask: one worker process with n threads; they share its GIL"
    facts = RunnerFacts(Workers.CLUSTER_THREADS, DASK_DATA)


class DaskProcessesRunner(DaskRunner):
    """n Dask worker processes of one thread each: one GIL per worker.

    What Dask users choose for pure-Python work (`LocalCluster(processes=True,
    threads_per_worker=1)`). Like `processes`, it pays for starting interpreters and for
    pickling tasks and results; on top of that, Dask's scheduler, about a millisecond per
    task. A cluster spans machines, which the others cannot.
    """

    name = "dask-processes"
    description = "Dask: n worker processes of one thread: one GIL per worker"
    facts = RunnerFacts(Workers.CLUSTER_PROCESSES, DASK_DATA)
