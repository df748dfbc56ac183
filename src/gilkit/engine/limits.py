"""How a run stops: on a signal, at its time limit, and when one call outlives its own.

Every call runs in a caller thread (or in a pool's workers) while the main thread waits for
it, with a time limit. The main thread is so never busy inside a kernel: SIGINT and SIGTERM
raise Stop there at once, whatever the kernel is doing, and a kernel's own KeyboardInterrupt
or SystemExit is only that cell's error, told apart from the user's Ctrl-C.

A call that outlives its limit raises CallTimeout. A thread cannot be killed (the seed's own
claim): a caller thread stuck in a kernel is abandoned, a daemon, so that it never holds up
the exit; a process pool's workers are killed instead (gilkit.engine.session does that).

One limit is out of reach: a native loop that holds the GIL and never returns lets no Python
code run in this process, the main thread's included. Only a signal's default action or
SIGKILL ends it; the run's journal keeps every round completed before.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from multiprocessing.connection import Connection
from queue import SimpleQueue
from typing import Any, TypeVar

from gilkit.host.worker_process import die_with_parent

T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop(BaseException):
    """The run must end now: a signal, or the run's time limit. Not an Exception, so that no
    `except Exception` on the way swallows it."""

    def __init__(self, reason: str, exit_status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exit_status = exit_status  # 128 + the signal, as a shell reports it; 124: time


class CallTimeout(Exception):
    """A call outlived its time limit."""


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise Stop in the main thread while the block runs.

    Outside the main thread (a library caller's worker thread) nothing is installed: signals
    keep their handlers, and a Ctrl-C reaches whoever handles it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Stop(signal.Signals(signum).name, 128 + signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Caller:
    """A daemon thread that makes calls for the main thread, which waits with a time limit.

    A stuck caller is abandoned: `stuck` is then True and the owner makes a new one.
    """

    def __init__(self) -> None:
        self.stuck = False
        self._jobs: SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="gilkit-caller", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, future = job
            try:
                future.set_result(fn())
            except BaseException as error:  # the kernel's SystemExit too: the caller decides
                future.set_exception(error)

    def call(self, fn: Callable[[], T], limit_s: float | None) -> T:
        """fn() in the caller thread; CallTimeout after `limit_s` seconds (None: no limit)."""
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        try:
            return _wait(future, limit_s)
        except CallTimeout:
            self.stuck = True
            raise

    def close(self) -> None:
        if not self.stuck:
            self._jobs.put(None)


def _wait(future: Future[T], limit_s: float | None) -> T:
    """The future's result. The wait is a lock's, which a signal interrupts on POSIX: the
    handler runs at once, and its Stop leaves the wait."""
    try:
        return future.result(timeout=limit_s)
    except FutureTimeout:
        if future.done():
            raise  # the call itself raised TimeoutError: its error, not ours
        raise CallTimeout(f"no result after {limit_s:.3g} s") from None


def trial_in_child(
    call: Callable[[], object], limit_s: float, hang_is_fine: bool = False
) -> str | None:
    """Make `call` once in a forked child, and say in a phrase how that went wrong where it
    ended the child (a segfault, os._exit, even with status 0) or outlived `limit_s` (the child
    is killed); None when it returned or raised (the caller calls it itself to name the
    exception, SystemExit included), and where this platform cannot fork. A user's call that
    can take a process down is tried so before it runs in gilkit's own. The child tells how
    its call ended through a pipe: an exit status alone is the call's to choose. With
    `hang_is_fine` (a run, whose per-call limits deal with hangs) outliving is no fault."""
    import multiprocessing  # here: only the probe, advise and user kernels fork a trial

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    fork = multiprocessing.get_context("fork")
    reader, writer = fork.Pipe(duplex=False)
    child = fork.Process(target=_trial, args=(call, os.getpid(), writer), daemon=True)
    child.start()
    writer.close()  # the child's alone: a child that ends unheard closes the pipe
    child.join(limit_s)
    if child.is_alive():
        child.kill()
        child.join()
        return None if hang_is_fine else f"took over {limit_s:.3g} s"
    told = _heard(reader)
    code = child.exitcode
    if code is not None and code < 0:
        return f"crashed its interpreter ({signal.Signals(-code).name})"
    if told != TRIAL_ENDED:
        return f"ended its process (exit status {code})"
    return None


TRIAL_ENDED = "returned or raised"  # what a trial child sends once its call is over


def _heard(reader: Connection) -> object:
    """What the trial child sent, or None where it ended before sending (the pipe's EOF)."""
    with reader:
        try:
            return reader.recv() if reader.poll() else None
        except EOFError:
            return None


def _trial(call: Callable[[], object], parent_pid: int, told: Connection) -> None:
    import faulthandler

    faulthandler.disable()  # a crash here is expected, and said in one line by the parent
    die_with_parent(parent_pid)  # a SIGKILL of gilkit leaves no trial behind
    try:
        call()
    except BaseException:  # SystemExit too: the caller makes the call itself to name it
        pass
    told.send(TRIAL_ENDED)
    os._exit(0)
