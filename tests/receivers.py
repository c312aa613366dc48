"""Real receivers for tests: an SMTP server (aiosmtpd) and an HTTP server on loopback.

Each records what it received. A test *claims* each message it expects; at teardown
the fixture fails the test if anything arrived that nobody claimed, so an unexpected
or duplicate page cannot pass unnoticed (GoAlert's fake-device rule, with real
protocols). Replies can be scripted to exercise temporary and permanent failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Mailbox:
    """What the SMTP server accepted, with scripted replies for the next messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    replies: deque[str] = field(default_factory=deque)
    claimed: int = 0
    peers: list[object] = field(default_factory=list)
    """The client address each message came from (same peer: same connection)."""
    drops: int = 0
    """Connections the server closed after a scripted "DROP"."""
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for_drops(self, count: int, timeout: float = 10.0) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: self.drops >= count, timeout):
                raise AssertionError(f"expected {count} dropped connections, got {self.drops}")

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} emails, got {len(self.messages)}")
            return list(self.messages)

    def claim(self, predicate: Callable[[EmailMessage], bool]) -> EmailMessage:
        """Take the first unclaimed message matching `predicate`."""
        for index in range(self.claimed, len(self.messages)):
            if predicate(self.messages[index]):
                self.messages.insert(self.claimed, self.messages.pop(index))
                self.claimed += 1
                return self.messages[self.claimed - 1]
        raise AssertionError(f"no unclaimed email matches; unclaimed: {self.unclaimed()}")

    def unclaimed(self) -> list[str]:
        return [f"{m['To']}: {m['Subject']}" for m in self.messages[self.claimed :]]


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        delay = 0.0
        drop = False
        if self.mailbox.replies:
            reply = self.mailbox.replies.popleft()
            drop = reply == "DROP"
            if not reply.startswith("SLOW ") and not drop:
                return reply
            if not drop:
                # "SLOW <seconds>": the server keeps the message but answers DATA only
                # after the client may have given up waiting.
                delay = float(reply.split()[1])
        message = message_from_bytes(envelope.content or b"", policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.mailbox.arrived:
            self.mailbox.messages.append(message)
            self.mailbox.peers.append(session.peer)
            self.mailbox.arrived.notify_all()
        if drop:
            # "DROP": accept it, then hang up as a server does with an idle client. The
            # 250 is written before this callback runs, and close() flushes it first.
            asyncio.get_running_loop().call_soon(self._hang_up, server)
        if delay:
            await asyncio.sleep(delay)
        return "250 Message accepted for delivery"

    def _hang_up(self, server: SMTP) -> None:
        assert server.transport is not None
        server.transport.close()
        with self.mailbox.arrived:
            self.mailbox.drops += 1
            self.mailbox.arrived.notify_all()


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, Mailbox]]:
    mailbox = Mailbox()
    # aiosmtpd probes its own port after starting, so it cannot take port 0: pick one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, mailbox
    finally:
        controller.stop()
    assert not mailbox.unclaimed(), f"unexpected emails: {mailbox.unclaimed()}"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Scripted answers in `statuses`, one per request: an HTTP status (a 3xx points
    `Location` at /moved), "HOLD" (keep the request, answer 200 only once `release` is
    set: a receiver slower than the sender's timeout) or "DROP" (keep the request and
    close the connection without answering)."""

    base_url: str
    requests: list[Received] = field(default_factory=list)
    statuses: deque[int | str] = field(default_factory=deque)
    claimed: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return self.base_url + path

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            return list(self.requests)

    def claim(self, predicate: Callable[[Received], bool]) -> Received:
        for index in range(self.claimed, len(self.requests)):
            if predicate(self.requests[index]):
                self.requests.insert(self.claimed, self.requests.pop(index))
                self.claimed += 1
                return self.requests[self.claimed - 1]
        raise AssertionError(f"no unclaimed request matches; unclaimed: {self.unclaimed()}")

    def unclaimed(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests[self.claimed :]]


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:
                # The sender died mid-request (a fault-point kill): like any real web
                # server, never hand a truncated request to the application.
                self.close_connection = True
                return
            script = receiver.statuses.popleft() if receiver.statuses else 200
            status = script if isinstance(script, int) else 200
            if status < 300:
                with receiver.arrived:
                    receiver.requests.append(Received(self.path, dict(self.headers), body))
                    receiver.arrived.notify_all()
            if script == "DROP":
                self.close_connection = True
                return
            if script == "HOLD":
                receiver.release.wait(timeout=30)
                self.close_connection = True
                # The sender stopped waiting long ago: its end of the socket is gone.
                with contextlib.suppress(OSError):
                    self.send_response(status)
                    self.end_headers()
                return
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/moved")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")

        def do_GET(self) -> None:
            # Nobody should GET: a POST turned into a GET by a followed redirect lands
            # here and stays unclaimed, failing the test.
            with receiver.arrived:
                receiver.requests.append(Received(self.path, dict(self.headers), b"", "GET"))
                receiver.arrived.notify_all()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read what was received, not the access log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()  # let held requests finish so the server can stop
        server.shutdown()
        server.server_close()
    assert not receiver.unclaimed(), f"unexpected requests: {receiver.unclaimed()}"
