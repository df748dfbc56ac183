"""Taking the GIL back inside a nogil loop: what it costs, every k iterations, and what it buys.

A loop that releases the GIL often takes it back now and then: to call a Python callback
(progress, cancellation: Cython's `with gil:`) or to run the signal handlers
(PyErr_CheckSignals), so that Ctrl-C can stop it. Alone, each time costs well under a
microsecond. While another thread wants the GIL, each time is a hand-over between threads.
`gilkit granularity` runs the loops of gilkit._granularity, which compute the `squares` kernel
in blocks of k iterations and take the GIL back after each block, and measures, for k over
several decades:

- threads: the loop's work split over 2 threads, against 1 (~2 when taking the GIL back costs
  nothing: the threads only meet on the GIL between blocks);
- other thread: how many times slower a pure-Python thread counts while the loop runs than
  alone (gilkit.gil.probe's counter thread): ~1 when the loop leaves the GIL alone, more when the
  hand-overs get in its way;
- loop: how many times slower the loop itself runs beside that thread;
- Ctrl-C: in a child process running a long loop, how long SIGINT takes to stop it. With the
  signal check (or a Python callback, in which the handler runs) it stops within a block; the
  same loop without any (the `cython-nogil` impl) runs to its end first.

Every loop stops after BUDGET_S at the latest (checked between blocks, without the GIL), so a
loop that waits for the GIL at every block still ends; figures are rates, iterations done per
second, so a loop cut short counts the same as one that finished.
"""

from __future__ import annotations

import math
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from gilkit.gil.probe import switch_interval, time_with_counter
from gilkit.host import extensions as compiled
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import gil_enabled
from gilkit.model.units import format_ratio, format_seconds

K_VALUES = tuple(10**e for e in range(3, 9))  # 1,000 ... 100,000,000
VARIANTS = {
    "callback": "with gil: callback()",
    "signals": "with gil: PyErr_CheckSignals()",
}
DEFAULT_REPEAT = 3
TARGET_CALL_S = 0.2  # one loop alone, serially: long enough for many switch intervals
BUDGET_S = 0.5  # no loop runs longer, however often it waits for the GIL
# The longest switch interval it runs under: a loop waiting for the GIL beside a busy Python
# thread still gets several turns within its budget (1e9 ms ran for hours, not a minute).
MAX_SWITCH_INTERVAL_S = BUDGET_S / 5
LONG_LOOP_S = 2.0  # the loop Ctrl-C interrupts: long enough to tell stopping from finishing
SIGNAL_AFTER_S = 0.2  # the child is sent SIGINT this long after its loop started
STOP_TIMEOUT_S = 30.0
# A loop costs "little" once it runs under this many times slower beside a busy Python thread.
LITTLE_SLOWDOWN = 1.2


def _on_block() -> None:
    """The callback of the `callback` loop: a Python call that does nothing."""


Loop = Callable[[int, int, int, float], tuple[int, int]]


def loop(variant: str) -> Loop:
    """loop(variant)(start, stop, k, budget_s) -> (total, iterations done)."""
    module = compiled.module("_granularity")
    if variant == "callback":
        return lambda start, stop, k, budget: module.squares_calling_back(
            start, stop, k, _on_block, budget
        )
    if variant == "signals":
        checking: Loop = module.squares_checking_signals
        return checking
    raise ValueError(f"unknown variant {variant!r}; valid: {', '.join(VARIANTS)}")


@dataclass(frozen=True)
class Step:
    """One variant at one k: medians over the rounds."""

    variant: str
    k: int
    block_s: float  # one block of k iterations, alone
    threads_speedup: float  # 2 threads against 1, in iterations per second
    others_slowdown: float  # a pure-Python thread's rate alone / during the loop (inf: stopped)
    loop_slowdown: float  # the loop's rate alone / beside that thread
    stop_s: float | None = None  # SIGINT to the child's exit; None: not measured


