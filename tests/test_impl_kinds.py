"""Impl kinds: given by the kernel, inferred with the probe, recorded in the result file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gilkit import Cell, Plan, cli, run_plan
from gilkit.gil import kinds as impl_kinds
from gilkit.gil.probe import GilProbe, Verdict
from gilkit.kernels import KERNELS, SOURCES, describe_impls
from gilkit.kernels.base import define_kernel
from gilkit.present.formatting import in_call_label


def python(part: range, params: None) -> int:
    return sum(part)


def on_threads(part: range, params: None, n_threads: int) -> int:
    return sum(part)


def kernel(**kinds: str) -> Any:
    impls = {"python": python, "c-nogil": python, "c-gil": python, "omp": on_threads}
    return define_kernel(
        "own-impls", impls, size=20_000, kinds={"omp": "in-call-parallel", **kinds}
    )


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> str:
    """The kernel above, registered as gilkit run --kernel would (undone after the test)."""
    monkeypatch.setitem(KERNELS, "own-impls", kernel(**{"c-gil": "holds"}))
    return "own-impls"


@pytest.fixture
def registry() -> Iterator[None]:
    """The kernel registry as it was before the test (gilkit run registers user kernels)."""
    saved = dict(KERNELS), dict(SOURCES)
    yield
    for registry, before in zip((KERNELS, SOURCES), saved, strict=True):
        registry.clear()
        registry.update(before)


def canned_probe(monkeypatch: pytest.MonkeyPatch, verdict: Verdict) -> list[Any]:
    seen: list[Any] = []

    def fake(fn: object, /, *args: Any) -> GilProbe:
        seen.append(args)
        fraction = {Verdict.RELEASES: 0.98, Verdict.HOLDS: 0.01, Verdict.SHARES: 0.5}.get(verdict)
        return GilProbe(
            verdict, "canned", 0.1, fraction, None if fraction is None else 1.0,
            None if fraction is None else fraction + 1.0, (), 3, True, False, 2,
        )  # fmt: skip

    monkeypatch.setattr(impl_kinds, "releases_gil", fake)
    return seen


def test_an_own_impl_s_kind_comes_from_the_kernel_or_is_unknown(registered: str) -> None:
    k = KERNELS[registered]
    assert impl_kinds.without_kind(
        [(registered, impl, 1000) for impl in ("python", "c-nogil", "c-gil", "omp")]
    ) == {(registered, "c-nogil"): 1000}
    assert k.kind_of("c-gil") == "holds"
    assert k.kind_of("c-nogil") == "unknown"


@pytest.mark.parametrize(
    ("verdict", "kind"),
    [
        (Verdict.RELEASES, "releases"),
        (Verdict.HOLDS, "holds"),
        (Verdict.SHARES, "python"),
        (Verdict.CANNOT_JUDGE, "unknown"),
    ],
)
def test_the_probe_s_verdict_becomes_the_kind(
    registered: str, monkeypatch: pytest.MonkeyPatch, verdict: Verdict, kind: str
) -> None:
    seen = canned_probe(monkeypatch, verdict)
    announced: list[float] = []
    inference = impl_kinds.infer_kind(registered, "c-nogil", 1000, "contiguous", announced.append)
    assert inference.kind == kind
    assert KERNELS[registered].kind_of("c-nogil") == kind
    assert len(announced) == 1
    assert announced[0] > 0
    ((part, _),) = seen  # one probe of one chunk call: (range(m), params)
    assert isinstance(part, range)
    assert part.start == 0
    if kind == "unknown":
        assert (
            "kind unknown, gilkit's probe could not tell (cannot-judge: canned)" in inference.line()
        )
        assert "kinds={'c-nogil': ...}" in inference.line()
    else:
        assert inference.line().startswith(f"c-nogil: inferred {kind!r} with gilkit's probe (")


def test_the_result_file_says_where_each_kind_came_from(
    registered: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    canned_probe(monkeypatch, Verdict.RELEASES)
    impl_kinds.infer_kind(registered, "c-nogil", 1000, "contiguous")
    described = describe_impls(["omp", "c-gil", "python", "c-nogil"], [KERNELS[registered]])
    assert list(described) == ["python", "omp", "c-gil", "c-nogil"]
    assert described["python"]["kind_from"] == "gilkit"
    assert described["c-gil"] == {
        "what": "an impl of own-impls: native code that holds the GIL for the whole call",
        "kind": "holds",
        "kind_from": "kernel",
        "in_call_parallel": False,
    }
    assert described["omp"]["in_call_parallel"] is True
    assert described["c-nogil"]["kind"] == "releases"
    assert described["c-nogil"]["kind_from"] == "probe"
    assert "gilkit's probe: releases" in described["c-nogil"]["what"]


def test_own_impls_run_through_run_plan(registered: str) -> None:
    cells = [
        Cell(registered, impl, runner, workers, 10_000)
        for impl in ("python", "c-nogil", "omp")
        for runner, workers in (("serial", 1), ("threads", 2))
        if not (impl == "omp" and runner == "threads")
    ]
    cells.append(Cell(registered, "omp", "serial", 2, 10_000))
    result = run_plan(Plan.of(cells, n_repeats=1, n_warmups=0, monitor_gil=False))
    assert all(record.ok for record in result.cells), [r.error for r in result.cells]
    assert result.impls["c-nogil"]["kind"] == "unknown"
    assert result.in_call_parallel("omp")
    assert result.threads_of("omp") == "its own"
    assert in_call_label(result, "omp") == "in-call"  # the tables' runner column


@pytest.mark.usefixtures("registry")
def test_gilkit_run_infers_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "own_impls_for_gilkit.py").write_text(
        "from gilkit import define_kernel\n"
        "def python(part, params):\n    return sum(part)\n"
        "work = define_kernel('w', {'python': python, 'c-nogil': python}, size=5000)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    canned_probe(monkeypatch, Verdict.RELEASES)
    out = tmp_path / "run.json"
    argv = ["run", "--kernel", "own_impls_for_gilkit:work", "--runner", "threads"]
    argv += ["--workers", "2", "--repeat", "1", "--warmup", "0", "--json", str(out)]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err
    assert "c-nogil: no kind given; asking gilkit's probe (about " in err
    assert "c-nogil: inferred 'releases' with gilkit's probe (releases; " in err
    impls = {impl.pop("name"): impl for impl in json.loads(out.read_text())["impls"]}
    assert impls["c-nogil"]["kind"] == "releases"
    assert impls["c-nogil"]["kind_from"] == "probe"
    assert set(impls) == {"python", "c-nogil"}


def test_a_call_too_short_for_the_probe_is_grown(registered: str) -> None:
    """The part grows from the kernel's n until a call lasts TARGET_CALL_S / 2, or cut short."""
    n, call_s = impl_kinds.part_size(KERNELS[registered], "python", 1000, "contiguous")
    assert n > 1000
    assert call_s >= impl_kinds.TARGET_CALL_S / 2 or n == 1000 * impl_kinds.MAX_GROWTH
