"""Other services' work on the incident reads as sentences on the postmortem's
generated timeline: pages and acknowledgements (paging), runbook steps and actions
(runbooks), stakeholder updates (communications). The payloads are loaded through
each owner's event registry first, so they are the contracts' real shapes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from comms_service.registry import EVENTS as COMMS
from contracts.events import EventRegistry
from eventlog import EventMetadata, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore
from paging_service.registry import EVENTS as PAGING
from runbooks_service.registry import EVENTS as RUNBOOKS
from tests.unit.postmortem.conftest import World


def _append(
    world: World, writer: str, registry: EventRegistry, stream: str,
    incident_id: uuid.UUID, *events: tuple[str, dict[str, Any]],
) -> None:  # fmt: skip
    for name, data in events:
        registry.load(name, registry.types[name].schema_version, data)  # the real shape
    store = SQLiteEventStore(
        world.app.store.path,  # type: ignore[attr-defined]
        writer=writer,
        ownership=Ownership.platform(),
        clock=world.clock,
    )
    metadata = EventMetadata(correlation_id=str(incident_id))
    store.append(stream, [NewEvent(n, d, metadata=metadata) for n, d in events], StreamState.ANY)


def test_pages_acks_runbook_steps_and_stakeholder_updates_read_as_sentences(
    world: World,
) -> None:
    incident_id = world.resolved_incident("P1")
    t = world.clock() - timedelta(minutes=15)  # the declaration

    def at(minutes: int) -> str:
        return (t + timedelta(minutes=minutes)).isoformat()

    page_id = uuid.uuid4()
    _append(
        world, "paging", PAGING, f"page-{page_id}", incident_id,
        ("ResponderPaged", {
            "page_id": str(page_id), "incident_id": str(incident_id), "step": 1,
            "user_id": "carol", "title": "Checkout 5xx", "paged_at": at(1),
            "plan": [{"method_id": "email", "kind": "email", "address": "carol@example.com",
                      "after_minutes": 0}],
        }),
        ("PageAcknowledged", {"by": "carol", "via": "cli", "acknowledged_at": at(2)}),
    )  # fmt: skip
    run_id = uuid.uuid4()
    _append(
        world, "runbooks", RUNBOOKS, f"rbincident-{incident_id}", incident_id,
        ("StepMarked", {
            "incident_id": str(incident_id), "runbook_id": "checkout-5xx", "revision": 1,
            "step_id": "dashboard", "status": "done", "note": "5xx since the deploy",
            "marked_by": "carol", "marked_at": at(3),
        }),
    )  # fmt: skip
    _append(
        world, "runbooks", RUNBOOKS, "rbaction-checkout-5xx:rollback", incident_id,
        ("ActionRunRequested", {
            "run_id": str(run_id), "incident_id": str(incident_id),
            "runbook_id": "checkout-5xx", "revision": 1, "step_id": "rollback",
            "kind": "http", "target": "deployer",
            "request": {"method": "POST", "url": "https://deploy.example/rollback"},
            "idempotent": True, "needs_approval": False, "dry_run": False,
            "automatic": False, "requested_by": "carol", "requested_at": at(4),
        }),
        ("ActionAttempted", {
            "run_id": str(run_id), "incident_id": str(incident_id), "attempt": 1,
            "idempotency_key": "k1", "sender": "runbooks-0", "sender_instance": "i1",
            "deadline": at(5), "attempted_at": at(4),
        }),
        ("ActionResultRecorded", {
            "run_id": str(run_id), "incident_id": str(incident_id), "attempt": 1,
            "outcome": "succeeded", "status_code": 200, "duration_ms": 840,
            "recorded_at": at(4),
        }),
    )  # fmt: skip
    _append(
        world, "communications", COMMS, f"comms-{incident_id}", incident_id,
        ("StakeholderUpdatePosted", {
            "update_id": str(uuid.uuid4()), "audience": "internal", "status": "identified",
            "body": "Checkout errors since release 42;\n  rolling it back.", "template": "",
            "posted_by": "carol", "posted_at": at(6), "settled_promise": None,
            "promise_kept": None,
        }),
    )  # fmt: skip

    filled = world.app.prefill(incident_id)
    rows = {e.event_type: e for e in filled.entries}
    assert rows["ResponderPaged"].text == "Paged carol (step 1)"
    assert rows["PageAcknowledged"].text == "Page acknowledged by carol"
    assert rows["StepMarked"].text == (
        "Runbook checkout-5xx, step dashboard marked done: 5xx since the deploy"
    )
    assert rows["StepMarked"].at.isoformat() == at(3)  # marked_at, not when appended
    assert rows["ActionRunRequested"].text == (
        "Runbook action checkout-5xx, step rollback requested: POST https://deploy.example/rollback"
    )
    assert rows["ActionAttempted"].text == "Runbook action called (attempt 1)"
    assert rows["ActionResultRecorded"].text == "Runbook action succeeded: HTTP 200, 840 ms"
    assert rows["StakeholderUpdatePosted"].text == (
        "Stakeholder update (internal, identified): "
        "Checkout errors since release 42; rolling it back."
    )
    assert rows["StakeholderUpdatePosted"].at.isoformat() == at(6)
    assert "carol" in filled.responders
    assert filled.durations.time_to_acknowledge == timedelta(minutes=2)
    assert not [e.text for e in filled.entries if e.text == e.event_type]  # no bare type names
