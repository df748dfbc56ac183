"""gilkit: measure the ways around CPython's GIL on your own machine.

The library behind the `gilkit` command: plan() the cells (kernel × impl × runner × workers,
sized for this machine), measure them with run_plan, and read the RunResult (gilkit.analysis
judges it, gilkit.present formats it).
Your own kernel comes from define_kernel; releases_gil asks whether one call releases the GIL.

The names below are imported on first use, not with the package: a subinterpreter worker
(the `interpreters` runner) imports gilkit to reach its kernels, and must not pull in NumPy or
psutil on the way, which cannot be loaded in a subinterpreter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gilkit.advise import advise
    from gilkit.engine.session import RunInterrupted, Session, run_plan
    from gilkit.gil.probe import releases_gil
    from gilkit.host.metadata import free_threaded_build, gil_enabled
    from gilkit.kernels.base import Kernel, define_kernel
    from gilkit.model.plan import Cell, Plan
    from gilkit.model.results import RunResult
    from gilkit.planning import plan

__version__ = "0.1.0"

# name -> the module that defines it
_PUBLIC = {
    "advise": "gilkit.advise",
    "Cell": "gilkit.model.plan",
    "Kernel": "gilkit.kernels.base",
    "Plan": "gilkit.model.plan",
    "RunInterrupted": "gilkit.engine.session",
    "RunResult": "gilkit.model.results",
    "Session": "gilkit.engine.session",
    "define_kernel": "gilkit.kernels.base",
    "free_threaded_build": "gilkit.host.metadata",
    "plan": "gilkit.planning",
    "gil_enabled": "gilkit.host.metadata",
    "releases_gil": "gilkit.gil.probe",
    "run_plan": "gilkit.engine.session",
}
__all__ = [
    "Cell",
    "Kernel",
    "Plan",
    "RunInterrupted",
    "RunResult",
    "Session",
    "__version__",
    "advise",
    "define_kernel",
    "free_threaded_build",
    "gil_enabled",
    "plan",
    "releases_gil",
    "run_plan",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'gilkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups find it without this hook
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
