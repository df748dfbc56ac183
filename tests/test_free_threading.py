"""Under a free-threaded interpreter (3.13t+): no GIL comes back, and threads stay correct.

Skipped on a GIL build. CI builds a 3.13t (scripts/build-freethreaded-python.sh) and runs
these there.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from gilkit.kernels import KERNELS, Task, run_task
from gilkit.kernels.splitting import split
from gilkit.runners import RUNNERS

from .conftest import CPU_KERNELS, impl_params, requires_free_threading

pytestmark = requires_free_threading


def test_importing_gilkit_and_its_extensions_keeps_the_gil_off() -> None:
    """Every extension declares that it does not need the GIL: Cython's directive, the C API's
    Py_mod_gil slot (the ctypes library's stub module too), pybind11's mod_gil_not_used()."""
    probe = (
        "import sys, numpy, gilkit.cli, gilkit.kernels; "
        "from gilkit.host import extensions as compiled; "
        "[compiled.unavailable_reason(m) for m in (*compiled.EXTENSIONS, 'ctypes_lib')]; "
        "sys.exit(int(sys._is_gil_enabled()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "has been enabled" not in done.stderr


@pytest.mark.parametrize("kernel", CPU_KERNELS)
@pytest.mark.parametrize(
    "impl", impl_params(["python", "cython-nogil", "c-api", "ctypes", "pybind11", "numpy"])
)
def test_threads_give_the_serial_result_under_real_parallelism(kernel: str, impl: str) -> None:
    k = KERNELS[kernel]
    n = 60 if kernel == "mandelbrot" else 200_000
    with k.params_for(n, k.splits[0]) as params:
        expected = k.combine([run_task(Task(kernel, impl, range(n), params))])
        with RUNNERS["threads"]() as runner:
            runner.start(4)
            tasks = [Task(kernel, impl, p, params) for p in split(n, 8, k.splits[0])]
            for _ in range(5):
                assert k.combine(runner.map(run_task, tasks)) == expected


UNDECLARED = textwrap.dedent(
    """
    #include <Python.h>
    /* No Py_mod_gil slot: the module does not say it is safe without the GIL. */
    static struct PyModuleDef_Slot slots[] = {{0, NULL}};
    static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "undeclared", NULL, 0,
                                     NULL, slots};
    PyMODINIT_FUNC PyInit_undeclared(void) { return PyModuleDef_Init(&def); }
    """
)


def test_an_undeclared_extension_turning_the_gil_on_is_named(tmp_path: Path) -> None:
    (tmp_path / "undeclared.c").write_text(UNDECLARED)
    # Compiled by hand with the interpreter's own compiler and flags: no setuptools needed.
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    target = tmp_path / f"undeclared{sysconfig.get_config_var('EXT_SUFFIX')}"
    built = subprocess.run(
        [
            *cc,
            "-shared",
            "-fPIC",
            f"-I{sysconfig.get_paths()['include']}",
            str(tmp_path / "undeclared.c"),
            "-o",
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    probe = (
        "import undeclared; from gilkit.host import metadata; "
        "print(metadata.gil_enabled(), metadata.find_gil_reenablers())"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True ['undeclared']"
