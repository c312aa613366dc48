"""Deterministic crashes of the paging worker at the two moments that matter (ADR 0011).

A random kill -9 almost never lands between recording an attempt and sending it, so
the worker is armed with a fault point (servicekit.faults) and exits at exactly that
moment, like SIGKILL (no drain, no outcome):

- "paging.attempt-recorded": the attempt is in the log, nothing was sent. After the
  restart, the page arrives exactly once (marked as a possible repeat: the platform
  cannot know that nothing left).
- "paging.sent": the message left, its outcome was never recorded. After the restart
  it arrives a second time, marked as a possible repeat, with the first one's
  idempotency key, so a receiver that deduplicates can drop it.

For every method (email, webhook, Slack) and for a user with that one method on a
single-level policy: the worst case, where failing over to anything else is impossible.
The outcome deadline is set far beyond the test, so only the restart can recover it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from servicekit.faults import FAULT_EXIT_CODE
from tests.receivers import HttpReceiver, Mailbox

from .conftest import WAIT, Platform

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

RESTART_ENV = {
    "FIREWATCH_PAGING_OUTCOME_TIMEOUT_SECONDS": "600",
    "FIREWATCH_PAGING_SENDER": "paging-0",
}


def crash_then_restart(platform: Platform, point: str) -> None:
    crashing = platform.start_worker(**RESTART_ENV, FIREWATCH_FAULT_POINTS=point)
    platform.declare()
    try:
        code = crashing.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the worker never reached {point}") from None
    assert code == FAULT_EXIT_CODE, platform.worker_output()
    assert platform.watcher.of_type("PageDelivered") == []
    platform.start_worker(**RESTART_ENV)
    platform.watcher.wait("PageDelivered")


Received = Callable[[int], list[tuple[str | None, str, bool]]]
"""(deduplication key, text, marked as a possible repeat) of the first n deliveries;
Slack's incoming webhooks have no deduplication key (None)."""


def received_by_email(mailbox: Mailbox) -> Received:
    def take(count: int) -> list[tuple[str | None, str, bool]]:
        messages = mailbox.wait_for(count)
        for message in messages:
            mailbox.claim(lambda m, message=message: m is message)  # type: ignore[misc]
        return [
            (m["Message-ID"], m["Subject"], "(possible repeat)" in m["Subject"]) for m in messages
        ]

    return take


def received_by_http(receiver: HttpReceiver, *, slack: bool) -> Received:
    def take(count: int) -> list[tuple[str | None, str, bool]]:
        requests = receiver.wait_for(count)
        for request in requests:
            receiver.claim(lambda r, request=request: r is request)  # type: ignore[misc]
        found: list[tuple[str | None, str, bool]] = []
        for request in requests:
            body = request.json()
            if slack:
                text = body["blocks"][0]["text"]["text"]
                found.append((None, text, "possible repeat" in text))
            else:
                key = request.headers.get("Idempotency-Key", "")
                found.append((key, body["title"], bool(body["possible_repeat"])))
        return found

    return take


@pytest.fixture(params=["email", "webhook", "slack"])
def single_method_user(
    request: pytest.FixtureRequest,
    platform: Platform,
    smtp_server: tuple[str, int, Mailbox],
    http_receiver: HttpReceiver,
) -> Received:
    kind = request.param
    address = {
        "email": "alice@example.com",
        "webhook": http_receiver.url("/alice"),
        "slack": http_receiver.url("/slack/alice"),
    }[kind]
    platform.user("alice", (kind, address))
    platform.policy("alice")
    if kind == "email":
        return received_by_email(smtp_server[2])
    return received_by_http(http_receiver, slack=kind == "slack")


def test_a_crash_after_the_attempt_was_recorded_and_before_the_send_pages_exactly_once(
    platform: Platform, single_method_user: Received
) -> None:
    crash_then_restart(platform, "paging.attempt-recorded")
    [(_, _, marked)] = single_method_user(1)
    # Nothing had left, but the platform cannot know that: it says "possibly".
    assert marked
    attempts = platform.watcher.of_type("PageDeliveryAttempted")
    assert [a.data["repeat_of"] for a in attempts] == [None, 1]
    assert len(platform.watcher.of_type("PageDeliveryUnconfirmed")) == 1


def test_a_crash_after_the_send_and_before_its_outcome_pages_again_marked_as_a_repeat(
    platform: Platform, single_method_user: Received
) -> None:
    crash_then_restart(platform, "paging.sent")
    first, second = single_method_user(2)
    assert not first[2]
    assert second[2]
    # The receivers' deduplication key is the same for both (Message-ID, the
    # Idempotency-Key header); Slack has none and relies on the visible marker.
    assert first[0] == second[0]
    assert platform.watcher.of_type("PageDeliveryExhausted") == []
