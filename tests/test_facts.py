"""Runner facts are declared once (where the workers live) and read back from the file; no
layer parses a runner's name."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

import gilkit
from gilkit.engine.descriptions import describe_runners, from_document
from gilkit.host import plugins
from gilkit.model.facts import RunnerFacts, Workers
from gilkit.model.results import CellRecord, RunResult
from gilkit.planning.values import UsageError
from gilkit.runners import ENTRY_POINT_GROUP, RUNNER_SOURCES, RUNNERS, load_runner_entry_points
from gilkit.runners.base import Runner
from gilkit.runners.threads import ThreadRunner


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


class PlainThreads(ThreadRunner):
    """A runner an installed package might add: threads under another name."""

    name = "plain-threads"
    description = "threads, from a plugin"


@pytest.fixture
def plugin_runners(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    points = [
        EntryPoint("plain-threads", "tests.test_facts:PlainThreads", ENTRY_POINT_GROUP),
        EntryPoint("broken", "nosuchmodule_xyz:Runner", ENTRY_POINT_GROUP),
        EntryPoint("not-a-runner", "tests.test_facts:PlainThreads.name", ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(plugins.metadata, "entry_points", lambda group: points)
    yield
    for name in ("plain-threads", "broken", "not-a-runner"):
        RUNNERS.pop(name, None)
        RUNNER_SOURCES.pop(name, None)


@pytest.mark.slow
@pytest.mark.usefixtures("plugin_runners")
def test_installed_packages_add_runners_by_entry_point() -> None:
    broken = load_runner_entry_points()
    assert RUNNERS["plain-threads"] is PlainThreads
    assert "fails to load: ModuleNotFoundError" in broken["broken"]
    assert broken["not-a-runner"].endswith("is str, not a gilkit Runner class")
    plan = gilkit.plan("squares", "python", "plain-threads", [2], size=2000, repeat=1, warmup=0)
    result = gilkit.run_plan(plan)
    assert all(r.ok for r in result.cells)
    assert result.runner_facts("plain-threads") == ThreadRunner.facts


@pytest.mark.usefixtures("plugin_runners")
def test_a_broken_runner_plugin_is_one_line_naming_why() -> None:
    with pytest.raises(UsageError, match=r"^--runner: 'broken': entry point of \? \(nosuch"):
        gilkit.plan(runners="broken", size_here=False)
