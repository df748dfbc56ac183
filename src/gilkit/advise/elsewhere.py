"""Ways measured under another interpreter (`gilkit advise --python PATH`): above all the
threads of a free-threaded build, which run Python in parallel. That interpreter runs its own
`gilkit advise` and writes its advice; its ways join this one's, compared with this
interpreter's serial map by the median time per task. The two runs are not paired round by
round, so their figures carry the drift between them: the lines say so."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from gilkit.advise.rules import SERIAL, Way


def ways_from(advice: Mapping[str, Any], here_serial: Way, python: str) -> list[Way]:
    """The non-serial ways of another interpreter's advice (its file's "advice"), with
    speedups against `here_serial`: this interpreter's median per task over theirs; the
    spread from their fastest and slowest rounds."""
    base = statistics.median(here_serial.task_times_s) if here_serial.task_times_s else None
    gil_there = bool(advice.get("task", {}).get("gil_enabled", True))
    found = []
    for way in advice.get("ways", []):
        if way.get("runner") == SERIAL:
            continue
        times = tuple(float(t) for t in way.get("task_times_s") or ())
        error = way.get("error")
        measured = base is not None and bool(times) and error is None and min(times) > 0
        found.append(
            Way(
                runner=str(way["runner"]),
                workers=int(way["workers"]),
                speedup=base / statistics.median(times) if measured and base else None,
                low=base / max(times) if measured and base else None,
                high=base / min(times) if measured and base else None,
                task_times_s=times,
                error=error if error is not None or measured else "not measured there",
                shares_gil=bool(way.get("shares_gil")) and gil_there,
                copies=bool(way.get("copies")),
                startup_s=way.get("startup_s"),
                empty_task_s=way.get("empty_task_s"),
                memory_bytes=way.get("memory_bytes"),
                python=python,
            )
        )
    return found
