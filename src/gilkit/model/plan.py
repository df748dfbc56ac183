"""Which cells to measure, as plain data: what gilkit.planning.plan returns and the engine runs.

A plan always holds the serial cells that speedups are taken against (each impl on one worker,
and pure Python), even when the user asked only for pool runners. When impls of a kernel run
at different sizes, the plan holds untimed check calls at the smallest size, so that every impl
is still compared with the others at one common n. A plan made of explicit cells (`Plan.of`)
leaves the splits and the checks to the engine, which fills them in as planning does
(gilkit.engine.defaults).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gilkit.model.cell import Cell

__all__ = ["DEFAULT_REPEATS", "DEFAULT_WARMUPS", "Cell", "Plan"]

# Seven: the fewest repeats with which `gilkit compare` can show a single cell changed among
# a kernel's 31 (see gilkit.analysis.significance); five, only a change several cells share.
DEFAULT_REPEATS = 7
DEFAULT_WARMUPS = 1


@dataclass(frozen=True)
class Plan:
    cells: tuple[Cell, ...]
    # Serial, untimed: each impl once at its kernel's smallest size. None: the engine's.
    checks: tuple[Cell, ...] | None = None
    splits: Mapping[str, str] = field(default_factory=dict)  # kernel -> split; else its default
    n_repeats: int = DEFAULT_REPEATS
    n_warmups: int = DEFAULT_WARMUPS
    start_method: str | None = None
    scheduler: str | None = None  # an existing Dask cluster for the dask runners
    unavailable: Mapping[str, str] = field(default_factory=dict)  # impl -> why it was left out
    monitor_gil: bool = True  # a last round of in-process calls with the GIL monitor on
    measure_capacity: bool = False  # what N busy native threads give here (gilkit.host.capacity)
    sizing: Mapping[str, Any] | None = None  # how the sizes were chosen (gilkit.planning.sizing)
    call_limit_s: float | None = None  # per call; None: derived from the calls so far
    run_limit_s: float | None = None  # for the whole run; None: none

    @classmethod
    def of(cls, cells: Sequence[Cell], **options: Any) -> Plan:
        """A plan of exactly these cells, as given (unsized: gilkit.plan sizes them here);
        the engine adds each kernel's default split and the check calls."""
        return cls(cells=tuple(cells), **options)

    @property
    def sizes(self) -> set[tuple[str, int]]:
        """Every (kernel, n) that needs its data prepared."""
        return {(c.kernel, c.size) for c in (*self.cells, *(self.checks or ()))}
