"""What the result file says about the kernels' runners, and the same for files written
before it described itself (versions 1 and 2), from what is installed here."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gilkit.kernels import KERNELS, describe_impls
from gilkit.model.results import RunResult, read_document
from gilkit.runners import RUNNERS


def describe_runners(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What each runner of the run is and how the kernels' data reaches its workers."""
    return {
        name: {
            "what": RUNNERS[name].description,
            "data": RUNNERS[name].data_transfer,
            "shares_interpreter": RUNNERS[name].shares_interpreter,
            "shares_gil": RUNNERS[name].workers_share_a_gil(),
            "in_process": RUNNERS[name].in_process,
        }
        for name in dict.fromkeys(names)
    }


def describe_old_result(result: RunResult) -> None:
    """Versions 1 and 2 did not describe their kernels: take what the kernels here say."""
    records = [*result.cells, *result.checks]
    for name in dict.fromkeys(r.kernel for r in records):
        sizes = {r.size for r in records if r.kernel == name}
        if name in KERNELS:
            result.kernels[name] = KERNELS[name].describe(sizes)
    result.impls = describe_impls(r.impl for r in records)
    known = [r.runner for r in records if r.runner in RUNNERS]
    result.metadata.setdefault("runners", describe_runners(known))


def from_document(document: Any) -> RunResult:
    """The run in a parsed result file of any readable version, described."""
    result = RunResult.from_json(document)
    if document.get("version", 3) < 3:
        describe_old_result(result)
    return result


def read_result(path: Path) -> RunResult:
    """A result file of any readable version, described."""
    return from_document(read_document(path))
