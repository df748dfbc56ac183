"""Run one matrix under several interpreters and show them side by side.

Each interpreter runs `gilkit run` in its own process (see gilkit.interpreters) with the same
options and writes its own result file; the table then puts the interpreters next to each
other for every cell, and names the free-threaded build's single-thread cost: serial pure
Python on each interpreter against the first one.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.table import Table

from gilkit.interpreters import Interpreter, environment_for
from gilkit.report import format_ratio, format_seconds, runner_label, sort_key
from gilkit.results import RunResult, load
from gilkit.stats import cell_stats, serial_key

FORWARDED = (
    "kernel",
    "impl",
    "runner",
    "workers",
    "size",
    "split",
    "repeat",
    "warmup",
    "start_method",
)


def forwarded_options(args: argparse.Namespace) -> list[str]:
    """The run's options, as each interpreter's `gilkit run` should receive them."""
    argv = []
    for name in FORWARDED:
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return [*argv, "--quiet"] if args.quiet else argv


def path_for(json_path: Path, interpreter: Interpreter) -> Path:
    return json_path.with_name(f"{json_path.stem}-{interpreter.label}{json_path.suffix}")


def run_each(
    interpreters: list[Interpreter],
    args: argparse.Namespace,
    json_path: Path,
    say: Callable[[str], None],
) -> tuple[list[tuple[Interpreter, Path]], int]:
    """Run the matrix under each interpreter in turn; return the result files and the status."""
    done, status = [], 0
    log = json_path.with_suffix(".setup.log")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    for interpreter in interpreters:
        say(f"{interpreter.label} ({interpreter.path}): preparing its environment")
        python = environment_for(interpreter, log)
        out = path_for(json_path, interpreter)
        say(f"{interpreter.label}: measuring")
        command = [str(python), "-m", "gilkit", "run", *forwarded_options(args), "--json", str(out)]
        code = subprocess.run(command, stdout=subprocess.DEVNULL, check=False).returncode
        status = max(status, code)
        if out.exists():
            done.append((interpreter, out))
    return done, status


def format_side_by_side(runs: list[tuple[str, RunResult]]) -> Iterator[str | Table]:
    """One table per kernel: each cell's median and speedup under every interpreter."""
    stats = {label: cell_stats(r.cells, r.metadata["cpu"]["usable_cpus"]) for label, r in runs}
    first_label = runs[0][0]
    for label, result in runs:
        python = result.metadata["python"]
        build = "free-threaded build" if python["free_threaded_build"] else "GIL build"
        gil = "GIL on" if python["gil_enabled"] else "GIL off"
        yield f"{label}: {python['implementation']} {python['version']}, {build}, {gil}"
    kernels = list(dict.fromkeys(r.kernel for _, result in runs for r in result.cells))
    for kernel in kernels:
        table = Table(title=f"[bold]{kernel}[/]", title_justify="left")
        for header in ("impl", "runner", "workers"):
            table.add_column(header, justify="left" if header != "workers" else "right")
        for label, _ in runs:
            table.add_column(f"{label}\nmedian", justify="right")
            table.add_column(f"{label}\nvs serial", justify="right")
        keys = {r.key: r for _, result in runs for r in result.cells if r.kernel == kernel}
        for key, record in sorted(keys.items(), key=lambda item: sort_key(item[1])):
            row = [record.impl, runner_label(record), str(record.n_workers)]
            for label, _ in runs:
                cell = stats[label].get(key)
                row += (
                    ["–", "–"]
                    if cell is None
                    else [format_seconds(cell.median_s), format_ratio(cell.speedup_vs_serial)]
                )
            table.add_row(*row)
        yield table
        base = stats[first_label].get(serial_key(kernel, "python"))
        for label, _ in runs[1:]:
            other = stats[label].get(serial_key(kernel, "python"))
            if base is not None and other is not None:
                cost = other.median_s / base.median_s
                yield (
                    f"{kernel}: serial pure Python on {label} takes {cost:.2f}× the time it "
                    f"takes on {first_label} (single-thread cost)"
                )


def load_runs(done: list[tuple[Interpreter, Path]]) -> list[tuple[str, RunResult]]:
    return [(interpreter.label, load(path)) for interpreter, path in done]