@dataclass(frozen=True)
class Granularity:
    n: int  # iterations per loop
    steps: list[Step]
    switch_interval_s: float
    usable_cpus: int
    gil_enabled: bool
    # Ctrl-C, without taking the GIL back: the `cython-nogil` loop (its length alone) and, for
    # reference, a pure-Python loop (which the eval loop stops at once).
    long_loop_s: float | None = None
    no_check_stop_s: float | None = None
    python_stop_s: float | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Per variant, in a line: who paid for taking the GIL back, and from which k (and
        block length) the loop's own cost stays little."""
        lines = []
        for variant, label in VARIANTS.items():
            steps = sorted((s for s in self.steps if s.variant == variant), key=lambda s: s.k)
            if not steps:
                continue
            others = max(s.others_slowdown for s in steps)
            first = steps[0]
            line = (
                f"{label}: other threads ran at most {format_ratio(others)} slower; the "
                f"loop itself ran {format_ratio(first.loop_slowdown)} slower beside a busy "
                f"Python thread at k = {first.k:,} (blocks of {format_seconds(first.block_s)})"
            )
            little = [
                s
                for i, s in enumerate(steps)
                if all(t.loop_slowdown < LITTLE_SLOWDOWN for t in steps[i:])
            ]
            if little:
                block = little[0].block_s
                line += (
                    f", under {LITTLE_SLOWDOWN:g}× from k = {little[0].k:,} (blocks of "
                    f"{format_seconds(block)}, {block / self.switch_interval_s:.1f}× the switch "
                    "interval)"
                )
            else:
                line += f", and {format_ratio(steps[-1].loop_slowdown)} at k = {steps[-1].k:,}"
            lines.append(line)
        return lines

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        for step in document["steps"]:  # JSON has no infinity
            if math.isinf(step["others_slowdown"]):
                step["others_slowdown"] = None
        return document


# --- measuring in this process --------------------------------------------------------------


def iterations_for(seconds: float) -> int:
    """Iterations of the loop that last about `seconds` alone here."""
    trial = 10**7
    run = loop("signals")
    while True:
        began = time.perf_counter()
        run(0, trial, trial, 0.0)
        elapsed = time.perf_counter() - began
        if elapsed >= 0.01:
            return max(1, round(trial * seconds / elapsed))
        trial *= 4


def rate(run: Callable[[int, int, int, float], tuple[int, int]], n: int, k: int) -> float:
    """Iterations per second of one loop over [0, n) in this thread."""
    began = time.perf_counter()
    _, done = run(0, n, k, BUDGET_S)
    return done / (time.perf_counter() - began)


def threads_rate(
    run: Callable[[int, int, int, float], tuple[int, int]], n: int, k: int, pool: ThreadPoolExecutor
) -> float:
    """Iterations per second of [0, n) split in two halves, on the pool's 2 threads at once."""
    halves = [(0, n // 2), (n // 2, n)]
    began = time.perf_counter()
    done = sum(d for _, d in pool.map(lambda part: run(part[0], part[1], k, BUDGET_S), halves))
    return done / (time.perf_counter() - began)


def beside_counter(
    run: Callable[[int, int, int, float], tuple[int, int]], n: int, k: int
) -> tuple[float, float]:
    """(iterations per second of the loop, the counter's pace then / alone) while a pure-Python
    counter thread runs (gilkit.gil.probe)."""
    done: list[int] = []
    [(elapsed, fraction)] = time_with_counter(lambda: done.append(run(0, n, k, BUDGET_S)[1]))
    return done[0] / elapsed, fraction


def measure_step(variant: str, k: int, n: int, pool: ThreadPoolExecutor, repeat: int) -> Step:
    run = loop(variant)
    serial, threads, others, beside = [], [], [], []
    for _ in range(repeat):
        serial.append(rate(run, n, k))
        threads.append(threads_rate(run, n, k, pool) / serial[-1])
        loop_rate, fraction = beside_counter(run, n, k)
        others.append(1 / fraction if fraction > 0 else math.inf)
        beside.append(serial[-1] / loop_rate)
    alone = statistics.median(serial)
    return Step(
        variant,
        k,
        block_s=min(k, n) / alone,
        threads_speedup=statistics.median(threads),
        others_slowdown=statistics.median(others),
        loop_slowdown=statistics.median(beside),
    )


# --- Ctrl-C, in a child process -----------------------------------------------------------

CHILD = """
import sys
from gilkit import _granularity, _native
from gilkit.host.worker_process import die_with_parent
variant, n, k, parent = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
die_with_parent(parent)  # a SIGKILL of gilkit leaves no loop spinning
print("ready", flush=True)
if variant == "signals":
    _granularity.squares_checking_signals(0, n, k)
elif variant == "callback":
    _granularity.squares_calling_back(0, n, k, lambda: None)
elif variant == "no-check":
    _native.squares_nogil(0, n, 1)
else:
    while True:
        pass
"""


def stop_time(variant: str, n: int = 0, k: int = 1) -> float | None:
    """Seconds from SIGINT to the exit of a child running the loop (variant "no-check": the
    cython-nogil loop; "python": a pure-Python loop); None where signals cannot be sent so."""
    if os.name != "posix":
        return None
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, variant, str(n), str(k), str(os.getpid())],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        # Its own session: a Ctrl-C at the terminal reaches gilkit, not the child.
        start_new_session=True,
    ) as child:
        try:
            assert child.stdout is not None
            child.stdout.readline()  # "ready": the loop starts now
            time.sleep(SIGNAL_AFTER_S)
            sent = time.perf_counter()
            child.send_signal(signal.SIGINT)
            child.wait(STOP_TIMEOUT_S)
            return time.perf_counter() - sent
        except subprocess.TimeoutExpired:
            return None
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()


