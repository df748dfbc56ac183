"""How contended the GIL is while a call runs: a monitor thread that measures its own lateness.

The monitor sleeps for a fixed interval (sleeping releases the GIL) and then needs the GIL
again to read the clock; how much later than the interval it wakes is, apart from a small
scheduling jitter, time spent waiting for the GIL (gilknocker's method). The fraction of the
monitored time spent late reads about 0 while the work runs without the GIL (NumPy, `nogil`)
and close to 1 while compiled code holds it; pure-Python threads that take turns sit between.
The monitor competes for the GIL itself once per interval, so the interval is kept at 5 ms:
a pure-Python holder then yields once per interval, as it would to any other thread.

Lateness has a second cause: when more threads want to run than there are cpus, the monitor
may wait for a cpu rather than for the GIL. On Linux the kernel counts a thread's time spent
runnable but not running (the second field of /proc/thread-self/schedstat); the monitor
reads it before and after and counts that part of its lateness as cpu wait, not GIL wait,
so that oversubscribed GIL-free work does not read as contended.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

INTERVAL_S = 0.005
SCHEDSTAT = Path("/proc/thread-self/schedstat")


def run_queue_wait_s() -> float | None:
    """Seconds this thread has spent waiting for a cpu, or None where the kernel does not say."""
    try:
        return int(SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


class GilMonitor:
    """`with GilMonitor() as monitor: work()`, then `monitor.fraction`."""

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.late_s = 0.0  # waiting for the GIL
        self.cpu_wait_s = 0.0  # waiting for a cpu (Linux only; 0 elsewhere)
        self.elapsed_s = 0.0
        self.n_wakes = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gilkit-gil-monitor", daemon=True)

    def _watch(self) -> None:
        # Read once before the work starts (__enter__ waits for it) and once after it ends:
        # reading a file releases and retakes the GIL, so a read at every wake would add GIL
        # waits of its own that the clock does not see.
        queued_before = run_queue_wait_s()
        self._ready.set()
        began = time.perf_counter()
        late_s = 0.0
        while not self._stop.is_set():
            before = time.perf_counter()
            time.sleep(self.interval_s)
            late_s += max(0.0, time.perf_counter() - before - self.interval_s)
            self.n_wakes += 1
        queued_after = run_queue_wait_s()
        if queued_before is not None and queued_after is not None:
            self.cpu_wait_s = min(late_s, queued_after - queued_before)
        self.late_s = late_s - self.cpu_wait_s
        self.elapsed_s = time.perf_counter() - began

    @property
    def fraction(self) -> float:
        """Share of the monitored time the monitor spent waiting for the GIL, 0 to 1."""
        return min(1.0, self.late_s / self.elapsed_s) if self.elapsed_s > 0 else 0.0

    def __enter__(self) -> GilMonitor:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
