"""`gilkit run --python PATH ...`: the same matrix under several interpreters.

An interpreter that already imports gilkit from this checkout (a virtual environment where
`pip install -e .` ran) is used as it is. Each other one gets a virtual environment of its own
in gilkit's cache, with this checkout installed into it (`pip install -e ".[interpreters]"`,
which builds the extensions for that interpreter and, on 3.13, adds the subinterpreter pool's
backport; NumPy only as a binary wheel, since building it takes minutes). The
environment is reused until the sources of the extensions change. Each interpreter writes its
own result file; the CLI then shows them side by side.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gilkit.host.worker_process import DIE_WITH

DESCRIBE = (
    "import json, platform, sys, sysconfig; print(json.dumps({"
    "'version': platform.python_version(), "
    "'free_threaded_build': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
    "'gil_enabled': getattr(sys, '_is_gil_enabled', lambda: True)()}))"
)


EXTRAS = "interpreters"


# The most setting up one environment may take (a venv, then pip building the extensions).
SETUP_TIMEOUT_S = 900.0


class InterpreterError(RuntimeError):
    """An interpreter that cannot be used; the message says why."""


def run_bounded(
    command: list[str], timeout_s: float, what: str, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run `command` in a session of its own, so that it and everything it starts end
    together: past `timeout_s`, or when gilkit itself is stopped (a signal), the whole group is
    killed. Past the limit, an InterpreterError says which step (`what`) hung."""
    env = {**os.environ, DIE_WITH: str(os.getpid())}  # it dies with gilkit (worker_process)
    child = subprocess.Popen(command, start_new_session=True, text=True, env=env, **options)
    try:
        out, err = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        raise InterpreterError(f"{what} did not finish within {timeout_s:.0f} s") from None
    except BaseException:
        _kill_group(child)
        raise
    return subprocess.CompletedProcess(command, child.returncode, out, err)


def _kill_group(child: subprocess.Popen[str]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str
    free_threaded_build: bool
    nth: int = 1  # among the interpreters of a command with this version and build

    @property
    def label(self) -> str:
        """`3.13.5t`; a second interpreter of the same version and build `3.13.5t-2`, so that
        its result file and its column are its own."""
        same = "" if self.nth == 1 else f"-{self.nth}"
        return f"{self.version}{'t' if self.free_threaded_build else ''}{same}"


def cache_dir() -> Path:
    base = (
        os.environ.get("GILKIT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gilkit"
    )
    return Path(base)


def describe(path: str) -> Interpreter:
    found = shutil.which(path)
    if found is None:
        raise InterpreterError(f"{path!r} is not an executable Python")
    try:
        done = subprocess.run(
            [found, "-c", DESCRIBE], capture_output=True, text=True, check=True, timeout=60
        )
        facts = json.loads(done.stdout)
    except (subprocess.SubprocessError, ValueError, OSError) as error:
        raise InterpreterError(f"{path!r} does not run as a Python 3 interpreter") from error
    return Interpreter(Path(found), facts["version"], facts["free_threaded_build"])


def project_root() -> Path:
    """The checkout gilkit runs from: installing it elsewhere needs its sources."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "pyproject.toml").exists() or not (root / "ext").is_dir():
        raise InterpreterError(
            "--python needs gilkit installed from a source checkout (pip install -e .)"
        )
    return root


def sources_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted([root / "pyproject.toml", root / "setup.py", *root.glob("ext/*")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def describe_each(paths: Iterable[str]) -> list[Interpreter]:
    """Each interpreter once (by the executable a path finds), numbered among those of its
    version and build in the order given."""
    found: list[Interpreter] = []
    for path in dict.fromkeys(paths):
        interpreter = describe(path)
        if any(other.path == interpreter.path for other in found):
            continue
        nth = 1 + sum(
            (other.version, other.free_threaded_build)
            == (interpreter.version, interpreter.free_threaded_build)
            for other in found
        )
        found.append(replace(interpreter, nth=nth))
    return found


def same_interpreter(interpreter: Interpreter) -> bool:
    return Path(sys.executable).resolve() == interpreter.path.resolve()


def has_this_checkout(python: Path, root: Path) -> bool:
    """Whether `python` already imports gilkit from this checkout (a virtual environment
    where the user ran `pip install -e .`): it is then used as it is, as the user made it."""
    try:
        done = subprocess.run(
            [str(python), "-c", "import gilkit; print(gilkit.__file__)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (subprocess.SubprocessError, OSError):
        return False
    found = Path(done.stdout.strip()).resolve()
    return done.returncode == 0 and found.is_relative_to((root / "src").resolve())


def environment_for(interpreter: Interpreter, log: Path) -> Path:
    """The Python to run gilkit with under `interpreter`: itself where it has this checkout
    installed already, else a virtual environment in gilkit's cache, made if needed."""
    if same_interpreter(interpreter):
        return Path(sys.executable)
    root = project_root()
    if has_this_checkout(interpreter.path, root):
        return interpreter.path
    # One per interpreter *and* checkout: two checkouts must not reinstall over each other.
    key = hashlib.sha256(f"{interpreter.path.resolve()}\0{root}".encode()).hexdigest()[:12]
    venv = cache_dir() / "venvs" / f"{interpreter.label}-{key}"
    python = venv / "bin" / "python"
    stamp = venv / "gilkit-sources.txt"
    digest = sources_digest(root)
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    with log.open("a") as out:
        steps = [
            [str(interpreter.path), "-m", "venv", "--clear", str(venv)],
            # The interpreters extra: the subinterpreter pool's backport, where it applies.
            [str(python), "-m", "pip", "install", "--only-binary=numpy", "-e", f"{root}[{EXTRAS}]"],
        ]
        for step in steps:
            what = f"setting up {interpreter.label} ({' '.join(step[-3:])})"
            options = {"stdout": out, "stderr": subprocess.STDOUT}
            if run_bounded(step, SETUP_TIMEOUT_S, what, **options).returncode:
                raise InterpreterError(
                    f"could not set up {interpreter.label} ({' '.join(step[-3:])}); see {log}"
                )
    stamp.write_text(digest)
    return python
