"""What a user's own impl does with the GIL, when its kernel does not say: asked of the probe.

A kernel made with define_kernel may name impls of its own and give their kinds
(`kinds={"c-nogil": "releases"}`). For those it does not give, `gilkit run` asks gilkit's
probe (gilkit.gil.probe) about one call of the impl on a part of moderate size, sized to last
about TARGET_CALL_S, and records the answer on the kernel, so that the tables and the result
file carry it, with the probe's verdict:

    releases, releases-partly -> "releases"    holds -> "holds"
    shares -> "python" (it takes turns on the GIL as pure Python does)

The probe cannot tell "vectorized" (NumPy) from "releases", and an impl that is parallel
inside one call takes a thread count the probe does not pass: only the kernel can say those.
Where the probe cannot judge (a busy machine, one usable cpu, no GIL), the kind stays
"unknown", with the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gilkit.gil.probe import MIN_CALL_S, GilProbe, Verdict, estimated_s, releases_gil
from gilkit.kernels import KERNELS, Kernel, register_inferred_kinds

# The call the probe watches should last about this long: well past MIN_CALL_S (20 ms), so that
# the figures are clear, and short enough for a probe of a few seconds.
TARGET_CALL_S = 0.1
# A part can be grown (its kernel's data made anew) up to this factor past the kernel's
# default n (or the cell's, if larger).
MAX_GROWTH = 64

# A call that releases the GIL for part of its time counts as releasing: threads can scale it,
# as far as its held part allows; its verdict, recorded with the kind, says how much it held.
VERDICT_KINDS = {
    Verdict.RELEASES: "releases",
    Verdict.PARTLY: "releases",
    Verdict.HOLDS: "holds",
    Verdict.SHARES: "python",
}


@dataclass(frozen=True)
class Inference:
    kernel: str
    impl: str
    kind: str  # "unknown" when the probe could not judge
    verdict: str  # the probe's verdict and figures, one line

    def line(self) -> str:
        if self.kind == "unknown":
            return (
                f"{self.impl}: kind unknown, gilkit's probe could not tell ({self.verdict}); "
                f"give it: define_kernel(..., kinds={{{self.impl!r}: ...}})"
            )
        return f"{self.impl}: inferred {self.kind!r} with gilkit's probe ({self.verdict})"


def without_kind(cells: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
    """{(kernel, impl): n} for the cells' impls whose kind nobody gave: (kernel, impl, n)."""
    missing: dict[tuple[str, str], int] = {}
    for kernel, impl, n in cells:
        if KERNELS[kernel].kind_of(impl) == "unknown":
            missing[kernel, impl] = min(n, missing.get((kernel, impl), n))
    return missing


def time_part(kernel: Kernel, impl: str, n: int, split: str) -> float:
    """Seconds for one call over [0, n)."""
    with kernel.params_for(n, split) as params:
        began = time.perf_counter()
        kernel.chunk_fns[impl](range(n), params)
        return time.perf_counter() - began


def part_size(kernel: Kernel, impl: str, n: int, split: str) -> tuple[int, float]:
    """(m, seconds): m grown from n (at most MAX_GROWTH times) until a call over
    [0, m) lasts TARGET_CALL_S / 2, or cut where it lasts over twice TARGET_CALL_S; and about
    how long a call over [0, m) lasts."""
    limit = n * MAX_GROWTH
    call_s = time_part(kernel, impl, n, split)
    while call_s < TARGET_CALL_S / 2 and n < limit:
        n = min(limit, max(2 * n, round(n * TARGET_CALL_S / max(call_s, 1e-6))))
        call_s = time_part(kernel, impl, n, split)
    if call_s > 2 * TARGET_CALL_S:
        return max(1, round(n * TARGET_CALL_S / call_s)), TARGET_CALL_S
    return n, call_s


def infer_kind(
    name: str,
    impl: str,
    n: int,
    split: str,
    announce: Callable[[float], None] = lambda seconds: None,
) -> Inference:
    """Probe one call of kernel `name`'s impl on a part of moderate size and record its kind;
    announce(seconds) says first about how long the probe will take."""
    kernel = KERNELS[name]
    m, call_s = part_size(kernel, impl, max(n, kernel.default_size(impl)), split)
    announce(estimated_s(max(call_s, MIN_CALL_S)))
    with kernel.params_for(m, split) as params:
        probed = releases_gil(kernel.chunk_fns[impl], range(m), params)
    kind, verdict = kind_of(probed)
    register_inferred_kinds(name, {impl: (kind, verdict)})
    return Inference(name, impl, kind, verdict)


def kind_of(probed: GilProbe) -> tuple[str, str]:
    """The impl kind a probe's verdict gives ("unknown" where it could not judge), and the
    verdict with its figures, one line."""
    kind = VERDICT_KINDS.get(probed.verdict, "unknown")
    verdict = f"{probed.verdict}: {probed.headline()}" if kind == "unknown" else str(probed.verdict)
    if probed.fraction is not None:
        verdict += f"; {probed.figures()}"
    return kind, verdict
