"""Claim 6: native code that releases the GIL scales in threads; native code that keeps it does not.

The project's `squares` kernel in NumPy, in Cython inside `with nogil:` (`cython-nogil`) and in
the very same compiled loop holding the GIL (`cython`, the control), each serially and on a
pool of 2 threads, in the same rounds. The control is what makes the claim checkable: without
the compiled modules the claim is reported as not measured.
"""

from __future__ import annotations

from gilkit.claims.base import (
    DOES_NOT_HOLD,
    GIL_ONLY,
    HOLDS,
    Claim,
    ClaimResult,
    not_measured,
    scales,
)
from gilkit.claims.busy import CpuWatch
from gilkit.claims.cells import compare
from gilkit.claims.cpu_bound import N_WORKERS, ONE_CPU, busy_reason, gil_state
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import gil_enabled
from gilkit.kernels import impl_unavailable_reason
from gilkit.model.facts import IDEAL_CPUS, ideal_speedup
from gilkit.model.units import format_ratio

CLAIM = Claim(
    6,
    "Native code that releases the GIL (NumPy, C extensions) runs in parallel in threads",
)
NATIVE_N = 30_000_000
RELEASING = ("numpy", "cython-nogil")
HOLDING = ("cython",)


def native_scales(n: int = NATIVE_N, n_workers: int = N_WORKERS, repeats: int = 5) -> ClaimResult:
    if usable_cpus() < 2:
        return CLAIM.not_measured(ONE_CPU)
    reasons = {impl: impl_unavailable_reason(impl) for impl in (*RELEASING, *HOLDING)}
    missing = {impl: why for impl, why in reasons.items() if why is not None}
    impls = [impl for impl in (*RELEASING, *HOLDING) if impl not in missing]
    with CpuWatch() as watch:
        results = compare(impls, ["threads"], n, n_workers, repeats)
    speedups = {impl: results[impl, "threads"].speedup for impl in impls}
    ideal = ideal_speedup(IDEAL_CPUS, n_workers, usable_cpus())

    def listed(group: tuple[str, ...]) -> str:
        return ", ".join(
            f"{impl} {format_ratio(speedups[impl])}" for impl in group if impl in speedups
        )

    measured = f"squares, n = {n:,}, {n_workers} threads against serial: {listed(RELEASING)}"
    measured += " (release the GIL)"
    if any(impl in speedups for impl in HOLDING):
        measured += f"; {listed(HOLDING)} (holds it)"
    measured += f"; ideal {ideal}×, {gil_state()}"
    if watch.busy:
        measured += f"; {watch.note(usable_cpus())}"
    figures = {
        "speedup": speedups,
        "ideal": ideal,
        "gil_enabled": gil_enabled(),
        "others_cpus": watch.others_cpus,
        "cells": {impl: results[impl, "threads"].figures() for impl in impls},
        "unavailable": missing,
    }
    if missing:
        reason = f"{', '.join(missing)}: {'; '.join(sorted(set(missing.values())))}"
        return CLAIM.result(f"{measured}; {reason}", not_measured(reason), figures)
    released_scale = all(scales(speedups[impl], ideal) for impl in RELEASING)
    held_scale = any(scales(speedups[impl], ideal) for impl in HOLDING)
    if released_scale:
        if not held_scale:
            verdict = HOLDS
        else:  # holding the GIL did not stop threads: no GIL here, or a broken control
            verdict = DOES_NOT_HOLD if gil_enabled() else GIL_ONLY
    elif watch.busy:  # no speedup, but the cpus were not free to give one
        verdict = not_measured(busy_reason(watch))
    else:
        verdict = DOES_NOT_HOLD
    return CLAIM.result(measured, verdict, figures)
