"""`interpreters`: a pool of subinterpreters in this process, one interpreter and GIL each.

Pure-Python work runs in parallel, as with processes, without starting processes: each worker
is a thread running its own interpreter (PEP 684's per-interpreter GIL, CPython 3.12+; the
pool is PEP 734's InterpreterPoolExecutor, in the standard library from 3.14 and in the
`interpreters-pep-734` backport on 3.12 and 3.13: `pip install 'gilkit[interpreters]'`). Use
it for pure-Python CPU work when processes cost too much to start or to hold in memory.

The interpreters share no Python object, so data reaches them as with processes:

- each Task (kernel name, impl, part, params) is pickled on the way in, and each partial
  result on the way back; the kernel's code is imported by name in each interpreter, a user's
  `module:attribute` kernel too;
- large data is shared, not sent: triad's arrays stay in the shared-memory block the parent
  made (gilkit.kernels.shared_arrays), which each interpreter maps by name, without a copy.

An extension loads in a subinterpreter only if it says it can (multi-phase init and
Py_mod_multiple_interpreters). NumPy does not; gilkit's Cython modules do
(docs/subinterpreters.md). A cell whose impl cannot be loaded there is marked unsupported,
with the reason, not failed.
"""

from __future__ import annotations

import concurrent.futures
import functools
import importlib.util
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from typing import Any

from gilkit.kernels.in_interpreter import (
    PipeBarrier,
    Unsupported,
    init_worker,
    report_ready,
    run_guarded,
    run_then_wait,
)
from gilkit.model.facts import RunnerFacts, Workers
from gilkit.runners.base import (
    START_TIMEOUT_S,
    NotSupported,
    PoolRunner,
    RunnerError,
    WorkerFunctions,
)


@functools.cache
def executor_class() -> type[Executor] | str:
    """The InterpreterPoolExecutor to use here, or why there is none, in one line.

    Decided by what can be imported, never by the version alone, so that a newer Python
    with the pool in its standard library works as it is.
    """
    stdlib = getattr(concurrent.futures, "InterpreterPoolExecutor", None)  # 3.14+
    if stdlib is not None:
        return stdlib  # type: ignore[no-any-return]
    try:
        from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
    except ImportError as error:
        backport_error = str(error)
    else:
        return InterpreterPoolExecutor  # type: ignore[no-any-return]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if importlib.util.find_spec("_interpreters") is not None:  # the low-level module, 3.13+
        return "needs the interpreters-pep-734 backport here: pip install 'gilkit[interpreters]'"
    # 3.12 named it _xxsubinterpreters; so did 3.8-3.11, whose interpreters share one GIL.
    if sys.version_info >= (3, 12) and importlib.util.find_spec("_xxsubinterpreters"):
        return (
            f"needs the backport on {version}: pip install interpreters-pep-734 "
            f"interpreters-3-12 (not tested by gilkit; the backport says: {backport_error})"
        )
    # What gilkit supports (docs/subinterpreters.md), and the install command for it.
    return (
        "needs CPython 3.14+, or 3.13 with pip install 'gilkit[interpreters]' (3.12: a "
        f"backport gilkit has not tested): this is {version}"
    )


class InterpreterRunner(PoolRunner):
    name = "interpreters"
    description = "a pool of subinterpreters in this process: one GIL each, tasks pickled, no NumPy"
    facts = RunnerFacts(
        Workers.SUBINTERPRETERS,
        "tasks (kernel name, impl, part, params) and results pickled; kernels imported by name "
        "in each interpreter; triad's arrays shared without a copy (shared memory, mapped by "
        "name)",
    )

    _barrier: PipeBarrier | None = None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        found = executor_class()
        return found if isinstance(found, str) else None

    def _worker_functions(self) -> WorkerFunctions:
        """gilkit.kernels.in_interpreter's: they import neither NumPy nor psutil, and wait on the
        PipeBarrier that each interpreter keeps."""
        return WorkerFunctions(init_worker, report_ready, run_then_wait)

    def _make_barrier(self, parties: int) -> PipeBarrier:
        self._barrier = PipeBarrier.make(parties - 1)  # the parent is not one of its parties
        return self._barrier

    def _make_executor(
        self, n_workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> Executor:
        found = executor_class()
        if isinstance(found, str):
            raise RunnerError(f"the interpreters runner is unavailable here: {found}")
        return found(n_workers, initializer=initializer, initargs=initargs)  # type: ignore[call-arg]

    def start(self, n_workers: int) -> float:
        """Start every interpreter; the start-up covers creating them and importing the kernels
        in each (the memory they add is this process's, gilkit.engine.session measures it). The
        barrier stays open for run_in_each_worker (gilkit.engine.session makes the impls ready in
        each), until the pool is closed.

        A pool whose interpreter could not be made is started once more: CPython fails now and
        then to make one of several made at once ("Failed to import encodings module",
        python/cpython#131485), which a second start does not meet again."""
        try:
            return super().start(n_workers)
        except RunnerError as error:
            if not isinstance(error.__cause__, concurrent.futures.BrokenExecutor):
                raise
            return super().start(n_workers)

    def _await_workers(self, futures: list[Future[Any]]) -> None:
        """As every pool, but a worker whose interpreter could not be made ends its task at
        once (its initializer raised): the start fails then, with that error, not after
        START_TIMEOUT_S."""
        assert self._barrier is not None
        try:
            self._barrier.wait(START_TIMEOUT_S, given_up=lambda: any(f.done() for f in futures))
        except TimeoutError:
            errors = [f.exception() for f in futures if f.done()]
            error = next((e for e in errors if e is not None), None)
            if error is not None:
                raise error from None
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._close_barrier()

    def abandon(self) -> None:
        """Let the pool go: a subinterpreter stuck in a call is a thread of this process, and
        cannot be killed; it goes on (gilkit.engine.session names the call in abandoned_calls)."""
        try:
            super().abandon()
        finally:
            self._close_barrier()

    def _close_barrier(self) -> None:
        # Every worker has left it by now: its tasks returned, or were let go (wait's release).
        if self._barrier is not None:
            self._barrier.close()
            self._barrier = None

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> list[Any]:
        """fn over tasks in the interpreters; NotSupported where an impl cannot load there."""
        results = super().map(functools.partial(run_guarded, fn), tasks)
        for result in results:
            if isinstance(result, Unsupported):
                raise NotSupported(f"not supported in subinterpreters: {result.reason}")
        return [result.value for result in results]
