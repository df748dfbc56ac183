"""gilkit: measure the ways around CPython's GIL on your own machine."""

from gilkit.metadata import free_threaded_build, gil_enabled

__version__ = "0.1.0"
__all__ = ["__version__", "free_threaded_build", "gil_enabled"]
