"""What a run produced, as plain data, and its versioned JSON file.

Measuring fills `CellRecord`s with raw values only; statistics are computed when read
(gilkit.analysis.stats), so a file keeps everything needed to recompute them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gilkit.model.cell import label
from gilkit.model.facts import RunnerFacts, takes_turns

SCHEMA = "gilkit.run"
# Version history:
#   1: first format: metadata, options, one record per cell with raw times.
#   2: host_reference_s per cell (gilkit.host.speed).
#   3: the file describes itself: `kernels` (unit, what bounds it, its ideal-speedup rule,
#      work per n) and `impls` (a list in table order: name, what, whether parallel inside
#      one call), so it reads without the kernels importable; cells no longer store `noisy`
#      (a statistic). Later additions, still 3 (optional fields with defaults, so readers
#      take files with or without them), to `impls`: kind (what it does with the GIL),
#      kind_from (gilkit, kernel, probe or null), family, threads (whose threads an in-call
#      parallel impl uses), compile_s and compiled_from_cache (Numba); to cells:
#      machine_busy_s and machine_steal_s (gilkit.engine.interference), batch_size (tasks a pool
#      sends a worker at once: joblib batches), call_overhead_s (an empty call of the pool) and
#      `unsupported` (why the runner cannot run the impl at all); to options: sizing,
#      call_limit_s, run_limit_s and scheduler; to metadata: capacity, abandoned_calls,
#      runners (what each runner is, where its workers live, how data reaches them),
#      dask_cluster (the workers of a cluster gilkit did not start), matrix_s (the wall time
#      of the rounds of calls, to set beside the sizing's estimate), run_s (the whole run's)
#      and the versions of joblib, dask and distributed in build.
# Versions 1 and 2 are still read: gilkit.engine.descriptions.read_result describes them from
# the kernels and runners installed here.
SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)


class ResultFileError(ValueError):
    """A file that is not a gilkit result this version can read."""


class UnstorableResult(ValueError):
    """A kernel's result that the file cannot keep or compare: its cell's error."""


# Python writes ints of up to 4,300 digits as text by default (sys.set_int_max_str_digits);
# a larger result is stored by the rule in json_value, not refused.
MOST_INT_DIGITS = 4300


def plain(value: Any) -> Any:
    """A kernel's result as a plain Python value, which the file stores and every impl's
    result is compared as: NumPy scalars as their Python value (numpy.int64 -> int), NumPy
    arrays as lists; None, bool, int, float and str as they are; lists, tuples and
    str-keyed dicts of these. Anything else raises UnstorableResult, naming its type."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value).__module__ == "numpy":
        tolist = getattr(value, "tolist", None)  # scalars and arrays alike
        if callable(tolist):
            return plain(tolist())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: plain(item) for key, item in value.items()}
    raise UnstorableResult(
        f"result of type {type(value).__name__} cannot be stored; valid: numbers, strings, "
        "None, NumPy scalars and arrays, and lists or str-keyed dicts of these"
    )