# --- the whole experiment --------------------------------------------------------------------


def estimated_s(k_values: Sequence[int], repeat: int) -> float:
    """About how long measure() takes when nothing waits: per variant, k and round, a loop
    alone, on two threads and beside the counter; and the children for Ctrl-C."""
    per_round = 3 * TARGET_CALL_S + 0.1
    children = len(k_values) * len(VARIANTS) * (SIGNAL_AFTER_S + 0.2) + LONG_LOOP_S + 1.0
    return len(VARIANTS) * len(k_values) * repeat * per_round + children


@contextmanager
def _two_threads() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2, thread_name_prefix="gilkit-granularity") as pool:
        list(pool.map(lambda _: None, range(2)))  # both threads started before any timing
        yield pool


def measure(
    k_values: Sequence[int] = K_VALUES,
    repeat: int = DEFAULT_REPEAT,
    on_step: Callable[[str], None] = lambda label: None,
    interval_s: float | None = None,
) -> Granularity:
    """The experiment; on_step(label) before each part. interval_s: the switch interval to
    run it under (default: this interpreter's, sys.getswitchinterval())."""
    if repeat < 1 or not k_values or min(k_values) < 1:
        raise ValueError(f"expected repeat >= 1 and k values >= 1, got {repeat}, {k_values}")
    interval = sys.getswitchinterval() if interval_s is None else interval_s
    n = max(iterations_for(TARGET_CALL_S), 4 * max(k_values))
    steps = []
    long_n = iterations_for(LONG_LOOP_S)
    with switch_interval(interval), _two_threads() as pool:
        for variant in VARIANTS:
            for k in k_values:
                on_step(f"{variant}, k = {k:,}")
                step = measure_step(variant, k, n, pool, repeat)
                on_step(f"{variant}, k = {k:,}: Ctrl-C")
                steps.append(replace(step, stop_s=stop_time(variant, long_n, k)))
    on_step("Ctrl-C without a check")
    began = time.perf_counter()
    compiled.module("_native").squares_nogil(0, long_n, 1)
    long_loop_s = time.perf_counter() - began
    notes = []
    if not gil_enabled():
        notes.append("this interpreter runs without a GIL: taking it back costs nothing here")
    if usable_cpus() < 2:
        notes.append("1 usable cpu: the loop and the other thread cannot run at once")
    return Granularity(
        n=n,
        steps=steps,
        switch_interval_s=interval,
        usable_cpus=usable_cpus(),
        gil_enabled=gil_enabled(),
        long_loop_s=long_loop_s,
        no_check_stop_s=stop_time("no-check", long_n),
        python_stop_s=stop_time("python"),
        notes=notes,
    )
