"""gilkit: measure the ways around CPython's GIL on your own machine."""

from gilkit.kernels.base import Kernel, define_kernel
from gilkit.metadata import free_threaded_build, gil_enabled
from gilkit.probe import releases_gil

__version__ = "0.1.0"
__all__ = [
    "Kernel",
    "__version__",
    "define_kernel",
    "free_threaded_build",
    "gil_enabled",
    "releases_gil",
]
