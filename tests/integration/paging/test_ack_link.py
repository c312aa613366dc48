"""The signed ack link and the delivery adapter, driven by a fake clock (no sleeps).

The application runs in-process on a real SQLite log with a FakeClock; pages go out
through the real channels (delivery.Courier) to the real SMTP server, and the link is
followed with a real HTTP client against the real Werkzeug server (http.AckSite). The
timing that a subprocess test cannot afford (minutes, a day of link validity) is
covered here: an acknowledgement stops the next level for good, GET never
acknowledges, and expired, forged and unknown links get 410 / 400 / 404.
"""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from paging_service import ack_token
from paging_service.app import PagingApplication
from paging_service.delivery import Courier, incident_context
from paging_service.escalation import Status
from paging_service.http import AckSite
from paging_service.settings import PagingSettings
from tests.receivers import Mailbox

SECRET = b"k" * 32
T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000042")


class Rig:
    def __init__(self, app: PagingApplication, clock: FakeClock, courier: Courier) -> None:
        self.app, self.clock, self.courier = app, clock, courier

    def tick_and_deliver(self) -> int:
        """The worker's documented sequence, synchronously: tick, send, record."""
        deliveries = self.app.tick()
        for d in deliveries:
            outcome = self.courier.send(d, incident_context(self.app, d.incident_id))
            self.app.report(d, outcome)
        return len(deliveries)


@pytest.fixture
def rig(tmp_path: Path, smtp_server: tuple[str, int, Mailbox]) -> Iterator[tuple[Rig, str]]:
    clock = FakeClock(T0)
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="paging", ownership=Ownership.platform(), clock=clock
    )
    app = PagingApplication(store, clock, ack_secret=SECRET)
    server = make_server("127.0.0.1", 0, AckSite(app), threaded=True)
    app.ack_url_base = f"http://127.0.0.1:{server.port}/ack"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port, _ = smtp_server
    courier = Courier.from_settings(PagingSettings(smtp_host=host, smtp_port=port))
    app.register_user(
        "alice",
        "Alice",
        "UTC",
        contact_methods=[{"method_id": "email", "kind": "email", "address": "alice@example.com"}],
    )
    app.register_user(
        "bob",
        "Bob",
        "UTC",
        contact_methods=[{"method_id": "email", "kind": "email", "address": "bob@example.com"}],
    )
    app.create_policy(
        "oncall",
        "On call",
        [
            {"targets": ["user:alice"], "delay_minutes": 5},
            {"targets": ["user:bob"], "delay_minutes": 10},
        ],
        repeat=2,
    )
    try:
        yield Rig(app, clock, courier), app.ack_url_base
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def link_in(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    found = re.search(r"Acknowledge \(one click\): (\S+)", part.get_content())
    assert found
    return found.group(1)


def http(method: str, url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_an_ack_at_minute_two_stops_every_later_level_and_pass(
    rig: tuple[Rig, str], smtp_server: tuple[str, int, Mailbox]
) -> None:
    r, _ = rig
    mailbox = smtp_server[2]
    r.app.start_escalation(INCIDENT, "P1", "oncall", service="checkout", title="checkout 5xx")
    assert r.tick_and_deliver() == 1
    email = mailbox.claim(lambda m: m["To"] == "alice@example.com")
    assert "P1" in email["Subject"]
    link = link_in(email)

    r.clock.advance(60)
    position = list(r.app.store.read_all(from_position=1))[-1].position
    status, body = http("GET", link)
    assert status == 200
    assert '<form method="post">' in body
    assert list(r.app.store.read_all(from_position=position + 1)) == []  # GET changed nothing

    r.clock.advance(60)
    status, body = http("POST", link)
    assert status == 200, body
    assert r.app.get_escalation(INCIDENT).status is Status.ACKNOWLEDGED

    # Three passes of 15 minutes would have paged bob at 5, 20, 35 and alice at 15, 30.
    for _ in range(60):
        r.clock.advance(60)
        assert r.tick_and_deliver() == 0
    assert mailbox.messages == [email]

    status, body = http("GET", link)
    assert (status, "Already acknowledged" in body) == (200, True)


def test_expired_forged_and_unknown_links_are_refused_and_acknowledge_nothing(
    rig: tuple[Rig, str], smtp_server: tuple[str, int, Mailbox]
) -> None:
    r, base = rig
    r.app.start_escalation(INCIDENT, "P1", "oncall", title="checkout 5xx")
    r.tick_and_deliver()
    link = link_in(smtp_server[2].claim(lambda m: True))
    token = link.rsplit("/", 1)[1]

    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    other_secret = ack_token.issue(b"x" * 32, uuid.uuid4(), "alice", T0 + timedelta(days=1))
    unknown_page = ack_token.issue(SECRET, uuid.uuid4(), "alice", T0 + timedelta(days=1))
    for method in ("GET", "POST"):
        assert http(method, f"{base}/{forged}")[0] == 400
        assert http(method, f"{base}/not-a-token")[0] == 400
        assert http(method, f"{base}/{other_secret}")[0] == 400
        assert http(method, f"{base}/{unknown_page}")[0] == 404

    r.clock.advance(24 * 3600 + 1)  # links live 24 hours
    status, body = http("GET", link)
    assert status == 410
    assert "expired" in body
    assert http("POST", link)[0] == 410
    assert r.app.get_escalation(INCIDENT).status is Status.ACTIVE
    # The escalation went on meanwhile; deliver what it sent so the mailbox is clean.
    r.tick_and_deliver()
    for message in list(smtp_server[2].messages[smtp_server[2].claimed :]):
        smtp_server[2].claim(lambda m, message=message: m is message)

    assert http("GET", f"{base.rsplit('/', 1)[0]}/healthz") == (200, "ok\n")
