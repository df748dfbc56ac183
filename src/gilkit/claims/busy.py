"""How much cpu other programs took while an experiment ran.

A speedup claim needs the cpus to be free: on a machine where a compiler or another test run
holds a cpu, a process pool cannot reach 2x on 2 cpus, and that says nothing about the GIL.
The watch compares the cpu time the whole system used (steal included: a VM's cpu given to
others) with the cpu time of this process and all its descendants, over the same wall time.
"""

from __future__ import annotations

import time
from types import TracebackType

import psutil

# Other programs using more than this many cpus on average make a speedup unreadable.
BUSY_CPUS = 0.25
_SYSTEM_BUSY = ("user", "nice", "system", "irq", "softirq", "steal")  # guest is within user


def _system_busy_s() -> float:
    times = psutil.cpu_times()
    return sum(getattr(times, field, 0.0) for field in _SYSTEM_BUSY)


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
    """`with CpuWatch() as watch: ...`, then `watch.others_cpus`: cpus others used, on average."""

    others_cpus: float = 0.0
    wall_s: float = 0.0

    def __enter__(self) -> CpuWatch:
        self._began = time.perf_counter()
        self._system, self._ours = _system_busy_s(), _ours_s()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.wall_s = time.perf_counter() - self._began
        others_s = (_system_busy_s() - self._system) - (_ours_s() - self._ours)
        self.others_cpus = max(0.0, others_s) / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def busy(self) -> bool:
        return self.others_cpus > BUSY_CPUS

    def note(self, n_cpus: int) -> str:
        return f"other programs used {self.others_cpus:.1f} of {n_cpus} cpus meanwhile"
