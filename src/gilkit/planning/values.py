"""Check the values a plan is made of (as `gilkit run` options give them: comma lists, numbers
as text); every error names the bad value and the valid ones, in the one line the CLI prints."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from gilkit.host.cpus import usable_cpus
from gilkit.kernels import (
    FAMILIES,
    IMPLS,
    KERNELS,
    KernelLoadError,
    impl_unavailable_reason,
    load_entry_points,
    load_kernel,
)
from gilkit.kernels.splitting import SPLITS
from gilkit.planning.matrix import BUILT_IN, DEFAULT_IMPLS, DEFAULT_KERNELS, max_workers
from gilkit.runners import RUNNERS, START_METHODS, load_runner_entry_points
from gilkit.runners.dask_runners import DaskRunner

T = TypeVar("T")
# Families of more than one impl: `--impl c-api` selects c-api-gil and c-api.
MULTI_FAMILIES = {family: impls for family, impls in FAMILIES.items() if len(impls) > 1}


class UsageError(ValueError):
    """A bad value for a plan or a command: one line naming it and the valid ones; the CLI
    prints it and exits with status 2."""


def comma_list(option: str, text: str, parse_item: Callable[[str], T]) -> list[T]:
    """The items of `1,2,4` (spaces around an item are dropped: `1, 2` is `1,2`), each once."""
    items = text.split(",")
    if any(not item.strip() for item in items):
        raise UsageError(
            f"{option}: empty item in {text!r}; valid: a comma-separated list without empty items"
        )
    values: list[T] = []
    for item in items:
        value = parse_item(item.strip())
        if value not in values:
            values.append(value)
    return values


def one_of(option: str, valid: Sequence[str]) -> Callable[[str], str]:
    def parse(item: str) -> str:
        if item not in valid:
            raise UsageError(f"{option}: unknown value {item!r}; valid: {', '.join(valid)}")
        return item

    return parse


def integer(option: str, text: str, minimum: int = 1) -> int:
    """`text` as an integer >= minimum, or a UsageError naming it."""
    if not text.isdigit() or int(text) < minimum:
        raise UsageError(
            f"{option}: {text!r} is not an integer >= {minimum}; valid: integers >= {minimum}"
        )
    return int(text)


def parse_kernel(item: str) -> str:
    """A registered kernel, an installed plugin's, or a user's `module:attribute`."""
    if ":" in item:
        try:
            return load_kernel(item).name
        except KernelLoadError as error:
            raise UsageError(
                f"--kernel: {error}; valid: {', '.join(BUILT_IN)} or "
                "module:attribute naming a gilkit kernel"
            ) from error
    if item not in KERNELS:
        broken = load_entry_points()
        if item in broken:  # the line `gilkit list` shows for it
            raise UsageError(f"--kernel: {item!r}: {broken[item]}; valid: {', '.join(KERNELS)}")
    return one_of("--kernel", list(KERNELS))(item)


def parse_kernels(text: str | None) -> list[str]:
    if text is None:
        return list(DEFAULT_KERNELS)
    return comma_list("--kernel", text, parse_kernel)


def families_text() -> str:
    return "; ".join(f"{family} = {', '.join(impls)}" for family, impls in MULTI_FAMILIES.items())


def parse_impls(text: str | None, kernels: Sequence[str] = ()) -> tuple[list[str], dict[str, str]]:
    """The impls to run, and the ones left out with why (not built here).

    Without --impl: the built-in impls of the default run, and the kernels' own impls. With
    it: impl names, the selected kernels' own impl names, and family names: a family selects
    all its impls that are built here (`c-api`: c-api-gil and c-api), naming those that are not.
    An impl named alone that is not built is an error naming the reason.
    """
    own = [i for k in kernels for i in KERNELS[k].impls if i not in IMPLS]
    own = list(dict.fromkeys(own))
    left_out: dict[str, str] = {}
    if text is None:
        left_out = {i: r for i in DEFAULT_IMPLS if (r := impl_unavailable_reason(i)) is not None}
        return [i for i in DEFAULT_IMPLS if i not in left_out] + own, left_out
    valid = [*IMPLS, *own]
    impls: dict[str, None] = {}
    for item in comma_list("--impl", text, str):
        if item in MULTI_FAMILIES:
            members = MULTI_FAMILIES[item]
            reasons = {i: r for i in members if (r := impl_unavailable_reason(i)) is not None}
            if len(reasons) == len(members):
                unavailable(item, next(iter(reasons.values())))
            left_out.update(reasons)
            impls.update(dict.fromkeys(i for i in members if i not in reasons))
        elif item in valid:
            reason = impl_unavailable_reason(item)
            if reason is not None:
                unavailable(item, reason)
            impls[item] = None
        else:
            raise UsageError(
                f"--impl: unknown value {item!r}; valid: {', '.join(valid)}, or a family of "
                f"impls ({families_text()})"
            )
    return list(impls), {i: r for i, r in left_out.items() if i not in impls}


def unavailable(name: str, reason: str) -> None:
    available = [impl for impl in IMPLS if impl_unavailable_reason(impl) is None]
    raise UsageError(
        f"--impl: {name!r} is unavailable here: {reason}; available: {', '.join(available)}"
    )


def parse_runners(text: str | None, here: bool = True) -> list[str] | None:
    """The runners asked for, or None for each kernel's defaults.

    `here`: they will run under this interpreter, so each must be usable on it (its package
    installed, subinterpreters with a GIL each); not so with --python, where each
    interpreter's own gilkit checks them.
    """
    if text is None:
        return None
    runners = comma_list("--runner", text, parse_runner)
    if here:
        available = [name for name, r in RUNNERS.items() if r.unavailable_reason() is None]
        for name in runners:
            reason = RUNNERS[name].unavailable_reason()
            if reason is not None:
                raise UsageError(
                    f"--runner: {name!r} {reason}; available here: {', '.join(available)}"
                )
    return runners


def parse_runner(item: str) -> str:
    """A registered runner, or an installed package's (the `gilkit.runners` entry points)."""
    if item not in RUNNERS:
        broken = load_runner_entry_points()
        if item in broken:  # the line `gilkit list` shows for it
            raise UsageError(f"--runner: {item!r}: {broken[item]}; valid: {', '.join(RUNNERS)}")
    return one_of("--runner", list(RUNNERS))(item)


