"""gilkit's pytest plugin in a suite of its own (pytester): a releasing call scales, a holding
one fails quoting its figures, a busy machine skips with the reason, pytest-benchmark keeps the
measurement and `gilkit report` shows it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gilkit.host.cpus import usable_cpus
from gilkit.host.metadata import gil_enabled
from tests.conftest import requires_native

pytest_plugins = ["pytester"]

SUITE = """
from gilkit import _native

N = 100_000_000  # ~30 ms a call here: the probe wants 20 ms or more

def test_releasing_scales(gil_scaling):
    gil_scaling(_native.squares_nogil, 0, N, 1).assert_scales(min_efficiency=0.7)

def test_holding_scales(gil_scaling):
    gil_scaling(_native.squares, 0, N, 1).assert_scales(min_efficiency=0.7)
"""
QUICK = ["--gil-scaling-budget", "0.5", "--gil-scaling-workers", "2", "-p", "no:cacheprovider"]
needs_two_cpus = pytest.mark.skipif(usable_cpus() < 2, reason="needs 2 usable cpus")


@pytest.mark.slow
@requires_native
@needs_two_cpus
@pytest.mark.skipif(not gil_enabled(), reason="without a GIL the holding call scales too")
def test_a_releasing_call_scales_and_a_holding_one_fails_with_its_figures(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_calls=SUITE)
    out = pytester.path / "bench.json"
    done = pytester.runpytest_subprocess(*QUICK, "-rs", f"--benchmark-json={out}")
    outcomes = done.parseoutcomes()
    if outcomes.get("skipped"):  # the machine was busy: the plugin said so, as it should
        done.stdout.fnmatch_lines(["*cannot tell whether*"])  # -rs: skip reasons shown
        return
    done.assert_outcomes(passed=1, failed=1)
    done.stdout.fnmatch_lines(
        ["*gilkit._native.squares does not scale: *× (±*) on 2 threads (ideal 2×*"]
    )
    done.stdout.fnmatch_lines(["*gilkit's probe: the call holds the GIL*"])
    # pytest-benchmark kept both measurements, and gilkit report shows them.
    benches = {b["name"]: b for b in json.loads(out.read_text())["benchmarks"]}
    assert benches["test_holding_scales"]["extra_info"]["gil_scaling"]["verdict"] == "holds"
    assert benches["test_releasing_scales"]["extra_info"]["gil_scaling"]["verdict"] in (
        "releases",
        "cannot-judge",
    )
    report = subprocess.run(
        [sys.executable, "-m", "gilkit", "report", str(out)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "## GIL scaling (gilkit's pytest plugin)" in report
    assert "| test_holding_scales | gilkit._native.squares | threads | 2 |" in report


@pytest.mark.slow
@requires_native
@needs_two_cpus
def test_a_busy_machine_skips_with_the_reason_instead_of_failing(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_calls=SUITE)
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(usable_cpus())
    ]
    try:
        done = pytester.runpytest_subprocess(*QUICK, "-rs")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    done.assert_outcomes(skipped=2)
    done.stdout.fnmatch_lines(["*cannot tell whether gilkit._native.squares* scales: *"])


def test_a_bad_worker_count_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_calls="def test_it(gil_scaling):\n    pass\n")
    done = pytester.runpytest_subprocess("--gil-scaling-workers", "two", "-p", "no:cacheprovider")
    assert done.ret == pytest.ExitCode.USAGE_ERROR
    done.stderr.fnmatch_lines(["*--gil-scaling-workers: 'two' is not a comma list*"])


def test_the_needs_cpus_marker_skips_where_the_cpus_are_too_few(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_calls="import pytest\n\n@pytest.mark.needs_cpus(10**6)\ndef test_it():\n    pass\n"
    )
    done = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider", "--strict-markers")
    done.assert_outcomes(skipped=1)
    done.stdout.fnmatch_lines(["*needs 1000000 usable cpus*"])
