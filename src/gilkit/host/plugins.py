"""What installed packages add to gilkit through entry points (kernels, runners): loaded once
each, a broken one reported in one line rather than stopping gilkit."""

from __future__ import annotations

from collections.abc import Callable, Container
from importlib import metadata


def load_plugins(
    group: str, known: Container[str], problem: Callable[[object], str | None]
) -> tuple[dict[str, tuple[object, str]], dict[str, str]]:
    """The entry points of `group` not `known` yet, loaded: ({name: (object, where)}, {name:
    why it failed}). `problem(object)` says what is wrong with a loaded object, or None; each
    reason is one line, the same wherever it is shown (`gilkit list`, `gilkit run`)."""
    loaded: dict[str, tuple[object, str]] = {}
    failures: dict[str, str] = {}
    for entry_point in metadata.entry_points(group=group):
        if entry_point.name in known:
            continue
        dist = entry_point.dist.name if entry_point.dist else "?"
        where = f"entry point of {dist} ({entry_point.value})"
        try:
            found = entry_point.load()
        except (Exception, SystemExit, KeyboardInterrupt) as error:  # never stops gilkit
            failures[entry_point.name] = f"{where} fails to load: {type(error).__name__}: {error}"
            continue
        wrong = problem(found)
        if wrong is not None:
            failures[entry_point.name] = f"{where} {wrong}"
            continue
        loaded[entry_point.name] = (found, where)
    return loaded, failures
