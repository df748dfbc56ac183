"""A local HTTP server with a set latency and payload: I/O-bound work that gilkit controls.

Fetching from it is blocking socket I/O, which releases the GIL while it waits, as fetching
from real sites does, but without the network: the server binds 127.0.0.1 on a port the OS
picks, lives only inside `serve()`, and `fetch` refuses any other host. Nothing here resolves
a name or reads proxy settings (urllib would), so no request leaves this machine.
"""

from __future__ import annotations

import http.client
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
# serve_forever checks for shutdown this often: stopping the server waits at most this long.
POLL_INTERVAL_S = 0.05
# A client that connects and sends nothing holds a server thread no longer than this.
REQUEST_TIMEOUT_S = 10.0


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT_S

    def do_GET(self) -> None:
        time.sleep(self.server.latency_s)  # the "slow device": releases the GIL while it waits
        body = self.server.payload
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: a run prints tables, not one line per request


class _Server(ThreadingHTTPServer):
    # Request threads are joined by server_close(), so none outlives the run (a fork after
    # the run then sees no stray thread).
    daemon_threads = False
    block_on_close = True
    # listen() backlog: socketserver's default of 5 makes the 6th of many simultaneous
    # connections wait for a SYN retry (1 s on Linux), which a thread pool of 8 or 16 hits.
    request_queue_size = 128

    def __init__(self, latency_s: float, payload_bytes: int) -> None:
        self.latency_s = latency_s
        self.payload = b"x" * payload_bytes
        super().__init__((HOST, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]


@contextmanager
def serve(latency_s: float = 0.02, payload_bytes: int = 1024) -> Iterator[str]:
    """Serve on 127.0.0.1 until the block ends (also by an error or Ctrl-C); yield the base URL.

    Every GET, whatever its path, is answered after `latency_s` with `payload_bytes` bytes.
    """
    if latency_s < 0 or payload_bytes < 0:
        raise ValueError(
            f"latency_s and payload_bytes must be >= 0, got {latency_s}, {payload_bytes}"
        )
    server = _Server(latency_s, payload_bytes)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": POLL_INTERVAL_S},
        name="gilkit-io-server",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()  # closes the socket and joins the request threads


def port_of(base_url: str) -> int:
    """The port of a URL from `serve()`; ValueError for any URL that is not on 127.0.0.1."""
    url = urllib.parse.urlsplit(base_url)
    if url.scheme != "http" or url.hostname != HOST or url.port is None:
        raise ValueError(f"not a local gilkit server URL: {base_url!r}; valid: http://{HOST}:PORT")
    return url.port


def fetch(base_url: str, part: range, timeout_s: float = REQUEST_TIMEOUT_S) -> int:
    """GET `base_url`/i for every i in `part`, one connection each, one after another.

    Returns the total bytes received. Made for the runners: a part per worker, like the
    kernels' chunk functions, so a thread pool can fetch several parts at once.
    """
    port = port_of(base_url)
    total = 0
    for i in part:
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
        try:
            connection.request("GET", f"/{i}")
            with connection.getresponse() as response:
                body = response.read()
                if response.status != 200:
                    raise OSError(f"GET /{i} from {base_url}: HTTP {response.status}")
                total += len(body)
        finally:
            connection.close()
    return total
