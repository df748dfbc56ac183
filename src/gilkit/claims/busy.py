"""How much of the cpus others took while an experiment ran.

A speedup claim needs the cpus to be free: on a machine where a compiler or another test run
holds a cpu, a process pool cannot reach 2x on 2 cpus, and that says nothing about the GIL.
The watch reads the same counters as `gilkit run` (gilkit.engine.interference: all cpus' busy
time, and the time the hypervisor stole) and judges them by the same rule
(gilkit.analysis.stats.Taken): what others took is the busy time less the cpu time of this
process and all its descendants, plus steal, over the same wall time.
"""

from __future__ import annotations

import time
from types import TracebackType

import psutil

from gilkit.analysis.stats import Taken, taken_from
from gilkit.engine.interference import cpu_count_now, since
from gilkit.host.cpus import usable_cpus


def _ours_s() -> float:
    """cpu seconds of this process and its descendants, reaped ones included (children_*)."""
    me = psutil.Process()
    total = 0.0
    for process in (me, *me.children(recursive=True)):
        try:
            t = process.cpu_times()
        except psutil.Error:  # ended meanwhile: its parent's children_* has its time
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class CpuWatch:
    """`with CpuWatch() as watch: ...`, then `watch.taken`: what others took meanwhile."""

    taken: Taken = Taken(0.0, 0.0)
    wall_s: float = 0.0
    n_cpus: int = 1

    def __enter__(self) -> CpuWatch:
        self.n_cpus = usable_cpus()
        self._began = time.perf_counter()
        self._counts, self._ours = cpu_count_now(), _ours_s()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.wall_s = time.perf_counter() - self._began
        counts = since(self._counts)
        if counts is not None and self.wall_s > 0:
            own = _ours_s() - self._ours
            self.taken = taken_from(counts.busy_s, own, counts.steal_s, self.wall_s, self.n_cpus)

    @property
    def others_cpus(self) -> float:
        """Cpus that others used on average: other processes and the hypervisor."""
        return self.taken.total * self.n_cpus

    @property
    def busy(self) -> bool:
        return self.taken.interfered

    def note(self, n_cpus: int) -> str:
        return f"{self.taken.who} took {self.others_cpus:.1f} of {n_cpus} cpus meanwhile"
