"""gilkit's pytest plugin, for extension authors' own suites: "this call still releases the
GIL, and W calls at once still run W times as fast" as a test.

`pip install gilkit` registers it (the `pytest11` entry point). It adds the fixture
`gil_scaling`, the marker `needs_cpus(n)` and two options; see docs/pytest-plugin.md.

    def test_my_kernel_scales(gil_scaling):
        result = gil_scaling(my_extension.kernel, big_input)
        result.assert_scales(min_efficiency=0.8)

`gil_scaling(fn, *args, workers=None, runner="threads", tasks=None, **kwargs)` measures, through
gilkit's engine, W calls one after another against W calls at once in the runner for each W
(default: 2 and the usable cpus), and returns a gilkit.gil.scaling.Scaling: `.speedup[W]`
(median and spread of the paired ratios), `.verdict` (gilkit's probe), `.efficiency[W]` and
`.of_capacity[W]` (against the ideal and against what the machine gives, measured once per
session) and `.interfered`. With pytest-benchmark installed and enabled, the measurement is
stored as the test's benchmark (the parallel calls' times; the rest in `extra_info`), so
`--benchmark-json` keeps it and `gilkit report` shows it. Heavy imports wait for a test that
uses the fixture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from gilkit.gil.scaling import Scaling

BUDGET_OPTION = "--gil-scaling-budget"
WORKERS_OPTION = "--gil-scaling-workers"
DEFAULT_BUDGET_S = 4.0  # per gil_scaling call: ~3.5 s for calls of 50 ms on 2 cpus


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gilkit", "gilkit: GIL release and scaling of your calls")
    group.addoption(
        BUDGET_OPTION,
        type=float,
        default=DEFAULT_BUDGET_S,
        metavar="SECONDS",
        help="time for each gil_scaling call's timed rounds (default: %(default)s)",
    )
    group.addoption(
        WORKERS_OPTION,
        default=None,
        metavar="N,...",
        help="worker counts for gil_scaling (default: 2 and the usable cpus)",
    )


def pytest_configure(config: pytest.Config) -> None:
    worker_counts(config)  # a bad value stops the session at once, as a usage error
    config.addinivalue_line(
        "markers", "needs_cpus(n): skip where fewer than n cpus are usable (gilkit; default 2)"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("needs_cpus"):
        from gilkit.host.cpus import usable_cpus

        needed = int(marker.args[0]) if marker.args else 2
        if usable_cpus() < needed:
            pytest.skip(f"needs {needed} usable cpus, this machine has {usable_cpus()}")


def worker_counts(config: pytest.Config) -> list[int] | None:
    """--gil-scaling-workers, checked: a usage error names the bad value."""
    text = config.getoption(WORKERS_OPTION)
    if text is None:
        return None
    items = [item.strip() for item in str(text).split(",")]
    if not all(item.isdigit() and int(item) >= 1 for item in items):
        raise pytest.UsageError(
            f"{WORKERS_OPTION}: {text!r} is not a comma list of worker counts; valid: e.g. 2,4"
        )
    return sorted({int(item) for item in items})


@pytest.fixture(scope="session")
def gil_scaling_capacity(pytestconfig: pytest.Config) -> dict[str, Any]:
    """What N busy native threads reach here, measured once per session (gilkit.host)."""
    from gilkit.gil.scaling import default_workers
    from gilkit.host.capacity import measure_capacity
    from gilkit.host.cpus import usable_cpus

    counts = worker_counts(pytestconfig) or default_workers(usable_cpus())
    return measure_capacity(counts)


@pytest.fixture
def gil_scaling(
    request: pytest.FixtureRequest, gil_scaling_capacity: dict[str, Any]
) -> Callable[..., Scaling]:
    """A function that measures how a call scales; see the module's docstring."""
    from gilkit.gil.scaling import measure_scaling

    config = request.config

    def measure(
        fn: Callable[..., object],
        /,
        *args: Any,
        workers: list[int] | None = None,
        runner: str = "threads",
        tasks: int | None = None,
        **kwargs: Any,
    ) -> Scaling:
        capacity = gil_scaling_capacity.get("compute")
        scaling = measure_scaling(
            fn,
            args,
            kwargs,
            workers=workers or worker_counts(config),
            runner=runner,
            tasks=tasks,
            budget_s=config.getoption(BUDGET_OPTION),
            capacity=None if capacity is None else {"compute": capacity},
        )
        store_in_benchmark(request, scaling)
        return scaling

    return measure


def store_in_benchmark(request: pytest.FixtureRequest, scaling: Scaling) -> None:
    """Keep the measurement as the test's pytest-benchmark record, where that plugin is
    installed and enabled: the largest worker count's parallel call times as the timings,
    the figures in extra_info (what `gilkit report` reads)."""
    if not request.config.pluginmanager.hasplugin("benchmark"):  # pytest-benchmark's name
        return
    benchmark = request.getfixturevalue("benchmark")
    if benchmark.disabled or getattr(benchmark, "_mode", None):
        return  # disabled (or xdist), or the test's one benchmark is taken already
    n_workers = max(scaling.speedup)
    pool = next(
        r for r in scaling.result.cells if r.runner == scaling.runner and r.n_workers == n_workers
    )
    # pytest-benchmark's own record of one benchmark (BenchmarkFixture._make_stats, as its
    # pedantic mode makes it), filled with the times gilkit's engine measured.
    stats = benchmark._make_stats(1)
    for seconds in pool.times_s:
        stats.update(seconds)
    benchmark._mode = "gilkit.gil_scaling(...)"
    speedup = scaling.speedup[n_workers]
    benchmark.extra_info.update(
        kernel=scaling.name,
        impl="call",
        runner=scaling.runner,
        workers=n_workers,
        speedup_vs_serial=speedup.median,
        speedup_cv=speedup.cv,
        gil_scaling={
            "verdict": scaling.verdict.value,
            "efficiency": scaling.efficiency[n_workers],
            "of_capacity": scaling.of_capacity[n_workers],
            "capacity": scaling.capacity[n_workers],
            "interfered": scaling.interfered,
            "call_s": scaling.call_s,
            "usable_cpus": scaling.usable_cpus,
        },
        gil_enabled=pool.gil_enabled,
    )
