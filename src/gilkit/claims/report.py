"""The claims as a table for people and as a JSON document; builds, never measures or prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from gilkit.claims.base import DOES_NOT_HOLD, GIL_ONLY, HOLDS, NOT_MEASURED, ClaimResult
from gilkit.host.cpus import cpu_model, usable_cpus
from gilkit.host.metadata import collect_metadata, python_now
from gilkit.present.formatting import format_python

SCHEMA = "gilkit.claims"
SCHEMA_VERSION = 1
STYLES = {HOLDS: "green", DOES_NOT_HOLD: "bold red", GIL_ONLY: "yellow"}


def format_header() -> str:
    return f"{format_python(python_now())} on {cpu_model()}, {usable_cpus()} usable cpus"


def format_claims(results: Sequence[ClaimResult]) -> Table:
    table = Table(title="the seed's claims, checked here", title_justify="left", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("claim (from the seed)", max_width=36)
    table.add_column("measured here")
    table.add_column("verdict", max_width=30)
    for result in results:
        style = STYLES.get(result.verdict, "dim")
        table.add_row(
            str(result.number),
            Text(result.claim),
            Text(result.measured),
            Text(shown_verdict(result), style=style),
        )
    return table


def shown_verdict(result: ClaimResult) -> str:
    """The verdict, without a reason for not measuring that the measured column gives."""
    reason = result.verdict.removeprefix(f"{NOT_MEASURED}: ")
    return (
        NOT_MEASURED if reason != result.verdict and reason in result.measured else result.verdict
    )


def claims_document(
    results: Sequence[ClaimResult], complete: bool, elapsed_s: float
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "metadata": collect_metadata(),
        "complete": complete,
        "elapsed_s": elapsed_s,
        "claims": [result.to_json() for result in results],
    }
