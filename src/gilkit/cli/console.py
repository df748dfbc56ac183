"""What every command shares at the edge: exit statuses, consoles, output paths, result files."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
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

EXIT_OK, EXIT_WRONG, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


def make_console(stderr: bool = False, quiet: bool = False) -> Console:
    """Wide enough when piped or logged that table rows and notes are not wrapped, unless
    COLUMNS says how wide."""
    stream = sys.stderr if stderr else sys.stdout
    sized = stream.isatty() or "COLUMNS" in os.environ
    # soft_wrap: a line of text is never broken by gilkit (a message or a command stays whole to
    # copy); the terminal wraps it on screen. Tables are still fitted to the width.
    return Console(stderr=stderr, quiet=quiet, width=None if sized else 150, soft_wrap=True)


# The longest file name most file systems take, in bytes (NAME_MAX on Linux and macOS).
NAME_MAX = 255
# The picture formats `--plot` and `gilkit plot -o` write, by suffix; a path without a suffix
# gets PNG_SUFFIX, and the command says the name it wrote.
PLOT_SUFFIXES = (".png", ".pdf", ".svg")
PNG_SUFFIX = ".png"


def output_path(text: str) -> Path:
    """argparse's type for an output file: the text as given, so that a trailing slash (a
    directory's name, which Path() would drop) is still seen and refused."""
    if not text:
        raise argparse.ArgumentTypeError("'' is empty; valid: a file path")
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(f"{text!r} names a directory; valid: a file path")
    return Path(text)


def writable_path(option: str, path: Path) -> Path:
    """Checked before any measuring, so that nothing measured is lost for want of a place.

    Output files are regular files: a path that is a directory (or ends in a slash, as one),
    a FIFO or a device is refused, and so is a file name longer than the file system takes.
    A symlink is followed on purpose (the file it points to is written, the link kept).
    """
    if str(path).endswith(("/", os.sep)) or path.name in ("", ".", ".."):
        raise UsageError(f"{option}: {str(path)!r} names a directory; valid: a file path")
    if len(os.fsencode(path.name)) > NAME_MAX:
        raise UsageError(
            f"{option}: the file name is {len(os.fsencode(path.name))} bytes long; valid: "
            f"names of at most {NAME_MAX} bytes"
        )
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        kind = "a directory" if target.is_dir() else "not a regular file (a FIFO, a device?)"
        shown = (
            repr(str(path)) if target == path.absolute() else f"{str(path)!r} -> {str(target)!r}"
        )
        raise UsageError(f"{option}: {shown} is {kind}; valid: a regular file path")
    parent = next((p for p in target.parents if p.exists()), Path("/"))
    if not parent.is_dir():
        raise UsageError(f"{option}: {str(parent)!r} is not a directory; valid: a file path")
    if not can_create_in(parent):
        raise UsageError(f"{option}: cannot write under {str(parent)!r}; valid: a writable path")
    return path


def can_create_in(directory: Path) -> bool:
    """Whether a file can really be made there: a nameless one, gone when closed. (Permission
    bits are not enough: root passes os.access on /proc and /sys, which refuse new files.)"""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


@contextmanager
def sole_writer(option: str, path: Path) -> Iterator[None]:
    """Hold `path` for this command's writes: a second gilkit writing the same file meanwhile
    is refused in one line instead of replacing the first one's results. An advisory lock
    (flock) on `.NAME.lock` beside it, released by the kernel even when gilkit is killed;
    the file is removed at the end. Where flock does not exist, nothing is held."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    target = Path(os.path.realpath(path))
    lock = target.parent / f".{target.name}.lock"
    with writing(option, lock):  # only the lock's making: the body's errors are its own
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "a")  # held, and closed, by the `with` below
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{option}: another gilkit is writing {str(path)!r} now; valid: a path of "
                "its own, or wait for it to finish"
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()


def plot_path(option: str, path: Path) -> Path:
    """The picture's path: its suffix one of PLOT_SUFFIXES, or PNG_SUFFIX added (to a path
    that is itself a valid output: `/dev/null` is refused, not turned into `/dev/null.png`)."""
    writable_path(option, path)
    if not path.suffix:
        path = path.with_name(path.name + PNG_SUFFIX)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise UsageError(
            f"{option}: {str(path)!r} has the suffix {path.suffix!r}; valid: a path ending in "
            f"{', '.join(PLOT_SUFFIXES)} (none: {PNG_SUFFIX} is added)"
        )
    return writable_path(option, path)


def distinct_outputs(outputs: dict[str, Path | None]) -> None:
    """Refuse two outputs that are one file: the second would replace the first."""
    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        target = Path(os.path.realpath(path))
        if target in seen:
            raise UsageError(
                f"{option}: {str(path)!r} is also {seen[target]}'s file; valid: a path of its own"
            )
        seen[target] = option


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
    """Tables with their markup, whole; plain lines as they are (a path may contain brackets)."""
    for renderable in renderables:
        if isinstance(renderable, Table):
            keep_whole(renderable)
        console.print(renderable, markup=isinstance(renderable, Table), highlight=False)


def keep_whole(table: Table) -> Table:
    """A terminal too narrow for the table folds a cell over lines instead of cutting it to
    `1…`: a figure is never lost to the width."""
    for column in table.columns:
        column.overflow = "fold"
    return table


RUN_FILE = "a JSON file written by gilkit run"


def read_json(path: Path, valid: str = RUN_FILE) -> Any:
    """A JSON document, or one line saying why it cannot be read and what is valid."""
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"cannot read {str(path)!r}: {error.strerror}; valid: {valid}") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else error.reason
        raise UsageError(f"{str(path)!r} is not JSON ({reason}); valid: {valid}") from error
    except RecursionError:
        raise UsageError(
            f"{str(path)!r} is nested too deeply to be a result; valid: {valid}"
        ) from None


def result_from(path: Path, document: Any, valid: str = RUN_FILE) -> results.RunResult:
    """The run result in a document, or one line saying why it is not one."""
    try:
        return from_document(document)
    except results.ResultFileError as error:
        raise UsageError(f"{str(path)!r}: {error}; valid: {valid}") from error


def load_result(path: Path) -> results.RunResult:
    """A result file, or one line saying why it cannot be read."""
    return result_from(path, read_json(path))
