"""Facts about the machine that decide what speedup is possible.

The ideal speedup of n workers is min(n, usable cpus), so usable cpus must count what this
process may use, not what the host has: the cpus its affinity (and cgroup cpuset) allows, and,
under a cgroup CPU quota (a container's `--cpus`, a systemd unit's CPUQuota), no more than the
quota. A container with 2 cpus' worth of quota on a 64-core host is throttled to 2 cpus of run
time per period however many threads it runs, so its ideal speedup stops at 2, not 64.
"""

from __future__ import annotations

import math
import os
import platform
from functools import cache
from pathlib import Path

# Assumed when the cache size cannot be read (no /sys): a large desktop or server L3.
FALLBACK_LAST_LEVEL_CACHE = 32 * 1024 * 1024

# Which cgroups this process is in, one "hierarchy:controllers:path" line each; "0::path" is
# the cgroup v2 (unified) one.
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
# Where the cgroup hierarchies are mounted: v2's at the root itself, v1's cpu controller in one
# of CGROUP_V1_CPU_DIRS under it (often the second is a link to the first).
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_V1_CPU_DIRS = ("cpu,cpuacct", "cpu")


def _read(path: Path) -> str | None:
    """A small file's text, None if it cannot be read; os.read is half the cost of read_text."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 65536).decode(errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def cpu_max_quota(text: str | None) -> float | None:
    """Cpus allowed by a cgroup v2 `cpu.max` ("QUOTA PERIOD", in µs); None for "max" or junk."""
    fields = (text or "").split()
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def cfs_quota(directory: Path) -> float | None:
    """Cpus allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`; None for -1 or none."""
    try:
        quota = int((_read(directory / "cpu.cfs_quota_us") or "").strip())
        if quota <= 0:  # -1: no quota; the period is not worth reading
            return None
        period = int((_read(directory / "cpu.cfs_period_us") or "").strip())
    except ValueError:
        return None
    return quota / period if period > 0 else None


def _cgroup_and_parents(mount: Path, cgroup_path: str) -> list[Path]:
    """mount/a/b, mount/a, mount: a cgroup's directory and those of the cgroups it is in.

    A parent's quota binds its children too. Inside a container /proc/self/cgroup may name a
    path the container's mount does not have (or one with ".." in it, outside its namespace);
    those directories simply do not exist, and the mount itself, the container's own cgroup,
    is still read.
    """
    parts = [part for part in cgroup_path.strip().split("/") if part]
    if ".." in parts:
        parts = []
    return [mount.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def cgroup_cpu_quota(
    proc_self_cgroup: Path = PROC_SELF_CGROUP, cgroup_root: Path = CGROUP_ROOT
) -> float | None:
    """The tightest cgroup CPU bandwidth quota on this process, in cpus (2.0, 1.5); None if none.

    Reads cgroup v2 `cpu.max` for the "0::path" line of /proc/self/cgroup, and cgroup v1
    `cpu.cfs_quota_us` / `cpu.cfs_period_us` for the line whose controllers include cpu, in
    the process's cgroup and each one above it, under `cgroup_root`. Missing files (no cgroups,
    not Linux) and "no quota" values ("max", -1) count as no quota.
    """
    text = _read(proc_self_cgroup)
    if text is None:
        return None
    quotas: list[float | None] = []
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:
            quotas.extend(
                cpu_max_quota(_read(directory / "cpu.max"))
                for directory in _cgroup_and_parents(cgroup_root, path)
            )
        elif "cpu" in controllers.split(","):
            for mount in CGROUP_V1_CPU_DIRS:
                quotas.extend(
                    cfs_quota(directory)
                    for directory in _cgroup_and_parents(cgroup_root / mount, path)
                )
    return min((quota for quota in quotas if quota is not None), default=None)


def usable_cpus() -> int:
    """CPUs' worth of run time this process may use: min(affinity cpus, ceil(cgroup quota)).

    Affinity and cgroup cpusets say which cpus it may run on; a cgroup CPU quota (see
    cgroup_cpu_quota) caps how much of them it gets, as loky's cpu_count() does. A fractional
    quota rounds up (1.5 cpus gives 2, 0.5 gives 1): that many workers can all make progress.
    Nothing is cached, as affinity and quotas may change while a process runs (`docker update
    --cpus`); the cost is a few small reads from /proc and /sys, about 40 µs.
    """
    if hasattr(os, "process_cpu_count"):  # 3.13+
        cpus = os.process_cpu_count() or 1
    elif hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota(PROC_SELF_CGROUP, CGROUP_ROOT)
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return cpus


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
