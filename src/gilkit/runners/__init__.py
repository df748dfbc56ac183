"""The runner registry.

The joblib and dask runners need optional packages. Their classes are always registered, but
import joblib or distributed only when a pool is made (`Runner.unavailable_reason` says what
to install), as joblib registers its own dask backend lazily. The interpreters runner needs a
Python with a per-interpreter GIL and its pool (3.14, or 3.13 with the `interpreters` extra);
it too says why not where it cannot run.

Installed packages add runners under the `gilkit.runners` entry point group: a Runner subclass
that declares its `facts` (where its workers live) and a `name`.
"""

from __future__ import annotations

from typing import cast

from gilkit.host.plugins import load_plugins
from gilkit.model.facts import RunnerFacts
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

ENTRY_POINT_GROUP = "gilkit.runners"
# Where each runner came from: "built-in", or the entry point that registered it.
RUNNER_SOURCES: dict[str, str] = dict.fromkeys(RUNNERS, "built-in")


def load_runner_entry_points() -> dict[str, str]:
    """Register the runners installed packages declare; return {name: why it failed to load}."""
    loaded, failures = load_plugins(ENTRY_POINT_GROUP, RUNNERS, _runner_problem)
    for name, (runner, where) in loaded.items():
        RUNNERS[name] = cast("type[Runner]", runner)
        RUNNER_SOURCES[name] = where
    return failures


def _runner_problem(runner: object) -> str | None:
    if not (isinstance(runner, type) and issubclass(runner, Runner)):
        return f"is {type(runner).__name__}, not a gilkit Runner class"
    if not isinstance(getattr(runner, "facts", None), RunnerFacts):
        return "declares no facts (RunnerFacts: where its workers live)"
    return None


__all__ = [
    "ENTRY_POINT_GROUP",
    "RUNNERS",
    "RUNNER_SOURCES",
    "START_METHODS",
    "NotSupported",
    "Runner",
    "RunnerError",
    "default_start_method",
    "load_runner_entry_points",
]
