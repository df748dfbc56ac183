"""What a Dask cluster's workers are, and whether gilkit can measure with them.

`gilkit run --scheduler ADDRESS` uses a cluster that someone else started. Its workers must
run the gilkit and the Python that this process runs: a task names its kernel and impl, which
each worker looks up in its own gilkit, and a cluster on another Python measures another
interpreter. `worker_facts` runs on every worker (and here, for comparison); `incompatibility`
and `choose_workers` are pure functions of those facts. distributed is imported only to
connect (`pip install 'gilkit[distributed]'`).
"""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from gilkit.host.metadata import free_threaded_build, gil_enabled

CONNECT_TIMEOUT_S = 10.0
VERSIONED = ("gilkit", "numpy", "joblib", "dask", "distributed")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def host_id() -> str:
    """This machine: its hostname and, on Linux, its boot id (containers can share a name)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}"


def python_label() -> str:
    """The Python version, with a t for a free-threaded build: 3.13.5t."""
    return platform.python_version() + ("t" if free_threaded_build() else "")


def worker_facts(dask_worker: Any = None) -> dict[str, Any]:
    """This process as a worker: where, which Python and packages, its GIL, its capacity.

    Runs on each worker through `client.run` (which fills `dask_worker`), and here.
    """
    facts: dict[str, Any] = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "host_id": host_id(),
        "python": python_label(),
        "gil_enabled": gil_enabled(),
        "versions": {dist: _version(dist) for dist in VERSIONED},
    }
    if dask_worker is not None:
        facts["nthreads"] = dask_worker.state.nthreads
        facts["memory_limit_bytes"] = getattr(dask_worker.memory_manager, "memory_limit", None)
    return facts


def incompatibility(
    here: Mapping[str, Any], workers: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """Why gilkit cannot measure with these workers (another gilkit or Python), or None."""
    wanted = (here["versions"]["gilkit"], here["python"])
    other = {
        address: (facts["versions"].get("gilkit"), facts["python"])
        for address, facts in sorted(workers.items())
        if (facts["versions"].get("gilkit"), facts["python"]) != wanted
    }
    if not other:
        return None
    found = "; ".join(
        f"{address} runs gilkit {version or 'none'} on Python {python}"
        for address, (version, python) in other.items()
    )
    return (
        f"{found}, not gilkit {wanted[0]} on Python {wanted[1]} as here; valid: a cluster "
        f"whose workers run gilkit {wanted[0]} on Python {wanted[1]}"
    )


def choose_workers(nthreads: Mapping[str, int], n_workers: int, one_process: bool) -> list[str]:
    """The workers a pool of `n_workers` uses on a cluster it did not start.

    One process with n threads (dask-threads): the first worker, by address, that has
    n threads or more. n processes (dask-processes): the first n workers, each of which gets
    one part of a call. ValueError, saying what the cluster has, when it cannot.
    """
    addresses = sorted(nthreads)
    have = ", ".join(f"{a} ({nthreads[a]} threads)" for a in addresses) or "no workers"
    if one_process:
        enough = [a for a in addresses if nthreads[a] >= n_workers]
        if not enough:
            raise ValueError(f"no worker has {n_workers} threads; the cluster has {have}")
        return enough[:1]
    if len(addresses) < n_workers:
        raise ValueError(f"{n_workers} workers wanted; the cluster has {have}")
    return addresses[:n_workers]


def connect(scheduler: str) -> Any:
    """A client of the scheduler at `scheduler`: an address (tcp://HOST:PORT) or a file."""
    from distributed import Client

    if "://" in scheduler:
        return Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    return Client(scheduler_file=scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)


def describe_cluster(scheduler: str) -> dict[str, Any]:
    """The cluster at `scheduler` as the result file records it: its workers' facts."""
    client = connect(scheduler)
    try:
        workers = client.run(worker_facts)
    finally:
        client.close()
    return {"scheduler": scheduler, "workers": workers}


def cluster_problem(cluster: Mapping[str, Any]) -> str | None:
    """Why gilkit cannot measure on a described cluster, or None."""
    if not cluster["workers"]:
        return "the cluster has no workers; valid: a scheduler with workers connected"
    return incompatibility(worker_facts(), cluster["workers"])
