"""`gilkit claims`: check the seed's claims about threads and processes on this machine.

Every verdict comes from an experiment run now (about half a minute in all on 2 cpus); the
table says what was measured, and --json keeps the raw figures.
"""

from __future__ import annotations

import argparse
import time

from gilkit.claims import ClaimResult
from gilkit.claims.base import NOT_MEASURED, Claim
from gilkit.claims.registry import NUMBERS, failed, iter_claims
from gilkit.claims.report import claims_document, format_claims, format_header
from gilkit.cli.console import make_console, make_progress, output_path, writable_path
from gilkit.model.results import write_json_atomically
from gilkit.model.units import plural
from gilkit.planning.values import UsageError, comma_list, integer

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "claims", help="check the seed's claims about threads and processes, here and now"
    )
    parser.add_argument(
        "--only",
        metavar="N,...",
        help=f"comma list of claim numbers to check (default: all, {NUMBERS[0]}-{NUMBERS[-1]})",
    )
    parser.add_argument(
        "--json",
        type=output_path,
        metavar="PATH",
        help="also write the results and raw figures here",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def parse_only(text: str | None) -> list[int]:
    """Claim numbers from --only, or all; a UsageError names a bad one and the valid ones."""
    if text is None:
        return list(NUMBERS)
    valid = ", ".join(map(str, NUMBERS))

    def number(item: str) -> int:
        if not item.isdigit() or int(item) not in NUMBERS:
            raise UsageError(f"--only: unknown claim {item!r}; valid: {valid}")
        return integer("--only", item)

    return sorted(comma_list("--only", text, number))


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def handle(args: argparse.Namespace) -> int:
    numbers = parse_only(args.only)
    json_path = None if args.json is None else writable_path("--json", args.json)
    err = make_console(stderr=True, quiet=args.quiet)
    out = make_console()
    results: list[ClaimResult] = []
    status = EXIT_OK
    progress = make_progress(err, 60)
    began = time.perf_counter()
    try:
        with progress:
            task = progress.add_task("starting", total=len(numbers))

            def on_progress(claim: Claim) -> None:
                progress.update(task, description=shorten(f"{claim.number}. {claim.text}", 60))
                progress.refresh()

            for result in iter_claims(numbers, on_progress):
                results.append(result)
                progress.update(task, advance=1)
                progress.refresh()
    except KeyboardInterrupt:
        err.print("interrupted: showing the claims checked so far", markup=False)
        status = EXIT_INTERRUPTED
    elapsed_s = time.perf_counter() - began
    if json_path is not None:
        document = claims_document(results, complete=status == EXIT_OK, elapsed_s=elapsed_s)
        write_json_atomically(document, json_path)
    out.print(format_header(), markup=False, highlight=False)
    if results:
        out.print(format_claims(results))
    broken = [result for result in results if failed(result)]
    if broken and status == EXIT_OK:
        status = EXIT_FAILED
    unmeasured = sum(result.verdict.startswith(NOT_MEASURED) for result in results)
    checked = len(results) - unmeasured
    summary = f"{checked} of {len(numbers)} claims checked in {elapsed_s:.1f} s"
    if unmeasured:
        summary += f"; {unmeasured} not measured here (the table says why)"
    if broken:
        summary += f"; {plural(len(broken), 'experiment')} failed"
    if json_path is not None:
        summary += f"; results: {json_path}"
    out.print(summary, markup=False, highlight=False)
    return status
