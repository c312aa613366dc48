"""The worker's handler (no broker): incident and runbook events become war-room posts
(one message per event type it listens to), even when a change overtakes its incident's
declaration (handlers run concurrently)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from comms_service.app import CommsApplication
from comms_service.worker import (
    EVENT_TYPES,
    QUEUE_BINDINGS,
    RUNBOOK_EVENT_TYPES,
    Communicator,
    describe,
    incident_id_of,
)
from eventlog import EventMetadata, FakeClock, NewEvent, Ownership, RecordedEvent, StreamState
from eventlog.sqlite import SQLiteEventStore


class NoCourier:
    def payload(self, send: Any) -> None:
        return None

    def send(self, send: Any, payload: Any = None) -> Any:
        raise AssertionError("not in this test")


def test_a_change_that_overtakes_its_declaration_still_reaches_the_war_room(
    tmp_path: Path, app: CommsApplication, clock: FakeClock
) -> None:
    incident = SQLiteEventStore(
        tmp_path / "log.db", writer="incident", ownership=Ownership.platform(), clock=clock
    )
    incident_id = uuid.uuid4()
    stream = f"incident-{incident_id}"
    now = datetime.now(UTC).isoformat()
    incident.append(
        stream,
        [
            NewEvent(
                "IncidentDeclared",
                {
                    "incident_id": str(incident_id),
                    "number": 7,
                    "title": "db down",
                    "severity": "P2",
                    "services": ["db"],
                    "declared_by": "a",
                    "declared_at": now,
                    "source_alerts": [],
                },
            )
        ],
        StreamState.NO_STREAM,
    )
    incident.append(
        stream,
        [
            NewEvent(
                "CommanderAssigned",
                {
                    "commander": "alice",
                    "previous_commander": None,
                    "assigned_by": "bob",
                    "assigned_at": now,
                },
            )
        ],
        0,
    )
    declared, assigned = incident.read_stream(stream)
    communicator = Communicator(app, NoCourier(), run_blocking=lambda f, *a: f(*a))  # type: ignore[arg-type]
    communicator.handle(assigned)  # first: the declaration is still in the queue
    communicator.handle(declared)
    communicator.handle(assigned)  # redelivered: nothing twice
    room = app.room(incident_id)
    assert (room.reference, room.commander) == ("INC-7", "alice")
    posts = [e for e in app.store.read_all() if e.type == "WarRoomPosted"]
    assert [p.data["text"] for p in posts] == ["Incident commander: alice"]
    incident.close()


RUN_STREAM = "rbaction-checkout-5xx:rollback"
INCIDENT_ID = "00000000-0000-4000-8000-000000000001"
WAR_ROOM_MESSAGES: dict[str, tuple[str, dict[str, Any], str, str, dict[str, str | None]]] = {
    # type: (stream, data, change, war-room text, state fields)
    "SeverityChanged": (
        f"incident-{INCIDENT_ID}",
        {"from_severity": "P2", "to_severity": "P1", "reason": "all regions", "changed_by": "a"},
        "severity",
        "Severity P2 -> P1: all regions",
        {"severity": "P1"},
    ),
    "StatusChanged": (
        f"incident-{INCIDENT_ID}",
        {"from_status": "investigating", "to_status": "identified", "note": "bad deploy"},
        "status",
        "Status investigating -> identified (bad deploy)",
        {"status": "identified"},
    ),
    "CommanderAssigned": (
        f"incident-{INCIDENT_ID}",
        {"commander": "alice", "previous_commander": None, "assigned_by": "bob"},
        "commander",
        "Incident commander: alice",
        {"commander": "alice"},
    ),
    "MitigationApplied": (
        f"incident-{INCIDENT_ID}",
        {"kind": "rollback", "description": "back to 1.4.1", "temporary": True},
        "mitigation",
        "Mitigation rollback (temporary): back to 1.4.1",
        {},
    ),
    "TimelineNoteAdded": (
        f"incident-{INCIDENT_ID}",
        {"text": "db-7 looks fine", "author": "carol"},
        "note",
        "Note from carol: db-7 looks fine",
        {},
    ),
    "IncidentResolved": (
        f"incident-{INCIDENT_ID}",
        {"summary": "rolled back", "resolved_by": "alice", "root_cause_pending": False},
        "resolved",
        "Resolved by alice: rolled back",
        {"status": "resolved"},
    ),
    "IncidentReopened": (
        f"incident-{INCIDENT_ID}",
        {"reason": "errors are back", "reopened_by": "alice"},
        "reopened",
        "Reopened: errors are back",
        {"status": "investigating"},
    ),
    "StepMarked": (
        f"rbincident-{INCIDENT_ID}",
        {
            "incident_id": INCIDENT_ID,
            "runbook_id": "checkout-5xx",
            "revision": 1,
            "step_id": "dashboard",
            "status": "done",
            "note": "5xx since deploy 1.4.2",
            "marked_by": "alice",
        },
        "runbook",
        "Runbook step checkout-5xx dashboard done by alice: 5xx since deploy 1.4.2",
        {},
    ),
    "ActionResultRecorded": (
        RUN_STREAM,
        {
            "run_id": "00000000-0000-4000-8000-00000000000a",
            "incident_id": INCIDENT_ID,
            "attempt": 1,
            "outcome": "failed",
            "status_code": 500,
            "duration_ms": 12,
            "error": "deploy API refused",
        },
        "runbook",
        "Runbook action checkout-5xx rollback failed (HTTP 500): deploy API refused",
        {},
    ),
}


def recorded(event_type: str, stream: str, data: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        id=uuid.uuid4(),
        stream=stream,
        version=0,
        position=1,
        type=event_type,
        schema_version=1,
        data=data,
        metadata=EventMetadata(actor="alice"),
        recorded_at=datetime.now(UTC),
        prev_hash="",
        hash="",
    )


def test_every_event_the_worker_listens_to_has_a_war_room_message() -> None:
    listened = {*EVENT_TYPES, *RUNBOOK_EVENT_TYPES} - {"IncidentDeclared"}
    assert set(WAR_ROOM_MESSAGES) == listened
    assert [b.event_types for b in QUEUE_BINDINGS] == [EVENT_TYPES, RUNBOOK_EVENT_TYPES]
    assert [b.source_service for b in QUEUE_BINDINGS] == ["incident", "runbooks"]


@pytest.mark.parametrize("event_type", sorted(WAR_ROOM_MESSAGES))
def test_each_incident_change_becomes_its_war_room_message(event_type: str) -> None:
    stream, data, change, text, fields = WAR_ROOM_MESSAGES[event_type]
    event = recorded(event_type, stream, data)
    assert describe(event) == (change, text, fields)
    assert str(incident_id_of(event)) == INCIDENT_ID


def test_a_runbook_step_and_an_actions_result_reach_the_war_room(
    tmp_path: Path, app: CommsApplication, clock: FakeClock
) -> None:
    from tests.unit.comms.conftest import declare

    declare(app)
    communicator = Communicator(app, NoCourier(), run_blocking=lambda f, *a: f(*a))  # type: ignore[arg-type]
    for event_type in ("StepMarked", "ActionResultRecorded"):
        stream, data, _, _, _ = WAR_ROOM_MESSAGES[event_type]
        event = recorded(event_type, stream, data)
        communicator.handle(event)
        communicator.handle(event)  # redelivered: nothing twice
    posts = [e.data for e in app.store.read_all() if e.type == "WarRoomPosted"]
    assert [(p["change"], p["text"]) for p in posts] == [
        ("runbook", "Runbook step checkout-5xx dashboard done by alice: 5xx since deploy 1.4.2"),
        ("runbook", "Runbook action checkout-5xx rollback failed (HTTP 500): deploy API refused"),
    ]
