"""glibc's malloc thresholds, fixed for gilkit's process and the processes it starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gilkit.host import malloc

pytestmark = pytest.mark.skipif(
    malloc._mallopt() is None, reason="glibc's mallopt only (Linux with glibc)"
)

# steady_malloc in a fresh process (it sets this process's environment), then what a process
# it starts sees: the thresholds reach workers started by spawn, loky or Dask as well as forks.
CHILD = """
import json, os, subprocess, sys
from gilkit.host.malloc import malloc_settings, steady_malloc
before = malloc_settings()
now = steady_malloc()
ASK = "from gilkit.host.malloc import malloc_settings; print(malloc_settings())"
seen = subprocess.run(
    [sys.executable, "-c", ASK], capture_output=True, text=True, check=True
).stdout.strip()
print(json.dumps({"before": before, "now": now, "child": seen}))
"""


def run_child(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **env},
        timeout=60,
    )
    return dict(json.loads(done.stdout))


def test_the_thresholds_are_fixed_at_glibcs_maxima_here_and_in_children() -> None:
    seen = run_child()
    assert seen["before"] is None  # glibc's dynamic defaults
    assert seen["now"] == {"mmap_threshold": 32 << 20, "trim_threshold": 64 << 20}
    assert seen["child"] == str({"mmap_threshold": 32 << 20, "trim_threshold": 64 << 20})


def test_a_threshold_the_user_set_is_kept() -> None:
    seen = run_child(MALLOC_MMAP_THRESHOLD_="1048576")
    assert seen["now"] == {"mmap_threshold": 1 << 20, "trim_threshold": 64 << 20}


def test_the_gilkit_command_records_them_in_its_result(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    argv = ["run", "--kernel", "squares", "--impl", "python", "--runner", "serial"]
    argv += ["--workers", "1", "--size", "2000", "--repeat", "1", "--warmup", "0", "--quiet"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    subprocess.run(
        [sys.executable, "-m", "gilkit", *argv, "--json", str(out)],
        check=True,
        env=clean,
        timeout=120,
    )
    metadata = json.loads(out.read_text())["metadata"]
    assert metadata["malloc"] == {"mmap_threshold": 32 << 20, "trim_threshold": 64 << 20}
