"""The runner registry."""

from __future__ import annotations

from gilkit.runners.asyncio_runner import AsyncioRunner
from gilkit.runners.base import NotSupported, Runner, RunnerError
from gilkit.runners.interpreters import InterpreterRunner
from gilkit.runners.processes import START_METHODS, ProcessRunner, default_start_method
from gilkit.runners.serial import SerialRunner
from gilkit.runners.threads import ThreadRunner

RUNNERS: dict[str, type[Runner]] = {
    r.name: r for r in (SerialRunner, ThreadRunner, ProcessRunner, InterpreterRunner, AsyncioRunner)
}

__all__ = [
    "RUNNERS",
    "START_METHODS",
    "NotSupported",
    "Runner",
    "RunnerError",
    "default_start_method",
]
