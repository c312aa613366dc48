"""The HTTP executor against real loopback servers: signature, secret headers, the
idempotency key, the response excerpt, and which failures are ambiguous (a timeout
after the request left) and which are not (nothing listening); and, as the worker runs
it (a greenthread under eventlet's monkey patching, ADR 0029), a target that holds its
answer holds only its own call."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from runbooks_service.app import Job
from runbooks_service.executors import execute, verify
from runbooks_service.run import EXCERPT_BYTES

SECRETS = {"ROLLBACK_KEY": "k" * 32, "AWX_TOKEN": "Bearer s3cret"}


class Server:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.release.set()
        self.status = 200
        self.body = b'{"job": 7}'
        self.port = 0
        self.hold: str | None = None
        """When set, only requests to this path wait for `release`, and the others are
        answered only once one to this path has arrived (so they overlap)."""
        self.arrived = threading.Condition()
        self.paths: list[str] = []


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append((dict(self.headers), body))
            with state.arrived:
                state.paths.append(self.path)
                state.arrived.notify_all()
                if state.hold is not None and self.path != state.hold:
                    state.arrived.wait_for(lambda: state.hold in state.paths, 30)
            if state.hold is None or self.path == state.hold:
                state.release.wait(30)  # held by a test that needs a slow automation system
            # A client that timed out has gone: its late answer has nobody to read it.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(state.status)
                self.end_headers()
                self.wfile.write(state.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(http.server_address[1])
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        state.release.set()
        http.shutdown()
        http.server_close()


def job(port: int, **request: Any) -> Job:
    run_id = uuid.uuid4()
    return Job(
        stream="rbaction-x:y", run_id=run_id, incident_id=uuid.uuid4(), attempt=1, kind="http",
        request={
            "method": "POST", "url": f"http://127.0.0.1:{port}/launch", "headers": {},
            "secret_headers": {}, "body": '{"extra_vars": {"service": "checkout"}}',
            "hmac_secret": None, "timeout_seconds": 5.0, **request,
        },
        idempotency_key=str(run_id), repeat_of=None,
    )  # fmt: skip


def test_a_call_is_signed_carries_its_secrets_and_key_and_keeps_an_excerpt(
    server: Server,
) -> None:
    server.body = b"x" * (EXCERPT_BYTES * 3)
    sent = job(
        server.port, hmac_secret="ROLLBACK_KEY", secret_headers={"Authorization": "AWX_TOKEN"}
    )
    result = execute(sent, SECRETS.get)
    assert (result.ok, result.status_code, result.ambiguous) == (True, 200, False)
    assert len(result.response_excerpt) == EXCERPT_BYTES
    [(headers, body)] = server.requests
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Idempotency-Key"] == str(sent.run_id)
    assert verify(b"k" * 32, headers["X-Firewatch-Signature"], body, int(time.time()))
    assert not verify(b"x" * 32, headers["X-Firewatch-Signature"], body, int(time.time()))


def test_a_timeout_is_a_result_and_ambiguous(server: Server) -> None:
    server.release.clear()  # the automation system never answers in time
    result = execute(job(server.port, timeout_seconds=0.3), SECRETS.get)
    server.release.set()
    assert (result.ok, result.timed_out, result.ambiguous) == (False, True, True)
    assert len(server.requests) == 1  # it did arrive: the outcome is unknown


def test_nothing_listening_is_a_definite_failure(server: Server) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = int(probe.getsockname()[1])
    result = execute(job(closed), SECRETS.get)
    assert (result.ok, result.ambiguous) == (False, False)
    assert result.error.startswith("cannot connect")


def test_an_error_status_is_not_ambiguous_and_a_missing_secret_sends_nothing(
    server: Server,
) -> None:
    server.status = 503
    result = execute(job(server.port), SECRETS.get)
    assert (result.ok, result.status_code, result.ambiguous) == (False, 503, False)
    missing = execute(job(server.port, hmac_secret="NOT_SET"), SECRETS.get)
    assert missing.error == "secret NOT_SET is not configured"
    assert len(server.requests) == 1


GREEN_CALLS = """
import eventlet
eventlet.monkey_patch()  # as `nameko run` does for the worker
import json, sys, uuid
from runbooks_service.app import Job
from runbooks_service.executors import execute

def job(path, timeout):
    run = uuid.uuid4()
    request = {"method": "POST", "url": f"http://127.0.0.1:{sys.argv[1]}{path}",
               "body": "{}", "timeout_seconds": timeout}
    return Job("rbaction-x:y", run, uuid.uuid4(), 1, "http", request, str(run), None)

held = eventlet.spawn(execute, job("/held", 3.0))
fast = execute(job("/fast", 3.0))  # answered only once the held request has arrived
pending = not held.dead
slow = held.wait()
print(json.dumps({"fast_ok": fast.ok, "held_pending_when_fast_done": pending,
                  "held": [slow.ok, slow.timed_out, slow.ambiguous]}))
"""


def test_on_green_sockets_a_held_call_does_not_hold_another(server: Server) -> None:
    """The worker calls HTTP targets on greenthreads (no tpool): one that does not
    answer must not stop another call, and its timeout must still end it. The fast
    call is answered only after the held one arrived, so both were in flight at once
    in one OS thread."""
    server.hold = "/held"
    server.release.clear()
    done = subprocess.run(
        [sys.executable, "-c", GREEN_CALLS, str(server.port)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    server.release.set()
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "fast_ok": True,
        "held_pending_when_fast_done": True,
        "held": [False, True, True],  # timed out, ambiguous: it had been sent
    }
    assert sorted(server.paths) == ["/fast", "/held"]
