"""A client whose request the application refuses before reading its body still gets
the answer. The CI failure this pins: detection answered an oversized PagerDuty event
400 without reading it; the client had sent `Connection: close`, so cheroot closed the
socket with the body's tail unread, the kernel reset the connection, and the sender got
EPIPE instead of the 400 telling it what was wrong. The server now drains a refused
body (up to `DRAIN_LIMIT_BYTES`) before answering."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from apikit.web import DRAIN_LIMIT_BYTES, WebServer, serve_wsgi


def _refuse_unread(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = b'{"errors": ["body: too large"]}'
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


@pytest.fixture
def server() -> Iterator[WebServer]:
    web = serve_wsgi(_refuse_unread, "127.0.0.1", 0, max_in_flight=2)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    yield web
    web.shutdown()
    thread.join(timeout=10)


def _post(port: int, size: int) -> bytes:
    """Send a `Connection: close` POST of `size` bytes, as urllib does; the reply."""
    head = (
        f"POST /v2/enqueue HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sock.sendall(b"x" * size)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_a_refused_body_is_drained_so_the_client_reads_the_answer(server: WebServer) -> None:
    # Several MiB: more than loopback's socket buffers hold, so without the drain the
    # server closes while the client is still sending, every time.
    size = min(DRAIN_LIMIT_BYTES, 6 * 1024 * 1024)
    for _ in range(5):
        reply = _post(server.server_port, size)
        assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
        assert reply.endswith(b'{"errors": ["body: too large"]}')


def test_a_body_past_the_drain_limit_is_not_read(server: WebServer) -> None:
    # Past the limit the server defends itself: it answers and closes without reading
    # the rest; the sender sees its connection cut rather than a server reading forever.
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        _post(server.server_port, DRAIN_LIMIT_BYTES * 4)
