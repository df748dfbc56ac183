"""Claim 5: threads are great for I/O-bound work.

Fetch URLs from gilkit's local server (127.0.0.1 only, a set latency per request), one after
another and from a pool of threads, through the project's runners. Each request waits on a
socket, which releases the GIL, so the threads' waits overlap.
"""

from __future__ import annotations

from functools import partial

from gilkit.claims.base import DOES_NOT_HOLD, HOLDS, Claim, ClaimResult, scales
from gilkit.claims.timing import interleaved, medians
from gilkit.kernels.io_server import fetch, serve
from gilkit.kernels.splitting import split
from gilkit.model.units import format_ratio, format_seconds
from gilkit.runners import RUNNERS

CLAIM = Claim(5, "Threads are great for I/O-bound tasks")
N_URLS = 40
LATENCY_S = 0.02
PAYLOAD_BYTES = 16 * 1024
N_THREADS = 8


def threads_overlap_io(
    n_urls: int = N_URLS,
    latency_s: float = LATENCY_S,
    payload_bytes: int = PAYLOAD_BYTES,
    n_threads: int = N_THREADS,
    repeats: int = 3,
) -> ClaimResult:
    parts = split(n_urls, n_threads)
    with serve(latency_s, payload_bytes) as base_url, RUNNERS["threads"]() as pool:
        pool_start_s = pool.start(n_threads)
        fetched: dict[str, int] = {}

        def serially() -> None:
            fetched["serial"] = fetch(base_url, range(n_urls))

        def threaded() -> None:
            fetched["threads"] = sum(pool.map(partial(fetch, base_url), parts))

        fetch(base_url, range(1))  # the first connection pays for imports and caches
        times = interleaved({"serial": serially, "threads": threaded}, repeats, warmups=0)
    median = medians(times)
    expected = n_urls * payload_bytes
    if fetched != {"serial": expected, "threads": expected}:
        raise RuntimeError(f"fetched {fetched} bytes, expected {expected} each way")
    speedup = median["serial"] / median["threads"]
    ideal = min(n_threads, n_urls)
    measured = (
        f"{n_urls} GETs of {payload_bytes // 1024} KiB, {format_seconds(latency_s)} latency "
        "each, from "
        f"127.0.0.1: serial {format_seconds(median['serial'])}, {n_threads} threads "
        f"{format_seconds(median['threads'])}: {format_ratio(speedup)} (ideal {ideal}×)"
    )
    verdict = HOLDS if scales(speedup, ideal) else DOES_NOT_HOLD
    figures = {
        "n_urls": n_urls,
        "latency_s": latency_s,
        "payload_bytes": payload_bytes,
        "n_threads": n_threads,
        "ideal": ideal,
        "speedup": speedup,
        "serial_s": times["serial"],
        "threads_s": times["threads"],
        "pool_start_s": pool_start_s,
    }
    return CLAIM.result(measured, verdict, figures)
