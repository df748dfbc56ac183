"""`gilkit run --python A --python B`: the same matrix under several interpreters.

Each interpreter gets a virtual environment with gilkit in gilkit's cache (gilkit.host.venvs), runs
`gilkit run` in its own process with the same options and writes its own result file; the
results are then shown side by side (gilkit.present.side_by_side). The first interpreter sizes
the kernels (unless --size did); the others run at its sizes, so that each cell does the same
work under every interpreter and their medians compare.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable
from pathlib import Path

from gilkit.host.venvs import Interpreter, environment_for, run_bounded
from gilkit.model.results import ResultFileError, RunResult, load
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
    "scaling",
    "budget",
    "split",
    "repeat",
    "warmup",
    "start_method",
    "scheduler",
    "timeout",
)


def forwarded_options(args: argparse.Namespace) -> list[str]:
    """The run's options, as each interpreter's `gilkit run` should receive them."""
    argv = []
    for name in FORWARDED:
        value = getattr(args, name)
        if value is not None:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return [*argv, "--quiet"] if args.quiet else argv


def sizes_of(result: RunResult) -> str | None:
    """A run's sizes as --size text, `kernel:impl=n,...`: each impl's serial n (under weak
    scaling, one worker's)."""
    serial = {(r.kernel, r.impl): r.size for r in result.cells if r.n_workers == 1}
    return ",".join(f"{kernel}:{impl}={n}" for (kernel, impl), n in serial.items()) or None


def path_for(json_path: Path, interpreter: Interpreter) -> Path:
    return json_path.with_name(f"{json_path.stem}-{interpreter.label}{json_path.suffix}")


def run_each(
    interpreters: list[Interpreter],
    args: argparse.Namespace,
    json_path: Path,
    say: Callable[[str], None],
) -> tuple[list[tuple[Interpreter, Path]], int]:
    """Run the matrix under each interpreter in turn; return the result files and the status."""
    done: list[tuple[Interpreter, Path]] = []
    status = 0
    log = json_path.with_suffix(".setup.log")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    for interpreter in interpreters:
        say(f"{interpreter.label} ({interpreter.path}): preparing its environment")
        python = environment_for(interpreter, log)
        out = path_for(json_path, interpreter)
        say(f"{interpreter.label}: measuring")
        command = [str(python), "-m", "gilkit", "run", *forwarded_options(args), "--json", str(out)]
        if args.size in (None, "auto") and done:
            first, path = done[0]
            try:
                sizes = sizes_of(load(path))
            except ResultFileError:  # a first run cut short mid-write: the others size themselves
                sizes = None
            if sizes:
                say(f"{interpreter.label}: at {first.label}'s sizes")
                command += ["--size", sizes]
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
