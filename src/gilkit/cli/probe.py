"""`gilkit probe MODULE:FUNCTION [--arg VALUE ...]`: does that call release the GIL?

Bad input (a module that does not import, a missing or uncallable attribute, a bad --arg, a
call that raises) is a UsageError naming the bad value and what is valid: one line, exit 2.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psutil

from gilkit.cli.console import EXIT_USAGE, make_console, make_progress
from gilkit.engine.limits import trial_in_child
from gilkit.gil.probe import (
    DEFAULT_BUDGET_S,
    DEFAULT_REPEAT,
    FREE_CPU_MIN_PARALLELISM,
    MIN_CALL_S,
    GilProbe,
    estimated_s,
    probe,
)
from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import python_now
from gilkit.host.threadpools import pin_native_threads
from gilkit.model.units import format_seconds
from gilkit.planning import values as options
from gilkit.planning.values import UsageError
from gilkit.present.formatting import format_python

EXAMPLES = "zlib:compress, hashlib:sha256, numpy:sort, gilkit._native:squares_nogil"
ARG_HELP = (
    "a positional argument for the call; repeat for more. A Python literal (5, 2.5, 'text', "
    "b'raw', [1, 2], None), else taken as a string; bytes:N for N deterministic pseudo-random "
    "bytes, array:N for a float64 NumPy array of N deterministic pseudo-random values in "
    "[0, 1) (N may use _ or a k/M/G suffix: bytes:50M)"
)
SIZE_SUFFIXES = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9}
SIZE_PATTERN = re.compile(r"(\d[\d_]*)([kMG]?)")
SEED = 0  # bytes:N and array:N are the same on every run
# Probes expected to last this long are announced with their estimate (stderr); longer ones
# also show a progress bar of the rounds.
SAY_ESTIMATE_S = 1.0
SHOW_PROGRESS_S = 5.0
TRIAL_LIMIT_S = 60.0
# bytes:N and array:N are made in memory: at most this share of the memory available now.
MEMORY_SHARE = 0.5


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the `probe` command to the main CLI's subparsers."""
    parser = subparsers.add_parser(
        "probe",
        help="does a call release the GIL? (releases, holds, shares)",
        description=(
            "Call MODULE:FUNCTION with the given arguments, alone and while another Python "
            "thread counts, and say whether it releases the GIL, holds it, or takes turns with "
            "it (pure Python). Figures: the counter's pace during the call (~1 released, ~0 "
            "held) and the call's slowdown with the counter running (~1 released or held, ~2 "
            f"shared). The call should last {format_seconds(MIN_CALL_S)} or more (100 ms is "
            "safer): pass a big input; shorter calls read too-short. It cannot judge on one "
            "usable cpu, nor while other processes keep the cpus busy, and says so. Native "
            "thread pools (BLAS, OpenMP) are limited to one thread, as in `gilkit run`. Exit "
            "status 0 whatever the verdict, 2 for bad input. Examples: gilkit probe "
            "zlib:compress --arg bytes:20M; gilkit probe numpy:sort --arg array:10M; gilkit "
            "probe mymodule:kernel --arg 1000000 --kwarg threads=1"
        ),
    )
    parser.add_argument("target", metavar="MODULE:FUNCTION", help=f"what to call, e.g. {EXAMPLES}")
    add_call_arguments(parser)
    parser.add_argument(
        "--repeat",
        help=f"rounds that must agree, each alone, with the counter and beside the GIL monitor "
        f"(default: {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--budget",
        metavar="SECONDS",
        help="how long to go on measuring rounds where the first do not agree, as on a busy "
        f"machine (default: {DEFAULT_BUDGET_S:.0f})",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        help="the most a trial call may take; it runs first in a child process, so that a "
        "call that crashes, exits or hangs is one line (default: "
        f"{TRIAL_LIMIT_S:.0f})",
    )
    return parser


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    """--arg and --kwarg: the call's arguments, for probe and advise alike."""
    parser.add_argument(
        "--arg", action="append", default=[], metavar="VALUE", dest="args", help=ARG_HELP
    )
    parser.add_argument(
        "--kwarg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        dest="kwargs",
        help="a keyword argument, VALUE as for --arg; repeat for more",
    )


