"""What the rest of the machine did while a call ran: the cpu time other processes took, and
the time the hypervisor took (steal).

A cell at 2 workers on 2 cpus reads ~1x when another program keeps one cpu busy, and neither
the load average (a 1-minute mean, late) nor the machine-speed reference (timed between calls)
says so. The kernel's own count of busy cpu time, read before and after every timed call,
does: the busy time of all cpus minus what gilkit's process and its workers used is what
others used. /proc/stat counts in ticks (10 ms), so one call's figure is rough; a cell's seven
calls, or a run's hundreds, average it out. Where the system gives no such count (not Linux),
nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class CpuCount:
    busy_s: float  # all cpus' busy seconds so far: user, nice, system, interrupts
    steal_s: float  # seconds the hypervisor ran something else on these cpus


def cpu_count_now() -> CpuCount | None:
    times = psutil.cpu_times()
    if not hasattr(times, "irq"):  # not Linux: no count that separates busy from idle well
        return None
    busy = times.user + times.nice + times.system + times.irq + times.softirq
    return CpuCount(busy, getattr(times, "steal", 0.0))


def since(before: CpuCount | None) -> CpuCount | None:
    """The busy and stolen seconds since `before`."""
    after = cpu_count_now()
    if before is None or after is None:
        return None
    return CpuCount(after.busy_s - before.busy_s, after.steal_s - before.steal_s)
