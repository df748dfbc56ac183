"""The facts a result file is written in, declared once: where a runner's workers live (and
all that follows from it), the rules for the ideal speedup, and which impl kinds hold the GIL.

Runners declare a `Workers` place; the engine records it in the result; the judge
(gilkit.analysis) reads it back from the file. Nothing parses a runner's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Workers(Enum):
    """Where a runner's workers live: the one fact that what they share follows from."""

    CALLER = "the calling thread"
    THREADS = "threads of this interpreter"
    COROUTINES = "coroutines on one event loop in the calling thread"
    SUBINTERPRETERS = "subinterpreters of this process, a GIL each"
    PROCESSES = "processes on this host, a GIL each"
    CLUSTER_THREADS = "threads of one Dask worker process, sharing its GIL"
    CLUSTER_PROCESSES = "Dask worker processes of one thread, a GIL each"


IN_THIS_INTERPRETER = frozenset({Workers.CALLER, Workers.THREADS, Workers.COROUTINES})
IN_THIS_PROCESS = IN_THIS_INTERPRETER | {Workers.SUBINTERPRETERS}
ON_A_CLUSTER = frozenset({Workers.CLUSTER_THREADS, Workers.CLUSTER_PROCESSES})


@dataclass(frozen=True)
class RunnerFacts:
    """What a runner's workers are, and how the kernels' data reaches them."""

    workers: Workers
    data: str = "shared: the workers read the parent's objects in place"

    @property
    def shares_interpreter(self) -> bool:
        """One interpreter, one GIL: the GIL monitor sees what the workers wait for, and
        tasks are not pickled."""
        return self.workers in IN_THIS_INTERPRETER

    @property
    def in_process(self) -> bool:
        """Threads of this process (even in other interpreters): its CPU time counts theirs,
        they start after any forking, and a stuck one cannot be killed."""
        return self.workers in IN_THIS_PROCESS

    @property
    def shares_gil(self) -> bool:
        """The workers take turns on one GIL (where the build has one)."""
        return self.shares_interpreter or self.workers is Workers.CLUSTER_THREADS

    @property
    def one_worker_process(self) -> bool:
        """A task's CPU time is its thread's: the process's would count the other workers'."""
        return self.workers is Workers.CLUSTER_THREADS

    def record(self, description: str) -> dict[str, Any]:
        """As the result file keeps it (metadata.runners); the booleans for older readers."""
        return {
            "what": description,
            "workers": self.workers.name.lower(),
            "data": self.data,
            "shares_interpreter": self.shares_interpreter,
            "shares_gil": self.shares_gil,
            "in_process": self.in_process,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RunnerFacts:
        """From a result file; files from before `workers` was recorded give the booleans."""
        data = str(record.get("data", cls.data))
        name = record.get("workers")
        if isinstance(name, str) and name.upper() in Workers.__members__:
            return cls(Workers[name.upper()], data)
        if record.get("shares_interpreter"):
            return cls(Workers.THREADS, data)
        if record.get("in_process"):
            return cls(Workers.SUBINTERPRETERS, data)
        if record.get("shares_gil"):
            return cls(Workers.CLUSTER_THREADS, data)
        return cls(Workers.PROCESSES, data)


# The two rules for the best speedup possible, as result files name them.
IDEAL_CPUS = "min(workers, usable cpus)"  # busy work: one worker per cpu at most
IDEAL_WORKERS = "workers"  # waiting (I/O): every worker waits at once


def ideal_rule(bound: str) -> str:
    """The rule for a kernel bound by "cpu", "memory" or "io"."""
    return IDEAL_WORKERS if bound == "io" else IDEAL_CPUS


def ideal_speedup(rule: str, n_workers: int, n_cpus: int) -> int:
    """The best speedup `n_workers` can reach under `rule`: the one definition."""
    if rule == IDEAL_WORKERS:
        return max(1, n_workers)
    return max(1, min(n_workers, n_cpus))


# Impl kinds (the `impls` record's "kind") whose calls keep the GIL: threads that share one
# GIL take turns on them.
HOLDS_GIL = frozenset({"python", "holds"})


def takes_turns(kind: str, bound: str) -> bool:
    """Whether workers that share one GIL take turns on an impl's calls: its kind keeps the
    GIL while it computes, and its kernel computes. An I/O-bound kernel's calls wait, with the
    GIL released (pure Python's too), so its workers overlap."""
    return kind in HOLDS_GIL and bound != "io"
