"""Fixtures for the communications application: a real SQLite log and a fake clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from comms_service import room as rm
from comms_service.app import ChannelRouting, CommsApplication
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
"""A Friday, 10:00 UTC: inside business hours."""
INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000001")

ROUTING = ChannelRouting(
    war_room=(
        rm.DestinationSpec(
            channel_id="war", kind="slack", address="https://chat.example.com/hooks/war"
        ),
    ),
    stakeholder=(
        rm.DestinationSpec(channel_id="stake", kind="email", address="stakeholders@example.com"),
        rm.DestinationSpec(
            channel_id="execs", kind="webhook", address="https://hooks.example.com/execs"
        ),
    ),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SQLiteEventStore:
    return SQLiteEventStore(
        tmp_path / "log.db", writer="communications", ownership=Ownership.platform(), clock=clock
    )


@pytest.fixture
def app(store: SQLiteEventStore, clock: FakeClock) -> CommsApplication:
    return CommsApplication(
        store,
        clock,
        routing=ROUTING,
        contacts={"alice": "alice@example.com", "carol": "carol@example.com"},
    )


def declare(app: CommsApplication, severity: str = "P1", commander: str | None = "alice") -> None:
    app.track_incident(
        INCIDENT,
        number=1,
        title="Checkout returns 5xx",
        severity=severity,
        services=["checkout"],
        commander=commander,
        causation_id="declared-1",
    )
