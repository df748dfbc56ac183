"""What makes a run comparable with another: small collect_* functions, one dict each."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import sysconfig
import time
from importlib import metadata as dist_metadata
from pathlib import Path
from typing import Any

import psutil

from gilkit.host import cpus as machine
from gilkit.host import extensions as compiled
from gilkit.host.malloc import malloc_settings


def gil_enabled() -> bool:
    """Whether the GIL is on right now (3.13+ can run without it); always True before 3.13."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def free_threaded_build() -> bool:
    """Whether this interpreter was built with --disable-gil (3.13t, 3.14t)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_forced() -> str | None:
    """How the user forced the GIL's state, if they did (PYTHON_GIL or -X gil)."""
    option = getattr(sys, "_xoptions", {}).get("gil")
    if option is not None:
        return f"-X gil={option}"
    env = os.environ.get("PYTHON_GIL")
    return f"PYTHON_GIL={env}" if env else None


def loaded_extension_packages() -> list[str]:
    """Top-level packages that have a compiled module loaded in this process."""
    suffixes = (".so", ".pyd")
    packages = {
        name.partition(".")[0]
        for name, module in list(sys.modules.items())
        if str(getattr(module, "__file__", "") or "").endswith(suffixes)
    }
    return sorted(packages)


def find_gil_reenablers() -> list[str]:
    """On a free-threaded build whose GIL is on without being asked for: which packages did it.

    An extension not declared free-threading compatible turns the GIL back on when it is
    imported (with a RuntimeWarning that is easily missed). Each package with compiled modules
    is imported alone in a fresh interpreter to see which one does; so is each of gilkit's
    loaded extensions, which `import gilkit` alone does not import.
    """
    if not free_threaded_build() or not gil_enabled() or gil_forced():
        return []
    own = [f"gilkit.{name}" for name in compiled.EXTENSIONS if compiled.loaded(name) is not None]
    culprits = []
    for package in [*loaded_extension_packages(), *own]:
        probe = f"import sys, {package}; sys.exit(int(sys._is_gil_enabled()))"
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", probe],
            capture_output=True,
            check=False,
            timeout=60,
        )
        if done.returncode == 1:
            culprits.append(package)
    return culprits


def python_now() -> dict[str, Any]:
    """The interpreter and its GIL right now: cheap, for a header line."""
    return {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "gil_forced": gil_forced(),
    }


def collect_python_metadata() -> dict[str, Any]:
    return {
        **python_now(),
        "executable": sys.executable,
        "gil_reenabled_by": find_gil_reenablers(),
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
        "cpu_seconds_before": cpu_seconds(),
        "frequency": collect_frequency_metadata(),
    }


def cpu_seconds() -> dict[str, float] | None:
    """All cpus' seconds so far: in total, and stolen by the hypervisor (where it says so).

    A virtual machine's cpu may be taken away by its host; Linux counts that as steal time.
    Read before and after a run, the two give the share of the run's cpu time that was stolen.
    """
    times = psutil.cpu_times()
    steal = getattr(times, "steal", None)
    if steal is None:
        return None
    guest = getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)  # in user already
    return {"total": round(sum(times) - guest, 2), "steal": round(steal, 2)}


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
        # The optional packages of the joblib and dask runners (None: not installed).
        "joblib": _version("joblib"),
        "dask": _version("dask"),
        "distributed": _version("distributed"),
        "extensions": compiled.unavailable_reason("_native") or "built",
        "extensions_built_with": compiled.built_with("_native"),
        "openmp": compiled.unavailable_reason("_prange") or "built",
        "openmp_built_with": compiled.built_with("_prange"),
        "openmp_max_threads": compiled.openmp_max_threads(),
        # Every module the compiled impls need: "built", or why it is not here.
        "modules": collect_module_states(),
        "numba": _version("numba"),
        "cc": sysconfig.get_config_var("CC"),
        "cxx": sysconfig.get_config_var("CXX"),
    }


def collect_module_states() -> dict[str, str]:
    """Every module behind the compiled impls: "built" (or "available", for a module that
    needs an optional package), or why it is not here."""
    states = {name: compiled.unavailable_reason(name) or "built" for name in compiled.EXTENSIONS}
    for name in compiled.NEEDS_PACKAGE:
        states[name] = compiled.unavailable_reason(name) or "available"
    return states


def collect_timer_metadata() -> dict[str, Any]:
    info = time.get_clock_info("perf_counter")
    return {
        "timer": "perf_counter",
        "implementation": info.implementation,
        "resolution_s": info.resolution,
    }


def collect_metadata() -> dict[str, Any]:
    # The build first: it imports the extensions, so the GIL's state is read after them.
    build = collect_build_metadata()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": collect_python_metadata(),
        "cpu": collect_cpu_metadata(),
        "build": build,
        "timer": collect_timer_metadata(),
        "malloc": malloc_settings(),  # glibc's thresholds, fixed (host.malloc); None: dynamic
    }
