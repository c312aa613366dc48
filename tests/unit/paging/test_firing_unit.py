"""Firing a step, creating its pages and recording the attempts due at once commit in
ONE transaction (ADR 0028), without changing who sends what: a failed commit leaves
none of it, a recovered worker pages once, and a racing scheduler whose identical
unit commits second (idempotently) is handed nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from eventlog import BackendUnavailableError, FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from paging_service.app import PagingApplication

from .conftest import register

INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000028")


@pytest.fixture
def two_responders(app: PagingApplication) -> PagingApplication:
    register(app, "alice", "bob")
    app.create_policy("p", "P", [{"targets": ["user:alice", "user:bob"], "delay_minutes": 5}])
    return app


def types(store: SQLiteEventStore, category: str) -> list[str]:
    return [e.type for e in store.read_all() if e.stream.startswith(f"{category}-")]


def test_a_firing_its_pages_and_their_first_attempts_are_one_commit(
    two_responders: PagingApplication, store: SQLiteEventStore
) -> None:
    two_responders.start_escalation(INCIDENT, "P1", "p")
    before = store.commit_groups
    deliveries = two_responders.tick()
    assert sorted(d.user_id for d in deliveries) == ["alice", "bob"]
    assert store.commit_groups - before == 1
    assert types(store, "page").count("PageDeliveryAttempted") == 2
    assert two_responders.tick() == []


def test_a_failed_commit_leaves_nothing_and_the_next_worker_pages_once(
    two_responders: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    two_responders.start_escalation(INCIDENT, "P1", "p")
    original = store.append_many

    def dies(appends: Sequence[Any]) -> Any:
        raise BackendUnavailableError("the disk went away mid-commit")

    store.append_many = dies  # type: ignore[method-assign]
    with pytest.raises(BackendUnavailableError):
        two_responders.tick()
    store.append_many = original  # type: ignore[method-assign]
    assert "EscalationStepFired" not in types(store, "escalation")
    assert types(store, "page") == []

    recovered = PagingApplication(store, clock)
    deliveries = recovered.tick()
    assert sorted((d.user_id, d.attempt, d.possible_repeat) for d in deliveries) == [
        ("alice", 1, False),
        ("bob", 1, False),
    ]
    assert recovered.tick() == []
    assert types(store, "page").count("PageDeliveryAttempted") == 2


def test_a_racing_scheduler_whose_identical_unit_commits_second_gets_no_delivery(
    two_responders: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    two_responders.start_escalation(INCIDENT, "P1", "p")
    # Another process on the same log: its own handle, its own sender instance.
    other_store = SQLiteEventStore(
        store.path, writer="paging", ownership=Ownership.platform(), clock=clock
    )
    other = PagingApplication(other_store, clock)
    original = other_store.append_many
    first: list[Any] = []

    def after_the_first(appends: Sequence[Any]) -> Any:
        # `other` has decided its whole unit; the first scheduler commits the same
        # ids before it does.
        first.extend(two_responders.tick())
        return original(appends)

    other_store.append_many = after_the_first  # type: ignore[method-assign]
    second = other.tick()
    assert sorted(d.user_id for d in first) == ["alice", "bob"]
    assert second == []
    assert types(store, "page").count("PageDeliveryAttempted") == 2
    assert types(store, "escalation").count("EscalationStepFired") == 1
    other_store.close()


def test_a_declared_incident_starts_and_fires_its_first_step_in_one_commit(
    two_responders: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    before = store.commit_groups
    deliveries = two_responders.start_escalation_and_fire(INCIDENT, "P1", "p")
    assert sorted(d.user_id for d in deliveries) == ["alice", "bob"]
    assert store.commit_groups - before == 1
    assert types(store, "escalation")[:2] == ["EscalationStarted", "EscalationStepScheduled"]
    assert "EscalationStepFired" in types(store, "escalation")
    # A redelivered IncidentDeclared changes nothing and hands nothing out again.
    assert two_responders.start_escalation_and_fire(INCIDENT, "P1", "p") == []
    assert two_responders.tick() == []
    assert store.commit_groups - before == 1


def test_a_start_whose_commit_fails_leaves_nothing_and_its_retry_pages_once(
    two_responders: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    original = store.append_many

    def dies(appends: Sequence[Any]) -> Any:
        raise BackendUnavailableError("the disk went away mid-commit")

    store.append_many = dies  # type: ignore[method-assign]
    with pytest.raises(BackendUnavailableError):
        two_responders.start_escalation_and_fire(INCIDENT, "P1", "p")
    store.append_many = original  # type: ignore[method-assign]
    assert types(store, "escalation") == []
    # The broker redelivers the declaration to the next worker.
    recovered = PagingApplication(store, clock)
    deliveries = recovered.start_escalation_and_fire(INCIDENT, "P1", "p")
    assert sorted((d.user_id, d.attempt, d.possible_repeat) for d in deliveries) == [
        ("alice", 1, False),
        ("bob", 1, False),
    ]
    assert recovered.tick() == []
