"""Skip markers for what a checkout or interpreter may lack: compiled kernels, OpenMP, no GIL,
subinterpreters with a GIL each."""

from __future__ import annotations

import pytest

from gilkit.host import extensions as compiled
from gilkit.host.metadata import free_threaded_build, gil_enabled
from gilkit.kernels import IMPLS, KERNELS, impl_unavailable_reason
from gilkit.runners import RUNNERS

requires_native = pytest.mark.skipif(
    compiled.unavailable_reason("_native") is not None,
    reason=f"compiled kernels: {compiled.unavailable_reason('_native')}",
)
requires_free_threading = pytest.mark.skipif(
    not free_threaded_build(),
    reason="needs a free-threaded interpreter (3.13t+; scripts/build-freethreaded-python.sh)",
)
requires_gil = pytest.mark.skipif(
    not gil_enabled(), reason="probes the GIL; this interpreter runs without one"
)
requires_interpreters = pytest.mark.skipif(
    RUNNERS["interpreters"].unavailable_reason() is not None,
    reason=f"interpreters runner: {RUNNERS['interpreters'].unavailable_reason()} (CI runs these "
    "under a 3.13 GIL build: scripts/build-freethreaded-python.sh --gil)",
)
requires_openmp = pytest.mark.skipif(
    compiled.unavailable_reason("_prange") is not None,
    reason=f"OpenMP kernels: {compiled.unavailable_reason('_prange')}",
)


def requires_package_of(runner: str) -> pytest.MarkDecorator:
    """Skip where the optional package of `runner` (joblib, distributed) is not installed."""
    reason = RUNNERS[runner].unavailable_reason()
    return pytest.mark.skipif(reason is not None, reason=f"{runner}: {reason}")


# The kernels that compute: io waits on a server and has tests of its own (test_io_kernel.py).
CPU_KERNELS = [name for name, kernel in KERNELS.items() if kernel.bound != "io"]


def runner_params(names: list[str]) -> list[object]:
    """Runners as pytest params, each skipped with its reason where it cannot run here."""
    params = []
    for name in names:
        reason = RUNNERS[name].unavailable_reason()
        marks = [pytest.mark.skip(reason=f"{name}: {reason}")] if reason else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


def impl_params(impls: list[str] | None = None) -> list[object]:
    """Impls as pytest params, each skipped with its reason where it is not built."""
    params = []
    for impl in impls or list(IMPLS):
        reason = impl_unavailable_reason(impl)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(impl, id=impl, marks=marks))
    return params
