"""kill -9 tests of the paging worker: never a page lost, every step exactly once,
including steps that fell due while no worker was running.

The worker is `nameko run` in its own process group and is killed with SIGKILL, so it
gets no chance to drain sends or report outcomes. What protects the pages is in the
log: each attempt is recorded (PageDeliveryAttempted, with a derived id and its sender
instance) before the send, and an attempt that never reports an outcome is sent again
through the same method, marked as a possible repeat, as soon as the restarted worker
records that it replaced the dead instance (ADR 0009, ADR 0011).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from paging_service.app import PagingApplication
from tests.receivers import HttpReceiver, Mailbox

from .conftest import POLICY, Platform

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def steps_fired(platform: Platform, incident: uuid.UUID) -> list[int]:
    return [
        e.data["step"]
        for e in platform.watcher.of_type("EscalationStepFired")
        if e.stream == f"escalation-{incident}"
    ]


def route_billing_to_carol(platform: Platform) -> dict[str, str]:
    """A second policy, chosen for service "billing" by the routing file."""
    platform.paging.create_policy(
        "billing", "Billing", [{"targets": ["user:carol"], "delay_minutes": 30}]
    )
    routing = platform.tmp / "routing.yaml"
    routing.write_text("services:\n  billing: billing\n", encoding="utf-8")
    return {"FIREWATCH_PAGING_ROUTING_FILE": str(routing)}


def test_steps_that_fell_due_while_the_worker_was_down_fire_exactly_once_after_restart(
    platform: Platform, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    mailbox = smtp_server[2]
    platform.user("alice", ("email", "alice@example.com"))
    platform.user("bob", ("email", "bob@example.com"))
    platform.user("carol", ("webhook", http_receiver.url("/carol")))
    platform.policy("alice", "bob")  # alice now, bob one minute later
    env = route_billing_to_carol(platform)
    # A worker started this escalation 90 s ago and died before its first tick: the
    # first step (due then) and the second (due 30 s ago) fell due while none ran.
    # (A fake clock backdates the start; waiting a real minute would be the only
    # other way to get a step due.)
    incident = platform.declare()
    past = FakeClock(datetime.now(UTC) - timedelta(seconds=90))
    earlier = SQLiteEventStore(
        platform.log_path, writer="paging", ownership=Ownership.platform(), clock=past
    )
    PagingApplication(earlier, past).start_escalation(
        incident, "P1", POLICY, service="checkout", title="checkout 5xx above 1%"
    )
    earlier.close()

    platform.start_worker(**env)

    mailbox.wait_for(2)
    mailbox.claim(lambda m: m["To"] == "alice@example.com")
    mailbox.claim(lambda m: m["To"] == "bob@example.com")
    platform.watcher.wait("PageDelivered", 2)
    assert steps_fired(platform, incident) == [0, 1]

    platform.kill_worker()
    platform.start_worker(**env)
    # A barrier: the restarted worker pages carol for a new incident, so it has
    # caught up with the whole log and ticked since; it fired nothing again.
    platform.declare(title="billing down", services=("billing",))
    http_receiver.wait_for(1)
    http_receiver.claim(lambda r: r.path == "/carol")
    platform.watcher.wait("PageDelivered", 3)

    assert steps_fired(platform, incident) == [0, 1]
    attempts = platform.watcher.of_type("PageDeliveryAttempted")
    assert sorted(a.data["address"] for a in attempts) == [
        "alice@example.com",
        "bob@example.com",
        http_receiver.url("/carol"),
    ]
    assert len(mailbox.messages) == 2


class StallingSmtp:
    """A real SMTP server that accepts the first message's content and then holds its
    reply until released: the sender has sent the page but not learnt the outcome,
    the exact window in which a crash tempts a naive sender to send again."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.release = threading.Event()
        self.stalled = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content or b""
        message = message_from_bytes(
            content if isinstance(content, bytes) else content.encode(), policy=policy.default
        )
        assert isinstance(message, EmailMessage)
        with self.mailbox.arrived:
            self.mailbox.messages.append(message)
            self.mailbox.arrived.notify_all()
        if not self.stalled.is_set():
            self.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return "250 Message accepted for delivery"


