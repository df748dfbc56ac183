"""setup.py's OpenMP probe: it runs setuptools' own compiler, so CC, CFLAGS and LDFLAGS count."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SETUP_PY = Path(__file__).resolve().parent.parent / "setup.py"


@pytest.fixture(scope="module")
def setup_py() -> ModuleType:
    """setup.py imported, not run: it calls setup() only when run as __main__."""
    pytest.importorskip("setuptools")
    spec = importlib.util.spec_from_file_location("gilkit_setup_py", SETUP_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def compiler() -> Any:
    """The C compiler setuptools would build with, customized from sysconfig and the env."""
    from setuptools._distutils import sysconfig
    from setuptools._distutils.ccompiler import new_compiler

    compiler = new_compiler()
    if compiler.compiler_type != "unix":
        pytest.skip(f"the probe tests drive a Unix C compiler, not {compiler.compiler_type}")
    sysconfig.customize_compiler(compiler)
    return compiler


def test_the_probe_builds_openmp_with_the_real_compiler(
    setup_py: ModuleType, compiler: Any
) -> None:
    if shutil.which(compiler.compiler_so[0]) is None:
        pytest.skip(f"no C compiler here ({compiler.compiler_so[0]})")
    assert setup_py.openmp_flags_work(compiler) is True


def test_the_probe_fails_quietly_without_a_compiler(
    setup_py: ModuleType, compiler: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "no-such-cc")
    compiler.set_executables(
        compiler=missing, compiler_so=missing, compiler_cxx=missing, linker_exe=missing
    )
    assert setup_py.openmp_flags_work(compiler) is False
    out, err = capfd.readouterr()
    assert "no-such-cc" not in out + err, "the probe's output should be silenced"
