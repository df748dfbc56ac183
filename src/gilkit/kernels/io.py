"""`io`: fetch n URLs from a local HTTP server that answers each after a fixed latency.

The seed's "download website information from multiple sites", without the network: the
server (gilkit.kernels.io_server) runs in a process of its own on 127.0.0.1, so its request threads
do not compete for this process's GIL, and it stops with the run. A worker on another host,
where this 127.0.0.1 does not reach, starts the same server for itself. Waiting on a socket
releases the GIL, so threads should scale far past the cpu count until the latency no longer
dominates; `asyncio` does the same waiting in one thread.
"""

from __future__ import annotations

import asyncio
import atexit
import select
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from gilkit.kernels.base import Kernel
from gilkit.kernels.io_server import HOST, fetch, port_of

LATENCY_S = 0.01
PAYLOAD_BYTES = 1024
SERVER_START_TIMEOUT_S = 30.0

_SERVER = """
import sys
from gilkit.kernels.io_server import serve
with serve(float(sys.argv[1]), int(sys.argv[2])) as url:
    print(url, flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin (or dies)
"""


@dataclass(frozen=True)
class Site:
    base_url: str | None  # None: a worker on another host, which starts a server of its own
    payload_bytes: int


@contextmanager
def prepare(n: int, split: str) -> Iterator[Site]:
    with serving() as base_url:
        yield Site(base_url, PAYLOAD_BYTES)


def elsewhere(site: Site) -> Site:
    """The params for workers on other hosts, where this host's 127.0.0.1 does not reach."""
    return Site(None, site.payload_bytes)


_own: list[str] = []  # the server a worker on another host started for itself
_own_lock = threading.Lock()


def url_of(site: Site) -> str:
    """Where the site is served: this host's server, or on another host the worker's own,
    started at its first call and ending with the worker (its stdin closes then)."""
    if site.base_url is not None:
        return site.base_url
    with _own_lock:
        if not _own:
            stack = ExitStack()
            _own.append(stack.enter_context(serving()))
            atexit.register(stack.close)
        return _own[0]


@contextmanager
def serving() -> Iterator[str]:
    """Start the server in its own process; stop it however the run ends."""
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(LATENCY_S), str(PAYLOAD_BYTES)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], SERVER_START_TIMEOUT_S)
        base_url = server.stdout.readline().strip() if ready else ""
        if not base_url:
            raise RuntimeError(
                "the local HTTP server for the io kernel did not start "
                f"within {SERVER_START_TIMEOUT_S:.0f} s"
            )
        port_of(base_url)  # only ever 127.0.0.1
        yield base_url
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


def chunk_python(part: range, site: Site) -> int:
    return fetch(url_of(site), part)


async def chunk_asyncio(part: range, site: Site) -> int:
    """The same requests with asyncio streams: one connection each, HTTP/1.0, read to EOF."""
    base_url = url_of(site)
    port = port_of(base_url)
    total = 0
    for i in part:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(f"GET /{i} HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
        head, _, body = response.partition(b"\r\n\r\n")
        if head.split(b" ", 2)[1:2] != [b"200"]:
            raise OSError(f"GET /{i} from {base_url}: {head[:40]!r}")
        total += len(body)
    return total


def combine(partials: Sequence[int]) -> int:
    return sum(partials)


def io_workers(n_cpus: int) -> list[int]:
    """Far past the cpu count: waiting threads need no cpu."""
    return sorted({1, 2, 4, 8, 16, 32, n_cpus})


KERNEL = Kernel(
    name="io",
    summary=f"fetch n URLs from a local server answering after {LATENCY_S * 1000:.0f} ms: "
    "I/O-bound",
    unit="requests",
    chunk_fns={"python": chunk_python},
    async_chunk_fns={"python": chunk_asyncio},
    combine=combine,
    python_size=lambda: 64,
    native_size=lambda: 64,
    reference=lambda n: n * PAYLOAD_BYTES,
    prepare=prepare,
    params_elsewhere=elsewhere,
    bound="io",
    in_default_run=False,
    default_workers=io_workers,
)
