"""The `gilkit` command: parsing, progress and printing; one module per command.

Nothing else in gilkit imports this package: the commands call the library (gilkit.run_plan,
gilkit.present, gilkit.claims, gilkit.probe, gilkit.granularity) and print what it returns.
Bad input ends in one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from gilkit.cli import claims, compare, granularity, info, listing, plot, probe, report, run
from gilkit.cli.console import EXIT_USAGE
from gilkit.cli.options import UsageError

# Each module adds its parser and runs its command; the order is `gilkit --help`'s.
COMMANDS = (run, compare, plot, report, claims, probe, granularity, listing, info)


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block) through UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


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


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except UsageError as error:
        print(f"gilkit: error: {error}", file=sys.stderr)  # one line, never wrapped
        return EXIT_USAGE


__all__ = ["build_parser", "main"]
