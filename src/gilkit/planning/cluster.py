"""--scheduler: refuse, before measuring, a Dask cluster that cannot run the plan's cells."""

from __future__ import annotations

from collections.abc import Sequence

from gilkit.engine.limits import Caller, CallTimeout
from gilkit.kernels import KERNELS
from gilkit.planning.matrix import workers_for
from gilkit.planning.values import UsageError
from gilkit.runners import RUNNERS, dask_cluster
from gilkit.runners.dask_runners import DaskRunner

# The most the first look at a --scheduler may take: connecting (distributed's own limit is
# CONNECT_TIMEOUT_S) and every worker's answer to a small function.
ANSWER_LIMIT_S = 2 * dask_cluster.CONNECT_TIMEOUT_S


def check_cluster(
    scheduler: str | None,
    runners: Sequence[str] | None,
    kernels: Sequence[str],
    workers: Sequence[int] | None,
    n_cpus: int,
) -> None:
    """One look at the cluster: it answers, runs this gilkit, and has the workers each dask
    runner of the plan asks for."""
    if scheduler is None:
        return
    caller = Caller()  # distributed's own timeout covers the connection, not a silent peer
    try:
        cluster = caller.call(lambda: dask_cluster.describe_cluster(scheduler), ANSWER_LIMIT_S)
    except CallTimeout:
        raise UsageError(
            f"--scheduler: {scheduler!r} did not answer within {ANSWER_LIMIT_S:.0f} s (connect, "
            "then run a small function on every worker); valid: the address or scheduler file "
            "of a running Dask scheduler whose workers answer"
        ) from None
    except Exception as error:
        raise UsageError(
            f"--scheduler: cannot use {scheduler!r} ({_why(error)}); "
            "valid: the address or scheduler file of a running Dask scheduler"
        ) from error
    finally:
        if not caller.stuck:
            caller.close()
    problem = dask_cluster.cluster_problem(cluster)
    if problem is not None:
        raise UsageError(f"--scheduler: {problem}")
    nthreads = {address: facts["nthreads"] for address, facts in cluster["workers"].items()}
    counts = sorted({n for k in kernels for n in workers_for(KERNELS[k], workers, n_cpus)})
    for name in runners or ():
        runner = RUNNERS[name]
        if not issubclass(runner, DaskRunner):
            continue
        for n_workers in counts:
            try:
                dask_cluster.choose_workers(nthreads, n_workers, runner.facts.one_worker_process)
            except ValueError as error:
                most = max(nthreads.values()) if runner.facts.one_worker_process else len(nthreads)
                raise UsageError(
                    f"--workers: {name} × {n_workers} on {scheduler}: {error}; "
                    f"valid: up to {most} workers for {name} on this cluster"
                ) from error


def _why(error: Exception) -> str:
    """The error's type, and its message where it has one (distributed's asserts have none)."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
