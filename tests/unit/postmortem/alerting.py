"""Detection's side of an incident, written as detection writes it: an occurrence of
an alert (pending, then firing) on the alert's one stream, its group's firing, the
incident declared from that firing, and its resolution."""

from __future__ import annotations

import uuid
from datetime import timedelta

from eventlog import EventMetadata, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from tests.unit.postmortem.conftest import World

ALERT = {
    "alert_id": "a1", "alert_key": "k", "integration": "am", "source": "alertmanager",
    "labels": {}, "annotations": {"value": "3.2%"}, "summary": "5xx above 1%",
    "severity": "critical",
}  # fmt: skip


def detection(world: World) -> SQLiteEventStore:
    path = world.app.store.path  # type: ignore[attr-defined]
    return SQLiteEventStore(
        path, writer="detection", ownership=Ownership.platform(), clock=world.clock
    )


def declared_from_an_occurrence(
    world: World, occurrence: int, *, resolve: bool = True
) -> uuid.UUID:
    """Occurrence `occurrence` of alert a1: pending now, firing 2 min later, its group
    fires, the incident is declared 3 min after pending and resolved 10 min later (then
    its postmortem opens, as the worker would). The alert is resolved right after."""
    store = detection(world)
    pending_at = world.clock()
    fired_at = pending_at + timedelta(minutes=2)
    store.append(
        f"alert-{ALERT['alert_id']}",
        [
            NewEvent("AlertPending", {**ALERT, "pending_at": pending_at.isoformat()}),
            NewEvent(
                "AlertTriggered",
                {
                    **ALERT,
                    "occurrence": occurrence,
                    "started_at": pending_at.isoformat(),
                    "fired_at": fired_at.isoformat(),
                    "pending_at": pending_at.isoformat(),
                },
            ),
        ],
        StreamState.ANY,
    )
    group_id = f"g{occurrence}"
    firing = NewEvent(
        "AlertGroupFiring",
        {"group_id": group_id, "group_key": "g", "title": "5xx", "labels": {},
         "incident_severity": "P1", "services": ["checkout"], "alert_key": "k",
         "summary": "5xx above 1%", "fired_at": fired_at.isoformat(),
         "alert_id": ALERT["alert_id"]},
        id=uuid.uuid4(),
        metadata=EventMetadata(correlation_id=group_id),
    )  # fmt: skip
    store.append(f"alertgroup-{group_id}", [firing], StreamState.NO_STREAM)
    world.clock.advance(timedelta(minutes=3))
    declared = world.incidents.declare(
        title="5xx", severity="P1", services=["checkout"], declared_by="alice",
        causation_id=str(firing.id),
    )  # fmt: skip
    incident_id = declared.incident_id
    if resolve:
        world.clock.advance(timedelta(minutes=10))
        world.incidents.execute(
            incident_id, inc.Resolve, actor="alice", summary="ok", resolved_by="alice"
        )
        resolved = world.incidents.store.read_stream(inc.stream_for(incident_id))[-1]
        world.app.incident_resolved(incident_id, causation_id=str(resolved.id))
        store.append(
            f"alert-{ALERT['alert_id']}",
            [
                NewEvent(
                    "AlertResolved", {"reason": "source", "resolved_at": world.clock().isoformat()}
                )
            ],
            StreamState.ANY,
        )
    return incident_id
