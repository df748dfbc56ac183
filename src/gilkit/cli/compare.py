"""`gilkit compare A.json B.json`: two runs side by side, with significance."""

from __future__ import annotations

import argparse
from pathlib import Path

from gilkit.cli.console import EXIT_OK, load_result, make_console, print_all
from gilkit.present.compare import format_comparison


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands.add_parser("compare", help="two runs side by side, with significance")
    parser.add_argument("a", type=Path, metavar="A.json")
    parser.add_argument("b", type=Path, metavar="B.json")
    return parser


def handle(args: argparse.Namespace) -> int:
    a, b = load_result(args.a), load_result(args.b)
    print_all(make_console(), format_comparison(a, b, str(args.a), str(args.b)))
    return EXIT_OK
