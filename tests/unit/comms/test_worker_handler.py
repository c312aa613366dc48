"""The worker's handler (no broker): incident events become war-room posts, even when a
change overtakes its incident's declaration (handlers run concurrently)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from comms_service.app import CommsApplication
from comms_service.worker import Communicator
from eventlog import FakeClock, NewEvent, Ownership, StreamState
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
