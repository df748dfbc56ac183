"""Processes a user's kernel starts itself, which outlive the worker that started them.

gilkit's own workers die with it (gilkit.host.worker_process), but a kernel may start
processes of its own (a subprocess, a pool), and a worker killed at a time limit leaves them
running, reparented to init. On Linux the `gilkit` command makes its process a subreaper
(PR_SET_CHILD_SUBREAPER): such orphans are reparented to gilkit instead, and at its exit every
process still below it is ended (SIGTERM, then SIGKILL). multiprocessing's own helpers (the
resource trackers, multiprocessing's and loky's, and the forkserver) are left alone: they end
when gilkit does, after cleaning up. Ended early, a tracker is started again at exit to
unregister what the pools made, and prints a traceback for each name its new self never saw.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
from collections.abc import Iterable

import psutil

PR_SET_CHILD_SUBREAPER = 36  # from <sys/prctl.h>
GRACE_S = 1.0  # between SIGTERM and SIGKILL
# multiprocessing's, and the one joblib's loky pools start beside it.
RESOURCE_TRACKERS = (
    "multiprocessing.resource_tracker",
    "joblib.externals.loky.backend.resource_tracker",
)


def adopt_orphans() -> bool:
    """Make this process the subreaper of its descendants (Linux); whether it now is."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def end_descendants() -> list[int]:
    """End every process still below this one but multiprocessing's helpers; their pids."""
    try:
        below = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    helpers = _multiprocessing_helpers()
    left = [process for process in below if process.pid not in helpers]
    end_processes(left, GRACE_S)
    return [process.pid for process in left]


def process_trees(pids: Iterable[int]) -> list[psutil.Process]:
    """Each process and every process below it, read before any is ended: a child whose
    parent died is reparented away."""
    tree: list[psutil.Process] = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            tree += [process, *process.children(recursive=True)]
    return tree


def end_processes(processes: list[psutil.Process], grace_s: float) -> None:
    """SIGTERM each and wait up to grace_s, then SIGKILL what is left (at once for 0, without
    waiting: a worker stuck in a call has nothing to finish)."""
    if grace_s > 0:
        for process in processes:
            with contextlib.suppress(psutil.Error):
                process.terminate()
        _, processes = psutil.wait_procs(processes, timeout=grace_s)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    if grace_s > 0:
        psutil.wait_procs(processes, timeout=grace_s)


def _multiprocessing_helpers() -> set[int]:
    """The resource trackers' and the forkserver's pids, where this process started them."""
    pids = set()
    trackers = [sys.modules.get(name) for name in RESOURCE_TRACKERS]
    forkserver = sys.modules.get("multiprocessing.forkserver")
    for found in (
        *(getattr(getattr(module, "_resource_tracker", None), "_pid", None) for module in trackers),
        getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None),
    ):
        if isinstance(found, int):
            pids.add(found)
    return pids
