"""Claims 3 and 4: for CPU-bound pure Python, threads give nothing and processes scale.

The seed's own example, the sum of squares in pure Python (the project's `squares` kernel),
serially and split over a pool of 2 workers. A missing speedup proves something only where
the cpus were free to give one: claim 3 times a process pool in the same rounds as a control,
and claim 4 watches how much cpu other programs took meanwhile.
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
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import gil_enabled
from gilkit.model.units import format_ratio, format_seconds

THREADS_CLAIM = Claim(3, "Multithreading has no effect for CPU-bound tasks due to the GIL")
PROCESSES_CLAIM = Claim(4, "Processes are great for CPU-bound work: one GIL per process")
PYTHON_N = 1_000_000
N_WORKERS = 2
ONE_CPU = "only 1 usable cpu: no pool can beat serial here"


def gil_state() -> str:
    return "GIL enabled" if gil_enabled() else "GIL disabled"


def busy_reason(watch: CpuWatch) -> str:
    return f"machine busy ({watch.note(usable_cpus())})"


def threads_no_effect(
    n: int = PYTHON_N, n_workers: int = N_WORKERS, repeats: int = 5
) -> ClaimResult:
    if usable_cpus() < 2:
        return THREADS_CLAIM.not_measured(ONE_CPU)
    with CpuWatch() as watch:
        results = compare(["python"], ["threads", "processes"], n, n_workers, repeats)
    threads, control = results["python", "threads"], results["python", "processes"]
    measured = (
        f"pure-Python squares, n = {n:,}: serial {format_seconds(threads.serial.median_s)}, "
        f"{n_workers} threads {format_seconds(threads.pool.median_s)}: "
        f"{format_ratio(threads.speedup)}; "
        f"{n_workers} processes in the same rounds {format_ratio(control.speedup)} "
        f"(ideal {threads.ideal}×; {gil_state()})"
    )
    if watch.busy:
        measured += f"; {watch.note(usable_cpus())}"
    if scales(threads.speedup, threads.ideal):  # Python ran in parallel in threads
        verdict = DOES_NOT_HOLD if gil_enabled() else GIL_ONLY
    elif scales(control.speedup, control.ideal):  # the cpus were free, threads did not use them
        verdict = HOLDS
    else:
        reason = "processes got no speedup either"
        verdict = not_measured(f"{reason}; {busy_reason(watch)}" if watch.busy else reason)
    figures = {
        "impl": "python",
        "threads": threads.figures(),
        "processes": control.figures(),
        "others_cpus": watch.others_cpus,
        "gil_enabled": gil_enabled(),
    }
    return THREADS_CLAIM.result(measured, verdict, figures)


def processes_scale(n: int = PYTHON_N, n_workers: int = N_WORKERS, repeats: int = 5) -> ClaimResult:
    if usable_cpus() < 2:
        return PROCESSES_CLAIM.not_measured(ONE_CPU)
    with CpuWatch() as watch:
        result = compare(["python"], ["processes"], n, n_workers, repeats)["python", "processes"]
    measured = (
        f"pure-Python squares, n = {n:,}: serial {format_seconds(result.serial.median_s)}, "
        f"{n_workers} processes ({result.pool.start_method}) "
        f"{format_seconds(result.pool.median_s)}: "
        f"{format_ratio(result.speedup)} (ideal {result.ideal}×; pool start "
        f"{format_seconds(result.pool.pool_start_s or 0.0)}, not counted)"
    )
    if watch.busy:
        measured += f"; {watch.note(usable_cpus())}"
    if scales(result.speedup, result.ideal):
        verdict = HOLDS
    elif watch.busy:
        verdict = not_measured(busy_reason(watch))
    else:
        verdict = DOES_NOT_HOLD
    figures = {"impl": "python", **result.figures(), "others_cpus": watch.others_cpus}
    return PROCESSES_CLAIM.result(measured, verdict, figures)
