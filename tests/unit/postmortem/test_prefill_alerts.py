"""Prefill follows the declaration back to its alert: the pending and firing instants
and the sample value come from detection's streams, and the impact starts there."""

from __future__ import annotations

import uuid
from datetime import timedelta

from eventlog import EventMetadata, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from postmortem_service import metrics
from tests.unit.postmortem.alerting import ALERT, declared_from_an_occurrence, detection
from tests.unit.postmortem.conftest import World


def test_the_alert_pending_instant_starts_the_clocks_and_appears_on_the_timeline(
    world: World,
) -> None:
    path = world.app.store.path  # type: ignore[attr-defined]
    detection = SQLiteEventStore(
        path, writer="detection", ownership=Ownership.platform(), clock=world.clock
    )
    alert_id, group_id = "a1", "g1"
    pending_at = world.clock()
    fired_at = pending_at + timedelta(minutes=2)
    alert = {"alert_id": alert_id, "alert_key": "k", "integration": "am", "source": "alertmanager",
             "labels": {}, "annotations": {"value": "3.2%"}, "summary": "5xx above 1%",
             "severity": "critical"}  # fmt: skip
    detection.append(
        f"alert-{alert_id}",
        [
            NewEvent("AlertPending", {**alert, "pending_at": pending_at.isoformat()}),
            NewEvent(
                "AlertTriggered",
                {
                    **alert,
                    "occurrence": 1,
                    "started_at": pending_at.isoformat(),
                    "fired_at": fired_at.isoformat(),
                    "pending_at": pending_at.isoformat(),
                },
            ),
        ],
        StreamState.NO_STREAM,
    )
    firing = NewEvent(
        "AlertGroupFiring",
        {"group_id": group_id, "group_key": "g", "title": "5xx", "labels": {},
         "incident_severity": "P1", "services": ["checkout"], "alert_key": "k",
         "summary": "5xx above 1%", "fired_at": fired_at.isoformat(), "alert_id": alert_id},
        id=uuid.uuid4(),
        metadata=EventMetadata(correlation_id=group_id),
    )  # fmt: skip
    detection.append(f"alertgroup-{group_id}", [firing], StreamState.NO_STREAM)
    world.clock.advance(timedelta(minutes=3))
    declared = world.incidents.declare(
        title="5xx", severity="P1", services=["checkout"], declared_by="detection",
        causation_id=str(firing.id),
    )  # fmt: skip
    world.clock.advance(timedelta(minutes=10))
    world.incidents.execute(
        declared.incident_id, inc.Resolve, actor="alice", summary="ok", resolved_by="alice"
    )
    resolved = world.incidents.store.read_stream(inc.stream_for(declared.incident_id))[-1]
    world.app.incident_resolved(declared.incident_id, causation_id=str(resolved.id))

    filled = world.app.prefill(declared.incident_id)
    texts = [e.text for e in filled.entries]
    assert texts[0] == "Alert pending: 5xx above 1% (value 3.2%)"
    assert "Alert group firing: 5xx" in texts
    d = filled.durations
    assert d.impact_start_source == "alert"
    assert d.impact_started_at == pending_at
    assert d.time_to_detect == timedelta(minutes=3)  # pending -> declared
    assert d.time_to_resolve == timedelta(minutes=13)


def test_a_recurring_alert_brings_only_the_occurrence_that_declared_the_incident(
    world: World,
) -> None:
    """alert-<id> holds every occurrence of a recurring alert: the second incident, a
    month later, must not start its clocks at the first occurrence."""
    first = declared_from_an_occurrence(world, 1)
    world.clock.advance(timedelta(days=30))
    second_pending_at = world.clock()
    second = declared_from_an_occurrence(world, 2)

    filled = world.app.prefill(second)
    d = filled.durations
    assert d.impact_started_at == second_pending_at
    assert d.time_to_detect == timedelta(minutes=3)
    assert d.time_to_resolve == timedelta(minutes=13)
    alert_rows = [e for e in filled.entries if e.source == "alert"]
    assert [e.text for e in alert_rows] == [
        "Alert pending: 5xx above 1% (value 3.2%)",
        "Alert firing: 5xx above 1% (value 3.2%)",
        "AlertResolved",
    ]
    assert all(e.at >= second_pending_at for e in alert_rows)

    # The first incident keeps its own occurrence, not the later one.
    earlier = world.app.prefill(first)
    assert earlier.durations.time_to_detect == timedelta(minutes=3)
    assert earlier.durations.time_to_resolve == timedelta(minutes=13)
    assert len([e for e in earlier.entries if e.source == "alert"]) == 3
    assert all(e.at < second_pending_at for e in earlier.entries if e.source == "alert")


def test_the_postmortems_time_to_acknowledge_is_the_reports(world: World) -> None:
    """Metrics definition v1 counts paging's and the incident's acknowledgements, not
    detection's own AlertAcknowledged (which reaches the incident later, as its
    SourceAlertAcknowledged): the postmortem shows the same TTA as the report."""
    incident_id = declared_from_an_occurrence(world, 1, resolve=False)
    acked_at = world.clock() + timedelta(minutes=1)
    detection(world).append(
        f"alert-{ALERT['alert_id']}",
        [NewEvent("AlertAcknowledged", {"acknowledged_by": "carol",
                                         "acknowledged_at": acked_at.isoformat()})],
        StreamState.ANY,
    )  # fmt: skip
    world.clock.advance(timedelta(minutes=4))
    world.incidents.execute(
        incident_id, inc.RecordSourceAcknowledged, actor="carol",
        alert_key="k", acknowledged_by="carol",
    )  # fmt: skip
    filled = world.app.prefill(incident_id)
    assert "carol" in filled.responders
    report = metrics.compute(world.app.store.read_all(filter=metrics.FILTER), world.clock())
    tta = filled.durations.time_to_acknowledge
    assert tta is not None
    assert tta.total_seconds() == report.summaries["MTTA"].mean_seconds
    assert tta == timedelta(minutes=7)  # pending -> the incident's acknowledgement
