"""Fixtures for the runbooks application: one SQLite log shared by the incident and
runbooks writers (as in production: one logical log), and a fake clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from incident_service.app import IncidentApplication
from runbooks_service.app import RunbooksApplication

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def rollback_runbook(**step: Any) -> dict[str, Any]:
    """A checkout runbook: a manual check, then an automatic HTTP rollback."""
    action_step: dict[str, Any] = {
        "id": "rollback",
        "title": "Roll back the last deploy",
        "kind": "http",
        "automatic": True,
        "idempotent": True,
        "action": {
            "method": "POST",
            "url": "http://127.0.0.1:9/rollback/{{ target }}",
            "headers": {"Content-Type": "application/json"},
            "body": '{"incident": "{{ incident.reference }}", "service": "{{ target }}"}',
        },
        **step,
    }
    return {
        "id": "checkout-5xx",
        "title": "Checkout 5xx",
        "text": "# Checkout errors\nLook at the dashboard first.",
        "services": ["checkout"],
        "steps": [
            {"id": "dashboard", "title": "Open the checkout dashboard"},
            action_step,
        ],
    }


@dataclass
class World:
    clock: FakeClock
    incidents: IncidentApplication
    app: RunbooksApplication
    new_app: Callable[..., RunbooksApplication]

    def declare(self, severity: str = "P1", services: tuple[str, ...] = ("checkout",)) -> uuid.UUID:
        """Declare an incident and react to it as the worker would."""
        declared = self.incidents.declare(
            title="Checkout 5xx", severity=severity, services=list(services), declared_by="bob"
        )
        event = self.incidents.store.read_stream(inc.stream_for(declared.incident_id))[0]
        self.app.incident_declared(declared.incident_id, causation_id=str(event.id))
        return declared.incident_id

    def commander(self, incident_id: uuid.UUID, who: str) -> None:
        self.incidents.execute(
            incident_id, inc.AssignCommander, actor="bob", commander=who, assigned_by="bob"
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def world(tmp_path: Path, clock: FakeClock) -> World:
    path = tmp_path / "log.db"

    def open_as(writer: str) -> SQLiteEventStore:
        return SQLiteEventStore(path, writer=writer, ownership=Ownership.platform(), clock=clock)

    def new_app(**kwargs: Any) -> RunbooksApplication:
        return RunbooksApplication(open_as("runbooks"), clock, **kwargs)

    return World(clock, IncidentApplication(open_as("incident"), clock), new_app(), new_app)
