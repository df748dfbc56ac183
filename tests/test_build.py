"""setup.py's compiler probes (OpenMP, C++): they run setuptools' own compiler, so CC, CFLAGS and
LDFLAGS count; and its extensions each get their own list of flags."""

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
    """The C compiler setuptools would build with, customized from sysconfig and the env.
    Made as build_ext makes it, through the `distutils` that setuptools provides: from
    setuptools 80 on, `setuptools._distutils` imported by that name is a second copy of the
    modules, whose CompileError is not the one setup.py catches (setuptools.errors')."""
    pytest.importorskip("setuptools")  # before distutils: its copy, not the stdlib's (< 3.12)
    from distutils import sysconfig
    from distutils.ccompiler import new_compiler

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


def test_the_cxx_probe_builds_with_the_real_compiler(setup_py: ModuleType, compiler: Any) -> None:
    """The pybind11 module is built only where this says yes."""
    if shutil.which(compiler.compiler_cxx[0]) is None:
        pytest.skip(f"no C++ compiler here ({compiler.compiler_cxx[0]})")
    assert setup_py.cxx_works(compiler) is True


def test_the_cxx_probe_fails_quietly_without_a_compiler(
    setup_py: ModuleType, compiler: Any, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-cxx")
    compiler.set_executables(
        compiler=missing, compiler_so=missing, compiler_cxx=missing, linker_exe=missing
    )
    assert setup_py.cxx_works(compiler) is False


def test_every_extension_gets_its_own_flag_list(setup_py: ModuleType) -> None:
    """Pybind11Extension adds its flags to the list it is given, in place."""
    pytest.importorskip("pybind11")  # a build requirement: in pip's build environment
    modules = [*setup_py.c_extensions(), *setup_py.pybind11_extensions()]
    assert {m.name for m in modules} == {"gilkit._capi", "gilkit._ctypes_lib", "gilkit._pybind11"}
    lists = [m.extra_compile_args for m in modules]
    assert len({id(flags) for flags in lists}) == len(lists)
    for module in modules:
        assert "-fvisibility=hidden" not in module.extra_compile_args or "pybind11" in module.name
