"""One planning step: `gilkit run`, the library's gilkit.plan and bench/ make the same plan
for the same options, because all three call gilkit.planning.plan."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import gilkit
from gilkit import planning
from gilkit.cli import build_parser
from gilkit.cli.run import plan_from
from gilkit.kernels import KERNELS
from gilkit.kernels.base import define_kernel
from gilkit.planning import values
from gilkit.planning.sizing import Sizing
from gilkit.planning.values import UsageError
from gilkit.present.tables import format_sizing

BENCH = Path(__file__).resolve().parents[1] / "bench" / "conftest.py"


def fake_sizes(kernels: Sequence[str], impls: Sequence[str], *args: Any, **kwargs: Any) -> Sizing:
    """Sizes that depend on the kernel and impl only: timing would make every plan differ."""
    sizes = {
        k: {i: 1000 + 10 * len(i) + len(k) for i in impls if i in KERNELS[k].chunk_fns}
        for k in kernels
    }
    return Sizing(sizes, "strong", 0.02, 0.02, None, 2, {}, 90.0, 1.0)


@pytest.fixture
def sized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "machine_sizes", fake_sizes)


def bench_module() -> Any:
    spec = importlib.util.spec_from_file_location("gilkit_bench_conftest", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cli_options(options: dict[str, Any]) -> list[str]:
    argv = ["run"]
    for name, value in options.items():
        text = value if isinstance(value, str) else ",".join(map(str, value))
        argv += [f"--{name.rstrip('s') if name != 'kernels' else 'kernel'}", text]
    return argv


@pytest.mark.usefixtures("sized")
def test_run_the_library_and_bench_plan_the_same_cells_at_the_same_n() -> None:
    bench = bench_module()
    options = bench.BENCH_OPTIONS
    args = build_parser().parse_args(cli_options(options))
    from_cli = plan_from(args)
    from_library = gilkit.plan(**options)
    assert from_cli.cells == from_library.cells == bench.PLAN.cells
    assert from_cli.checks == from_library.checks == bench.PLAN.checks
    assert from_cli.sizing == from_library.sizing == bench.PLAN.sizing
    # Every cell is sized as the fake sizing said: none kept a kernel's unsized default.
    assert {c.size for c in from_cli.cells} >= {1000 + 10 * len("python") + len("squares")}


@pytest.mark.usefixtures("sized")
def test_the_library_takes_python_values_and_option_text_alike() -> None:
    assert gilkit.plan("squares", ["python", "cython"], "serial,threads", [1, 2]) == gilkit.plan(
        ["squares"], "python,cython", ["serial", "threads"], "1,2"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kernels": "nope"}, "--kernel: unknown value 'nope'; valid: "),
        ({"workers": [0]}, "--workers: '0' is not an integer >= 1"),
        ({"repeat": 0}, "--repeat: '0' is not an integer >= 1"),
        ({"runners": "threads", "scheduler": "tcp://x:1"}, "--scheduler: only the dask runners"),
    ],
)
def test_a_bad_value_is_one_line_naming_it_and_the_valid_ones(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(")) as caught:
        gilkit.plan(**values, size_here=False)
    assert "\n" not in str(caught.value)


# A user's kernel: 2,000 pure-Python squares per call at its declared size.
def python_squares(part: range, params: None) -> int:
    return sum(i * i for i in part)


USER_KERNEL = define_kernel("user-squares", {"python": python_squares}, size=2000)


def test_a_users_kernel_keeps_its_sizes_and_its_calls_count_in_the_estimate() -> None:
    plan = gilkit.plan("tests.test_planning:USER_KERNEL", runners="serial,threads", workers=[2])
    assert {cell.size for cell in plan.cells} == {2000}
    assert plan.sizing is not None
    assert plan.sizing["declared"] == ["tests.test_planning:USER_KERNEL"]
    assert plan.sizing["serial_s"]["tests.test_planning:USER_KERNEL"]["python"] > 0
    assert plan.sizing["estimated_s"] > 0  # it said "about 0 s" before
    line = format_sizing(plan.sizing)
    assert "at the sizes its author declared" in line
    assert "each worker's part" not in line  # nothing here was sized by time
    assert not line.startswith("sizes")  # the report's row and the terminal label it


@pytest.mark.parametrize(
    ("kernel_workers", "said"),
    [
        ({}, "lasts about 20.0 ms at 2 workers; "),
        ({"io": 16}, "lasts about 20.0 ms at 2 workers (io at 16 workers); "),
    ],
)
def test_the_sizes_line_names_the_kernels_sized_for_more_workers_than_cpus(
    kernel_workers: dict[str, int], said: str
) -> None:
    """Waiting work (io) is sized for all its workers, the rest for the usable cpus."""
    serial_s = {"squares": {"python": 0.04}, "io": {"python": 0.3}}
    record = Sizing({}, "strong", 0.02, 0.02, None, 2, serial_s, 90.0, 1.0).record()
    record["kernel_workers"] = kernel_workers
    assert said in format_sizing(record)
    record["serial_s"] = {"io": {"python": 0.3}}
    if kernel_workers:
        assert "lasts about 20.0 ms with io at 16 workers; " in format_sizing(record)


def test_a_size_for_one_impl_of_a_kernel() -> None:
    """`kernel:impl=N` after the kernel's n, whatever their order; a kernel of your own,
    whose name has a colon, keeps `name=N` for all its impls."""
    impls = ["python", "numpy"]
    sizes = values.parse_sizes("squares:python=10,squares=500", ["squares", "triad"], impls)
    assert sizes["squares"] == {"python": 10, "numpy": 500}
    assert sizes["triad"] == {i: KERNELS["triad"].default_size(i) for i in impls}
    user = "tests.test_planning:USER_KERNEL"
    sizes = values.parse_sizes(f"{user}=70,{user}:python=7", [user], ["python"])
    assert sizes == {user: {"python": 7}}


@pytest.mark.parametrize("option", ["repeat", "warmup"])
def test_repeats_and_warmups_have_a_sensible_limit(option: str) -> None:
    message = rf"^--{option}: '1000000000' is too many; valid: \d to 1,000$"
    with pytest.raises(UsageError, match=message):
        gilkit.plan(size_here=False, **{option: 10**9})
