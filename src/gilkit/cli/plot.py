"""`gilkit plot RESULT.json -o PNG`: a run's speedups as a picture (matplotlib)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gilkit.cli.console import EXIT_OK, load_result, writable_path, writing
from gilkit.planning.values import UsageError
from gilkit.present.plot import PlotUnavailable, plot_run


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    parser = commands.add_parser("plot", help="plot a run's speedups to a PNG (matplotlib)")
    parser.add_argument("result", type=Path, metavar="RESULT.json")
    parser.add_argument("-o", "--output", type=Path, metavar="PNG", required=True)
    return parser


def handle(args: argparse.Namespace) -> int:
    result = load_result(args.result)
    writable_path("--output", args.output)
    try:
        with writing("--output", args.output):
            print(f"plot: {plot_run(result, args.output)}")
    except PlotUnavailable as error:
        raise UsageError(str(error)) from error
    return EXIT_OK
