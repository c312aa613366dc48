"""The paging worker on real RabbitMQ, a real SMTP server and a real HTTP receiver.

Given users and a policy, when the incident service's IncidentDeclared is appended and
relayed, then the worker (`nameko run`, its own process) pages the on-call user through
every method within the step, the signed link (served by `firewatch-paging-http`, its
own process) acknowledges it, IncidentResolved cancels what is pending, a temporary
SMTP failure retries and delivers once, and a permanent one fails over to the next
method. The receivers fail the test at teardown on any message it did not claim.
"""

from __future__ import annotations

import re
import urllib.request
from email.message import EmailMessage
from typing import Any

import pytest

from paging_service.due import DueKind
from paging_service.escalation import Status
from tests.receivers import HttpReceiver, Mailbox

from .conftest import Platform

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content: str = part.get_content()
    return content


def ack_url_in(message: EmailMessage) -> str:
    found = re.search(r"Acknowledge \(one click\): (\S+)", body_of(message))
    assert found, body_of(message)
    return found.group(1)


def http(method: str, url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_declared_incident_pages_every_method_and_the_signed_link_stops_the_escalation(
    platform: Platform, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    mailbox = smtp_server[2]
    platform.user(
        "alice",
        ("email", "alice@example.com"),
        ("webhook", http_receiver.url("/alice/hook")),
        ("slack", http_receiver.url("/alice/slack")),
    )
    platform.user("bob", ("email", "bob@example.com"))
    platform.policy("alice", "bob")
    platform.start_worker()

    incident = platform.declare(title="checkout 5xx above 1%", severity="P1")

    mailbox.wait_for(1)
    http_receiver.wait_for(2)
    email = mailbox.claim(lambda m: m["To"] == "alice@example.com")
    assert email["Subject"] == "[PAGE] INC-1 P1: checkout 5xx above 1%"
    hook = http_receiver.claim(lambda r: r.path == "/alice/hook").json()
    slack = http_receiver.claim(lambda r: r.path == "/alice/slack").json()
    assert hook["incident_id"] == str(incident)
    assert hook["kind"] == "page"
    assert slack["text"] == email["Subject"]
    link = ack_url_in(email)
    assert link.startswith(platform.ack_base + "/")
    assert hook["ack_url"].startswith(platform.ack_base + "/")
    assert slack["blocks"][1]["elements"][0]["url"].startswith(platform.ack_base + "/")
    # Each message carries its recorded attempt's id (Message-ID / Idempotency-Key).
    attempts = platform.watcher.wait("PageDeliveryAttempted", 3)
    assert {f"<{a.id}@firewatch>" for a in attempts} >= {email["Message-ID"]}
    assert hook["idempotency_key"] in {str(a.id) for a in attempts}
    platform.watcher.wait("PageDelivered", 3)

    # GET only asks: a link scanner that fetches it acknowledges nothing.
    status, page = http("GET", link)
    assert status == 200, page
    assert '<form method="post">' in page
    assert platform.paging.get_escalation(incident).status is Status.ACTIVE

    status, page = http("POST", link)
    assert status == 200, page
    assert "The escalation has stopped" in page
    stopped = platform.watcher.wait("EscalationStopped")[0]
    assert stopped.data["by"] == "alice"
    assert stopped.data["via"] == "link"
    assert platform.paging.get_escalation(incident).status is Status.ACKNOWLEDGED
    # Bob's step (due a minute later) is no longer pending: nothing else will fire.
    assert platform.paging.pending_timers() == []

    # A second click is harmless and says so.
    status, page = http("POST", link)
    assert status == 200, page


def test_severity_changes_reach_the_escalation_and_resolution_cancels_what_is_pending(
    platform: Platform, smtp_server: tuple[str, int, Mailbox]
) -> None:
    mailbox = smtp_server[2]
    platform.user("alice", ("email", "alice@example.com"))
    platform.user("bob", ("email", "bob@example.com"))
    platform.policy("alice", "bob")
    platform.start_worker()
    incident = platform.declare()
    mailbox.wait_for(1)
    mailbox.claim(lambda m: m["To"] == "alice@example.com")
    platform.watcher.wait("PageDelivered")
    assert [t.kind for t in platform.paging.pending_timers()] == [DueKind.STEP]  # bob, +1 min

    platform.change_severity(incident, "P2")
    platform.watcher.wait("EscalationSeverityChanged")
    assert platform.paging.get_escalation(incident).severity == "P2"

    platform.resolve(incident)

    platform.watcher.wait("EscalationCancelled")
    platform.watcher.wait("PageCancelled")
    assert platform.paging.get_escalation(incident).status is Status.CANCELLED
    assert platform.paging.pending_timers() == []


def test_a_temporary_smtp_failure_retries_and_delivers_exactly_once(
    platform: Platform, smtp_server: tuple[str, int, Mailbox]
) -> None:
    mailbox = smtp_server[2]
    mailbox.replies.append("451 4.3.0 Mailbox busy, try again later")
    platform.user("alice", ("email", "alice@example.com"))
    platform.policy("alice")
    platform.start_worker()
    platform.declare()

    failed = platform.watcher.wait("PageFailed")[0]
    delivered = platform.watcher.wait("PageDelivered")[0]

    assert failed.data["permanent"] is False
    assert "451" in failed.data["reason"]
    assert delivered.data == {**delivered.data, "method_id": "email", "attempt": 2}
    mailbox.wait_for(1)
    mailbox.claim(lambda m: m["To"] == "alice@example.com")
    attempts = platform.watcher.of_type("PageDeliveryAttempted")
    assert [(a.data["method_id"], a.data["attempt"]) for a in attempts] == [
        ("email", 1),
        ("email", 2),
    ]


def test_a_permanent_smtp_failure_fails_over_to_the_next_method_at_once(
    platform: Platform, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    mailbox = smtp_server[2]
    mailbox.replies.append("550 5.1.1 No such user here")
    rules: list[Any] = [
        {"method_id": "email", "after_minutes": 0},
        {"method_id": "webhook", "after_minutes": 30},
    ]
    platform.user(
        "alice",
        ("email", "alice@example.com"),
        ("webhook", http_receiver.url("/alice/hook")),
        rules=rules,
    )
    platform.policy("alice")
    platform.start_worker()
    incident = platform.declare()

    failed = platform.watcher.wait("PageFailed")[0]
    http_receiver.wait_for(1)
    hook = http_receiver.claim(lambda r: r.path == "/alice/hook").json()
    platform.watcher.wait("PageDelivered", method_id="webhook")

    assert failed.data["permanent"] is True
    assert "550" in failed.data["reason"]
    assert hook["incident_id"] == str(incident)
    assert mailbox.messages == []  # the refused email was never accepted
    attempts = platform.watcher.of_type("PageDeliveryAttempted")
    assert [(a.data["method_id"], a.data["attempt"]) for a in attempts] == [
        ("email", 1),
        ("webhook", 1),
    ]


def test_a_page_nobody_can_receive_escalates_at_once_and_ends_at_the_operators_route(
    platform: Platform, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    mailbox = smtp_server[2]
    platform.user("alice", ("webhook", http_receiver.url("/alice")))
    platform.user("bob", ("webhook", http_receiver.url("/bob")))
    platform.policy("alice", "bob", delay_minutes=30)
    # Both webhooks refuse for good (HTTP 410 is permanent).
    http_receiver.statuses.extend([410, 410])
    platform.start_worker(FIREWATCH_PAGING_FALLBACK_EMAILS="ops@example.com")
    incident = platform.declare()

    # Alice's only method fails: bob's level, planned 30 minutes later, goes now.
    advanced = platform.watcher.wait("EscalationAdvanced")[0]
    assert advanced.stream == f"escalation-{incident}"
    # Bob's fails too and no level is left: the platform pages its operators.
    exhausted = platform.watcher.wait("EscalationExhausted")[0]
    assert exhausted.metadata.correlation_id == str(incident)
    [alert] = mailbox.wait_for(1)
    mailbox.claim(lambda m: m is alert)
    assert alert["To"] == "ops@example.com"
    assert "nobody could be paged" in alert["Subject"]
    assert "every level of its escalation policy failed" in body_of(alert)
    platform.watcher.wait("PageDelivered", method_id="fallback-0")
    assert len(platform.watcher.of_type("EscalationExhausted")) == 1
