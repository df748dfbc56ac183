"""Claim 7: child processes can be killed; threads cannot.

The same runaway task (it checks no flag, so only force could stop it early) runs past a
timeout in a child process and in a thread pool. The process is terminated and gone, and a new
one works. The thread pool's `cancel()` cannot touch a running task, and Python has no way to
stop a thread from outside, so it is seen still running after the timeout. The task ends by
itself after a bounded time, which the experiment waits for, so the command can always exit
and no stray thread is left for a later fork.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing.context import DefaultContext
from typing import Any, cast

import psutil

from gilkit.claims import children
from gilkit.claims.base import DOES_NOT_HOLD, HOLDS, Claim, ClaimResult
from gilkit.model.units import format_seconds

CLAIM = Claim(7, "Child processes are interruptible/killable; threads are not")
RUNAWAY_S = 1.0  # how long the runaway task runs if nothing stops it
TIMEOUT_S = 0.25  # when the experiment gives up waiting and tries to stop it
JOIN_S = 10.0


def kill_process(
    method: str | None = None, runaway_s: float = RUNAWAY_S, timeout_s: float = TIMEOUT_S
) -> dict[str, Any]:
    """Run the runaway task in a child, terminate it at the timeout, then start a new child."""
    # typeshed's get_context(str) gives a BaseContext, which has no Process: any start
    # method's context does.
    context = cast("DefaultContext", multiprocessing.get_context(method))
    process = context.Process(target=children.runaway, args=(runaway_s,), daemon=True)
    began = time.perf_counter()
    process.start()
    process.join(timeout_s)
    alive_at_timeout = process.is_alive()
    stopping = time.perf_counter()
    process.terminate()
    process.join(JOIN_S)
    if process.is_alive():  # SIGTERM ignored: force it, so that nothing is left behind
        process.kill()
        process.join()
    stopped_after_s = time.perf_counter() - began
    kill_s = time.perf_counter() - stopping
    pid, exitcode = process.pid, process.exitcode
    process.close()
    fresh = context.Process(target=children.runaway, args=(0.0,), daemon=True)
    fresh.start()
    fresh.join(JOIN_S)
    fresh_exitcode = fresh.exitcode
    if fresh.is_alive():
        fresh.kill()
        fresh.join()
    fresh.close()
    return {
        "start_method": context.get_start_method(),
        "pid": pid,
        "alive_at_timeout": alive_at_timeout,
        "exitcode": exitcode,  # -SIGTERM on POSIX
        "kill_s": kill_s,
        "stopped_after_s": stopped_after_s,
        "gone": pid is not None and not psutil.pid_exists(pid),
        "new_process_exitcode": fresh_exitcode,
    }


def try_to_stop_thread(
    runaway_s: float = RUNAWAY_S, timeout_s: float = TIMEOUT_S
) -> dict[str, Any]:
    """Run the runaway task in a thread pool, try to cancel it at the timeout, watch it go on."""
    with ThreadPoolExecutor(1, thread_name_prefix="gilkit-runaway") as pool:
        began = time.perf_counter()
        future = pool.submit(children.runaway, runaway_s)
        try:
            future.result(timeout_s)
            timed_out = False
        except FutureTimeout:
            timed_out = True
        cancelled = future.cancel()  # False: a running task cannot be cancelled
        time.sleep(0.05)  # give a stop, had there been one, time to act
        running_after_cancel = future.running()
        future.result()  # it ends by itself; nothing could end it sooner
        ended_after_s = time.perf_counter() - began
    return {
        "timed_out": timed_out,
        "cancel_returned": cancelled,
        "running_after_cancel": running_after_cancel,
        "ended_after_s": ended_after_s,
        "runaway_s": runaway_s,
    }


def processes_killable(runaway_s: float = RUNAWAY_S, timeout_s: float = TIMEOUT_S) -> ClaimResult:
    # The process first: no thread of ours exists yet when it is forked.
    process = kill_process(None, runaway_s, timeout_s)
    thread = try_to_stop_thread(runaway_s, timeout_s)
    process_killed = (
        process["alive_at_timeout"]
        and process["gone"]
        and process["exitcode"] not in (None, 0)
        and process["new_process_exitcode"] == 0
    )
    thread_unstoppable = (
        thread["timed_out"] and not thread["cancel_returned"] and thread["running_after_cancel"]
    )
    measured = (
        f"a {format_seconds(runaway_s)} runaway task, stopped at {format_seconds(timeout_s)}: "
        "the process "
        f"({process['start_method']}) was "
        + (
            f"terminated in {format_seconds(process['kill_s'])} (exit code {process['exitcode']}), "
            "is gone, and a new one ran"
            if process_killed
            else f"not cleanly killed ({process})"
        )
        + "; the thread "
        + (
            f"was still running after cancel() and ended by itself at "
            f"{format_seconds(thread['ended_after_s'])}"
            if thread_unstoppable
            else f"stopped ({thread})"
        )
    )
    verdict = HOLDS if process_killed and thread_unstoppable else DOES_NOT_HOLD
    figures = {"runaway_s": runaway_s, "timeout_s": timeout_s, "process": process, "thread": thread}
    return CLAIM.result(measured, verdict, figures)
