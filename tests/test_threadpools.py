"""pin_native_threads(): every pool's variable at "1", for this process and its children."""

from __future__ import annotations

import os
import sys
import types

import pytest
from threadpoolctl import threadpool_limits

from gilkit.host.threadpools import THREAD_ENV_VARS, pin_native_threads


def test_pinning_sets_every_thread_variable_to_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"BLIS_NUM_THREADS", "NUMBA_NUM_THREADS"} <= set(THREAD_ENV_VARS)
    monkeypatch.delitem(sys.modules, "numba", raising=False)  # as if not imported yet
    for var in THREAD_ENV_VARS:
        monkeypatch.setenv(var, "7")  # restored, or removed, when the test ends
    monkeypatch.delenv("NUMBA_NUM_THREADS")
    # limits=None changes nothing here, and on exit restores the pools pinning limits to 1.
    with threadpool_limits(limits=None):
        pinned = pin_native_threads()
    assert {var: os.environ[var] for var in THREAD_ENV_VARS} == dict.fromkeys(THREAD_ENV_VARS, "1")
    assert pinned["env_before"]["BLIS_NUM_THREADS"] == "7"
    assert pinned["env_before"]["NUMBA_NUM_THREADS"] is None


def test_numba_s_variable_is_left_alone_once_numba_is_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Numba refuses to compile if NUMBA_NUM_THREADS changes after its pool started."""
    monkeypatch.setitem(sys.modules, "numba", types.ModuleType("numba"))
    monkeypatch.setenv("NUMBA_NUM_THREADS", "16")
    with threadpool_limits(limits=None):
        pin_native_threads()
    assert os.environ["NUMBA_NUM_THREADS"] == "16"
    assert os.environ["OMP_NUM_THREADS"] == "1"
