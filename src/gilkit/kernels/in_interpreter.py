"""What the `interpreters` runner's subinterpreters run, and the barrier that starts them.

Each subinterpreter imports this module by name, and gilkit.kernels through it, so neither may
import what cannot be loaded in a subinterpreter with its own GIL: NumPy, psutil, or any
extension without multi-phase init and Py_mod_multiple_interpreters (docs/subinterpreters.md).
Only small picklable values cross between interpreters: the barrier's file descriptors, each
Task (kernel name, impl, part, params) and each partial result.
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gilkit.host.extensions import NativeUnavailable, error_chain, first_line, telling_line
from gilkit.kernels import shared_arrays

_barrier: PipeBarrier | None = None  # set in each subinterpreter by init_worker


@dataclass(frozen=True)
class PipeBarrier:
    """A start barrier between the parent and `parties` workers of other interpreters.

    threading.Barrier cannot cross interpreters (it does not pickle), but file descriptors can:
    each worker writes a byte to `arrive` and blocks until it reads one from `go`; the parent
    reads `parties` bytes from `arrive`, then writes `parties` to `go`. A worker blocked in its
    task cannot take a second one, so `parties` arrivals are `parties` different workers.
    """

    parties: int
    arrive_r: int
    arrive_w: int
    go_r: int
    go_w: int

    @classmethod
    def make(cls, parties: int) -> PipeBarrier:
        return cls(parties, *os.pipe(), *os.pipe())

    def wait(self, timeout_s: float, given_up: Callable[[], bool] = lambda: False) -> None:
        """The parent's side: return once every worker has arrived, and let them all go.

        On a timeout they are let go all the same (so that none stays blocked in its task)
        and TimeoutError says how many had arrived; so too, at once, where `given_up()`
        says that a worker will never arrive (its interpreter could not be made).
        """
        try:
            self.gather(timeout_s, given_up)
        finally:
            self.release()

    def gather(self, timeout_s: float, given_up: Callable[[], bool] = lambda: False) -> None:
        """The parent's side, first half: return once every worker has arrived (they stay
        blocked, idle, until release(): gilkit.claims measures them then)."""
        deadline = time.monotonic() + timeout_s
        arrived = 0
        while arrived < self.parties:
            left = deadline - time.monotonic()
            if not _readable(self.arrive_r, min(left, GIVEN_UP_POLL_S)):
                if left <= GIVEN_UP_POLL_S or given_up():
                    waited = timeout_s - max(0.0, deadline - time.monotonic())
                    raise TimeoutError(
                        f"{arrived} of {self.parties} workers ready after {waited:.3g} s"
                    )
                continue
            arrived += len(os.read(self.arrive_r, self.parties - arrived))

    def release(self) -> None:
        os.write(self.go_w, b"." * self.parties)

    def arrive(self, timeout_s: float) -> None:
        """A worker's side: say it is up, then wait until the parent lets every worker go."""
        os.write(self.arrive_w, b".")
        if not _readable(self.go_r, timeout_s):
            raise TimeoutError(f"not released after {timeout_s:.3g} s")
        os.read(self.go_r, 1)

    def close(self) -> None:
        """The parent's, once every worker has returned from arrive()."""
        for fd in (self.arrive_r, self.arrive_w, self.go_r, self.go_w):
            os.close(fd)


# How often gather() asks whether to give up waiting.
GIVEN_UP_POLL_S = 0.1


def _readable(fd: int, timeout_s: float) -> bool:
    return timeout_s > 0 and bool(select.select([fd], [], [], timeout_s)[0])


def init_worker(barrier: PipeBarrier, gilkit_pid: int, import_kernels: bool = True) -> None:
    """Every subinterpreter runs this first. The kernels are imported here, so that the pool's
    start-up, not its first call, pays for it; gilkit.claims starts bare interpreters."""
    global _barrier
    _barrier = barrier
    shared_arrays.without_numpy()  # triad's arrays as memoryviews here
    if import_kernels:
        import gilkit.kernels  # noqa: F401


def report_ready(timeout_s: float) -> tuple[int, bool]:
    """Blocks its worker until every worker holds one: so each one ran on its own worker."""
    assert _barrier is not None, "init_worker did not run"
    _barrier.arrive(timeout_s)
    # The process's pid, and whether *this* interpreter's GIL is on (gilkit.host.metadata has the
    # same test, but imports psutil, which does not load here).
    return os.getpid(), bool(getattr(sys, "_is_gil_enabled", lambda: True)())


def run_then_wait(fn: Callable[[], object], timeout_s: float) -> str | None:
    """fn() in this interpreter, then wait until every worker has run it (the runner's
    run_in_each_worker); why it failed, or None."""
    assert _barrier is not None, "init_worker did not run"
    try:
        fn()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        _barrier.arrive(timeout_s)
    return None


def empty_task(_: object) -> None:
    """What every runner's dispatch_overhead sends: importable in any worker."""
    return None


@dataclass(frozen=True)
class Done:
    """A task's result, wrapped so that it always travels pickled. The backport's pool sends
    ints, floats and str natively, and an int past 64 bits (squares' partials often are) then
    fails to be sent and leaves the pool waiting for it forever (interpreters-pep-734 0.5.0)."""

    value: Any


@dataclass(frozen=True)
class Unsupported:
    """Returned instead of a result: the task's impl cannot be loaded in a subinterpreter."""

    reason: str


def run_guarded(fn: Callable[[Any], Any], task: Any) -> Done | Unsupported:
    """fn(task), or Unsupported where a module it needs refuses to load in this interpreter.

    The impl already ran in the main interpreter (the plan's serial cells and checks), so an
    ImportError here, or an error raised from one (a user's kernel that imports NumPy), is the
    subinterpreter's doing, not a missing install.
    """
    try:
        return Done(fn(task))
    except Exception as error:
        reason = unsupported_reason(error)
        if reason is None:
            raise
        return Unsupported(reason)


def unsupported_reason(error: BaseException) -> str | None:
    """Why `error` means "cannot be loaded here", in one line; None for any other error."""
    if isinstance(error, NativeUnavailable):
        return None if error.import_error is None else first_line(error.import_error)
    if not any(isinstance(link, ImportError) for link in error_chain(error)):
        return None
    return telling_line(error) or type(error).__name__
