"""What every command shares at the edge: exit statuses, consoles, output paths, result files."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gilkit.engine.descriptions import from_document
from gilkit.model import results
from gilkit.planning.values import UsageError

EXIT_OK, EXIT_WRONG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def make_console(stderr: bool = False, quiet: bool = False) -> Console:
    """Wide enough when piped or logged that table rows and notes are not wrapped, unless
    COLUMNS says how wide."""
    stream = sys.stderr if stderr else sys.stdout
    sized = stream.isatty() or "COLUMNS" in os.environ
    # soft_wrap: a line of text is never broken by gilkit (a message or a command stays whole to
    # copy); the terminal wraps it on screen. Tables are still fitted to the width.
    return Console(stderr=stderr, quiet=quiet, width=None if sized else 150, soft_wrap=True)


def writable_path(option: str, path: Path) -> Path:
    """Checked before any measuring, so that nothing measured is lost for want of a place.

    Output files are regular files: a path that is a directory, a FIFO or a device is refused.
    A symlink is followed on purpose (the file it points to is written, the link kept).
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        kind = "a directory" if target.is_dir() else "not a regular file (a FIFO, a device?)"
        shown = (
            repr(str(path)) if target == path.absolute() else f"{str(path)!r} -> {str(target)!r}"
        )
        raise UsageError(f"{option}: {shown} is {kind}; valid: a regular file path")
    parent = next((p for p in target.parents if p.exists()), Path("/"))
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option}: cannot write under {str(parent)!r}; valid: a writable path")
    return path


@contextmanager
def writing(option: str, path: Path) -> Iterator[None]:
    """A write that fails anyway (a full disk, a path like /proc that passes the check) ends
    in one line naming the path, not a traceback."""
    try:
        yield
    except OSError as error:
        raise UsageError(
            f"{option}: cannot write {str(path)!r} ({error.strerror or error}); "
            "valid: a writable path"
        ) from error


def make_progress(console: Console, description_width: int) -> Progress:
    """A transient progress bar on `console`, refreshed by the caller: no refresh thread,
    since forking a process that has threads is unsafe (process pools fork during runs)."""
    return Progress(
        TextColumn(f"{{task.description:<{description_width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    )


def print_all(console: Console, renderables: Iterable[str | RenderableType]) -> None:
    """Tables with their markup; plain lines as they are (a path may contain brackets)."""
    for renderable in renderables:
        console.print(renderable, markup=isinstance(renderable, Table), highlight=False)


RUN_FILE = "a JSON file written by gilkit run"


def read_json(path: Path, valid: str = RUN_FILE) -> Any:
    """A JSON document, or one line saying why it cannot be read and what is valid."""
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"cannot read {str(path)!r}: {error.strerror}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else error.reason
        raise UsageError(f"{str(path)!r} is not JSON ({reason}); valid: {valid}") from error


def result_from(path: Path, document: Any, valid: str = RUN_FILE) -> results.RunResult:
    """The run result in a document, or one line saying why it is not one."""
    try:
        return from_document(document)
    except results.ResultFileError as error:
        raise UsageError(f"{str(path)!r}: {error}; valid: {valid}") from error


def load_result(path: Path) -> results.RunResult:
    """A result file, or one line saying why it cannot be read."""
    return result_from(path, read_json(path))
