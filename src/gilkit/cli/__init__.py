"""The `gilkit` command: parsing, progress and printing; one module per command.

Nothing else in gilkit imports this package: the commands call the library (gilkit.run_plan,
gilkit.present, gilkit.claims, gilkit.gil.probe, gilkit.gil.granularity) and print what it returns.
Bad input ends in one line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from gilkit.cli import advise, claims, compare, granularity, info, listing, plot, probe, report, run
from gilkit.cli.console import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE
from gilkit.host.malloc import steady_malloc
from gilkit.host.orphans import adopt_orphans, end_descendants
from gilkit.host.worker_process import die_with
from gilkit.planning.values import UsageError

# Each module adds its parser and runs its command; the order is `gilkit --help`'s.
COMMANDS = (run, advise, compare, plot, report, claims, probe, granularity, listing, info)


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block) through UsageError, worded as
    gilkit's own: `--json: ...`, not `argument --json: ...`."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(re.sub(r"^argument (\S+): ", r"\1: ", message))


def build_parser() -> Parser:
    parser = Parser(
        prog="gilkit",
        description="Measure, on this machine, the ways around CPython's GIL: threads and "
        "processes, compiled code that releases the GIL, a free-threaded interpreter.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands).set_defaults(handler=command.handle)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, outside a run (which handles its own): stopped as Ctrl-C stops gilkit."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Every command ends the same way on a signal: SIGINT exits 130 and SIGTERM 143, each
    with one line (a run, or advise's map, first keeps and prints what it measured)."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except UsageError as error:
        print(f"gilkit: error: {error}", file=sys.stderr)  # one line, never wrapped
        return EXIT_USAGE
    except Terminated:
        print("gilkit: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:  # before or after a run: nothing measured to keep
        print("gilkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def command() -> None:
    """The `gilkit` command. Processes a user's kernel started and left behind end with it
    (gilkit.host.orphans). A call abandoned in a thread (it outlived its time limit, or the
    run stopped) would hold the interpreter's exit forever: then exit without waiting."""
    die_with(os.environ)
    adopt_orphans()
    steady_malloc()  # before any pool starts: every worker allocates as the caller does
    try:
        status = main()
    finally:
        end_descendants()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


__all__ = ["build_parser", "command", "main"]
