"""`gilkit advise MODULE:FUNCTION`: which way to map your function over many inputs here.

The measuring and judging are gilkit.advise's; this module parses, shows progress, prints the
advice and writes the file. Bad input is one line and exit status 2; Ctrl-C prints the advice
from the rounds measured so far and keeps the file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gilkit.advise import (
    DEFAULT_RUNNERS,
    Advice,
    AdviceInterrupted,
    advise,
    default_workers,
    ways,
)
from gilkit.advise.elsewhere import ways_from
from gilkit.advise.measure import DEFAULT_BUDGET_S
from gilkit.advise.rules import SERIAL, Way
from gilkit.cli.console import (
    EXIT_OK,
    make_console,
    make_progress,
    output_path,
    sole_writer,
    writable_path,
    writing,
)
from gilkit.cli.each_python import path_for
from gilkit.cli.probe import (
    add_call_arguments,
    call_arguments,
    call_label,
    resolve,
    resolve_attribute,
)
from gilkit.host.cpus import usable_cpus
from gilkit.host.venvs import (
    Interpreter,
    InterpreterError,
    describe_each,
    environment_for,
    run_bounded,
    same_interpreter,
)
from gilkit.model.cell import Cell
from gilkit.model.results import RunResult, write_json_atomically
from gilkit.model.units import format_ratio
from gilkit.planning import values as options
from gilkit.planning.values import UsageError

# Beyond four times its budget, another interpreter's advise is given this long to finish.
OTHER_PYTHON_SLACK_S = 120.0
EXAMPLES = "zlib:compress --arg bytes:4M --tasks 40; mymodule:parse --inputs mymodule:PATHS"


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "advise",
        help="how to parallelise your own function here, and what it gains",
        description=(
            "Map MODULE:FUNCTION over many tasks serially, in threads, in processes and in "
            "subinterpreters (and joblib or Dask when asked), through the engine of `gilkit "
            "run`, and say which way to use here, its speedup and spread, why each other way "
            "loses, from what task length each pool's own cost pays (and the batch size "
            "that reaches it), and a projection to more cpus. Examples: gilkit advise "
            f"{EXAMPLES}"
        ),
    )
    parser.add_argument("target", metavar="MODULE:FUNCTION", help="the function each task calls")
    add_call_arguments(parser)
    tasks = parser.add_mutually_exclusive_group()
    tasks.add_argument(
        "--tasks",
        metavar="N",
        help="your map has N tasks, each the same call (default: as many as the budget "
        "measures; the advice is then per task)",
    )
    tasks.add_argument(
        "--inputs",
        metavar="MODULE:ITERABLE",
        help="map over these: each task calls FUNCTION(item, *args, **kwargs); a list, any "
        "iterable, or a function of no arguments that returns one",
    )
    parser.add_argument(
        "--runner",
        help=f"comma list of {', '.join(ways())} (default: {','.join(DEFAULT_RUNNERS)}, "
        "those available here); serial is always measured",
    )
    here = ",".join(map(str, default_workers(usable_cpus())))
    parser.add_argument("--workers", help=f"comma list of worker counts (default: {here} here)")
    parser.add_argument(
        "--budget",
        metavar="SECONDS",
        help=f"about how long to measure; sizes the tasks measured (default: "
        f"{DEFAULT_BUDGET_S:.0f})",
    )
    parser.add_argument(
        "--json",
        type=output_path,
        metavar="PATH",
        help="also write the measurements and the advice (readable by gilkit report)",
    )
    parser.add_argument(
        "--python",
        action="append",
        metavar="PATH",
        help="also measure under this interpreter (repeat for several): above all a "
        "free-threaded build, whose threads run Python in parallel; its ways (threads, or "
        "--runner's) join this one's, against this serial map. Each interpreter gets a "
        "virtual environment in gilkit's cache (minutes the first time) and half the budget",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    return parser


def handle(args: argparse.Namespace) -> int:
    budget = options.parse_seconds("--budget", args.budget, DEFAULT_BUDGET_S)
    assert budget is not None
    if budget <= 0:
        raise UsageError(f"--budget: {args.budget!r}; valid: seconds > 0")
    tasks = None if args.tasks is None else options.integer("--tasks", args.tasks)
    json_path = None if args.json is None else writable_path("--json", args.json)
    args.others = interpreters(args.python or [])
    function = resolve(args.target, "advise")
    call_args, call_kwargs = call_arguments(args)
    inputs = None if args.inputs is None else load_inputs(args.inputs)
    label = call_label(
        args.target, [*(["item"] if inputs is not None else []), *args.args], args.kwargs
    )
    if json_path is None:
        return advise_here(args, function, inputs, call_args, call_kwargs, tasks, budget, label)
    with sole_writer("--json", json_path):
        return advise_here(
            args, function, inputs, call_args, call_kwargs, tasks, budget, label, json_path
        )


def load_inputs(target: str) -> list[Any]:
    """The items of MODULE:ITERABLE, called first if it is a function."""
    found = resolve_attribute(
        target, "--inputs", "MODULE:ITERABLE", "mymodule:PATHS", wanted=lambda found: True
    )
    if callable(found) and not isinstance(found, Iterable):
        try:
            found = found()
        except (Exception, SystemExit) as error:
            raise UsageError(
                f"--inputs: {target}() raised {type(error).__name__}: {error}; valid: a "
                "function of no arguments that returns an iterable"
            ) from None
    if isinstance(found, (str, bytes)) or not isinstance(found, Iterable):
        raise UsageError(
            f"--inputs: {target!r} is {type(found).__name__}, not a collection of inputs; "
            "valid: a list, tuple, generator or other iterable of the items to map over"
        )
    try:
        return list(found)
    except (Exception, SystemExit) as error:
        raise UsageError(
            f"--inputs: iterating {target!r} raised {type(error).__name__}: {error}"
        ) from None


def advise_here(
    args: argparse.Namespace,
    function: Any,
    inputs: list[Any] | None,
    call_args: list[Any],
    call_kwargs: dict[str, Any],
    tasks: int | None,
    budget: float,
    label: str,
    json_path: Path | None = None,
) -> int:
    console = make_console(stderr=True, quiet=args.quiet)
    kept: list[RunResult] = []
    status = EXIT_OK
    progress = make_progress(console, 30)
    bar = progress.add_task("", total=None, start=False)
    with contextlib.ExitStack() as shown:

        def on_call(cell: Cell) -> None:
            if not progress.live.is_started:  # from the first call of the map: not around
                shown.enter_context(progress)  # an error that ends the command sooner
            progress.update(bar, advance=1, description=f"{cell.runner} × {cell.n_workers}")
            progress.refresh()

        def say(line: str) -> None:
            console.print(line, markup=False, highlight=False)

        try:
            advice = advise(
                function,
                inputs,
                args=call_args,
                kwargs=call_kwargs,
                tasks=tasks,
                runners=args.runner,
                workers=args.workers,
                budget_s=budget,
                label=label,
                say=say,
                on_call=on_call,
                keep=kept.append,
            )
        except AdviceInterrupted as stopped:
            console.print("stopped: the advice rests on the rounds measured so far", markup=False)
            advice, status = stopped.advice, stopped.exit_status
    if args.python and status == EXIT_OK:
        advice = advice.joined(*measured_elsewhere(args, advice, budget / 2, json_path, say))
    if json_path is not None and kept:
        write_advice(kept[-1], advice, json_path)
    out = make_console()
    for line in advice.lines(notes=not args.quiet):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    if json_path is not None:
        out.print(f"results: {json_path}", markup=False, highlight=False)
    return status


def interpreters(paths: list[str]) -> list[Interpreter]:
    """The --python interpreters other than this one, or a UsageError naming a bad one."""
    try:
        found = describe_each([sys.executable, *paths])  # this one first: others get -2
    except InterpreterError as error:
        raise UsageError(f"--python: {error}; valid: paths of Python 3 interpreters") from None
    return [interpreter for interpreter in found if not same_interpreter(interpreter)]


def measured_elsewhere(
    args: argparse.Namespace,
    advice: Advice,
    budget: float,
    json_path: Path | None,
    say: Callable[[str], None],
) -> tuple[list[Way], list[str]]:
    """The ways each --python interpreter measured with its own `gilkit advise`, and notes
    for those that could not: its file is kept beside --json's, else in a temporary folder."""
    serial = next((w for w in advice.ways if w.runner == SERIAL and w.python is None), None)
    ways: list[Way] = []
    notes = []
    with tempfile.TemporaryDirectory(prefix="gilkit-advise-") as scratch:
        here = json_path or Path(scratch) / "advice.json"
        for interpreter in args.others:
            out = path_for(here, interpreter)
            say(f"{interpreter.label} ({interpreter.path}): preparing its environment")
            try:
                python = environment_for(interpreter, Path(scratch) / "setup.log")
            except InterpreterError as error:
                notes.append(f"{interpreter.label}: {error}")
                continue
            say(f"{interpreter.label}: measuring its ways")
            command = [str(python), "-m", "gilkit", *forwarded(args, budget), "--json", str(out)]
            try:  # its budget, its probe and pools, and set-up slack: past that it hangs
                done = run_bounded(
                    command,
                    4 * budget + OTHER_PYTHON_SLACK_S,
                    f"{interpreter.label}'s gilkit advise",
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            except InterpreterError as error:
                notes.append(f"{interpreter.label}: {error}; its process group was killed")
                continue
            if done.returncode != 0 or not out.exists():
                why = (done.stderr.strip().splitlines() or ["no output"])[-1]
                notes.append(f"{interpreter.label}: its gilkit advise failed ({why})")
                continue
            document = json.loads(out.read_text())
            if serial is not None:
                ways += ways_from(document.get("advice", {}), serial, interpreter.label)
            own = [
                f"{way['runner']} ×{way['workers']} {format_ratio(way['speedup'])}"
                for way in document.get("advice", {}).get("ways", [])
                if way.get("runner") != SERIAL and way.get("speedup") is not None
            ]
            notes.append(
                f"ways on {interpreter.label} ran in another process, after this one's: their "
                "speedups are this serial map's median per task over theirs, not paired"
                + (f"; against its own serial map, paired: {', '.join(own)}" if own else "")
            )
    return ways, notes


def forwarded(args: argparse.Namespace, budget: float) -> list[str]:
    """This command's options, as another interpreter's `gilkit advise` takes them."""
    argv = ["advise", args.target]
    argv += [f"--arg={text}" for text in args.args]
    argv += [f"--kwarg={text}" for text in args.kwargs]
    for option in ("tasks", "inputs", "workers"):
        if getattr(args, option) is not None:
            argv.append(f"--{option}={getattr(args, option)}")
    return [*argv, f"--runner={args.runner or 'threads'}", f"--budget={budget}", "--quiet"]


def write_advice(result: RunResult, advice: Advice, path: Path) -> None:
    """The run's result file, with the advice beside its cells: `gilkit report` reads it."""
    result.options["argv"] = sys.argv[1:]
    document = {**result.to_json(), "advice": advice.plain()}
    with writing("--json", path):
        write_json_atomically(document, path)
