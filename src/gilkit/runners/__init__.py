"""The runner registry.

The joblib and dask runners need optional packages. Their classes are always registered, but
import joblib or distributed only when a pool is made (`Runner.unavailable_reason` says what
to install), as joblib registers its own dask backend lazily. The interpreters runner needs a
Python with a per-interpreter GIL and its pool (3.14, or 3.13 with the `interpreters` extra);
it too says why not where it cannot run.
"""

from __future__ import annotations

from gilkit.runners.asyncio_runner import AsyncioRunner
from gilkit.runners.base import NotSupported, Runner, RunnerError
from gilkit.runners.dask_runners import DaskProcessesRunner, DaskThreadsRunner
from gilkit.runners.interpreters import InterpreterRunner
from gilkit.runners.joblib_runners import JoblibLokyRunner, JoblibThreadsRunner
from gilkit.runners.processes import START_METHODS, ProcessRunner, default_start_method
from gilkit.runners.serial import SerialRunner
from gilkit.runners.threads import ThreadRunner

RUNNERS: dict[str, type[Runner]] = {
    r.name: r
    for r in (
        SerialRunner,
        ThreadRunner,
        ProcessRunner,
        InterpreterRunner,
        AsyncioRunner,
        JoblibThreadsRunner,
        JoblibLokyRunner,
        DaskThreadsRunner,
        DaskProcessesRunner,
    )
}

__all__ = [
    "RUNNERS",
    "START_METHODS",
    "NotSupported",
    "Runner",
    "RunnerError",
    "default_start_method",
]
