"""`gilkit granularity`: what taking the GIL back every k iterations of a nogil loop costs.

The measuring is gilkit.gil.granularity's; this module parses the options, shows progress, prints a
table per way of taking the GIL back, the Ctrl-C lines and the issue's bar, and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from rich import box
from rich.table import Table

from gilkit.cli.console import (
    EXIT_OK,
    make_console,
    make_progress,
    output_path,
    print_all,
    writable_path,
    writing,
)
from gilkit.gil import granularity
from gilkit.gil.granularity import (
    BUDGET_S,
    DEFAULT_REPEAT,
    K_VALUES,
    MAX_SWITCH_INTERVAL_S,
    VARIANTS,
    Granularity,
)
from gilkit.host import extensions as compiled
from gilkit.host.metadata import python_now
from gilkit.model.units import format_change, format_seconds
from gilkit.planning import values as options
from gilkit.planning.values import UsageError
from gilkit.present.formatting import format_python


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "granularity",
        help="what taking the GIL back every k iterations of a nogil loop costs",
        description=(
            "Run a loop that releases the GIL but takes it back every k iterations, with a "
            "Cython `with gil:` callback or with PyErr_CheckSignals, for k over several "
            "decades, and show per k: the speedup of 2 threads, how much slower another "
            "pure-Python thread runs meanwhile, and how quickly Ctrl-C stops a long loop "
            "(a child process sent SIGINT), against the loop without any check. About a "
            "minute; needs the compiled extensions."
        ),
    )
    parser.add_argument(
        "--k",
        metavar="K,...",
        help="iterations between takes of the GIL, integers >= 1 (1000, 1_000, 1e3) "
        f"(default: {','.join(f'1e{len(str(k)) - 1}' for k in K_VALUES)})",
    )
    parser.add_argument("--repeat", help=f"rounds per k, medians shown (default: {DEFAULT_REPEAT})")
    parser.add_argument(
        "--switch-interval",
        metavar="MS",
        help="sys.setswitchinterval for the run, in milliseconds, at most "
        f"{MAX_SWITCH_INTERVAL_S * 1e3:g} (default: this interpreter's, 5 ms unless changed)",
    )
    parser.add_argument(
        "--json", type=output_path, metavar="PATH", help="also write the figures here"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def parse_k(item: str) -> int:
    """An integer >= 1, written 1000, 1_000 or 1e3."""
    try:
        value = float(item.replace("_", "")) if "e" in item.lower() else int(item)
    except ValueError:
        value = 0
    if value < 1 or value != int(value) or value > sys.maxsize:
        raise UsageError(
            f"--k: {item!r} is not an integer from 1 to {sys.maxsize:.2e} (the loops' C index); "
            "valid: such integers, as 1000, 1_000 or 1e3"
        )
    return int(value)


def parse_interval(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        milliseconds = float(text)
    except ValueError:
        milliseconds = 0.0
    most = MAX_SWITCH_INTERVAL_S * 1e3
    if not 0 < milliseconds <= most:
        raise UsageError(
            f"--switch-interval: {text!r} is not a number of milliseconds > 0 and <= {most:g} "
            f"(longer, a loop waiting for the GIL gets too few turns within its "
            f"{format_seconds(BUDGET_S)}); valid: 5, 1, 0.5, up to {most:g}"
        )
    return milliseconds / 1e3


def handle(args: argparse.Namespace) -> int:
    k_values = (
        sorted(options.comma_list("--k", args.k, parse_k)) if args.k is not None else list(K_VALUES)
    )
    repeat = options.parse_count("--repeat", args.repeat, DEFAULT_REPEAT, 1)
    interval = parse_interval(args.switch_interval)
    if args.json is not None:
        writable_path("--json", args.json)
    reason = compiled.unavailable_reason("_granularity")
    if reason is not None:
        raise UsageError(f"granularity needs gilkit's compiled loops: {reason}")
    console = make_console(stderr=True, quiet=args.quiet)
    estimate = granularity.estimated_s(k_values, repeat)
    console.print(f"granularity: about {format_seconds(estimate)} here", highlight=False)
    steps = 2 * len(VARIANTS) * len(k_values) + 1
    with make_progress(console, 36) as progress:
        task = progress.add_task("starting", total=steps)

        def on_step(label: str) -> None:
            progress.update(task, advance=1, description=label)
            progress.refresh()

        result = granularity.measure(k_values, repeat, on_step, interval)
    print_all(make_console(), format_granularity(result))
    if args.json is not None:
        with writing("--json", args.json):
            args.json.write_text(json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n")
    return EXIT_OK


def format_granularity(result: Granularity) -> list[str | Table]:
    lines: list[str | Table] = [
        f"{format_python(python_now())}, {result.usable_cpus} usable cpus; switch interval "
        f"{format_seconds(result.switch_interval_s)}; loops of {result.n:,} iterations of "
        "the squares kernel, in blocks of k",
    ]
    for variant, label in VARIANTS.items():
        lines += ["", format_table(result, variant, label)]
    lines.append("")
    if result.no_check_stop_s is not None:
        lines.append(
            f"Ctrl-C, no check (cython-nogil's loop of {format_seconds(result.long_loop_s)}): "
            f"it stopped {format_seconds(result.no_check_stop_s)} after SIGINT, at the loop's "
            f"end; a pure-Python loop: {format_seconds(result.python_stop_s)}."
        )
    lines += result.summary()
    lines += [f"note: {note}" for note in result.notes]
    return lines


def format_table(result: Granularity, variant: str, label: str) -> Table:
    table = Table(
        title=f"[bold]{label}[/] every k iterations",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        show_edge=False,
    )
    for header in ("k", "block", "2 threads", "other thread", "loop beside it", "Ctrl-C stops in"):
        table.add_column(header, justify="right")
    for step in (s for s in result.steps if s.variant == variant):
        table.add_row(
            f"{step.k:,}",
            format_seconds(step.block_s),
            f"{step.threads_speedup:.2f}×",
            format_change(step.others_slowdown),
            format_change(step.loop_slowdown),
            format_seconds(step.stop_s),
        )
    return table
