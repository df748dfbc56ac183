"""Test helpers for extension authors: assert that a call releases the GIL, holds it, or shares
it (takes turns with other threads, as pure Python does).

    from gilkit.testing import assert_releases_gil

    def test_my_kernel_releases_the_gil():
        assert_releases_gil(mymod.kernel, big_input)

Where the probe cannot judge (a free-threaded interpreter, one usable cpu, a machine too busy
just then), the test is skipped, not passed: the helper calls pytest.skip when pytest is
importable, and otherwise returns the probe for the caller to look at. A call too short to
judge fails instead, with the advice to give it more work: the test, not the machine, needs
fixing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gilkit.gil.probe import MIN_CALL_S, GilProbe, Verdict, describe, releases_gil
from gilkit.model.units import format_seconds

# A verdict other than the expected one is probed once more before the test fails or is
# skipped: load on a shared machine can leave the probe without enough judged rounds within
# its budget (where the kernel does not count a thread's cpu waits, a round needs two free
# cpus), which the second try may not. Load does not make a call that holds the GIL read as
# releasing it, or the reverse.
ATTEMPTS = 2

UNJUDGEABLE = (Verdict.NO_GIL, Verdict.CANNOT_JUDGE)

VERBS = {
    Verdict.RELEASES: ("release", "releases"),
    Verdict.HOLDS: ("hold", "holds"),
    Verdict.SHARES: ("share", "shares"),
    Verdict.PARTLY: ("release", "releases"),
}


def assert_releases_gil(fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> GilProbe:
    """Fail unless fn(*args, **kwargs) releases the GIL; skip where that cannot be judged."""
    return assert_verdict(Verdict.RELEASES, fn, args, kwargs)


def assert_holds_gil(fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> GilProbe:
    """Fail unless fn(*args, **kwargs) holds the GIL; skip where that cannot be judged."""
    return assert_verdict(Verdict.HOLDS, fn, args, kwargs)


def assert_shares_gil(fn: Callable[..., object], /, *args: Any, **kwargs: Any) -> GilProbe:
    """Fail unless fn(*args, **kwargs) takes turns on the GIL with other threads (pure Python,
    or native code that takes the GIL back often); skip where that cannot be judged."""
    return assert_verdict(Verdict.SHARES, fn, args, kwargs)


def assert_verdict(
    expected: Verdict,
    fn: Callable[..., object],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> GilProbe:
    """Probe fn (up to ATTEMPTS times); fail or skip with the figures unless it is `expected`."""
    name, (verb, verbs) = describe(fn), VERBS[expected]
    for _ in range(ATTEMPTS):
        probe = releases_gil(fn, *args, **(kwargs or {}))
        settled = probe.verdict in (expected, Verdict.TOO_SHORT, Verdict.NO_GIL)
        if settled or probe.usable_cpus < 2:
            break
    if probe.verdict is Verdict.TOO_SHORT:
        raise AssertionError(
            f"{name} lasted {format_seconds(probe.call_s)}, too short to tell whether it "
            f"{verbs} the GIL: pass it a bigger input, so that it lasts at least "
            f"{format_seconds(MIN_CALL_S)} (100 ms or more is safer)"
        )
    if probe.verdict in UNJUDGEABLE:
        skip(f"cannot tell whether {name} {verbs} the GIL: {probe}")
        return probe
    if probe.verdict is not expected:
        raise AssertionError(f"expected {name} to {verb} the GIL, but it {probe}")
    return probe


def skip(reason: str) -> None:
    """pytest.skip(reason) under pytest; nothing without it."""
    try:
        import pytest
    except ImportError:
        return
    pytest.skip(reason)
