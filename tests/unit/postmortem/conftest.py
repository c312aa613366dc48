"""Fixtures for the postmortem application: one SQLite log shared by the incident,
paging and postmortem writers (as in production: one logical log), and a fake clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eventlog import EventStore, FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from incident_service.app import IncidentApplication
from paging_service.app import PagingApplication
from postmortem_service.app import PostmortemApplication

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
"""A Monday, 10:00 in Berlin."""


@dataclass
class World:
    clock: FakeClock
    incidents: IncidentApplication
    paging: PagingApplication
    app: PostmortemApplication
    new_app: Callable[[], PostmortemApplication]

    def resolved_incident(
        self,
        severity: str = "P1",
        *,
        temporary: bool = True,
        services: tuple[str, ...] = ("checkout",),
    ) -> uuid.UUID:
        """Declare, assign alice as IC, mitigate, resolve; then open its postmortem as
        the worker would, from the IncidentResolved event."""
        declared = self.incidents.declare(
            title="Checkout 5xx", severity=severity, services=services, declared_by="bob"
        )
        incident_id = declared.incident_id
        run = self.incidents.execute
        run(incident_id, inc.AssignCommander, actor="bob", commander="alice", assigned_by="bob")
        self.clock.advance(timedelta(minutes=5))
        run(
            incident_id, inc.RecordMitigation, actor="alice", kind="rollback",
            description="rolled back release 42", temporary=temporary, applied_by="alice",
        )  # fmt: skip
        self.clock.advance(timedelta(minutes=10))
        run(
            incident_id,
            inc.Resolve,
            actor="alice",
            summary="error rate normal",
            resolved_by="alice",
        )
        resolved = self.incidents.store.read_stream(inc.stream_for(incident_id))[-1]
        self.app.incident_resolved(incident_id, causation_id=str(resolved.id))
        return incident_id


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def build_world(open_as: Callable[[str], EventStore], clock: FakeClock) -> World:
    """Users alice (Berlin), bob (UTC), carol (New York) with email, team checkout-team
    (alice, carol), and the three applications on one log."""
    paging = PagingApplication(open_as("paging"), clock)
    for user, zone in (("alice", "Europe/Berlin"), ("bob", "UTC"), ("carol", "America/New_York")):
        paging.register_user(
            user,
            f"{user.title()} Example",
            zone,
            contact_methods=[
                {"method_id": "email", "kind": "email", "address": f"{user}@example.com"}
            ],
        )
    paging.create_team("checkout-team", "Checkout", members=["alice", "carol"])
    return World(
        clock,
        IncidentApplication(open_as("incident"), clock),
        paging,
        PostmortemApplication(open_as("postmortem"), clock),
        lambda: PostmortemApplication(open_as("postmortem"), clock),
    )


@pytest.fixture
def world(tmp_path: Path, clock: FakeClock) -> World:
    path = tmp_path / "log.db"

    def open_as(writer: str) -> SQLiteEventStore:
        return SQLiteEventStore(path, writer=writer, ownership=Ownership.platform(), clock=clock)

    return build_world(open_as, clock)
