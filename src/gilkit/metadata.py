"""What makes a run comparable with another: small collect_* functions, one dict each."""

from __future__ import annotations

import datetime
import os
import platform
import sys
import sysconfig
import time
from importlib import metadata as dist_metadata
from pathlib import Path
from typing import Any

from gilkit import machine, native


def gil_enabled() -> bool:
    """Whether the GIL is on right now (3.13+ can run without it); always True before 3.13."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def free_threaded_build() -> bool:
    """Whether this interpreter was built with --disable-gil (3.13t, 3.14t)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def collect_python_metadata() -> dict[str, Any]:
    return {
        "executable": sys.executable,
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "compiler": platform.python_compiler(),
    }


def collect_cpu_metadata() -> dict[str, Any]:
    return {
        "model": machine.cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": machine.usable_cpus(),
        "last_level_cache_bytes": machine.last_level_cache_bytes(),
        "platform": platform.platform(),
        "load_average_before": load_average(),
        "frequency": collect_frequency_metadata(),
    }


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def collect_frequency_metadata() -> dict[str, Any]:
    """The cpufreq governor and turbo state, where Linux exposes them (not in most VMs).

    Frequency scaling and turbo are the main sources of noise in CPU benchmarks: a governor
    other than `performance` lets the clock move between and during measurements.
    """
    governors = {
        text
        for text in (
            _read(str(p))
            for p in Path("/sys/devices/system/cpu").glob("cpu*/cpufreq/scaling_governor")
        )
        if text
    }
    no_turbo = _read("/sys/devices/system/cpu/intel_pstate/no_turbo")
    boost = _read("/sys/devices/system/cpu/cpufreq/boost")
    turbo = None if no_turbo is None and boost is None else (no_turbo == "0" or boost == "1")
    return {"governors": sorted(governors) or None, "turbo": turbo}


def load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _version(dist: str) -> str | None:
    try:
        return dist_metadata.version(dist)
    except dist_metadata.PackageNotFoundError:
        return None


def collect_build_metadata() -> dict[str, Any]:
    return {
        "gilkit": _version("gilkit"),
        "numpy": _version("numpy"),
        "extensions": native.unavailable_reason("_native") or "built",
        "extensions_built_with": native.built_with("_native"),
        "openmp": native.unavailable_reason("_prange") or "built",
        "openmp_built_with": native.built_with("_prange"),
        "openmp_max_threads": native.openmp_max_threads(),
        "cc": sysconfig.get_config_var("CC"),
    }


def collect_timer_metadata() -> dict[str, Any]:
    info = time.get_clock_info("perf_counter")
    return {
        "timer": "perf_counter",
        "implementation": info.implementation,
        "resolution_s": info.resolution,
    }


def collect_metadata() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": collect_python_metadata(),
        "cpu": collect_cpu_metadata(),
        "build": collect_build_metadata(),
        "timer": collect_timer_metadata(),
    }