def parse_scheduler(text: str | None, runners: Sequence[str] | None) -> str | None:
    """An existing Dask cluster for the dask runners: tcp://HOST:PORT or a scheduler file."""
    if text is None:
        return None
    dask = [name for name, runner in RUNNERS.items() if issubclass(runner, DaskRunner)]
    if not set(runners or ()) & set(dask):
        raise UsageError(
            f"--scheduler: only the dask runners use a cluster; valid: with --runner "
            f"{' and/or '.join(dask)}"
        )
    if "://" in text:
        _check_address(text)
    else:
        _check_scheduler_file(text)
    return text


SCHEDULER_VALID = (
    "valid: tcp://HOST:PORT or the path of a scheduler file (dask scheduler --scheduler-file)"
)


def _check_address(text: str, found_in: str = "") -> None:
    """Its form, before connecting: a scheme distributed lacks fails only after its timeout."""
    scheme, _, where = text.partition("://")
    host, _, port = where.rpartition(":")
    if scheme != "tcp":
        problem = "is not a tcp:// address"
    elif not host or not port.isdigit():
        problem = "is not an address"
    else:
        return
    raise UsageError(f"--scheduler: {found_in}{text!r} {problem}; {SCHEDULER_VALID}")


def _check_scheduler_file(text: str) -> None:
    """A scheduler file names its scheduler's address; distributed waits on a file without."""
    if not Path(text).is_file():
        raise UsageError(
            f"--scheduler: {text!r} is neither an address nor a file; {SCHEDULER_VALID}"
        )
    try:
        found = json.loads(Path(text).read_text())
    except (OSError, ValueError) as error:  # not text, not JSON
        raise UsageError(
            f"--scheduler: {text!r} is not a scheduler file ({type(error).__name__}: {error}); "
            f"{SCHEDULER_VALID}"
        ) from None
    address = found.get("address") if isinstance(found, dict) else None
    if not isinstance(address, str):
        raise UsageError(
            f"--scheduler: {text!r} is not a scheduler file: no 'address'; {SCHEDULER_VALID}"
        )
    _check_address(address, f"{text!r} gives ")


