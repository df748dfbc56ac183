from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gilkit
from gilkit.engine.descriptions import read_result
from gilkit.kernels.base import define_kernel
from gilkit.model.results import (
    SCHEMA_VERSION,
    CellRecord,
    ResultFileError,
    RunResult,
    UnstorableResult,
    json_value,
    load,
    plain,
    write_atomically,
)


def sample() -> RunResult:
    cell = CellRecord(
        "squares",
        "cython-nogil",
        "threads",
        2,
        1000,
        "contiguous",
        times_s=[0.1, 0.12],
        result=2**64 - 1,
        agrees=True,
        pool_startup_s=0.01,
    )
    check = CellRecord(
        "squares", "cython-nogil", "serial", 1, 10, "contiguous", result=285, agrees=True
    )
    return RunResult(
        {"python": {"version": "3.11"}, "cpu": {"usable_cpus": 2}},
        {"argv": []},
        [cell],
        [check],
        {"squares": {"1000": 2**64 - 1}},
        complete=True,
    )


def test_json_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "run.json"
    write_atomically(sample(), path)
    assert load(path) == sample()
    assert json.loads(path.read_text())["version"] == SCHEMA_VERSION
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]  # no temporary left


def test_version_1_files_are_still_read(tmp_path: Path) -> None:
    document = sample().to_json()
    document["version"] = 1
    del document["kernels"], document["impls"]  # version 3 added them
    for cell in document["cells"] + document["checks"]:
        del cell["host_reference_s"]  # version 2 added it
        cell["noisy"] = False  # versions 1 and 2 stored it
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(document))
    result = read_result(path)
    assert result.cells == sample().cells
    assert result.checks == sample().checks
    # Described from the kernels installed here, as version 3 files describe themselves.
    assert result.kernels["squares"]["unit"] == "integers"
    assert result.kernels["squares"]["work"] == {"10": 10.0, "1000": 1000.0}
    assert list(result.impls) == ["cython-nogil"]
    assert result.metadata["runners"]["serial"]["shares_interpreter"] is True


def test_files_without_the_later_fields_are_still_read(tmp_path: Path) -> None:
    document = sample().to_json()
    for cell in document["cells"] + document["checks"]:
        del cell["batch_size"], cell["machine_busy_s"]  # optional: added within version 3
    path = tmp_path / "v3.json"
    path.write_text(json.dumps(document))
    assert load(path).cells == sample().cells
    assert load(path).cells[0].batch_size is None


def test_version_3_files_describe_their_kernels(tmp_path: Path) -> None:
    result = sample()
    result.kernels = {"squares": {"unit": "widgets", "ideal": "workers", "work": {"10": 5}}}
    result.impls = {"cython-nogil": {"what": "the nogil core", "in_call_parallel": False}}
    write_atomically(result, tmp_path / "v3.json")
    again = load(tmp_path / "v3.json")
    assert again.kernels == result.kernels
    assert again.impls == result.impls


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema": "other"}, "not a gilkit run result"),
        ({"schema": "gilkit.run", "version": 99}, "unsupported result version 99"),
        ({"schema": "gilkit.run", "version": SCHEMA_VERSION}, "malformed"),
    ],
)
def test_foreign_files_are_refused(tmp_path: Path, document: dict, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ResultFileError, match=message):
        load(path)


def test_non_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{")
    with pytest.raises(ResultFileError, match="not JSON"):
        load(path)


def numpy_sum(part: range, params: None) -> object:
    i = np.arange(part.start, part.stop, part.step, dtype=np.int64)
    return (i * i).sum()  # a numpy.int64, not an int


def python_sum(part: range, params: None) -> int:
    return sum(i * i for i in part)


NUMPY_SCALARS = define_kernel(
    "numpy-scalars", {"python": python_sum, "numpy": numpy_sum}, size=1000, python_size=1000
)


def test_plain_results_are_what_the_file_keeps() -> None:
    assert plain(np.int64(5)) == 5
    assert type(plain(np.int64(5))) is int
    assert plain(np.float64(0.5)) == 0.5
    assert plain(np.arange(3)) == [0, 1, 2]
    assert plain((1, "a", None, {"k": np.int32(2)})) == [1, "a", None, {"k": 2}]
    with pytest.raises(UnstorableResult, match="result of type object cannot be stored; valid"):
        plain(object())
    huge = 7**20_000
    assert json_value(huge) == {"int_hex": hex(huge)}
    assert json_value([1, huge])[0] == 1


def test_a_numpy_scalar_result_is_stored_and_the_run_goes_on(tmp_path: Path) -> None:
    """It ended the whole run at the first journal write: 'int64 is not JSON serializable'."""
    plan = gilkit.plan(
        "tests.test_results:NUMPY_SCALARS", runners="serial,threads", workers=[2], repeat=1
    )
    result = gilkit.run_plan(plan)
    assert all(r.ok for r in result.cells)
    write_atomically(result, tmp_path / "run.json")
    stored = json.loads((tmp_path / "run.json").read_text())
    assert {c["result"] for c in stored["cells"]} == {sum(i * i for i in range(1000))}
