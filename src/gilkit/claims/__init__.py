"""`gilkit claims`: check, on this machine, what the seed says about threads and processes.

Each claim of the tutorial is one small experiment that returns a `ClaimResult` (what was
measured, the verdict, the raw figures). The registry and `run_claims` are loaded lazily:
child processes started by spawn or forkserver import this package to find their targets
(`gilkit.claims.children`), and should not have to import every experiment for that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gilkit.claims.base import (
    DOES_NOT_HOLD,
    GIL_ONLY,
    HOLDS,
    VERDICTS,
    Claim,
    ClaimResult,
    is_verdict,
    not_measured,
)

if TYPE_CHECKING:
    from gilkit.claims.registry import EXPERIMENTS, Experiment, iter_claims, run_claims

__all__ = [
    "DOES_NOT_HOLD",
    "EXPERIMENTS",
    "GIL_ONLY",
    "HOLDS",
    "VERDICTS",
    "Claim",
    "ClaimResult",
    "Experiment",
    "is_verdict",
    "iter_claims",
    "not_measured",
    "run_claims",
]

_LAZY = {"EXPERIMENTS", "Experiment", "iter_claims", "run_claims"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from gilkit.claims import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'gilkit.claims' has no attribute {name!r}")
