"""What every worker process that gilkit starts does first, whatever pool started it.

- It ignores SIGINT: a Ctrl-C at the terminal reaches the whole process group, and the parent
  alone decides how the run stops; a worker that took it would print its own traceback. The
  parent holds SIGINT back while it makes workers (sigint_held), so none is caught unready.
- It dies with gilkit: on Linux the kernel sends it SIGKILL when its parent dies
  (PR_SET_PDEATHSIG), and on every system a daemon thread checks every WATCH_INTERVAL_S that
  gilkit's process is still there (a forkserver's children have the forkserver as parent). A
  crash, a SIGKILL or an OOM kill of gilkit so leaves no worker behind.
- It limits native thread pools to one thread (gilkit.host.threadpools), so that workers × BLAS or
  OpenMP threads never oversubscribe the cpus.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping

from gilkit.host.threadpools import limit_in_worker

WATCH_INTERVAL_S = 0.2
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
# The variable by which a gilkit that starts another (--python) names its pid to it.
DIE_WITH = "GILKIT_DIE_WITH"

_in_worker_process = False


def die_with(env: Mapping[str, str]) -> None:
    """In a gilkit started by another gilkit (--python), which names itself in DIE_WITH: die
    with it, as its workers do."""
    parent = env.get(DIE_WITH)
    if parent is not None and parent == str(os.getppid()):
        die_with_parent(int(parent))


def in_worker_process() -> bool:
    """Whether this process is one of gilkit's worker processes (not the one running a plan)."""
    return _in_worker_process


@contextlib.contextmanager
def sigint_held() -> Iterator[None]:
    """Hold SIGINT back while worker processes are made: a child inherits the blocked signal,
    so a Ctrl-C between its birth and prepare_worker_process cannot reach it; the parent gets
    a held Ctrl-C as soon as the workers are made."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def prepare_worker_process(gilkit_pid: int) -> None:
    """Run first in every worker process; `gilkit_pid` is the process that runs the plan."""
    global _in_worker_process
    _in_worker_process = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held by sigint_held
    if os.getppid() == gilkit_pid:
        die_with_parent(gilkit_pid)
    threading.Thread(target=_watch, args=(gilkit_pid,), name="gilkit-watch", daemon=True).start()
    limit_in_worker()


def die_with_parent(parent_pid: int | None = None) -> None:
    """Ask Linux to SIGKILL this process when its parent (the thread that made it) dies: a
    crash or SIGKILL of gilkit then leaves no child of its behind. Elsewhere, nothing.

    A parent that died before the request took effect sends nothing: given the parent's pid,
    this process then ends at once (it has been reparented away)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _watch(gilkit_pid: int) -> None:
    while _alive(gilkit_pid):
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)  # nobody is left to send a result to


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user (the pid was reused: close enough)
    return True
