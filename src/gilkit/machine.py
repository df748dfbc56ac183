"""Facts about the machine that decide what speedup is possible."""

from __future__ import annotations

import os
import platform
from functools import cache
from pathlib import Path

# Assumed when the cache size cannot be read (no /sys): a large desktop or server L3.
FALLBACK_LAST_LEVEL_CACHE = 32 * 1024 * 1024


def usable_cpus() -> int:
    """CPUs this process may run on (affinity and cgroup cpusets), not just those installed."""
    if hasattr(os, "process_cpu_count"):  # 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@cache
def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith(("model name", "Model", "cpu model")):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    text = text.strip()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


@cache
def last_level_cache_bytes() -> int:
    """Size of the largest CPU cache (Linux sysfs), or FALLBACK_LAST_LEVEL_CACHE."""
    caches = Path("/sys/devices/system/cpu/cpu0/cache")
    sizes = []
    for size_file in caches.glob("index*/size"):
        try:
            sizes.append(_parse_size(size_file.read_text()))
        except (OSError, ValueError, IndexError):
            continue
    return max(sizes, default=FALLBACK_LAST_LEVEL_CACHE)
