"""Tables stay readable in an 80-column terminal: nothing is cut with "…".

Rows hold the longest real event type names, a scheduler actor id, long titles, page
and silence ids and dedup keys, rendered at 80 columns (a pipe's width too) and wider.
Every word a responder needs (event types, references, ids, each word of a title)
must appear whole on some line, and no line may be wider than the terminal.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console, RenderableType

from firewatch.alert.v1 import alert_pb2
from firewatch.eventlog.v1 import event_pb2
from firewatch.incident.v1 import incident_pb2 as pb
from firewatch.oncall.v1 import oncall_pb2
from incidentctl import alert_render, render
from incidentctl.pages import pages_table

WIDTHS = [80, 100, 120, 250]
AT = Timestamp()
AT.FromDatetime(datetime(2026, 11, 27, 2, 17, 5, tzinfo=UTC))
SCHEDULER = "scheduler:26556d78-7c81-4f57-be53-0e7f29d21698"
LONG_TITLE = "Checkout returns 5xx for EU customers after the payments-gateway 1.4.2 deploy"


def printed(renderable: RenderableType, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, highlight=False, emoji=False).print(renderable)
    return out.getvalue()


def assert_whole(text: str, width: int, words: list[str]) -> None:
    assert "…" not in text, text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, text
    for word in words:
        assert any(word in line for line in lines), f"{word!r} is cut:\n{text}"


def event(
    position: int, event_type: str, actor: str, data: dict[str, object]
) -> event_pb2.LogEvent:
    return event_pb2.LogEvent(
        position=position,
        type=event_type,
        actor=actor,
        data_json=json.dumps(data),
        recorded_at=AT,
    )


TIMELINE = [
    event(10451, "IncidentDeclared", "detection",
          {"severity": "P1", "title": LONG_TITLE, "services": ["checkout"]}),
    event(10452, "EscalationStarted", "paging",
          {"policy": {"policy_id": "default", "revision": 1, "levels": [{}]},
           "severity": "P1", "urgency": "high"}),
    event(10453, "EscalationStepScheduled", "paging",
          {"level": 0, "due_at": "2026-11-27T02:17:05Z"}),
    event(10454, "PageNotificationScheduled", "paging",
          {"method_id": "email", "attempt": 1, "due_at": "2026-11-27T02:17:05Z"}),
    event(10455, "PageDeliveryAttempted", SCHEDULER,
          {"kind": "email", "address": "oncall@firewatch.local", "attempt": 1}),
    event(10456, "RootCauseFollowUpRequired", "local-admin", {"reason": "only a rollback"}),
    event(10457, "UnacknowledgedTimeoutScheduled", "paging", {"due_at": "2026-11-27T02:47:05Z"}),
]  # fmt: skip


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("verbose", [False, True])
def test_the_timeline_never_cuts_an_event_type_or_a_word(width: int, verbose: bool) -> None:
    text = printed(render.timeline_table(TIMELINE, verbose=verbose), width)
    words = [e.type for e in TIMELINE] + [str(e.position) for e in TIMELINE]
    words += ["2026-11-27T02:17:05Z", "oncall@firewatch.local", *LONG_TITLE.split()]
    assert_whole(text, width, words)
    if verbose:
        assert "policy.policy_id: default" in text


def test_the_timeline_is_one_line_per_event_when_it_fits_and_stacked_when_not() -> None:
    wide = printed(render.timeline_table(TIMELINE[:2]), 160)
    [row] = [line for line in wide.splitlines() if "EscalationStarted" in line]
    assert row.startswith("10452  2026-11-27T02:17:05Z  EscalationStarted")
    assert "paging" in row
    assert "escalation on policy default rev 1 started" in row
    narrow = printed(render.timeline_table(TIMELINE[:2]), 80).splitlines()
    at = next(i for i, line in enumerate(narrow) if "EscalationStarted by paging" in line)
    assert "escalation on policy default rev 1 started" in narrow[at + 1]


def incident(number: int, title: str, commander: str) -> pb.Incident:
    return pb.Incident(
        reference=f"INC-{number}",
        title=title,
        severity=pb.SEVERITY_P1,
        status=pb.STATUS_INVESTIGATING,
        services=["checkout", "payments-gateway"],
        commander=commander,
        declared_at=AT,
    )


INCIDENTS = [
    incident(1234, LONG_TITLE, "alice.longname"),
    incident(7, "EscalationStepScheduled never fires for the default policy", ""),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_incident_list_never_cuts_a_reference_title_or_service(width: int) -> None:
    text = printed(render.incident_table(INCIDENTS), width)
    words = ["INC-1234", "INC-7", "investigating", "2026-11-27T02:17:05Z", "payments-gateway"]
    words += [*LONG_TITLE.split(), "EscalationStepScheduled", "alice.longname"]
    assert_whole(text, width, words)


def page(page_id: str, status: int) -> oncall_pb2.Page:
    return oncall_pb2.Page(
        page_id=page_id, step=0, user_id="oncall", status=status, paged_at=AT, delivered=True
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_page_ids_are_never_cut_since_page_ack_takes_them(width: int) -> None:
    ids = ["8396140c-4e0a-5dc0-9cc1-c2bc55411dbe", "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0"]
    pages = [
        page(ids[0], oncall_pb2.PAGE_STATUS_ACKNOWLEDGED),
        page(ids[1], oncall_pb2.PAGE_STATUS_OPEN),
    ]
    text = printed(pages_table(pages), width)
    assert_whole(text, width, [*ids, "acknowledged", "delivered", "2026-11-27T02:17:05Z"])


@pytest.mark.parametrize("width", WIDTHS)
def test_alert_silence_and_heartbeat_lists_keep_keys_ids_and_names_whole(width: int) -> None:
    key = "9450e13a24654db396a9dfd2b2974122"
    alert = alert_pb2.Alert(
        dedup_key=key,
        status=alert_pb2.ALERT_STATUS_FIRING,
        severity=alert_pb2.ALERT_SEVERITY_CRITICAL,
        summary="Checkout returns 5xx for EU customers",
        fired_at=AT,
        labels={"service": "checkout", "env": "prod"},
    )
    silence_id = "1b4e28ba-2fa1-4d2b-9b1c-6f7e0d8c9a01"
    silence = alert_pb2.Silence(
        silence_id=silence_id,
        matchers=[alert_pb2.Matcher(name="service", operator=1, value="checkout")],
        ends_at=AT,
        created_by="alice.longname",
        comment="DB maintenance CHG-1234",
        active=True,
    )
    heartbeat = alert_pb2.Heartbeat(
        name="nightly-backup-of-the-payments-db",
        interval=Duration(seconds=86400),
        grace=Duration(seconds=3600),
        last_ping_at=AT,
        deadline=AT,
    )

    alerts = printed(alert_render.alert_table([alert]), width)
    silences = printed(alert_render.silence_table([silence]), width)
    heartbeats = printed(alert_render.heartbeat_table([heartbeat]), width)

    assert_whole(alerts, width, [key, "critical", "paging", "Checkout", "customers"])
    assert_whole(silences, width, [silence_id, "active", 'service="checkout"', "CHG-1234"])
    assert_whole(heartbeats, width, [heartbeat.name, "1d", "1h", "2026-11-27T02:17:05Z"])
