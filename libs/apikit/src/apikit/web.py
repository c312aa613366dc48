"""Serving a WSGI application in production: one place for every HTTP listener
(detection's ingest, paging's ack links, comms' status page, postmortem's web).

Owns the server (cheroot: a threaded HTTP/1.1 server in this one process, keep-alive,
a fixed pool of worker threads, TLS through the standard `ssl` module), the bound on
how many requests are handled at once, and what an over-bound request is told: 503
with `Retry-After`, before the application sees it, so nothing is appended for it
(ADR 0023). Plain HTTP unless a certificate and key are given, like the gRPC APIs
(`apikit.rpc.TlsFiles`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from apikit.rpc import TlsFiles

WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]

SPARE_THREADS = 4
"""Threads beyond the in-flight bound. They only ever answer refusals, so an overload
is told 503 at once instead of waiting for a busy thread."""
RETRY_AFTER_SECONDS = 1
DRAIN_LIMIT_BYTES = 8 * 1024 * 1024
"""How much of a request body the application left unread is read and discarded
before answering. HTTP/1.1 (RFC 9112 9.6) asks a server that answers early to read the
rest, or a client still sending gets its connection reset instead of the answer; past
this much the server defends itself and closes instead."""


class Bounded:
    """WSGI middleware: at most `limit` requests inside `app` at once; the rest are
    answered 503 with Retry-After without calling `app`."""

    def __init__(self, app: WsgiApp, limit: int, retry_after: int = RETRY_AFTER_SECONDS):
        if limit < 1:
            raise ValueError(f"limit: must be at least 1, got {limit}")
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not self._slots.acquire(blocking=False):
            body = json.dumps(
                {
                    "status": "unavailable",
                    "message": f"over {self.limit} requests in flight; retry later",
                }
            ).encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Retry-After", str(self.retry_after)),
                ],
            )
            return [body]
        try:
            # Materialised inside the slot: the work (and any append) is done when the
            # slot is released, not later while the server writes the body.
            result = self.app(environ, start_response)
            try:
                chunks = list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            # Before the answer goes out (cheroot sends it once this returns), so the
            # client has finished sending when it reads the answer.
            drain_unread_body(environ)
            return chunks
        finally:
            self._slots.release()


def drain_unread_body(environ: dict[str, Any], limit: int = DRAIN_LIMIT_BYTES) -> None:
    """Read and discard what the application left of a known-length body, up to
    `limit` bytes; past that, leave it (cheroot closes the connection)."""
    stream = environ.get("wsgi.input")
    remaining = getattr(stream, "remaining", None)  # cheroot's KnownLengthRFile
    if stream is None or not isinstance(remaining, int) or not 0 < remaining <= limit:
        return
    while remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            return
        remaining -= len(chunk)


class WebServer:
    """A bound, not yet serving, server with the interface the tests and processes use
    (`server_port`, `serve_forever`, `shutdown`), as werkzeug's had."""

    def __init__(self, server: wsgi.Server, tls: bool) -> None:
        self._server = server
        self.tls = tls
        server.prepare()  # binds now, so port 0 is resolved before serving

    @property
    def server_port(self) -> int:
        return int(self._server.bind_addr[1])

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def serve_forever(self) -> None:
        self._server.serve()

    def shutdown(self) -> None:
        self._server.stop()


def serve_wsgi(
    app: WsgiApp,
    host: str,
    port: int,
    *,
    max_in_flight: int = 16,
    tls: TlsFiles | None = None,
    name: str = "firewatch",
) -> WebServer:
    """Bind `app` on host:port (port 0 picks a free one); call `serve_forever()`.

    At most `max_in_flight` requests run at once; connections waiting for a thread are
    bounded too (cheroot answers 503 past that), so nothing queues without bound."""
    threads = max_in_flight + SPARE_THREADS
    server = wsgi.Server(
        (host, port),
        Bounded(app, max_in_flight),
        numthreads=threads,
        server_name=name,
        request_queue_size=128,  # the listen backlog
        accepted_queue_size=threads,
        accepted_queue_timeout=0,  # full: refuse now rather than stall the acceptor
        timeout=30,  # an idle keep-alive connection is closed after this
    )
    if tls is not None:
        server.ssl_adapter = BuiltinSSLAdapter(str(tls.certificate), str(tls.private_key))
    return WebServer(server, tls is not None)
