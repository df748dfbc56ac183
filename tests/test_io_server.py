"""The local server: answers on 127.0.0.1 with the payload asked for, and is gone afterwards."""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time

import pytest

from gilkit.kernels.io_server import HOST, fetch, port_of, serve


def refuses(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_answers_on_loopback_with_the_payload_size() -> None:
    with serve(latency_s=0.0, payload_bytes=1234) as base_url:
        assert base_url.startswith(f"http://{HOST}:")
        port = port_of(base_url)
        connection = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            connection.request("GET", "/anything")
            with connection.getresponse() as response:
                body = response.read()
                assert response.status == 200
                assert response.getheader("Content-Length") == "1234"
        finally:
            connection.close()
        assert len(body) == 1234
        assert fetch(base_url, range(5)) == 5 * 1234


def test_each_answer_waits_the_latency() -> None:
    with serve(latency_s=0.05, payload_bytes=1) as base_url:
        began = time.perf_counter()
        fetch(base_url, range(2))
        # A lower bound, which no machine's speed can break: each answer waits its latency.
        assert time.perf_counter() - began >= 2 * 0.05


def test_stops_with_the_block_and_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    with serve(latency_s=0.0, payload_bytes=10) as base_url:
        port = port_of(base_url)
        fetch(base_url, range(3))
        assert not refuses(port)
    assert refuses(port)
    assert set(threading.enumerate()) <= before


def crash_inside_serve(error: type[BaseException], ports: list[int]) -> None:
    with serve(latency_s=0.0) as base_url:
        ports.append(port_of(base_url))
        raise error


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_stops_on_error_and_ctrl_c(error: type[BaseException]) -> None:
    ports: list[int] = []
    with pytest.raises(error):
        crash_inside_serve(error, ports)
    assert refuses(ports[0])
    assert not [t for t in threading.enumerate() if t.name == "gilkit-io-server"]


def test_empty_payload_and_empty_part() -> None:
    with serve(latency_s=0.0, payload_bytes=0) as base_url:
        assert fetch(base_url, range(2)) == 0
        assert fetch(base_url, range(0)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:80",
        "http://localhost:8000",
        "https://127.0.0.1:8000",
        "http://127.0.0.1",
    ],
)
def test_fetch_refuses_anything_but_a_local_server(url: str) -> None:
    with pytest.raises(ValueError, match="not a local gilkit server URL"):
        fetch(url, range(1))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"), serve(latency_s=-1.0):
        pass


def test_a_burst_of_connections_is_not_dropped() -> None:
    """A thread pool connects all at once: the listen backlog must hold them all.

    With socketserver's default backlog of 5, the rest wait for a SYN retry (1 s on Linux).
    """
    n = 32
    with serve(latency_s=0.0, payload_bytes=10) as base_url:
        port = port_of(base_url)
        sockets = [socket.socket() for _ in range(n)]
        try:
            for sock in sockets:
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))
            # The kernel completes handshakes up to the listen queue's length by itself, at
            # once; past it, a SYN waits for a retry a second later.
            _, connected, _ = select.select([], sockets, [], 0.5)
        finally:
            for sock in sockets:
                sock.close()
    assert len(connected) == n
