#!/usr/bin/env python3
"""Run gilkit's fault cases as a user would meet them and print one table: the command, how it
was disturbed, its exit status, the seconds from the signal to its exit, the cells its result
file kept, and the processes of its tree still alive 2 s after it exited.

    python scripts/fault-cases.py            # from the repository root, gilkit installed

The faulty kernels and calls are the test suite's (tests/test_faults.py); each case runs in a
fresh temporary folder. tests/test_faults.py asserts the same behaviour case by case; this
script puts the figures side by side for a closing note or a bug report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_faults import CALLS, FAULTS, QUICK

RUN = ["run", *QUICK, "--workers", "2", "--json", "out.json"]


@dataclass(frozen=True)
class Case:
    argv: list[str]
    signum: int | None = None  # sent after `after_s`, once the tree has `tree` processes
    after_s: float = 1.0
    tree: int = 0

    @property
    def disturbed(self) -> str:
        if self.signum is None:
            return "-"
        return f"{signal.Signals(self.signum).name} after {self.after_s:g} s"


CASES = [
    Case(
        [*RUN, "--kernel", "faults:HEALTHY,faults:HANGS", "--runner", "threads"],
        signal.SIGINT,
        after_s=0.6,
    ),
    Case(
        [*RUN, "--kernel", "faults:HEALTHY,faults:HANGS", "--runner", "threads"],
        signal.SIGINT,
        after_s=3.0,
    ),
    Case(
        [*RUN, "--kernel", "faults:HANGS_IN_POOLS", "--runner", "processes"],
        signal.SIGTERM,
        after_s=3.0,
        tree=2,
    ),
    Case(
        [*RUN, "--kernel", "faults:HANGS_IN_POOLS", "--runner", "processes"],
        signal.SIGKILL,
        after_s=3.0,
        tree=2,
    ),
    Case(
        [*RUN, "--kernel", "faults:HANGS_IN_POOLS", "--runner", "dask-processes"],
        signal.SIGINT,
        after_s=4.0,
        tree=2,
    ),
    Case(
        [*RUN, "--kernel", "faults:HANGS_IN_POOLS", "--runner", "dask-threads"],
        signal.SIGTERM,
        after_s=4.0,
        tree=1,
    ),
    Case([*RUN, "--kernel", "faults:HANGS_IN_POOLS", "--runner", "processes", "--timeout", "2"]),
    Case([*RUN, "--kernel", "faults:SPAWNS_THEN_HANGS", "--runner", "processes", "--timeout", "2"]),
    Case([*RUN, "--kernel", "faults:EXITS,faults:INTERRUPTS", "--runner", "threads"]),
    Case(["probe", "calls:segfaults"]),
    Case(["probe", "calls:leaves"]),
    Case(["probe", "calls:hangs", "--timeout", "2"]),
    Case(["probe", "calls:hangs_later", "--timeout", "1"]),
    Case(["probe", "zlib:compress", "--arg", "bytes:100M"], signal.SIGTERM, after_s=3.0),
    Case(["probe", "zlib:compress", "--arg", "bytes:999G"]),
    Case(["advise", "calls:segfaults", "--budget", "4"]),
    Case(
        ["advise", "zlib:compress", "--arg", "bytes:4M", "--tasks", "400", "--json", "out.json"],
        signal.SIGINT,
        after_s=10.0,
    ),
    Case(["granularity", "--k", "1e30"]),
]


def run_case(case: Case, folder: Path) -> list[str]:
    (folder / "faults.py").write_text(FAULTS)
    (folder / "calls.py").write_text(CALLS)
    env = {**os.environ, "GILKIT_TEST_PIDS": str(folder / "pids.txt")}
    process = subprocess.Popen(
        [sys.executable, "-m", "gilkit", *case.argv],
        cwd=folder,
        env=env,
        # As a terminal starts it: SIGINT at its default (a background job inherits it ignored).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: dict[int, psutil.Process] = {}
    began = time.monotonic()
    sent = None
    while process.poll() is None:
        try:
            seen.update((p.pid, p) for p in psutil.Process(process.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            break
        ready = time.monotonic() - began >= case.after_s and len(seen) >= case.tree
        if case.signum is not None and sent is None and ready:
            process.send_signal(case.signum)
            sent = time.monotonic()
        if time.monotonic() - began > 300:
            process.kill()
        time.sleep(0.02)
    err = process.communicate()[1]
    ended = time.monotonic()
    took = ended - (sent if sent is not None else began)
    spawned = folder / "pids.txt"
    if spawned.exists():
        for pid in spawned.read_text().split():
            if psutil.pid_exists(int(pid)):
                seen[int(pid)] = psutil.Process(int(pid))
    _, alive = psutil.wait_procs(list(seen.values()), timeout=2)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for leftover in alive:
        leftover.kill()
    kept = "-"
    result = folder / "out.json"
    if result.exists():
        cells = json.loads(result.read_text())["cells"]
        kept = f"{sum(1 for c in cells if c['times_s'])} of {len(cells)}"
    last = (err.strip().splitlines() or [""])[-1]
    return [
        "gilkit " + shown(case.argv),
        case.disturbed,
        str(process.returncode),
        f"{took:.1f}",
        kept,
        str(len(alive)),
        last[:60],
    ]


def shown(argv: list[str]) -> str:
    """The command as the table shows it: a run's common options left out."""
    if argv[: len(RUN)] == RUN:
        return " ".join(["run", *argv[len(RUN) :]])
    return " ".join(a for a in argv if a not in ("--json", "out.json"))


def main() -> None:
    rows = []
    for case in CASES:
        with tempfile.TemporaryDirectory(prefix="gilkit-fault-") as folder:
            rows.append(run_case(case, Path(folder)))
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    header = ["command", "disturbed", "exit", "s to stop", "cells kept", "left", "last line"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")


if __name__ == "__main__":
    main()