def call_arguments(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    """The values of --arg and --kwarg (bad ones are a UsageError)."""
    call_args = [parse_value("--arg", text) for text in args.args]
    return call_args, dict(parse_kwarg(text) for text in args.kwargs)


def handle(args: argparse.Namespace) -> int:
    fn = resolve(args.target)
    call_args, call_kwargs = call_arguments(args)
    repeat = options.parse_count("--repeat", args.repeat, DEFAULT_REPEAT, 1)
    limit_s = options.parse_seconds("--timeout", args.timeout, TRIAL_LIMIT_S)
    budget_s = options.parse_seconds("--budget", args.budget, DEFAULT_BUDGET_S)
    assert limit_s is not None
    assert budget_s is not None
    label = call_label(args.target, args.args, args.kwargs)
    pin_native_threads()
    went_wrong = trial_in_child(functools.partial(fn, *call_args, **call_kwargs), limit_s)
    if went_wrong is not None:
        raise UsageError(
            f"probe: {label} {went_wrong} in a trial call in a child process; valid: a call "
            "that returns (--timeout for a longer one)"
        )
    # A round makes the call four times (alone, beside the counter, where it may be twice as
    # slow, and twice beside the GIL monitor): a round past ROUND_CALLS --timeouts holds a call
    # that hangs.
    watchdog = Watchdog(ROUND_CALLS * limit_s, f"probe: {label}")
    with watchdog:
        result = probe_watched(fn, call_args, call_kwargs, repeat, budget_s, label, watchdog)
    for line in format_probe(label, result):
        print(line)
    return 0


def probe_watched(
    fn: Callable[..., object],
    call_args: list[Any],
    call_kwargs: dict[str, Any],
    repeat: int,
    budget_s: float,
    label: str,
    watchdog: Watchdog,
) -> GilProbe:
    """The probe, with its estimate said first and a progress bar for long ones."""
    # Also a warm-up (the first call is often slow) and what the estimate is made from.
    call_s = check_call(label, fn, call_args, call_kwargs)
    console = make_console(stderr=True)
    estimate = estimated_s(call_s, repeat, usable_cpus()) if call_s >= MIN_CALL_S else 0.0
    if estimate >= SAY_ESTIMATE_S:
        console.print(
            f"probing {label}: about {format_seconds(estimate)} (one call took "
            f"{format_seconds(call_s)}; on a busy machine more rounds, up to "
            f"{format_seconds(max(estimate, budget_s))})",
            markup=False,
            highlight=False,
        )
    watchdog.kick()
    run = functools.partial(probe, fn, call_args, call_kwargs, repeat=repeat, budget_s=budget_s)
    if estimate < SHOW_PROGRESS_S:
        return run(on_round=watchdog.kick)
    with make_progress(console, 12) as progress:
        task = progress.add_task("probe rounds", total=repeat)

        def on_round(done: int, planned: int) -> None:
            watchdog.kick()
            progress.update(task, completed=done, total=planned)
            progress.refresh()

        return run(on_round=on_round)


ROUND_CALLS = 5


class Watchdog:
    """Ends gilkit in one line, exit status 2, when `limit_s` passes without a kick(): a call
    that hangs after its trial in a child returned. It cannot help against a native call that
    holds the GIL forever (no Python thread runs then); the trial call stands for that one."""

    def __init__(self, limit_s: float, what: str) -> None:
        self.limit_s, self.what = limit_s, what
        self._kicked = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="gilkit-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._kicked.set()
        self._thread.join()

    def kick(self, *progress: object) -> None:
        self._kicked.set()

    def _watch(self) -> None:
        while not self._done.is_set():
            if not self._kicked.wait(self.limit_s):
                print(
                    f"gilkit: error: {self.what}: a round of calls took over {self.limit_s:.3g} "
                    "s; valid: a call that returns (--timeout for a longer one)",
                    file=sys.stderr,
                    flush=True,
                )
                os._exit(EXIT_USAGE)
            self._kicked.clear()


def resolve(target: str, command: str = "probe") -> Callable[..., object]:
    """The callable named MODULE:ATTR[.ATTR...], or a UsageError saying what is wrong."""
    found = resolve_attribute(target, command)
    if not callable(found):
        module = sys.modules[target.partition(":")[0]]
        raise UsageError(
            f"{command}: {target!r} is not callable ({type(found).__name__}); valid: "
            f"{public_callables(module)}"
        )
    function: Callable[..., object] = found
    return function


def resolve_attribute(
    target: str,
    command: str,
    form: str = "MODULE:FUNCTION",
    valid: str = EXAMPLES,
    wanted: Callable[[object], bool] = callable,
) -> Any:
    """The object named MODULE:ATTR[.ATTR...] (the current directory importable, as with
    `python -m`), or a UsageError: not of that form, not importable, no such attribute."""
    if os.getcwd() not in sys.path:  # like `python -m`: the user's own modules, here
        sys.path.insert(0, os.getcwd())
    module_name, colon, path = target.partition(":")
    if not colon or not module_name or not path:
        guess = guess_target(target, wanted) if not colon else None
        raise UsageError(f"{command}: {target!r} is not {form}; valid: e.g. {guess or valid}")
    try:
        obj: Any = importlib.import_module(module_name)
    except (Exception, SystemExit) as error:  # an import can do anything: the user's module
        raise UsageError(
            f"{command}: cannot import {module_name!r} ({type(error).__name__}: {error}); "
            "valid: an importable module, e.g. zlib, numpy, or a module in this directory"
        ) from None
    owner = module_name
    for name in path.split("."):
        if not hasattr(obj, name):
            raise UsageError(
                f"{command}: {owner!r} has no attribute {name!r}; valid: "
                f"{public_names(obj, wanted=wanted)}"
            )
        obj, owner = getattr(obj, name), f"{owner}.{name}"
    return obj


def guess_target(target: str, wanted: Callable[[object], bool]) -> str | None:
    """What a target without its colon meant: the first public name a module defines itself
    (`gilkit.testing` -> `gilkit.testing:assert_releases_gil`), else `a.b:c` for `a.b.c`."""
    try:
        module = importlib.import_module(target)
    except (Exception, SystemExit):  # not a module: the user's import may do anything
        names = []
    else:
        names = [
            name
            for name in public_name_list(module, wanted)
            if getattr(getattr(module, name), "__module__", None) == module.__name__
        ]
    if names:
        return f"{target}:{names[0]}"
    module_guess, dot, name_guess = target.rpartition(".")
    return f"{module_guess}:{name_guess}" if dot and module_guess and name_guess else None


def public_callables(obj: object, limit: int = 12) -> str:
    return public_names(obj, limit, callable)


def public_names(
    obj: object, limit: int = 12, wanted: Callable[[object], bool] = lambda found: True
) -> str:
    names = public_name_list(obj, wanted)
    shown = ", ".join(names[:limit])
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return f"{shown}{more}" if names else "none (it has no public callables)"


def public_name_list(obj: object, wanted: Callable[[object], bool]) -> list[str]:
    return sorted(n for n in dir(obj) if not n.startswith("_") and wanted(getattr(obj, n, None)))


def parse_size(option: str, text: str, kind: str, size: str) -> int:
    match = SIZE_PATTERN.fullmatch(size)
    if match is None or match[1].endswith("_"):
        raise UsageError(
            f"{option}: {text!r} has no valid size; valid: {kind}:N with N an integer >= 0, "
            f"with _ or a k/M/G suffix allowed ({kind}:5000000, {kind}:5_000_000, {kind}:5M)"
        )
    n = int(match[1].replace("_", "")) * SIZE_SUFFIXES[match[2]]
    item_bytes = 8 if kind == "array" else 1
    most = int(psutil.virtual_memory().available * MEMORY_SHARE) // item_bytes
    if n > most:
        raise UsageError(
            f"{option}: {text!r} needs {n * item_bytes / 2**30:.3g} GiB; valid: {kind}:N up "
            f"to {most:,}, half of the memory available now"
        )
    return n


def parse_value(option: str, text: str) -> Any:
    """bytes:N, array:N, a Python literal, or else the text itself."""
    kind, colon, size = text.partition(":")
    if colon and kind == "bytes":
        return random.Random(SEED).randbytes(parse_size(option, text, kind, size))
    if colon and kind == "array":
        import numpy as np

        return np.random.default_rng(SEED).random(parse_size(option, text, kind, size))
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_kwarg(text: str) -> tuple[str, Any]:
    name, equals, value = text.partition("=")
    if not equals or not name.isidentifier():
        raise UsageError(
            f"--kwarg: {text!r} is not NAME=VALUE; valid: a Python name, =, and a value as "
            "for --arg (level=9, kind='stable')"
        )
    return name, parse_value("--kwarg", value)


def call_label(target: str, args: Sequence[str], kwargs: Sequence[str]) -> str:
    return f"{target.replace(':', '.')}({', '.join([*args, *kwargs])})"


def check_call(
    label: str, fn: Callable[..., object], args: Sequence[Any], kwargs: dict[str, Any]
) -> float:
    """Call once, so that arguments the function rejects are a usage error, not a traceback;
    return how long the call took."""
    began = time.perf_counter()
    try:
        fn(*args, **kwargs)
    except (Exception, SystemExit) as error:  # sys.exit() too: one line, not gilkit's exit
        raise UsageError(
            f"probe: {label} raised {type(error).__name__}: {error}; valid: --arg and --kwarg "
            "values that the function accepts"
        ) from None
    return time.perf_counter() - began


def format_probe(label: str, result: GilProbe) -> list[str]:
    """The verdict and the figures, one per line."""
    lines = [label, f"verdict: {result.verdict}: {result.headline()}"]
    figures = (result.fraction, result.slowdown, result.parallelism)
    if all(figure is not None for figure in figures):
        rounds = result.rounds
        lines += [
            f"counter fraction: {result.fraction:.2f}  (counter's pace during the call / alone: "
            "~1 released, ~0.5 shared, ~0 held)",
            f"slowdown:         {result.slowdown:.2f}×  (call with the counter / alone: ~1 "
            "released or held, ~2 shared)",
            f"parallelism:      {result.parallelism:.2f}  (fraction + 1/slowdown: ~2 released, "
            "~1 shared or held)",
        ]
        if result.gil_wait is not None and result.gil_wait_long is not None:
            lines.append(
                f"GIL waits:        {result.gil_wait:.2f} at a 1 ms switch interval, "
                f"{result.gil_wait_long:.2f} at 5 ms  (a waking thread's, cpu waits taken out: "
                "~0 released; growing with the interval, shared; the held share otherwise)"
            )
        lines.append(
            f"rounds:           {result.n_used} of {len(rounds)} used; fraction "
            f"{' '.join(f'{r.fraction:.2f}' for r in rounds)}; slowdown "
            f"{' '.join(f'{r.slowdown:.2f}' for r in rounds)}"
        )
    if result.reference_parallelism is not None:
        lines.append(
            f"free cpu check:   parallelism {result.reference_parallelism:.2f} of a call known "
            f"to release the GIL (~2 on two free cpus; under {FREE_CPU_MIN_PARALLELISM}, a "
            "round is judged by the GIL monitor alone where the kernel counts cpu waits)"
        )
    lines += [
        f"call alone:       {format_seconds(result.call_s)} (median)",
        f"interpreter:      {interpreter_line(result)}",
    ]
    return lines


def interpreter_line(result: GilProbe) -> str:
    python = {
        **python_now(),
        "free_threaded_build": result.free_threaded_build,
        "gil_enabled": result.gil_enabled,
    }
    return f"{format_python(python)}; {result.usable_cpus} usable cpus"
