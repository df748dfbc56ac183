"""The Session's own rules as library calls: each call's time limit, a broken pool's restart and
the check of every result against the kernel's reference (the CLI reaches them only through
subprocesses)."""

from __future__ import annotations

import pytest

from gilkit import Plan
from gilkit.engine import session as session_module
from gilkit.engine.limits import Stop
from gilkit.engine.session import Session, check_results, new_record
from gilkit.kernels import KERNELS
from gilkit.model.plan import Cell
from gilkit.model.results import CellRecord

SERIAL = Cell("squares", "python", "serial", 1, 2_000)
THREADS = Cell("squares", "python", "threads", 2, 2_000)


def test_the_first_call_gets_the_first_call_limit_and_later_ones_a_multiple_of_the_slowest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(session_module.time, "monotonic", lambda: clock[0])
    with Session(Plan.of([SERIAL], n_repeats=1, n_warmups=0)) as running:
        assert running.limit_s(SERIAL) == session_module.FIRST_CALL_LIMIT_S
        running._slowest[SERIAL.kernel, SERIAL.impl, SERIAL.size] = 0.5  # a 0.5 s call was seen
        assert running.limit_s(SERIAL) == session_module.MIN_CALL_LIMIT_S  # 10 x 0.5 s < 10 s
        running._slowest[SERIAL.kernel, SERIAL.impl, SERIAL.size] = 3.0
        assert running.limit_s(SERIAL) == 10 * 3.0
        other_size = Cell("squares", "python", "serial", 1, 4_000)
        assert running.limit_s(other_size) == session_module.FIRST_CALL_LIMIT_S


def test_the_plans_call_limit_wins_and_the_runs_deadline_bounds_every_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(session_module.time, "monotonic", lambda: clock[0])
    plan = Plan.of([SERIAL], n_repeats=1, n_warmups=0, call_limit_s=7.0, run_limit_s=60.0)
    with Session(plan) as running:
        assert running.limit_s(SERIAL) == 7.0
        clock[0] += 55.0  # 5 s of the run's minute left: the call gets those
        assert running.limit_s(SERIAL) == pytest.approx(5.0)
        clock[0] += 5.0
        with pytest.raises(Stop) as stopped:
            running.limit_s(SERIAL)
    assert stopped.value.exit_status == session_module.EXIT_TIME_LIMIT


def test_a_call_that_outlives_its_limit_is_the_cells_error_and_the_pool_is_restarted() -> None:
    plan = Plan.of([THREADS], n_repeats=1, n_warmups=0, call_limit_s=0.05)
    with Session(plan) as running:
        old = running.runner(THREADS)
        assert old is not None
        record = new_record(THREADS, running.plan)
        # ~0.7 s of pure Python here, 14x the limit: a machine 4x faster still outlives it.
        slow = Cell("squares", "python", "threads", 2, 10_000_000)
        params = KERNELS["squares"].params_for(slow.size, "contiguous")
        with params as data:
            running.params[slow.kernel, slow.size] = data
            tasks = running.tasks(slow)
        stuck = running.record(record, old, slow, tasks, "timed")
        assert stuck
        assert record.error is not None
        assert record.error.startswith("timed out after 0.05 s")
        running.restart(THREADS, abandon=True)
        fresh = running.runner(THREADS)
        assert fresh is not None
        assert fresh is not old
        assert running.call(THREADS).result == KERNELS["squares"].reference(THREADS.size)


def test_check_results_marks_a_wrong_result_and_the_cells_its_check_failed() -> None:
    reference = KERNELS["squares"].reference
    right = record_with(Cell("squares", "cython-nogil", "threads", 2, 100), reference(100))
    wrong = record_with(Cell("squares", "numpy", "threads", 2, 100), reference(100) + 1)
    # numpy was right at its own n but wrong in the check at pure Python's n: all its cells
    # are marked.
    numpy_big = record_with(Cell("squares", "numpy", "serial", 1, 1_000), reference(1_000))
    failed_check = record_with(Cell("squares", "numpy", "serial", 1, 10), reference(10) - 1)
    python = record_with(Cell("squares", "python", "serial", 1, 10), reference(10))
    references = check_results([right, wrong, numpy_big, python], [failed_check])
    assert references["squares"] == {"100": reference(100), "1000": reference(1_000), "10": 285}
    assert right.agrees is True
    assert wrong.agrees is False
    assert failed_check.agrees is False
    assert numpy_big.agrees is False  # its impl failed its check
    assert python.agrees is True


def test_pure_pythons_result_is_the_reference_where_it_ran() -> None:
    """A kernel without a closed form: pure Python's answer is what the others must give."""
    python = record_with(Cell("squares", "python", "serial", 1, 10), 7)
    native = record_with(Cell("squares", "cython-nogil", "serial", 1, 10), 285)
    references = check_results([native, python], [])
    assert references["squares"]["10"] == 7
    assert python.agrees is True
    assert native.agrees is False


def record_with(cell: Cell, result: int) -> CellRecord:
    record = CellRecord(
        cell.kernel, cell.impl, cell.runner, cell.n_workers, cell.size, "contiguous"
    )
    record.result = result
    return record
