"""Timers on a FakeClock (auto-resolve, heartbeats, rule `for`, silence ends) and
noise control (silences, inhibition, flapping)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from contracts.domain import InvalidCommandError
from detection_service.app import DetectionApplication
from detection_service.integration import Integration
from detection_service.rule import parse_rules
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from tests.unit.detection.conftest import events_of, loaded, sample

RATIO_RULE = """
rules:
  - name: CheckoutHighErrorRate
    kind: ratio
    numerator: {name: http_responses, labels: {class: 5xx}}
    denominator: {name: http_responses}
    window: 1m
    comparison: ">"
    threshold: 0.01
    for: 2m
    severity: critical
    labels: {team: payments}
    annotations: {summary: checkout 5xx ratio above 1%}
    group_by: [service]
"""


def _send(app: DetectionApplication, source: Integration, key: str, **labels: str) -> Any:
    return app.send_alert(source, dedup_key=key, summary=key, labels=labels)


def _push_traffic(app: DetectionApplication, clock: FakeClock, errors: int, total: int) -> None:
    now = clock()
    app.push_samples(
        [
            {
                "name": "http_responses",
                "labels": {"service": "checkout", "class": "5xx"},
                "value": errors,
                "timestamp": now.isoformat(),
            },
            {
                "name": "http_responses",
                "labels": {"service": "checkout", "class": "2xx"},
                "value": total - errors,
                "timestamp": now.isoformat(),
            },
        ]
    )


def test_ratio_rule_fires_only_after_its_for_duration(
    app: DetectionApplication,
    clock: FakeClock,
    store: SQLiteEventStore,
) -> None:
    app.load_rules(parse_rules(RATIO_RULE), defined_by="test")
    start = clock()
    _push_traffic(app, clock, 0, 1000)
    app.tick()
    assert app.list_alerts() == []
    clock.advance(10)
    _push_traffic(app, clock, 32, 1000)  # 3.2% > 1%
    pending_at = clock()
    assert app.tick().event_types == ("AlertPending",)
    for _ in range(11):  # 110 s more: still pending
        clock.advance(10)
        _push_traffic(app, clock, 32, 1000)
        assert "AlertTriggered" not in app.tick().event_types
    clock.advance(10)  # exactly two minutes after the condition became true
    _push_traffic(app, clock, 32, 1000)
    fired = app.tick().event_types
    assert fired[:1] == ("AlertTriggered",)
    assert "AlertGroupFiring" in fired
    triggered = loaded(events_of(store, "AlertTriggered")[0])
    assert triggered.pending_at == pending_at
    assert triggered.fired_at - triggered.pending_at == timedelta(minutes=2)
    assert triggered.labels == {
        "service": "checkout",
        "team": "payments",
        "alertname": "CheckoutHighErrorRate",
    }
    group = loaded(events_of(store, "AlertGroupFiring")[0])
    assert group.incident_severity == "P1"
    assert start < pending_at
    # Healing: the ratio drops, the alert and its group resolve.
    clock.advance(70)
    _push_traffic(app, clock, 0, 1000)
    healed = app.tick().event_types
    assert healed == ("AlertResolved", "AlertGroupAlertResolved", "AlertGroupResolved")
    assert loaded(events_of(store, "AlertResolved")[0]).reason == "rule"


def test_a_blip_shorter_than_for_never_fires(app: DetectionApplication, clock: FakeClock) -> None:
    app.load_rules(parse_rules(RATIO_RULE), defined_by="test")
    _push_traffic(app, clock, 50, 1000)
    app.tick()
    clock.advance(70)
    _push_traffic(app, clock, 0, 1000)
    assert app.tick().event_types == ("AlertResolved",)
    assert app.list_alerts(status="resolved")[0].fired_at is None


def test_keep_firing_for_damps_a_brief_dip(app: DetectionApplication, clock: FakeClock) -> None:
    spec = RATIO_RULE.replace("for: 2m", "for: 0s\n    keep_firing_for: 2m")
    app.load_rules(parse_rules(spec), defined_by="test")
    _push_traffic(app, clock, 50, 1000)
    assert "AlertTriggered" in app.tick().event_types
    clock.advance(61)
    _push_traffic(app, clock, 0, 1000)
    assert app.tick().event_types == ()
    clock.advance(60)
    _push_traffic(app, clock, 0, 1000)
    assert app.tick().event_types == ()
    clock.advance(60)
    _push_traffic(app, clock, 0, 1000)
    assert app.tick().event_types[0] == "AlertResolved"


def test_loading_the_same_rules_twice_records_nothing(
    app: DetectionApplication, store: SQLiteEventStore
) -> None:
    assert app.load_rules(parse_rules(RATIO_RULE), defined_by="test") == 1
    head = store.head_position()
    assert app.load_rules(parse_rules(RATIO_RULE), defined_by="test") == 0
    assert store.head_position() == head
    app.remove_rule("CheckoutHighErrorRate", removed_by="test")
    assert app.list_rules() == []


def test_auto_resolve_when_the_source_never_resolves(
    app: DetectionApplication,
    clock: FakeClock,
    pd_integration: tuple[Integration, str],
    types_since: Callable[[int], list[str]],
    store: SQLiteEventStore,
) -> None:
    source, _ = pd_integration
    _send(app, source, "db/disk", service="db")
    clock.advance(timedelta(hours=3))
    # A repeat with more than half the timeout left renews nothing...
    head = store.head_position()
    clock.advance(timedelta(minutes=1))
    _send(app, source, "db/disk", service="db")
    assert types_since(head) == ["AlertAutoResolveScheduled"]  # 4h timeout, < 2h left
    clock.advance(timedelta(hours=3, minutes=59))
    assert app.tick().event_types == ()
    clock.advance(timedelta(minutes=2))
    assert app.tick().event_types == (
        "AlertResolved",
        "AlertGroupAlertResolved",
        "AlertGroupResolved",
    )
    assert app.tick().event_types == ()  # exactly once
    assert app.list_alerts()[0].resolve_reason is not None
    assert app.list_alerts()[0].resolve_reason.value == "auto_timeout"


def test_heartbeat_missed_raises_an_alert_and_a_ping_resolves_it(
    app: DetectionApplication,
    clock: FakeClock,
    store: SQLiteEventStore,
) -> None:
    app.create_heartbeat(
        "nightly-backup",
        interval=timedelta(minutes=10),
        grace=timedelta(minutes=1),
        labels={"service": "backup", "severity": "warning"},
        created_by="alice",
    )
    clock.advance(timedelta(minutes=5))
    app.ping_heartbeat("nightly-backup")
    clock.advance(timedelta(minutes=10))
    assert app.tick().event_types == ()
    clock.advance(timedelta(minutes=1))
    missed = app.tick().event_types
    assert missed[:2] == ("HeartbeatMissed", "AlertTriggered")
    assert "AlertGroupFiring" in missed
    assert loaded(events_of(store, "AlertGroupFiring")[0]).incident_severity == "P3"
    assert app.tick().event_types == ()
    clock.advance(30)
    back = app.ping_heartbeat("nightly-backup")
    assert back == [
        "HeartbeatPinged",
        "AlertResolved",
        "AlertGroupAlertResolved",
        "AlertGroupResolved",
    ]
    assert loaded(events_of(store, "AlertResolved")[0]).reason == "heartbeat_returned"


def test_silenced_alert_is_recorded_but_does_not_page(
    app: DetectionApplication,
    clock: FakeClock,
    pd_integration: tuple[Integration, str],
    types_since: Callable[[int], list[str]],
    store: SQLiteEventStore,
) -> None:
    source, _ = pd_integration
    silence = app.create_silence(
        ['service="db"'],
        ends_at=clock() + timedelta(hours=1),
        created_by="alice",
        comment="DB maintenance CHG-1",
    )
    head = store.head_position()
    _send(app, source, "db/disk", service="db")
    assert types_since(head) == ["AlertTriggered", "AlertSuppressed", "AlertAutoResolveScheduled"]
    suppressed = loaded(events_of(store, "AlertSuppressed")[0])
    assert suppressed.suppressed_by == f"silence:{silence.silence_id}"
    assert "DB maintenance" in suppressed.reason
    assert app.list_groups() == []
    # The silence ends while the alert still fires: now it pages.
    clock.advance(timedelta(hours=1))
    ended = app.tick().event_types
    assert ended[:2] == ("SilenceExpired", "AlertSuppressionLifted")
    assert "AlertGroupFiring" in ended
    assert app.tick().event_types == ()


def test_manual_silence_expiry(app: DetectionApplication, clock: FakeClock) -> None:
    silence = app.create_silence(
        ['service=~"db|cache"'],
        ends_at=clock() + timedelta(hours=1),
        created_by="alice",
        comment="work",
    )
    assert app.expire_silence(silence.silence_id, expired_by="bob") == ["SilenceExpired"]
    assert app.list_silences(active_only=True) == []
    assert app.expire_silence(silence.silence_id, expired_by="bob") == []


def test_silence_validation(app: DetectionApplication, clock: FakeClock) -> None:
    with pytest.raises(InvalidCommandError, match=r"matchers\[0\]"):
        app.create_silence(
            ["not a matcher"], ends_at=clock() + timedelta(hours=1), created_by="a", comment="c"
        )
    with pytest.raises(InvalidCommandError, match="ends_at"):
        app.create_silence(
            ['a="b"'], ends_at=clock() - timedelta(hours=1), created_by="a", comment="c"
        )
    with pytest.raises(InvalidCommandError, match="comment"):
        app.create_silence(
            ['a="b"'], ends_at=clock() + timedelta(hours=1), created_by="a", comment=" "
        )


def test_inhibition_by_a_firing_source_alert(
    app: DetectionApplication,
    clock: FakeClock,
    pd_integration: tuple[Integration, str],
    store: SQLiteEventStore,
) -> None:
    source, _ = pd_integration
    _send(app, source, "eu1/down", alertname="ClusterDown", cluster="eu1", service="k8s")
    result = _send(
        app, source, "checkout/5xx", alertname="HighErrorRate", cluster="eu1", service="checkout"
    )
    assert "AlertSuppressed" in result.event_types
    reason = loaded(events_of(store, "AlertSuppressed")[0]).reason
    assert reason.startswith("inhibited by ClusterDown")
    other = _send(
        app, source, "checkout/5xx-us", alertname="HighErrorRate", cluster="us1", service="search"
    )
    assert "AlertSuppressed" not in other.event_types
    # The cluster recovers: the inhibited alert, still firing, starts paging.
    app.send_alert(source, action="resolve", dedup_key="eu1/down")
    lifted = app.tick().event_types
    assert "AlertSuppressionLifted" in lifted
    assert "AlertGroupFiring" in lifted


def test_flapping_stops_paging_visibly_then_recovers(
    app: DetectionApplication,
    clock: FakeClock,
    am_integration: Integration,
    store: SQLiteEventStore,
) -> None:
    firing = sample("alertmanager-webhook-v4.json")
    resolved = copy.deepcopy(firing)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    for index in range(2):
        clock.advance(60)
        firing["alerts"][0]["startsAt"] = clock().isoformat()
        app.ingest_alertmanager(firing, am_integration)
        clock.advance(60)
        app.ingest_alertmanager(resolved, am_integration)
        assert index < 2
    # 4 changes within 10 minutes → flapping (threshold 4 in the test config).
    assert len(events_of(store, "AlertFlapping")) == 1
    groups_before = len(app.list_groups())
    clock.advance(60)
    firing["alerts"][0]["startsAt"] = clock().isoformat()
    result = app.ingest_alertmanager(firing, am_integration)
    assert "AlertGroupFiring" not in result[0].event_types  # flapping: no page
    assert len(app.list_groups()) == groups_before
    clock.advance(timedelta(minutes=10))
    calmed = app.tick().event_types
    assert calmed[0] == "AlertFlappingStopped"
    assert "AlertGroupFiring" in calmed  # still firing once calm: it pages now


def test_a_silence_created_while_an_alert_fires_mutes_it_at_the_next_tick(
    app: DetectionApplication,
    clock: FakeClock,
    pd_integration: tuple[Integration, str],
    store: SQLiteEventStore,
) -> None:
    source, _ = pd_integration
    fired = _send(app, source, "db/disk", service="db")
    assert "AlertGroupFiring" in fired.event_types
    silence = app.create_silence(
        ['service="db"'], ends_at=clock() + timedelta(hours=1), created_by="alice", comment="CHG-2"
    )
    muted = app.tick().event_types
    assert muted[0] == "AlertSuppressed"
    assert (
        loaded(events_of(store, "AlertSuppressed")[-1]).suppressed_by
        == f"silence:{silence.silence_id}"
    )
    assert app.tick().event_types == ()
    clock.advance(timedelta(hours=1))
    assert "AlertSuppressionLifted" in app.tick().event_types


def test_a_source_alert_that_fires_after_its_target_inhibits_it_at_the_next_tick(
    app: DetectionApplication,
    clock: FakeClock,
    pd_integration: tuple[Integration, str],
    store: SQLiteEventStore,
) -> None:
    source, _ = pd_integration
    target = _send(
        app, source, "checkout/5xx", alertname="HighErrorRate", cluster="eu1", service="checkout"
    )
    assert "AlertSuppressed" not in target.event_types
    _send(app, source, "eu1/down", alertname="ClusterDown", cluster="eu1", service="k8s")
    inhibited = app.tick().event_types
    assert "AlertSuppressed" in inhibited
    assert loaded(events_of(store, "AlertSuppressed")[-1]).reason.startswith(
        "inhibited by ClusterDown"
    )
    assert app.tick().event_types == ()
