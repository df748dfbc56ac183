"""How contended the GIL is while a call runs: a monitor thread that measures its own lateness.

The monitor sleeps for a fixed interval (sleeping releases the GIL) and then needs the GIL
again to read the clock; how much later than the interval it wakes is, apart from a small
scheduling jitter, time spent waiting for the GIL (gilknocker's method). The fraction of the
monitored time spent late reads about 0 while the work runs without the GIL (NumPy, `nogil`)
and close to 1 while compiled code holds it; pure-Python threads that take turns sit between.
The monitor competes for the GIL itself once per interval, so the interval is kept at 5 ms:
a pure-Python holder then yields once per interval, as it would to any other thread.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

INTERVAL_S = 0.005


class GilMonitor:
    """`with GilMonitor() as monitor: work()`, then `monitor.fraction`."""

    def __init__(self, interval_s: float = INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.late_s = 0.0
        self.elapsed_s = 0.0
        self.n_wakes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gilkit-gil-monitor", daemon=True)

    def _watch(self) -> None:
        began = time.perf_counter()
        while not self._stop.is_set():
            before = time.perf_counter()
            time.sleep(self.interval_s)
            self.late_s += max(0.0, time.perf_counter() - before - self.interval_s)
            self.n_wakes += 1
        self.elapsed_s = time.perf_counter() - began

    @property
    def fraction(self) -> float:
        """Share of the monitored time the monitor spent waiting for the GIL, 0 to 1."""
        return min(1.0, self.late_s / self.elapsed_s) if self.elapsed_s > 0 else 0.0

    def __enter__(self) -> GilMonitor:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
