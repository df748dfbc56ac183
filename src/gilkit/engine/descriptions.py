"""What the result file says about the kernels' runners, and the same for files written
before it described itself (versions 1 and 2), from what is installed here."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gilkit.kernels import IMPLS, KERNELS, describe_impls
from gilkit.model.results import RunResult, read_document
from gilkit.runners import RUNNERS


def describe_runners(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What each runner of the run is, where its workers live and how data reaches them."""
    return {
        name: RUNNERS[name].facts.record(RUNNERS[name].description) for name in dict.fromkeys(names)
    }


def describe_old_result(result: RunResult) -> None:
    """Versions 1 and 2 did not describe their kernels: take what the kernels here say."""
    records = [*result.cells, *result.checks]
    for name in dict.fromkeys(r.kernel for r in records):
        sizes = {r.size for r in records if r.kernel == name}
        if name in KERNELS:
            result.kernels[name] = KERNELS[name].describe(sizes)
    result.impls = describe_impls(r.impl for r in records)


def from_document(document: Any) -> RunResult:
    """The run in a parsed result file of any readable version, described: what a file left
    out (versions 1 and 2 everything; early version 3 files the runners' facts and whose
    threads an in-call impl used) is taken from what is installed here."""
    result = RunResult.from_json(document)
    if document.get("version", 3) < 3:
        describe_old_result(result)
    records = [*result.cells, *result.checks]
    if "runners" not in result.metadata:
        known = (r.runner for r in records if r.runner in RUNNERS)
        result.metadata["runners"] = describe_runners(known)
    for name, facts in result.impls.items():
        if facts.get("in_call_parallel") and not facts.get("threads") and name in IMPLS:
            facts["threads"] = IMPLS[name].threads
    return result


def read_result(path: Path) -> RunResult:
    """A result file of any readable version, described."""
    return from_document(read_document(path))
