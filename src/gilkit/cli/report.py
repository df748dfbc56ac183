"""`gilkit report FILE`: a run, a claims file or a pytest-benchmark file as Markdown."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from gilkit.cli.console import (
    EXIT_OK,
    output_path,
    read_json,
    result_from,
    writable_path,
    writing,
)
from gilkit.kernels.calls import NAME as CALLS
from gilkit.model.results import RunResult
from gilkit.planning.values import UsageError
from gilkit.present.plot import PlotUnavailable, plot_run
from gilkit.present.report import (
    format_benchmark_markdown,
    format_claims_markdown,
    format_run_markdown,
    is_claims,
    is_pytest_benchmark,
)

VALID = "a file written by gilkit run, gilkit claims --json or pytest --benchmark-json"


def named_by_function(result: RunResult, document: Any) -> RunResult:
    """An advise file's run under the user's call (its advice's target, badmods.quick()), not
    the internal kernel that mapped it (gilkit.kernels.calls:KERNEL)."""
    advice = document.get("advice") if isinstance(document, dict) else None
    target = advice.get("target") if isinstance(advice, dict) else None
    if not isinstance(target, str) or CALLS not in result.kernels or target in result.kernels:
        return result
    for record in [*result.cells, *result.checks]:
        record.kernel = target if record.kernel == CALLS else record.kernel
    result.kernels = {target if k == CALLS else k: v for k, v in result.kernels.items()}
    result.references = {target if k == CALLS else k: v for k, v in result.references.items()}
    return result


def add_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "report", help="a run, a claims file or a pytest-benchmark file as Markdown"
    )
    parser.add_argument("result", type=Path, metavar="RESULT.json")
    parser.add_argument(
        "-o",
        "--output",
        type=output_path,
        metavar="MD",
        help="write here, with the plot beside it (default: print)",
    )
    return parser


def handle(args: argparse.Namespace) -> int:
    document = read_json(args.result, VALID)
    if args.output is not None:
        writable_path("--output", args.output)
        if os.path.realpath(args.output) == os.path.realpath(args.result):
            raise UsageError(
                f"--output: {str(args.output)!r} is the file it reads; valid: a path of its own"
            )
    if is_pytest_benchmark(document):
        lines = list(format_benchmark_markdown(document))
    elif is_claims(document):
        lines = list(format_claims_markdown(document))
    else:
        result = named_by_function(result_from(args.result, document, VALID), document)
        plot_file = None
        if args.output is not None:
            try:
                with writing("--output", args.output.with_suffix(".png")):
                    plot_file = plot_run(result, args.output.with_suffix(".png")).name
            except PlotUnavailable as error:
                print(f"note: no plot in the report: {error}", file=sys.stderr)
        lines = list(format_run_markdown(result, plot_file))
    text = "\n".join(lines) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        with writing("--output", args.output):
            args.output.write_text(text)
        print(f"report: {args.output}")
    return EXIT_OK
