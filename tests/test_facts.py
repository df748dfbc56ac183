"""Runner facts are declared once (where the workers live) and read back from the file; no
layer parses a runner's name."""

from __future__ import annotations

import pytest

from gilkit.engine.descriptions import describe_runners, from_document
from gilkit.model.facts import RunnerFacts, Workers
from gilkit.model.results import CellRecord, RunResult
from gilkit.runners import RUNNERS
from gilkit.runners.base import Runner


@pytest.mark.parametrize("name", list(RUNNERS))
def test_every_runner_declares_where_its_workers_live(name: str) -> None:
    facts = RUNNERS[name].facts
    assert isinstance(facts.workers, Workers)
    record = describe_runners([name])[name]
    assert RunnerFacts.from_record(record) == facts


@pytest.mark.parametrize(
    ("workers", "interpreter", "process", "gil"),
    [
        (Workers.CALLER, True, True, True),
        (Workers.THREADS, True, True, True),
        (Workers.SUBINTERPRETERS, False, True, False),
        (Workers.PROCESSES, False, False, False),
        (Workers.CLUSTER_THREADS, False, False, True),
        (Workers.CLUSTER_PROCESSES, False, False, False),
    ],
)
def test_what_workers_share_follows_from_where_they_live(
    workers: Workers, interpreter: bool, process: bool, gil: bool
) -> None:
    facts = RunnerFacts(workers)
    assert (facts.shares_interpreter, facts.in_process, facts.shares_gil) == (
        interpreter,
        process,
        gil,
    )


def test_a_runner_that_forks_must_run_processes() -> None:
    with pytest.raises(TypeError, match=r"forks_here needs workers = Workers\.PROCESSES"):
        type("Forking", (Runner,), {"facts": RunnerFacts(Workers.THREADS), "forks_here": True})


def test_files_with_the_older_booleans_read_as_the_same_places() -> None:
    for name, runner in RUNNERS.items():
        record = describe_runners([name])[name]
        del record["workers"]
        assert RunnerFacts.from_record(record).shares_gil == runner.facts.shares_gil, name
        assert RunnerFacts.from_record(record).in_process == runner.facts.in_process, name


def test_a_file_that_never_described_its_runners_is_described_when_read() -> None:
    cell = CellRecord("squares", "cython-prange", "serial", 2, 10, "contiguous", times_s=[1.0])
    result = RunResult({"cpu": {"usable_cpus": 2}}, {}, [cell])
    result.impls = {"cython-prange": {"in_call_parallel": True}}  # before `threads` was kept
    assert result.runner_facts("serial") is None
    read = from_document(result.to_json())
    assert read.runner_facts("serial") == RUNNERS["serial"].facts
    assert read.threads_of("cython-prange") == "OpenMP"
