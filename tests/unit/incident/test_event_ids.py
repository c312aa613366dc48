"""Incident event ids stay what they were before the kit (ADR 0013): a retried client
command or a redelivered alert-group event after an upgrade must derive the same ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain
from incident_service.app import ID_NAMESPACE, IncidentApplication

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_keyed_events_are_uuid5_of_incident_id_key_and_index(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="incident", ownership=Ownership.platform(), clock=clock
    )
    app = IncidentApplication(store, clock)
    declared = app.declare(
        title="t", severity="P1", services=["web"], declared_by="x", idempotency_key="group-1"
    )
    incident = declared.incident_id
    assert incident == uuid.uuid5(ID_NAMESPACE, "declare/group-1")
    app.execute(
        incident, domain.Resolve, actor="c", idempotency_key="r1", summary="s", resolved_by="c"
    )
    ids = [e.id for e in store.read_stream(domain.stream_for(incident))]
    assert ids == [
        uuid.uuid5(ID_NAMESPACE, f"{incident}/group-1/0"),
        uuid.uuid5(ID_NAMESPACE, f"{incident}/r1/0"),
        uuid.uuid5(ID_NAMESPACE, f"{incident}/r1/1"),  # RootCauseFollowUpRequired
    ]
    number = store.read_stream("incidentnumber-all")[0]
    assert number.id == uuid.uuid5(ID_NAMESPACE, f"number/{incident}")
    store.close()
