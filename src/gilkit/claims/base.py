"""What an experiment returns, the verdicts it may give, and when a speedup counts as one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold here"
GIL_ONLY = "holds only on the GIL build"  # true with a GIL, false on this free-threaded run
NOT_MEASURED = "not measured"
VERDICTS = (HOLDS, DOES_NOT_HOLD, GIL_ONLY)

# A pool "scales" when it gains at least this fraction of what the extra cpus could give
# (1.25x on 2 cpus). GIL-bound threads stay near 1x; a shared VM that loses a cpu for a while
# pulls real parallel speedups down, but not to 1x over interleaved rounds.
SCALING_FRACTION = 0.25


def not_measured(reason: str) -> str:
    """The verdict of a claim that could not be checked here, with the reason."""
    return f"{NOT_MEASURED}: {reason}"


def is_verdict(text: str) -> bool:
    return text in VERDICTS or text.startswith(f"{NOT_MEASURED}: ")


def scales(speedup: float, ideal: int) -> bool:
    """Whether `speedup` shows parallel work, given the best possible speedup `ideal`."""
    return ideal > 1 and speedup >= 1 + SCALING_FRACTION * (ideal - 1)


@dataclass(frozen=True)
class ClaimResult:
    """One claim checked in this run: the verdict comes from `figures`, measured just now."""

    number: int
    claim: str  # the seed's words
    measured: str  # what was measured, with the deciding figures, for people
    verdict: str  # one of VERDICTS, or "not measured: <reason>"
    figures: Mapping[str, Any] = field(default_factory=dict)  # raw values, JSON-ready

    def __post_init__(self) -> None:
        if not is_verdict(self.verdict):
            raise ValueError(f"claim {self.number}: unknown verdict {self.verdict!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "claim": self.claim,
            "measured": self.measured,
            "verdict": self.verdict,
            "figures": dict(self.figures),
        }


@dataclass(frozen=True)
class Claim:
    """A claim of the seed, numbered as `gilkit claims --only` takes it."""

    number: int
    text: str

    def result(self, measured: str, verdict: str, figures: Mapping[str, Any]) -> ClaimResult:
        return ClaimResult(self.number, self.text, measured, verdict, figures)

    def not_measured(self, reason: str, figures: Mapping[str, Any] | None = None) -> ClaimResult:
        return self.result(f"nothing: {reason}", not_measured(reason), figures or {})
