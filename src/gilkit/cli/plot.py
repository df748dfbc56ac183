"""`gilkit plot RESULT.json -o PNG`: a run's speedups as a picture (matplotlib)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gilkit.analysis.stats import cell_stats
from gilkit.cli.console import (
    EXIT_OK,
    distinct_outputs,
    load_result,
    output_path,
    plot_path,
    writing,
)
from gilkit.planning.values import UsageError
from gilkit.present.plot import PlotUnavailable, plot_run


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands.add_parser("plot", help="plot a run's speedups to a PNG (matplotlib)")
    parser.add_argument("result", type=Path, metavar="RESULT.json")
    parser.add_argument("-o", "--output", type=output_path, metavar="PNG", required=True)
    return parser


def handle(args: argparse.Namespace) -> int:
    output = plot_path("--output", args.output)
    distinct_outputs({"RESULT.json": args.result, "--output": output})
    result = load_result(args.result)
    if not cell_stats(result):  # what the plot draws: cells with a time and no error
        raise UsageError(
            f"{str(args.result)!r} holds no measured cell (every cell failed, or the run "
            "stopped before its first); valid: a result file with a cell that has a time"
        )
    try:
        with writing("--output", output):
            print(f"plot: {plot_run(result, output)}")
    except PlotUnavailable as error:
        raise UsageError(str(error)) from error
    return EXIT_OK
