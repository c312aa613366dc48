"""Real sends through the courier: subscriber emails carry one-click List-Unsubscribe,
subscriber webhooks get the Statuspage webhook body, channel webhooks are signed with
HMAC-SHA256 over the exact body, repeats say so. A real SMTP server and HTTP receiver."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import uuid

from comms_service.app import CommsApplication
from comms_service.delivery import CommsEmailChannel, Courier, SignedWebhook
from comms_service.views import subscriber_payload
from notify import SlackChannel
from tests.receivers import HttpReceiver, Mailbox
from tests.unit.comms.conftest import declare

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