def parse_workers(
    text: str | None, kernels: Sequence[str], named: str | None = None
) -> list[int] | None:
    """The worker counts asked for, or None for each kernel's defaults; none past the most
    that any of the kernels can use (plan.max_workers). `named`: what the error calls the
    kernel, where the user knows it by another name (advise's function)."""
    if text is None:
        return None
    counts = sorted(comma_list("--workers", text, lambda item: integer("--workers", item)))
    cpus = usable_cpus()
    most, kernel = min((max_workers(KERNELS[k], cpus), k) for k in kernels)
    if counts[-1] > most:
        why = "for waiting work" if KERNELS[kernel].bound == "io" else f"4× the {cpus} usable cpus"
        raise UsageError(
            f"--workers: {counts[-1]} is more than {named or kernel} can use ({most}, {why}); "
            f"valid: 1 to {most}"
        )
    return counts


def parse_sizes(
    text: str | None, kernels: Sequence[str], impls: Sequence[str]
) -> dict[str, dict[str, int]]:
    """{kernel: {impl: n}}. `N` sets every kernel, `kernel=N,...` some, one n for all their
    impls; `kernel:impl=N` one impl of a kernel (after its kernel's n, where both are given).

    Without it each kernel uses its defaults: a smaller n for pure Python than for the rest.
    """
    sizes = {k: {i: KERNELS[k].default_size(i) for i in impls} for k in kernels}
    if text is None:  # the kernels' own defaults ("auto" is gilkit.planning.sizing's)
        return sizes
    if "=" not in text:
        if not text.replace("_", "").isdigit():
            raise UsageError(
                f"--size: {text!r} is not a size; valid: auto, N (an integer >= 1, 1_000_000 "
                "too), KERNEL=N,... or KERNEL:IMPL=N"
            )
        n = integer("--size", text.replace("_", ""))
        return {k: dict.fromkeys(impls, n) for k in kernels}
    items = [item.rpartition("=") for item in comma_list("--size", text, str)]
    keys = [key for key, _, _ in items]
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:
        raise UsageError(
            f"--size: {twice!r} is given more than once in {text!r}; valid: one n for each"
        )
    # A kernel's n first, then its impls': `squares:python=10,squares=1000` means what it says.
    for key, _, value in sorted(items, key=lambda item: item[0] not in kernels):
        if key in kernels:
            sizes[key] = dict.fromkeys(impls, integer("--size", value))
            continue
        kernel, _, impl = key.rpartition(":")  # a kernel of your own has a colon too
        if kernel not in kernels or impl not in impls:
            raise UsageError(
                f"--size: {key!r} is not a kernel of this run, nor KERNEL:IMPL of its impls; "
                f"valid: {', '.join(kernels)}, or e.g. {kernels[0]}:{impls[0]}"
            )
        sizes[kernel][impl] = integer("--size", value)
    return sizes


def parse_splits(text: str | None, kernels: Sequence[str]) -> dict[str, str]:
    """The default split of each kernel, or the one asked for where the kernel offers it."""
    splits = {kernel: KERNELS[kernel].splits[0] for kernel in kernels}
    if text is None:
        return splits
    how = one_of("--split", SPLITS)(text)
    if not any(how in KERNELS[kernel].splits for kernel in kernels):
        offered = sorted({s for kernel in kernels for s in KERNELS[kernel].splits})
        raise UsageError(
            f"--split: {how!r} is not offered by {', '.join(kernels)}; valid: {', '.join(offered)}"
        )
    for kernel in kernels:
        if how in KERNELS[kernel].splits:
            splits[kernel] = how
    return splits


def parse_start_method(text: str | None) -> str | None:
    return None if text is None else one_of("--start-method", START_METHODS)(text)


def parse_seconds(option: str, text: str | None, default: float | None) -> float | None:
    """A positive number of seconds, or the default when not given."""
    if text is None:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise UsageError(
            f"{option}: {text!r} is not a positive number of seconds; valid: numbers > 0"
        )
    return seconds


# The most repeats (and warm-ups) a command takes: far past what any statistic needs (the
# significance test is exact to 50 a side, approximate beyond), and a run of them still
# ends; 10**9 would not.
MOST_COUNT = 1000


def parse_count(
    option: str, text: str | None, default: int, minimum: int, most: int = MOST_COUNT
) -> int:
    """A count from `minimum` to `most`, or the default when not given."""
    if text is None:
        return default
    count = integer(option, text, minimum)
    if count > most:
        raise UsageError(f"{option}: {text!r} is too many; valid: {minimum} to {most:,}")
    return count
