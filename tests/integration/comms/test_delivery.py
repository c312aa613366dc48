"""Real sends through the courier: subscriber emails carry one-click List-Unsubscribe,
subscriber webhooks get the Statuspage webhook body, channel webhooks are signed with
HMAC-SHA256 over the exact body, repeats say so. A real SMTP server and HTTP receiver."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import uuid
from datetime import timedelta

from comms_service import dispatch as dsp
from comms_service.app import CommsApplication, Send
from comms_service.delivery import CommsEmailChannel, Courier, SignedWebhook
from comms_service.views import subscriber_payload
from eventlog import FakeClock
from notify import DeliveryOutcome, SlackChannel
from tests.receivers import HttpReceiver, Mailbox
from tests.unit.comms.conftest import INCIDENT, declare

SECRET = b"k" * 32


def courier(app: CommsApplication, smtp: tuple[str, int, Mailbox]) -> Courier:
    host, port, _ = smtp
    return Courier(
        CommsEmailChannel(host, port),
        SignedWebhook(SECRET),
        SlackChannel(),
        statuspage_payload=lambda send: subscriber_payload(app, send),
    )


def test_subscribers_get_list_unsubscribe_emails_and_statuspage_webhooks(
    app: CommsApplication, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    app.add_component("api", "API", by="admin")
    app.add_webhook_subscriber(http_receiver.url("/hook"), by="admin")
    app.subscribe_email("bob@example.com")
    send = courier(app, smtp_server)
    confirm = next(s for s in app.tick() if s.purpose == "confirm_subscription")
    assert send.send(confirm).delivered
    smtp_server[2].claim(lambda m: m["To"] == "bob@example.com")
    token = confirm.body.split("token=")[1].split()[0]
    app.confirm_subscription(uuid.UUID(confirm.target.target_id), token)
    status_id = app.draft_status_incident(
        name="API errors", body="Investigating <b>now</b>", by="alice", component_ids=["api"]
    ).state.drafted.status_incident_id
    app.publish(status_id, by="alice")
    notices = app.tick()
    assert sorted(s.target.kind.value for s in notices) == ["email", "webhook"]
    for notice in notices:
        assert send.send(notice).delivered
    email = smtp_server[2].claim(lambda m: m["To"] == "bob@example.com")
    assert email["List-Unsubscribe"].startswith("<http")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Investigating <b>now</b>" in email.get_body(("plain",)).get_content()
    hook = http_receiver.claim(lambda r: r.path == "/hook")
    body = hook.json()
    assert set(body) >= {"meta", "page", "incident"}
    assert body["page"]["status_indicator"] in {"none", "minor", "major", "critical"}
    assert body["incident"]["name"] == "API errors"
    assert body["incident"]["incident_updates"][0]["body"] == "Investigating <b>now</b>"
    assert body["meta"]["unsubscribe"]


def test_channel_webhooks_are_signed_and_repeats_are_labelled(
    app: CommsApplication, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    from comms_service import room as rm
    from comms_service.app import ChannelRouting

    app.routing = ChannelRouting(
        war_room=(
            rm.DestinationSpec(channel_id="war", kind="webhook", address=http_receiver.url("/war")),
        ),
        stakeholder=(
            rm.DestinationSpec(channel_id="execs", kind="email", address="execs@example.com"),
        ),
    )
    declare(app)
    send = courier(app, smtp_server)
    war = next(s for s in app.tick() if s.target.target_id == "war_room.war")
    repeat = dataclasses.replace(war, attempt=2, possible_repeat=True)
    for each in (war, repeat):
        assert send.send(each).delivered
    first, second = http_receiver.wait_for(2)
    for request in (first, second):
        http_receiver.claim(lambda r, request=request: r is request)  # type: ignore[misc]
        expected = hmac.new(SECRET, request.body, hashlib.sha256).hexdigest()
        assert request.headers["X-Firewatch-Signature"] == f"sha256={expected}"
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert [first.json()["possible_repeat"], second.json()["possible_repeat"]] == [False, True]


def test_a_component_change_notifies_only_its_followers_once_with_the_statuspage_body(
    app: CommsApplication, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    app.add_component("api", "API", by="admin")
    app.add_component("db", "Database", by="admin")
    app.add_webhook_subscriber(http_receiver.url("/api-watcher"), ["api"], by="admin")
    app.add_webhook_subscriber(http_receiver.url("/db-watcher"), ["db"], by="admin")
    send = courier(app, smtp_server)
    app.set_component_status("api", "partial_outage", by="admin")
    app.set_component_status("api", "partial_outage", by="admin")  # no change: no notice
    updates = app.tick()
    assert [s.target.address for s in updates] == [http_receiver.url("/api-watcher")]
    assert send.send(updates[0]).delivered
    body = http_receiver.claim(lambda r: r.path == "/api-watcher").json()
    assert body["component_update"]["old_status"] == "operational"
    assert body["component_update"]["new_status"] == "partial_outage"
    assert body["component_update"]["component_id"] == "api"
    assert body["component"]["status"] == "partial_outage"
    assert set(body["page"]) == {"id", "status_indicator", "status_description"}


def _route_to(app: CommsApplication, receiver: HttpReceiver) -> None:
    from comms_service import room as rm
    from comms_service.app import ChannelRouting

    app.routing = ChannelRouting(
        war_room=(
            rm.DestinationSpec(channel_id="war", kind="slack", address=receiver.url("/war")),
        ),
        stakeholder=(
            rm.DestinationSpec(channel_id="execs", kind="webhook", address=receiver.url("/execs")),
            rm.DestinationSpec(channel_id="stake", kind="email", address="stake@example.com"),
        ),
    )


def _report(app: CommsApplication, send: Send, outcome: DeliveryOutcome) -> None:
    app.record_outcomes(send.dispatch_id, [(send.target.target_id, send.attempt, outcome)])


def test_an_unanswered_webhook_or_slack_post_is_resent_labelled_with_the_first_key(
    app: CommsApplication,
    clock: FakeClock,
    smtp_server: tuple[str, int, Mailbox],
    http_receiver: HttpReceiver,
) -> None:
    # The receiver takes both posts but answers only after the sender stopped waiting.
    _route_to(app, http_receiver)
    app.start_sender()
    declare(app)
    host, port, mailbox = smtp_server
    slow = Courier(
        CommsEmailChannel(host, port),
        SignedWebhook(SECRET, timeout=0.3),
        SlackChannel(timeout=0.3),
    )
    first = {s.target.target_id: s for s in app.tick()}
    _report(app, first["stakeholder.stake"], slow.send(first["stakeholder.stake"]))
    mailbox.claim(lambda m: m["To"] == "stake@example.com")
    for target in ("war_room.war", "stakeholder.execs"):
        http_receiver.statuses.append("HOLD")
        outcome = slow.send(first[target])
        assert outcome.kind == "unknown", outcome
        _report(app, first[target], outcome)
    http_receiver.release.set()
    assert app.tick() == []  # not at once: after the backoff
    clock.advance(timedelta(seconds=10))
    again = {s.target.target_id: s for s in app.tick()}
    assert set(again) == {"war_room.war", "stakeholder.execs"}
    for target, send in again.items():
        assert (send.attempt, send.possible_repeat) == (2, True)
        assert send.idempotency_key == first[target].idempotency_key
        outcome = slow.send(send)
        assert outcome.delivered, outcome
        _report(app, send, outcome)
    chat = [http_receiver.claim(lambda r: r.path == "/war") for _ in range(2)]
    hooks = [http_receiver.claim(lambda r: r.path == "/execs") for _ in range(2)]
    for pair in (chat, hooks):
        assert len({r.headers["Idempotency-Key"] for r in pair}) == 1
    assert ["(possible repeat)" in r.json()["text"] for r in chat] == [False, True]
    assert [r.json()["possible_repeat"] for r in hooks] == [False, True]
    for d in app.dispatches_for(INCIDENT):
        assert d.count(dsp.TargetStatus.DELIVERED) == len(d.targets)


def test_an_smtp_server_that_drops_after_data_gets_the_update_again_labelled(
    app: CommsApplication,
    clock: FakeClock,
    smtp_server: tuple[str, int, Mailbox],
    http_receiver: HttpReceiver,
) -> None:
    _route_to(app, http_receiver)
    app.start_sender()
    declare(app)
    host, port, mailbox = smtp_server
    send = Courier(
        CommsEmailChannel(host, port, timeout=0.3), SignedWebhook(SECRET), SlackChannel()
    )
    first = {s.target.target_id: s for s in app.tick()}
    for target in ("war_room.war", "stakeholder.execs"):
        assert send.send(first[target]).delivered
        _report(app, first[target], DeliveryOutcome.ok())
    http_receiver.claim(lambda r: r.path == "/war")
    http_receiver.claim(lambda r: r.path == "/execs")
    # The server keeps the message but answers DATA after the client gave up.
    mailbox.replies.append("SLOW 1.5")
    outcome = send.send(first["stakeholder.stake"])
    assert outcome.kind == "unknown", outcome
    _report(app, first["stakeholder.stake"], outcome)
    clock.advance(timedelta(seconds=10))
    (again,) = app.tick()
    assert (again.target.target_id, again.attempt, again.possible_repeat) == (
        "stakeholder.stake",
        2,
        True,
    )
    outcome = send.send(again)
    assert outcome.delivered, outcome
    _report(app, again, outcome)
    mailbox.wait_for(2)
    original = mailbox.claim(lambda m: "(possible repeat)" not in m["Subject"])
    repeat = mailbox.claim(lambda m: "(possible repeat)" in m["Subject"])
    assert original["Message-ID"] == repeat["Message-ID"]
    assert all(
        d.count(dsp.TargetStatus.DELIVERED) == len(d.targets) for d in app.dispatches_for(INCIDENT)
    )


def test_a_redirected_webhook_is_a_failure_never_a_bodiless_get(
    app: CommsApplication, smtp_server: tuple[str, int, Mailbox], http_receiver: HttpReceiver
) -> None:
    _route_to(app, http_receiver)
    app.start_sender()
    declare(app)
    send = courier(app, smtp_server)
    first = {s.target.target_id: s for s in app.tick()}
    http_receiver.statuses.extend([302, 302])
    for target in ("war_room.war", "stakeholder.execs"):
        outcome = send.send(first[target])
        assert outcome.kind == "permanent", outcome
        assert "HTTP 302" in outcome.reason
        _report(app, first[target], outcome)
    assert send.send(first["stakeholder.stake"]).delivered
    smtp_server[2].claim(lambda m: m["To"] == "stake@example.com")
    (opened,) = [d for d in app.dispatches_for(INCIDENT) if "stakeholder.execs" in d.targets]
    assert opened.targets["stakeholder.execs"].status is dsp.TargetStatus.FAILED
    assert "redirect" in opened.targets["stakeholder.execs"].reason
