"""Peak resident memory of this process and of pool workers, per measured call.

On Linux a process's high-water mark (VmHWM) can be reset (`5` written to clear_refs), so the
peak of each call is read exactly. Elsewhere psutil's current RSS after the call stands in for
the peak, and the record says which was used.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def _proc(pid: int, name: str) -> Path:
    return Path("/proc") / str(pid) / name


def reset_peaks(pids: Iterable[int]) -> bool:
    """Reset the high-water mark of each process; False where that is not possible."""
    try:
        for pid in pids:
            _proc(pid, "clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_bytes(pid: int, field: str) -> int | None:
    """A size from /proc/PID/status (Linux), e.g. VmHWM (peak RSS) or VmRSS."""
    try:
        for line in _proc(pid, "status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss(pid: int) -> int | None:
    """Peak RSS in bytes since the last reset (Linux), else the current RSS (psutil)."""
    peak = _status_bytes(pid, "VmHWM")
    if peak is not None:
        return peak
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss)
    except Exception:  # psutil missing, or the process is gone
        return None


def unique_memory(pid: int) -> int | None:
    """Memory only this process holds (USS: no pages shared with its parent), else its RSS.

    A forked worker's RSS counts the parent's pages it merely shares; USS is what it adds.
    """
    try:
        import psutil

        return int(psutil.Process(pid).memory_full_info().uss)
    except Exception:  # psutil missing, no permission, or the process is gone
        return current_rss(pid)


def current_rss(pid: int) -> int | None:
    return _status_bytes(pid, "VmRSS")


def peak_rss_total(pids: Iterable[int]) -> int | None:
    peaks = [peak_rss(pid) for pid in pids]
    return None if not peaks or None in peaks else sum(p for p in peaks if p is not None)
