"""Keep native thread pools (BLAS, OpenMP, Numba) at one thread, so workers never oversubscribe.

With 4 process workers each running a 4-thread BLAS, 16 threads would fight for the cpus and the
measurement would show that fight, not the runner. Child processes read these variables when
they load the libraries, so they are set in os.environ, which every start method passes on;
threadpoolctl limits the libraries already loaded in this process. `cython-prange` and
`numba-prange` ask for their thread counts explicitly, which these limits do not cap.

Numba is the exception to setting a variable at any time: it reads NUMBA_NUM_THREADS when it
is imported, again before each compilation, and refuses to compile once its pool has started
if the variable changed. So the variable is left alone in a process that has imported Numba.
gilkit's own Numba impls import it with a larger pool, for `numba-prange`
(gilkit.bindings.numba_cores); a worker process that did not inherit Numba puts the variable back
to 1.
"""

from __future__ import annotations

import os
import sys
from typing import Any

THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "BLIS_NUM_THREADS",  # BLIS, a BLAS NumPy and SciPy can be linked against (AMD's AOCL)
    # Numba sizes its parallel=True pool from this when it first launches it, and
    # numba.set_num_threads can only go lower, so a Numba kernel stays on one thread too.
    "NUMBA_NUM_THREADS",
)


def pin_native_threads() -> dict[str, Any]:
    """Limit native pools to one thread here and in future children; return what was there."""
    from threadpoolctl import threadpool_limits

    previous = {var: os.environ.get(var) for var in THREAD_ENV_VARS}
    for var in THREAD_ENV_VARS:
        if var != "NUMBA_NUM_THREADS" or "numba" not in sys.modules:
            os.environ[var] = "1"
    threadpool_limits(limits=1)
    return {"env_before": previous, "pinned_to": 1, "pools": describe_native_pools()}


def limit_in_worker() -> None:
    """Run at worker start: the env already holds, this covers libraries a fork inherited."""
    from threadpoolctl import threadpool_limits

    if "numba" not in sys.modules:  # else too late: see the module's docstring
        os.environ["NUMBA_NUM_THREADS"] = "1"
    threadpool_limits(limits=1)


def describe_native_pools() -> list[dict[str, Any]]:
    """The thread pools loaded in this process, as threadpoolctl sees them."""
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "num_threads", "version", "filepath")
    return [{k: pool.get(k) for k in keys} for pool in threadpool_info()]
