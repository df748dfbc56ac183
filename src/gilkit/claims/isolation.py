"""Claim 9: memory is not shared between processes (it is between threads).

A child changes a plain bytearray and a multiprocessing.Value it was given: the parent sees
the Value's change (shared memory) but not the bytearray's (the child changed its own copy).
The same function in a thread changes the parent's very bytearray.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.context import DefaultContext
from typing import cast

from gilkit.claims import children
from gilkit.claims.base import DOES_NOT_HOLD, HOLDS, Claim, ClaimResult

CLAIM = Claim(9, "Memory is not shared between processes; it is between threads")
JOIN_S = 60.0


def seen_by_parent(method: str | None = None) -> dict[str, object]:
    """Run children.mutate in a child process, then in a thread; what did the parent see?"""
    # typeshed's get_context(str) gives a BaseContext, which has no Process: any start
    # method's context does.
    context = cast("DefaultContext", multiprocessing.get_context(method))
    plain, shared = bytearray(1), context.Value("b", 0)
    process = context.Process(target=children.mutate, args=(plain, shared), daemon=True)
    process.start()
    process.join(JOIN_S)
    if process.is_alive():
        process.kill()
        process.join()
    exitcode = process.exitcode
    process.close()
    figures: dict[str, object] = {
        "start_method": context.get_start_method(),
        "child_exitcode": exitcode,
        "plain_seen_from_process": plain[0] == 1,
        "shared_value_seen_from_process": shared.value == 1,
    }
    thread_plain, thread_shared = bytearray(1), context.Value("b", 0)
    thread = threading.Thread(target=children.mutate, args=(thread_plain, thread_shared))
    thread.start()
    thread.join()
    figures["plain_seen_from_thread"] = thread_plain[0] == 1
    return figures


def memory_not_shared(method: str | None = None) -> ClaimResult:
    seen = seen_by_parent(method)
    measured = (
        f"a child process ({seen['start_method']}) set byte 0 of a bytearray and a "
        f"multiprocessing.Value to 1: the parent saw the bytearray change "
        f"{'yes' if seen['plain_seen_from_process'] else 'no'}, the Value "
        f"{'yes' if seen['shared_value_seen_from_process'] else 'no'}; "
        f"the same from a thread: bytearray {'yes' if seen['plain_seen_from_thread'] else 'no'}"
    )
    holds = (
        seen["child_exitcode"] == 0
        and not seen["plain_seen_from_process"]
        and seen["shared_value_seen_from_process"]
        and seen["plain_seen_from_thread"]
    )
    return CLAIM.result(measured, HOLDS if holds else DOES_NOT_HOLD, seen)
