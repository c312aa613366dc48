"""Alertmanager and PagerDuty ingestion → alerts → groups → AlertGroupFiring."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from contracts.domain import NotFoundError
from detection_service.app import DetectionApplication, InvalidPayloadError, UnknownIntegrationError
from detection_service.integration import Integration
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from tests.unit.detection.conftest import events_of, loaded, sample


def test_alertmanager_sample_fires_a_group_with_routed_severity(
    app: DetectionApplication,
    am_integration: Integration,
    store: SQLiteEventStore,
    types_since: Callable[[int], list[str]],
) -> None:
    head = store.head_position()
    results = app.ingest_alertmanager(sample("alertmanager-webhook-v4.json"), am_integration)
    assert results[0].dedup_key == "5c8a603f09d8e4f9"
    assert types_since(head) == [
        "AlertTriggered",
        "AlertAutoResolveScheduled",
        "AlertGroupOpened",
        "AlertGroupFiring",
    ]
    firing = loaded(events_of(store, "AlertGroupFiring")[0])
    assert firing.incident_severity == "P1"
    assert firing.services == ["checkout", "payments"]
    assert firing.summary == "checkout 5xx rate above 1% for 2m"
    assert firing.alert_key == "5c8a603f09d8e4f9"
    triggered = loaded(events_of(store, "AlertTriggered")[0])
    assert triggered.started_at.isoformat().startswith("2026-11-27T02:00:05.123")


def test_repeated_notification_appends_nothing(
    app: DetectionApplication,
    am_integration: Integration,
    store: SQLiteEventStore,
    clock: FakeClock,
) -> None:
    body = sample("alertmanager-webhook-v4.json")
    app.ingest_alertmanager(body, am_integration)
    head = store.head_position()
    app.ingest_alertmanager(body, am_integration)
    clock.advance(60)
    app.ingest_alertmanager(body, am_integration)
    assert store.head_position() == head


def test_resolved_notification_resolves_alert_and_group(
    app: DetectionApplication,
    am_integration: Integration,
    store: SQLiteEventStore,
    types_since: Callable[[int], list[str]],
    clock: FakeClock,
) -> None:
    body = sample("alertmanager-webhook-v4.json")
    app.ingest_alertmanager(body, am_integration)
    clock.advance(300)
    resolved = copy.deepcopy(body)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-27T02:05:00Z"
    head = store.head_position()
    app.ingest_alertmanager(resolved, am_integration)
    assert types_since(head) == ["AlertResolved", "AlertGroupAlertResolved", "AlertGroupResolved"]
    # A later firing opens a new group: a resolved group stays resolved.
    clock.advance(60)
    head = store.head_position()
    app.ingest_alertmanager(body, am_integration)
    assert "AlertGroupFiring" in types_since(head)
    assert len(app.list_groups()) == 2


def test_second_alert_with_same_group_labels_joins_the_group(
    app: DetectionApplication,
    am_integration: Integration,
    store: SQLiteEventStore,
    types_since: Callable[[int], list[str]],
    clock: FakeClock,
) -> None:
    body = sample("alertmanager-webhook-v4.json")
    app.ingest_alertmanager(body, am_integration)
    clock.advance(30)
    other = copy.deepcopy(body)
    other["alerts"][0]["fingerprint"] = "aaaabbbbccccdddd"
    other["alerts"][0]["labels"]["instance"] = "checkout-2:8080"
    head = store.head_position()
    app.ingest_alertmanager(other, am_integration)
    assert types_since(head) == [
        "AlertTriggered",
        "AlertAutoResolveScheduled",
        "AlertGroupAlertAdded",
    ]
    added = loaded(events_of(store, "AlertGroupAlertAdded")[0])
    assert added.alert_key == "aaaabbbbccccdddd"
    assert added.severity == "critical"
    # Outside the group window, the same labels open a new group (a new incident).
    clock.advance(7200)
    third = copy.deepcopy(body)
    third["alerts"][0]["fingerprint"] = "eeeeffff00001111"
    head = store.head_position()
    app.ingest_alertmanager(third, am_integration)
    assert "AlertGroupFiring" in types_since(head)


def test_pagerduty_trigger_ack_resolve(
    app: DetectionApplication,
    pd_integration: tuple[Integration, str],
    store: SQLiteEventStore,
    types_since: Callable[[int], list[str]],
) -> None:
    _, key = pd_integration
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = key
    assert app.ingest_pagerduty(body) == "checkout/high-error-rate"
    firing = loaded(events_of(store, "AlertGroupFiring")[0])
    assert firing.incident_severity == "P1"  # PagerDuty critical → P1
    head = store.head_position()
    assert app.ingest_pagerduty(body) == "checkout/high-error-rate"
    assert store.head_position() == head
    ack = {
        "routing_key": key,
        "event_action": "acknowledge",
        "dedup_key": "checkout/high-error-rate",
    }
    app.ingest_pagerduty(ack)
    assert types_since(head) == ["AlertAcknowledged", "AlertGroupAcknowledged"]
    group_ack = loaded(events_of(store, "AlertGroupAcknowledged")[0])
    assert group_ack.acknowledged_by == "pd-tool"
    head = store.head_position()
    app.ingest_pagerduty({**ack, "event_action": "resolve"})
    assert types_since(head) == ["AlertResolved", "AlertGroupAlertResolved", "AlertGroupResolved"]


def test_pagerduty_trigger_without_dedup_key_gets_one(
    app: DetectionApplication,
    pd_integration: tuple[Integration, str],
) -> None:
    _, key = pd_integration
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = key
    del body["dedup_key"]
    made = app.ingest_pagerduty(body)
    assert len(made) == 32
    assert app.find_alert("pd-tool", made).status.value == "firing"


def test_bad_input_appends_nothing(
    app: DetectionApplication,
    pd_integration: tuple[Integration, str],
    store: SQLiteEventStore,
) -> None:
    _, key = pd_integration
    head = store.head_position()
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = key
    body["payload"]["severity"] = "disaster"
    del body["payload"]["summary"]
    with pytest.raises(InvalidPayloadError) as caught:
        app.ingest_pagerduty(body)
    assert caught.value.errors == [
        "payload.summary: is missing or blank",
        "payload.severity: must be one of critical, error, warning, info",
    ]
    assert store.head_position() == head


def test_unknown_and_revoked_keys_are_refused(
    app: DetectionApplication,
    pd_integration: tuple[Integration, str],
    store: SQLiteEventStore,
) -> None:
    _, key = pd_integration
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = "0" * 32
    with pytest.raises(UnknownIntegrationError):
        app.ingest_pagerduty(body)
    app.revoke_integration("pd-tool", revoked_by="admin")
    head = store.head_position()
    body["routing_key"] = key
    with pytest.raises(UnknownIntegrationError, match="revoked"):
        app.ingest_pagerduty(body)
    assert store.head_position() == head
    with pytest.raises(NotFoundError):
        app.revoke_integration("nobody", revoked_by="admin")


def test_send_alert_has_pagerduty_semantics(
    app: DetectionApplication,
    pd_integration: tuple[Integration, str],
) -> None:
    source, _ = pd_integration
    result = app.send_alert(
        source,
        dedup_key="db/disk",
        summary="disk full",
        severity="warning",
        labels={"service": "db", "env": "prod"},
    )
    assert result.event_types[0] == "AlertTriggered"
    group = app.get_group(app.group_of(result.alert_id) or "")
    assert group.incident_severity is not None
    assert group.incident_severity.value == "P3"
    assert group.services == ("db",)
    again = app.send_alert(source, dedup_key="db/disk", summary="disk full", severity="warning")
    assert again.event_types == ()
    with pytest.raises(InvalidPayloadError, match="severity"):
        app.send_alert(source, dedup_key="x", summary="y", severity="bad")
