"""gilkit: measure the ways around CPython's GIL on your own machine.

The library behind the `gilkit` command: make a Plan of cells (kernel × impl × runner ×
workers), measure it with run_plan, and read the RunResult (gilkit.stats, gilkit.present).
Your own kernel comes from define_kernel; releases_gil asks whether one call releases the GIL.
"""

from gilkit.kernels.base import Kernel, define_kernel
from gilkit.metadata import free_threaded_build, gil_enabled
from gilkit.plan import Cell, Plan
from gilkit.probe import releases_gil
from gilkit.results import RunResult
from gilkit.run import RunInterrupted, Session, run_plan

__version__ = "0.1.0"
__all__ = [
    "Cell",
    "Kernel",
    "Plan",
    "RunInterrupted",
    "RunResult",
    "Session",
    "__version__",
    "define_kernel",
    "free_threaded_build",
    "gil_enabled",
    "releases_gil",
    "run_plan",
]
