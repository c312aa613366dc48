"""A page whose channel handed it over but got no answer (ADR 0011, in band): a webhook
receiver that answers after the sender's timeout or hangs up, a mail server that takes
DATA but answers too late. The real notify channels against real receivers, the paging
application over a SQLite log with a fake clock (no worker process: the outcome is
reported as the worker reports it)."""

from __future__ import annotations

import uuid

import pytest

from eventlog import FakeClock
from notify import EmailChannel, WebhookChannel
from paging_service.app import Delivery, PagingApplication
from paging_service.delivery import Courier, IncidentContext
from paging_service.user import ContactKind
from tests.receivers import HttpReceiver, Mailbox
from tests.unit.paging.conftest import app, clock, store

__all__ = ["app", "clock", "store"]

INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000042")
CONTEXT = IncidentContext("INC-42", "P1", None)


def _page_alice(app: PagingApplication, method: dict[str, str]) -> Delivery:
    app.register_user("alice", "Alice", "Europe/Berlin", contact_methods=[method])
    app.create_policy("solo", "Solo", [{"targets": ["user:alice"], "delay_minutes": 5}])
    app.start_sender()
    app.start_escalation(INCIDENT, "P1", "solo")
    [first] = app.tick()
    assert not first.possible_repeat
    return first


@pytest.mark.parametrize("script", ["HOLD", "DROP"])
def test_an_unanswered_webhook_page_is_sent_again_at_once_labelled_with_the_first_key(
    app: PagingApplication, clock: FakeClock, http_receiver: HttpReceiver, script: str
) -> None:
    hook = {"method_id": "hook", "kind": "webhook", "address": http_receiver.url("/alice")}
    first = _page_alice(app, hook)
    courier = Courier({ContactKind.WEBHOOK: WebhookChannel(timeout=0.3)})
    http_receiver.statuses.append(script)
    outcome = courier.send(first, CONTEXT)
    assert outcome.kind == "unknown", outcome
    app.report(first, outcome)
    http_receiver.release.set()
    [again] = app.tick()  # no clock advance: a page that may be lost goes again now
    assert (again.method_id, again.attempt, again.possible_repeat) == ("hook", 2, True)
    assert again.idempotency_key == first.attempt_event_id
    outcome = courier.send(again, CONTEXT)
    assert outcome.delivered, outcome
    app.report(again, outcome)
    assert app.get_page(first.page_id).delivered
    copies = [http_receiver.claim(lambda r: r.path == "/alice") for _ in range(2)]
    assert len({r.headers["Idempotency-Key"] for r in copies}) == 1
    assert [r.json()["possible_repeat"] for r in copies] == [False, True]


def test_a_mail_server_that_answers_data_too_late_gets_the_page_again_labelled(
    app: PagingApplication, clock: FakeClock, smtp_server: tuple[str, int, Mailbox]
) -> None:
    host, port, mailbox = smtp_server
    first = _page_alice(app, {"method_id": "email", "kind": "email", "address": "a@example.com"})
    channel = EmailChannel(host, port, timeout=0.3)
    courier = Courier({ContactKind.EMAIL: channel})
    try:
        mailbox.replies.append("SLOW 1.5")
        outcome = courier.send(first, CONTEXT)
        assert outcome.kind == "unknown", outcome
        app.report(first, outcome)
        [again] = app.tick()
        assert (again.method_id, again.attempt, again.possible_repeat) == ("email", 2, True)
        outcome = courier.send(again, CONTEXT)
        assert outcome.delivered, outcome
        app.report(again, outcome)
    finally:
        channel.close()
    mailbox.wait_for(2)
    original = mailbox.claim(lambda m: "(possible repeat)" not in m["Subject"])
    repeat = mailbox.claim(lambda m: "(possible repeat)" in m["Subject"])
    assert original["Message-ID"] == repeat["Message-ID"] == f"<{first.attempt_event_id}@firewatch>"
    assert app.get_page(first.page_id).delivered