@pytest.fixture
def stalling_smtp() -> Iterator[tuple[int, StallingSmtp]]:
    handler = StallingSmtp()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        handler.release.set()
        controller.stop()


def test_kill_9_after_the_page_was_sent_but_before_its_outcome_resends_it_marked_as_a_repeat(
    platform: Platform,
    stalling_smtp: tuple[int, StallingSmtp],
    http_receiver: HttpReceiver,
) -> None:
    port, smtp = stalling_smtp
    rules: list[Any] = [
        {"method_id": "email", "after_minutes": 0},
        {"method_id": "webhook", "after_minutes": 30},
    ]
    platform.user(
        "alice",
        ("email", "alice@example.com"),
        ("webhook", http_receiver.url("/alice")),
        rules=rules,
    )
    platform.user("carol", ("webhook", http_receiver.url("/carol")))
    platform.policy("alice")
    env = {
        **route_billing_to_carol(platform),
        "FIREWATCH_SMTP_PORT": str(port),
        # Far beyond the test: the restart, not the deadline, makes the outcome unknown.
        "FIREWATCH_PAGING_OUTCOME_TIMEOUT_SECONDS": "600",
        # Longer than every wait below: if the send blocked the hub, carol's page
        # could not go out before the deadline (an SMTP timeout would not rescue it).
        "FIREWATCH_SMTP_TIMEOUT_SECONDS": "120",
        "FIREWATCH_PAGING_SENDER": "worker-a",
    }
    platform.start_worker(**env)
    checkout = platform.declare()

    # The email is at the server; the worker waits for its reply in a tpool thread.
    smtp.mailbox.wait_for(1)
    assert smtp.stalled.is_set()
    attempt = platform.watcher.wait("PageDeliveryAttempted", method_id="email")[0]
    assert attempt.data["sender"] == "worker-a"

    # The worker is not frozen meanwhile: another incident pages carol at once.
    billing = platform.declare(title="billing down", services=("billing",))
    http_receiver.wait_for(1)
    carol = http_receiver.claim(lambda r: r.path == "/carol").json()
    assert carol["incident_id"] == str(billing)
    platform.watcher.wait("PageDelivered", method_id="webhook")  # carol's, recorded
    assert platform.watcher.of_type("PageDelivered", method_id="email") == []

    platform.kill_worker()
    smtp.release.set()  # the server's late 250 goes to a dead socket
    platform.start_worker(**env)

    # The restarted worker replaced the dead instance of its slot: the attempt's
    # outcome is unknown now (not in 10 minutes), so the email goes out again, marked,
    # with the first one's Message-ID, and the next method is tried as well.
    unconfirmed = platform.watcher.wait("PageDeliveryUnconfirmed", method_id="email")[0]
    assert "restarted" in unconfirmed.data["reason"]
    platform.watcher.wait("PageDelivered", method_id="email")
    smtp.mailbox.wait_for(2)
    first, repeat = smtp.mailbox.messages
    assert [first["To"], repeat["To"]] == ["alice@example.com", "alice@example.com"]
    assert "possible repeat" not in first["Subject"]
    assert "(possible repeat)" in repeat["Subject"]
    assert repeat["Message-ID"] == first["Message-ID"]
    http_receiver.wait_for(2)
    hook = http_receiver.claim(lambda r: r.path == "/alice").json()
    assert hook["incident_id"] == str(checkout)

    assert datetime.fromisoformat(unconfirmed.data["detected_at"]) < datetime.fromisoformat(
        attempt.data["outcome_due_by"]
    )
    email_attempts = platform.watcher.of_type("PageDeliveryAttempted", method_id="email")
    assert [a.data["repeat_of"] for a in email_attempts] == [None, 1]
    assert steps_fired(platform, checkout) == [0]
