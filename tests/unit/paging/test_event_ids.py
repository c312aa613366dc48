"""Paging event ids stay what they were before the kit (ADR 0013): timer firings and
follow-ups are uuid5 of "<stream>/<key>/<index>", and a delivery attempt's id, which
receivers see as its idempotency key, is uuid5 of "<stream>/attempt/<method>/<n>"."""

from __future__ import annotations

import uuid

from eventlog.sqlite import SQLiteEventStore
from paging_service.app import PagingApplication
from paging_service.common import ID_NAMESPACE

from .conftest import register

INCIDENT = uuid.UUID("00000000-0000-4000-8000-0000000000a1")


def test_derived_ids_follow_the_historic_formulas(
    app: PagingApplication, store: SQLiteEventStore
) -> None:
    register(app, "alice")
    app.create_policy("solo", "Solo", [{"targets": ["user:alice"], "delay_minutes": 5}])
    app.start_escalation(INCIDENT, "P1", "solo")
    [delivery] = app.tick()
    escalation = f"escalation-{INCIDENT}"
    started = store.read_stream(escalation)
    assert started[0].id == uuid.uuid5(ID_NAMESPACE, f"{escalation}/start/0")
    assert started[0].metadata.correlation_id == str(INCIDENT)
    page = f"page-{delivery.page_id}"
    attempt = uuid.uuid5(ID_NAMESPACE, f"{page}/attempt/email/1")
    assert delivery.attempt_event_id == attempt
    assert attempt in {e.id for e in store.read_stream(page)}
    assert store.read_stream(page)[0].id == uuid.uuid5(ID_NAMESPACE, f"{page}/paged/0")
    assert {e.metadata.correlation_id for e in store.read_stream(page)} == {str(INCIDENT)}
    assert store.read_stream("user-alice")[0].metadata.correlation_id is None
