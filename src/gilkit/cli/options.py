"""Parse and check `gilkit run` options; every error names the bad value and the valid ones."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

from gilkit.kernels import (
    IMPLS,
    KERNELS,
    SOURCES,
    KernelLoadError,
    impl_unavailable_reason,
    load_entry_points,
    load_kernel,
)
from gilkit.machine import usable_cpus
from gilkit.plan import max_workers
from gilkit.runners import RUNNERS, START_METHODS
from gilkit.splitting import SPLITS

T = TypeVar("T")
BUILT_IN = [name for name, source in SOURCES.items() if source == "built-in"]
DEFAULT_KERNELS = [name for name in BUILT_IN if KERNELS[name].in_default_run]


class UsageError(ValueError):
    """Bad command-line input; the CLI prints it on one line and exits with status 2."""


def comma_list(option: str, text: str, parse_item: Callable[[str], T]) -> list[T]:
    items = text.split(",")
    if any(not item.strip() for item in items):
        raise UsageError(
            f"{option}: empty item in {text!r}; valid: a comma-separated list "
            "without spaces or empty items"
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
        load_entry_points()
    return one_of("--kernel", list(KERNELS))(item)


def parse_kernels(text: str | None) -> list[str]:
    if text is None:
        return list(DEFAULT_KERNELS)
    return comma_list("--kernel", text, parse_kernel)


def parse_impls(text: str | None) -> tuple[list[str], dict[str, str]]:
    """The impls to run and, for a default selection, the ones left out and why."""
    available = [impl for impl in IMPLS if impl_unavailable_reason(impl) is None]
    if text is None:
        left_out = {
            impl: impl_unavailable_reason(impl) or "" for impl in IMPLS if impl not in available
        }
        return available, left_out
    impls = comma_list("--impl", text, one_of("--impl", list(IMPLS)))
    for impl in impls:
        reason = impl_unavailable_reason(impl)
        if reason is not None:
            raise UsageError(
                f"--impl: {impl!r} is unavailable here: {reason}; available: {', '.join(available)}"
            )
    return impls, {}


def parse_runners(text: str | None, here: bool = True) -> list[str] | None:
    """The runners asked for, or None for each kernel's defaults.

    `here`: they will run under this interpreter, so each must be available on it; not so
    with --python, where each interpreter's own gilkit checks them.
    """
    if text is None:
        return None
    runners = comma_list("--runner", text, one_of("--runner", list(RUNNERS)))
    if here:
        available = [name for name, r in RUNNERS.items() if r.unavailable_reason() is None]
        for name in runners:
            reason = RUNNERS[name].unavailable_reason()
            if reason is not None:
                raise UsageError(
                    f"--runner: {name!r} is unavailable here: {reason}; "
                    f"available: {', '.join(available)}"
                )
    return runners


def parse_workers(text: str | None, kernels: Sequence[str]) -> list[int] | None:
    """The worker counts asked for, or None for each kernel's defaults; none past the most
    that any of the kernels can use (plan.max_workers)."""
    if text is None:
        return None
    counts = sorted(comma_list("--workers", text, lambda item: integer("--workers", item)))
    cpus = usable_cpus()
    most, kernel = min((max_workers(KERNELS[k], cpus), k) for k in kernels)
    if counts[-1] > most:
        why = "for waiting work" if KERNELS[kernel].bound == "io" else f"4x the {cpus} usable cpus"
        raise UsageError(
            f"--workers: {counts[-1]} is more than {kernel} can use ({most}, {why}); "
            f"valid: 1 to {most}"
        )
    return counts


def parse_sizes(
    text: str | None, kernels: Sequence[str], impls: Sequence[str]
) -> dict[str, dict[str, int]]:
    """{kernel: {impl: n}}. `N` sets every kernel, `kernel=N,...` some; one n for all impls.

    Without it each kernel uses its defaults: a smaller n for pure Python than for the rest.
    """
    sizes = {k: {i: KERNELS[k].default_size(i) for i in impls} for k in kernels}
    if text is None:  # ("auto" is handled by gilkit.calibrate)
        return sizes
    if "=" not in text:
        n = integer("--size", text)
        return {k: dict.fromkeys(impls, n) for k in kernels}
    for item in comma_list("--size", text, str):
        kernel, _, value = item.partition("=")
        if kernel not in kernels:
            raise UsageError(
                f"--size: {kernel!r} is not a kernel of this run; valid: {', '.join(kernels)}"
            )
        sizes[kernel] = dict.fromkeys(impls, integer("--size", value))
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
        raise UsageError(f"{option}: {text!r} is not a number of seconds; valid: numbers > 0")
    return seconds


def parse_count(option: str, text: str | None, default: int, minimum: int) -> int:
    return default if text is None else integer(option, text, minimum)
