"""`gilkit run --python A --python B`: the same matrix under several interpreters.

Each interpreter gets a virtual environment with gilkit in gilkit's cache (gilkit.host.venvs), runs
`gilkit run` in its own process with the same options and writes its own result file; the
results are then shown side by side (gilkit.present.side_by_side).
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable
from pathlib import Path

from gilkit.host.venvs import Interpreter, environment_for, run_bounded
from gilkit.planning import DEFAULT_RUN_LIMIT_S
from gilkit.planning import values as options

# How long past its own --max-time another interpreter's run may take to stop and write.
STOP_MARGIN_S = 60.0

FORWARDED = (
    "kernel",
    "impl",
    "runner",
    "workers",
    "size",
    "split",
    "repeat",
    "warmup",
    "start_method",
    "scheduler",
)


def forwarded_options(args: argparse.Namespace) -> list[str]:
    """The run's options, as each interpreter's `gilkit run` should receive them."""
    argv = []
    for name in FORWARDED:
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return [*argv, "--quiet"] if args.quiet else argv


def path_for(json_path: Path, interpreter: Interpreter) -> Path:
    return json_path.with_name(f"{json_path.stem}-{interpreter.label}{json_path.suffix}")


def run_each(
    interpreters: list[Interpreter],
    args: argparse.Namespace,
    json_path: Path,
    say: Callable[[str], None],
) -> tuple[list[tuple[Interpreter, Path]], int]:
    """Run the matrix under each interpreter in turn; return the result files and the status."""
    done, status = [], 0
    log = json_path.with_suffix(".setup.log")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    for interpreter in interpreters:
        say(f"{interpreter.label} ({interpreter.path}): preparing its environment")
        python = environment_for(interpreter, log)
        out = path_for(json_path, interpreter)
        say(f"{interpreter.label}: measuring")
        command = [str(python), "-m", "gilkit", "run", *forwarded_options(args), "--json", str(out)]
        # Its own --max-time ends it as Ctrl-C would; past that and a margin, it hangs.
        limit = options.parse_seconds("--max-time", args.max_time, DEFAULT_RUN_LIMIT_S)
        assert limit is not None
        command += ["--max-time", str(limit)]
        what = f"{interpreter.label}'s gilkit run"
        code = run_bounded(command, limit + STOP_MARGIN_S, what, stdout=subprocess.DEVNULL)
        status = max(status, code.returncode)
        if out.exists():
            done.append((interpreter, out))
    return done, status
