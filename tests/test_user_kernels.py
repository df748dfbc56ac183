"""A user's kernel, from a module gilkit has never seen, through every runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gilkit.kernels import KERNELS
from gilkit.kernels.base import define_kernel as define_kernel_checked

USER_MODULE = textwrap.dedent(
    """
    import threading

    import numpy as np

    from gilkit import define_kernel


    def python(part, params):
        return sum(i % params for i in part)


    def vectorized(part, params):
        return int((np.arange(part.start, part.stop, part.step) % params).sum())


    work = define_kernel("mod", {"python": python, "numpy": vectorized}, size=50_000, params=7)
    def with_lock(part, params):
        modulus, lock = params
        with lock:
            return sum(i % modulus for i in part)


    # A lock cannot be pickled: fine in threads, not for worker processes.
    unpicklable = define_kernel("mod", {"python": with_lock}, size=1000,
                                params=lambda n, split: (7, threading.Lock()))
    not_a_kernel = 42
    """
)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    (tmp_path / "mymod_for_gilkit.py").write_text(USER_MODULE)
    return tmp_path


def gilkit(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gilkit", *argv],
        cwd=cwd,
        text=True,
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONPATH": ""},
    )


@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_user_kernel_runs_in_threads_and_processes(user_dir: Path, start_method: str) -> None:
    done = gilkit(
        user_dir,
        "run",
        "--kernel",
        "mymod_for_gilkit:work",
        "--runner",
        "threads,processes",
        "--workers",
        "2",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--start-method",
        start_method,
        "--json",
        "out.json",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    cells = json.loads((user_dir / "out.json").read_text())["cells"]
    assert {(c["impl"], c["runner"]) for c in cells} == {
        (impl, runner)
        for impl in ("python", "numpy")
        for runner in ("serial", "threads", "processes")
    }
    assert {c["result"] for c in cells} == {sum(i % 7 for i in range(50_000))}
    assert all(c["agrees"] for c in cells)


def test_unpicklable_kernel_keeps_its_other_cells(user_dir: Path) -> None:
    done = gilkit(
        user_dir,
        "run",
        "--kernel",
        "mymod_for_gilkit:unpicklable",
        "--workers",
        "2",
        "--repeat",
        "1",
        "--warmup",
        "0",
        "--json",
        "out.json",
        "--quiet",
    )
    assert done.returncode == 1
    cells = json.loads((user_dir / "out.json").read_text())["cells"]
    errors = {c["runner"]: c["error"] for c in cells}
    assert "cannot be sent to processes workers" in errors["processes"]
    assert errors["serial"] is None
    assert errors["threads"] is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuchmodule_xyz:work", "cannot import 'nosuchmodule_xyz'"),
        ("mymod_for_gilkit:missing", "'mymod_for_gilkit' has no attribute 'missing'"),
        ("mymod_for_gilkit:not_a_kernel", "is int, not a gilkit kernel"),
    ],
)
def test_bad_kernel_specs_are_one_line(user_dir: Path, spec: str, message: str) -> None:
    done = gilkit(user_dir, "run", "--kernel", spec)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "module:attribute" in done.stderr


def test_define_kernel_names_bad_impls_and_kinds() -> None:
    with pytest.raises(ValueError, match=r"bad impl name\(s\) \['c,nogil'\]; valid: letters"):
        define_kernel_checked("x", {"c,nogil": print}, size=10)
    with pytest.raises(ValueError, match="sizes must be >= 1"):
        define_kernel_checked("x", {"python": print}, size=0)
    with pytest.raises(ValueError, match="'c-nogil' has kind 'fast'; valid: python, holds"):
        define_kernel_checked("x", {"c-nogil": print}, size=10, kinds={"c-nogil": "fast"})
    with pytest.raises(ValueError, match="'numpy' is a built-in impl, of kind 'vectorized'"):
        define_kernel_checked("x", {"numpy": print}, size=10, kinds={"numpy": "releases"})
    with pytest.raises(ValueError, match="'rust' is not an impl of this kernel"):
        define_kernel_checked("x", {"c-nogil": print}, size=10, kinds={"rust": "holds"})


def test_own_impl_names_and_their_kinds() -> None:
    kernel = define_kernel_checked(
        "x",
        {"python": print, "c-nogil": print, "omp": print, "rust": print},
        size=10,
        kinds={"c-nogil": "releases", "omp": "in-call-parallel"},
    )
    assert kernel.impls == ("python", "c-nogil", "omp", "rust")
    assert [kernel.kind_of(impl) for impl in kernel.impls] == [
        "python",
        "releases",
        "in-call-parallel",
        "unknown",
    ]
    assert kernel.in_call_parallel("omp")
    assert not kernel.in_call_parallel("c-nogil")


def test_builtin_kernels_stay_registered() -> None:
    assert {"squares", "mandelbrot", "triad"} <= set(KERNELS)


@pytest.mark.slow
def test_installed_packages_register_kernels_by_entry_point(user_dir: Path) -> None:
    """A distribution on sys.path declaring [gilkit.kernels] shows in list and runs by name."""
    dist_info = user_dir / "myplugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[gilkit.kernels]\nmodsum = mymod_for_gilkit:work\nbroken = nosuchmodule_xyz:work\n"
    )
    env = {**os.environ, "PYTHONPATH": str(user_dir), "COLUMNS": "400"}  # rows unwrapped
    listed = subprocess.run(
        [sys.executable, "-m", "gilkit", "list"],
        cwd=user_dir,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "entry point of myplugin" in listed.stdout
    reason = (
        "entry point of myplugin (nosuchmodule_xyz:work) fails to load: "
        "ModuleNotFoundError: No module named 'nosuchmodule_xyz'"
    )
    assert f"broken: {reason}" in listed.stdout
    broken = subprocess.run(
        [sys.executable, "-m", "gilkit", "run", "--kernel", "broken"],
        cwd=user_dir,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    assert broken.returncode == 2
    assert broken.stderr.count("\n") == 1, broken.stderr
    assert broken.stderr.startswith(f"gilkit: error: --kernel: 'broken': {reason}; valid: ")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gilkit",
            "run",
            "--kernel",
            "modsum",
            "--runner",
            "processes",
            "--start-method",
            "spawn",
            "--workers",
            "2",
            "--repeat",
            "1",
            "--warmup",
            "0",
            "--json",
            "out.json",
            "--quiet",
        ],
        cwd=user_dir,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    cells = json.loads((user_dir / "out.json").read_text())["cells"]
    assert {c["kernel"] for c in cells} == {"modsum"}
    assert all(c["agrees"] for c in cells)


@pytest.mark.slow
def test_a_result_file_reads_without_its_kernel(user_dir: Path, tmp_path_factory) -> None:
    """report, compare and plot take the unit, the work per n and the ideal from the file."""
    out = user_dir / "run.json"
    run = ["run", "--kernel", "mymod_for_gilkit:work", "--runner", "threads", "--workers", "2"]
    done = gilkit(user_dir, *run, "--repeat", "2", "--warmup", "0", "--quiet", "--json", str(out))
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    assert document["version"] >= 3  # from version 3 on, a file describes its kernels
    kernel = document["kernels"]["mymod_for_gilkit:work"]
    assert kernel["unit"] == "items"
    assert kernel["ideal"] == "min(workers, usable cpus)"
    assert set(kernel["work"]) == {str(c["size"]) for c in document["cells"]}
    kernel["unit"] = "widgets"  # shown only if read from the file
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # where the module cannot be imported
    moved = elsewhere / "run.json"
    moved.write_text(json.dumps(document))
    (user_dir / "mymod_for_gilkit.py").unlink()
    report = gilkit(elsewhere, "report", str(moved))
    assert report.returncode == 0, report.stderr
    assert "n = 50,000 widgets" in report.stdout
    compare = gilkit(elsewhere, "compare", str(moved), str(moved))
    assert compare.returncode == 0, compare.stderr
    plot = gilkit(elsewhere, "plot", str(moved), "-o", str(elsewhere / "run.png"))
    assert plot.returncode == 0, plot.stderr
    assert (elsewhere / "run.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("source", "spec", "message"),
    [
        ("import sys\nsys.exit(0)\n", "exits_at_import:K", "called sys.exit(0)"),
        ("raise RuntimeError('boom')\n", "raises_at_import:K", "raised RuntimeError: boom"),
        ("", "../..:x", "'../..:x' is not of the form module:attribute"),
    ],
)  # fmt: skip
def test_a_users_module_that_exits_or_raises_at_import_is_one_line(
    tmp_path: Path, source: str, spec: str, message: str
) -> None:
    module = spec.partition(":")[0]
    if module.isidentifier():
        (tmp_path / f"{module}.py").write_text(source)
    done = gilkit(tmp_path, "run", "--kernel", spec, "--quiet")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


def test_a_plugin_that_exits_at_import_is_listed_broken_not_obeyed(tmp_path: Path) -> None:
    (tmp_path / "exiting_plugin.py").write_text("import sys\nsys.exit(0)\n")
    dist_info = tmp_path / "exiting-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: exiting\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[gilkit.kernels]\nexiting = exiting_plugin:K\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "400"}
    listed = subprocess.run(
        [sys.executable, "-m", "gilkit", "list"],
        cwd=tmp_path, env=env, text=True, capture_output=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "broken: entry point of exiting (exiting_plugin:K) fails to load: SystemExit" in (
        listed.stdout
    )


def run_own_kernel(tmp_path: Path, module: str, source: str) -> subprocess.CompletedProcess[str]:
    """`gilkit run --kernel MODULE:K` of `source` saved as MODULE.py, one quick serial cell."""
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
    return gilkit(
        tmp_path, "run", "--kernel", f"{module}:K", "--runner", "serial", "--workers", "1",
        "--repeat", "1", "--warmup", "0", "--json", "out.json", "--quiet",
    )  # fmt: skip


def test_a_params_function_that_raises_is_one_line(tmp_path: Path) -> None:
    source = """
        from gilkit import define_kernel

        def boom(n, split):
            raise RuntimeError("params boom")

        K = define_kernel("k", {"python": lambda part, params: len(part)}, size=100, params=boom)
        """
    done = run_own_kernel(tmp_path, "params_raise", source)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "'params_raise:K': its params function raised RuntimeError: params boom" in done.stderr


@pytest.mark.parametrize(
    ("body", "how"),
    [
        ("os._exit(3)", "ended its process (exit status 3)"),
        ("os._exit(0)", "ended its process (exit status 0)"),
        ("ctypes.string_at(0)", "crashed its interpreter (SIGSEGV)"),
    ],
)
def test_an_impl_that_ends_its_process_is_one_line_before_anything_runs(
    tmp_path: Path, body: str, how: str
) -> None:
    """Called in gilkit's own process (the sizing, the serial cells), such an impl ended
    gilkit without a word and without a result file: it is tried apart first."""
    source = f"""
        import ctypes, os
        from gilkit import define_kernel

        def ends(part, params):
            {body}

        K = define_kernel("k", {{"python": lambda part, params: len(part), "ends": ends}},
                          size=100, kinds={{"ends": "holds"}})
        """
    done = run_own_kernel(tmp_path, "ends_process", source)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"gilkit: error: --kernel: ends_process:K: its ends impl {how} when tried on n = 5 in "
        "a process of its own; valid: impls whose calls return or raise\n"
    )
