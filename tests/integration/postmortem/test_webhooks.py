"""Signed JSON change webhooks to a real HTTP receiver: every postmortem and action-item
change once in log order, signed, resent (flagged) after a crash between the post and
its record, and retried after a refusal."""

from __future__ import annotations

import time
from typing import Any

from postmortem_service import webhooks
from postmortem_service.delivery import Courier
from postmortem_service.worker import Scribe
from tests.integration.postmortem.conftest import World
from tests.receivers import HttpReceiver

SECRET = b"w" * 32


def direct(function: Any, *args: Any) -> Any:
    return function(*args)


def scribe(world: World, url: str) -> Scribe:
    return Scribe(
        world.app, Courier({}), webhook_urls=[url], webhook_secret=SECRET, run_blocking=direct
    )


def test_changes_are_posted_signed_in_log_order_exactly_once(
    world: World, http_receiver: HttpReceiver
) -> None:
    url = http_receiver.url("/tracker")
    incident_id = world.resolved_incident("P1")
    world.app.record_root_cause(
        incident_id, "The pool limit was below the worker count.", by="alice"
    )
    sender = scribe(world, url)
    assert sender.push(url) == 2
    assert sender.push(url) == 0
    first, second = http_receiver.wait_for(2)
    for request in (first, second):
        assert webhooks.verify(
            SECRET, request.headers["X-Firewatch-Signature"], request.body, int(time.time())
        )
        assert request.json()["schema"] == "firewatch.postmortem-change/v1"
        assert request.json()["incident_id"] == str(incident_id)
        assert "X-Firewatch-Possible-Repeat" not in request.headers
    assert [r.json()["type"] for r in (first, second)] == ["PostmortemStarted", "RootCauseRecorded"]
    assert first.headers["X-Firewatch-Event-Id"] == first.json()["event_id"]
    assert not webhooks.verify(b"x" * 32, first.headers["X-Firewatch-Signature"], first.body,
                               int(time.time()))  # fmt: skip
    http_receiver.claim(lambda r: True)
    http_receiver.claim(lambda r: True)


def test_a_batch_posted_but_never_recorded_is_resent_flagged_as_a_possible_repeat(
    world: World, http_receiver: HttpReceiver
) -> None:
    url = http_receiver.url("/tracker")
    world.resolved_incident("P1")
    world.app.next_webhook_batch(url)  # attempted; the process died before posting/recording
    assert scribe(world, url).push(url) == 1
    (request,) = http_receiver.wait_for(1)
    assert request.headers["X-Firewatch-Possible-Repeat"] == "true"
    http_receiver.claim(lambda r: True)


def test_a_refused_post_is_retried_on_the_next_push(
    world: World, http_receiver: HttpReceiver
) -> None:
    url = http_receiver.url("/tracker")
    world.resolved_incident("P1")
    http_receiver.statuses.append(503)
    sender = scribe(world, url)
    assert sender.push(url) == 0
    assert sender.push(url) == 1
    (request,) = http_receiver.wait_for(1)
    assert request.json()["type"] == "PostmortemStarted"
    http_receiver.claim(lambda r: True)
