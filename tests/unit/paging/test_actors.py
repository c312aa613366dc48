"""Every event the paging application records names a stable, meaningful actor: the
worker's own slot for what its scheduler does (`paging-worker:<slot>`), never a value
that changes per process (issue 18). A restarted worker of the same slot is the same
actor, so an audit trail can say which worker paged someone."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from paging_service.app import PagingApplication

from .conftest import SECRET, register

INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000018")


def worker(store: SQLiteEventStore, clock: FakeClock) -> PagingApplication:
    """A worker process of slot `pager-1`: a fresh instance id each time, as in life."""
    app = PagingApplication(
        store, clock, ack_secret=SECRET, ack_url_base="https://firewatch.test/ack", sender="pager-1"
    )
    app.start_sender()
    return app


def test_the_schedulers_events_name_the_worker_slot_across_restarts(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    first = worker(store, clock)
    register(first, "alice", "bob")
    first.create_policy(
        "checkout",
        "Checkout",
        [{"targets": ["user:alice"], "delay_minutes": 5}, {"targets": ["user:bob"]}],
    )
    head = store.head_position()
    first.start_escalation(INCIDENT, "P1", "checkout", title="checkout 5xx")
    for delivery in first.tick():
        first.record_delivery_outcome(
            delivery.page_id, delivery.method_id, delivery.attempt, delivered=False,
            reason="550 no such mailbox", permanent=True,
        )  # fmt: skip
    first.tick()
    # The worker restarts (a new process instance of the same slot) and pages level 2.
    clock.set(clock() + timedelta(minutes=6))
    second = worker(store, clock)
    assert second.instance != first.instance
    second.tick()

    written = list(store.read_all(from_position=head + 1))
    actors = {event.metadata.actor for event in written}
    assert "paging-worker:pager-1" in actors
    assert actors <= {"paging", "paging-worker:pager-1"}, actors
    by_scheduler = {e.type for e in written if e.metadata.actor == "paging-worker:pager-1"}
    assert {
        "EscalationStepFired",
        "ResponderPaged",
        "PageDeliveryAttempted",
        "PageFailed",
        "SenderStarted",
        "PageDeliveryUnconfirmed",
    } <= by_scheduler
    # What the worker does for an incident event it handles names the service.
    assert {e.metadata.actor for e in written if e.type == "EscalationStarted"} == {"paging"}
    for actor in actors:
        assert not re.search(r"[0-9a-f]{8}", actor or ""), actor