def json_value(value: Any) -> Any:
    """A plain result as JSON keeps it: ints past MOST_INT_DIGITS digits as
    {"int_hex": "0x..."}, the rest as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MOST_INT_DIGITS * 3:  # 3 bits a digit: below the limit
            return {"int_hex": hex(value)}
        return value
    if isinstance(value, list):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    return value


@dataclass
class CellRecord:
    kernel: str
    impl: str
    runner: str
    n_workers: int
    size: int
    split: str
    times_s: list[float] = field(default_factory=list)  # one wall time per timed repeat
    # CPU seconds (user + sys) per timed repeat: this process, and its worker processes.
    cpu_parent_s: list[float] = field(default_factory=list)
    cpu_workers_s: list[float] = field(default_factory=list)
    # The machine's speed just before each timed repeat: seconds for gilkit.host.speed's loop.
    host_reference_s: list[float] = field(default_factory=list)
    # All cpus' busy and stolen seconds during each timed repeat (gilkit.engine.interference): less
    # the cpu time above, what other processes and the hypervisor took. Empty off Linux.
    machine_busy_s: list[float] = field(default_factory=list)
    machine_steal_s: list[float] = field(default_factory=list)
    # Peak resident memory over the timed repeats, this process and the pool's workers.
    peak_rss_parent_bytes: int | None = None
    peak_rss_workers_bytes: int | None = None
    # In-process runners: more calls, ~0.2 s, with a GIL monitor thread running (untimed).
    gil_contention: float | None = None  # share of those calls the monitor waited for the GIL
    monitored_time_s: float | None = None  # their mean wall time, to show the monitor's cost
    gil_enabled: bool | None = None  # in the interpreter(s) that ran the cell, while it ran
    result: Any = None  # the combined result of the last call (all calls must agree)
    agrees: bool | None = None  # with the kernel's reference result; None until checked
    pool_startup_s: float | None = None  # starting this cell's pool, apart from the work
    pool_memory_bytes: int | None = None  # what starting the pool added: this process + workers
    dispatch_s: float | None = None  # the pool's cost per empty task
    call_overhead_s: float | None = None  # a call of one empty task per worker, in the pool
    batch_size: int | str | None = None  # tasks sent to a worker at once: 1, or joblib's "auto"
    start_method: str | None = None  # processes only
    error: str | None = None
    # Why this runner cannot run this impl at all (an extension that refuses to load in a
    # subinterpreter): the cell is left unmeasured, and that is a finding, not a failure.
    unsupported: str | None = None

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.kernel, self.impl, self.runner, self.n_workers)

    @property
    def label(self) -> str:
        return label(*self.key)

    @property
    def ok(self) -> bool:
        """Nothing failed: no error and no wrong result (an unsupported cell is ok, and so is
        one the run's stop cut before it had a time)."""
        return self.error is None and self.agrees is not False

    @property
    def stopped(self) -> bool:
        """Left without a time and without an error: the run stopped (a signal, --max-time)
        before its first timed call. Not measured, not a failure."""
        return not self.times_s and self.error is None and self.unsupported is None


@dataclass
class RunResult:
    metadata: dict[str, Any]
    options: dict[str, Any]
    cells: list[CellRecord] = field(default_factory=list)
    checks: list[CellRecord] = field(default_factory=list)  # untimed calls at a common size
    references: dict[str, Any] = field(default_factory=dict)  # kernel -> {size: result}
    complete: bool = False  # False when the run was interrupted or failed midway
    # kernel -> {unit, bound, ideal, work: {n: units}, ...}: gilkit.kernels.Kernel.describe
    kernels: dict[str, dict[str, Any]] = field(default_factory=dict)
    # impl -> {what, kind, kind_from, family, threads, in_call_parallel, ...}, in table order
    impls: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def usable_cpus(self) -> int:
        return int(self.metadata["cpu"]["usable_cpus"])

    def bound(self, kernel: str) -> str:
        """What limits the kernel's work, as its description says: cpu, memory or io."""
        return str(self.kernels.get(kernel, {}).get("bound", "cpu"))

    def takes_turns(self, kernel: str, impl: str) -> bool:
        """Whether workers sharing a GIL take turns on the impl's calls (facts.takes_turns)."""
        return takes_turns(str(self.impls.get(impl, {}).get("kind")), self.bound(kernel))

    def in_call_parallel(self, impl: str) -> bool:
        """Whether `impl` parallelises inside one call (OpenMP): workers are its threads."""
        return bool(self.impls.get(impl, {}).get("in_call_parallel"))

    def threads_of(self, impl: str) -> str:
        """Whose threads an in-call parallel impl runs on: OpenMP, Numba, or its own."""
        return self.impls.get(impl, {}).get("threads") or "its own"

    def runner_facts(self, runner: str) -> RunnerFacts | None:
        """Where `runner`'s workers lived, as the file declares (None: not recorded)."""
        record = self.metadata.get("runners", {}).get(runner)
        return None if not record else RunnerFacts.from_record(record)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": SCHEMA_VERSION,
            "metadata": self.metadata,
            "options": self.options,
            "references": json_value(self.references),
            "complete": self.complete,
            "kernels": self.kernels,
            # A list: the order is the tables' and JSON objects are written with sorted keys.
            "impls": [{"name": name, **facts} for name, facts in self.impls.items()],
            "cells": [_record_json(cell) for cell in self.cells],
            "checks": [_record_json(check) for check in self.checks],
        }

    @classmethod
    def from_json(cls, document: Any) -> RunResult:
        if not isinstance(document, dict) or document.get("schema") != SCHEMA:
            raise ResultFileError("not a gilkit run result (no 'schema': 'gilkit.run')")
        version = document.get("version")
        if version not in READABLE_VERSIONS:
            raise ResultFileError(
                f"unsupported result version {version!r}; this gilkit reads "
                f"{', '.join(map(str, READABLE_VERSIONS))}"
            )
        try:
            cells = [_record(cell) for cell in document["cells"]]
            checks = [_record(check) for check in document["checks"]]
            result = cls(
                document["metadata"],
                document["options"],
                cells,
                checks,
                document["references"],
                document["complete"],
                document.get("kernels", {}),
                {impl.pop("name"): impl for impl in map(dict, document.get("impls", []))},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ResultFileError(f"malformed gilkit result: {error!r}") from error
        _check_values(result)
        return result


def _record_json(record: CellRecord) -> dict[str, Any]:
    fields = asdict(record)
    fields["result"] = json_value(fields["result"])
    return fields


RECORD_FIELDS = frozenset(f.name for f in dataclasses.fields(CellRecord))
NAME_FIELDS = ("kernel", "impl", "runner", "split")


def _record(fields: dict[str, Any]) -> CellRecord:
    """A cell as the file holds it. Fields this gilkit does not know are left out: a newer
    gilkit's file still reads (forward compatible), as versions 1 and 2's `noisy` does.
    Control characters in names are escaped, so that printing a file never sends the
    terminal an escape sequence."""
    known = {key: value for key, value in dict(fields).items() if key in RECORD_FIELDS}
    for name in NAME_FIELDS:
        if isinstance(known.get(name), str):
            known[name] = printable(known[name])
    return CellRecord(**known)


def printable(text: str) -> str:
    """`text` with control characters (ESC, CR, ...) written as escapes: \\x1b."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


# What every figure of a cell must be; a file that breaks it was edited or damaged.
SECONDS_LISTS = (
    "times_s",
    "cpu_parent_s",
    "cpu_workers_s",
    "host_reference_s",
    "machine_busy_s",
    "machine_steal_s",
)
OPTIONAL_SECONDS = ("gil_contention", "monitored_time_s", "pool_startup_s", "dispatch_s")
OPTIONAL_BYTES = ("peak_rss_parent_bytes", "peak_rss_workers_bytes", "pool_memory_bytes")
# Past these a figure was edited, not measured: a call of 115 days, a million workers.
MOST_SECONDS = 1e7
MOST_WORKERS = 10**6
MOST_SIZE = 2**63 - 1


def _is_figure(value: Any, integral: bool = False, most: float = math.inf) -> bool:
    """A finite number from 0 to `most` (an int where `integral`); booleans are not numbers."""
    kinds = (int,) if integral else (int, float)
    return (
        isinstance(value, kinds)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= most
    )


def _check_values(result: RunResult) -> None:
    """Refuse what would make a statistic meaningless or crash it, naming the cell and field."""
    cpu = result.metadata.get("cpu") if isinstance(result.metadata, dict) else None
    cpus = cpu.get("usable_cpus") if isinstance(cpu, dict) else None
    if not (isinstance(cpus, int) and _is_figure(cpus, integral=True) and cpus >= 1):
        raise ResultFileError(f"metadata.cpu.usable_cpus: {cpus!r} is not an integer >= 1")
    for group, records in (("cells", result.cells), ("checks", result.checks)):
        seen: dict[tuple[str, str, str, int, int], int] = {}
        for index, record in enumerate(records):
            problem = _problem(record)
            if problem is not None:
                raise ResultFileError(f"{group}[{index}] ({record.label}): {problem}")
            key = (*record.key, record.size)
            if key in seen:
                raise ResultFileError(
                    f"{group}[{index}] ({record.label}): the same cell as {group}[{seen[key]}]"
                )
            seen[key] = index


def _problem(record: CellRecord) -> str | None:
    if not (_is_figure(record.n_workers, True, MOST_WORKERS) and record.n_workers >= 1):
        return f"n_workers: {record.n_workers!r} is not an integer from 1 to {MOST_WORKERS:,}"
    if not _is_figure(record.size, integral=True, most=MOST_SIZE):
        return f"size: {record.size!r} is not an integer from 0 to 2**63 - 1"
    for name in (*NAME_FIELDS[:3],):
        if not isinstance(getattr(record, name), str):
            return f"{name}: {getattr(record, name)!r} is not a name"
    for name in SECONDS_LISTS:
        values = getattr(record, name)
        for value in values if isinstance(values, list) else [values]:
            if not _is_figure(value, most=MOST_SECONDS):
                return f"{name}: {value!r} is not a number of seconds from 0 to {MOST_SECONDS:g}"
    for name in OPTIONAL_SECONDS:
        value = getattr(record, name)
        if value is not None and not _is_figure(value, most=MOST_SECONDS):
            return f"{name}: {value!r} is not a number of seconds from 0 to {MOST_SECONDS:g}"
    for name in OPTIONAL_BYTES:
        value = getattr(record, name)
        if value is not None and not _is_figure(value, integral=True):
            return f"{name}: {value!r} is not an integer >= 0"
    return None


def write_atomically(result: RunResult, path: Path) -> None:
    write_json_atomically(result.to_json(), path)


def write_json_atomically(document: dict[str, Any], path: Path) -> None:
    """Write the JSON beside `path` and rename it over: a reader never sees half a file.

    A symlink is followed (its target is replaced, the link kept); the file gets the mode
    that the umask gives a new file, as any other program's output would.
    """
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp made it 0600
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "w") as f:
            json.dump(document, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# A temporary file of write_json_atomically lives for the milliseconds of one write; one this
# old was left by a process killed while writing (SIGKILL, a power cut).
STALE_TEMPORARY_S = 60.0


def remove_stale_temporaries(path: Path) -> None:
    """Remove `.NAME.XXXX` files that writes of `path` killed midway left beside it."""
    now = time.time()
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*"):
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to remove
            if leftover.is_file() and now - leftover.stat().st_mtime > STALE_TEMPORARY_S:
                leftover.unlink()


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def read_document(path: Path) -> Any:
    """A result file's JSON, or ResultFileError saying it is not JSON (or nested deeper than
    any result file is: Python's parser would run out of stack)."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ResultFileError(f"{path}: not JSON ({error})") from error
    except RecursionError:
        raise ResultFileError(f"{path}: nested too deeply to be a gilkit result") from None


def load(path: Path) -> RunResult:
    """A result file as it is (versions 1 and 2 undescribed: see engine.descriptions)."""
    return RunResult.from_json(read_document(path))
