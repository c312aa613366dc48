"""Fixtures for the paging application: a real SQLite log in tmp_path and a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from paging_service.app import PagingApplication

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
"""A Friday; 11:00 in Berlin (business hours)."""
SECRET = b"s" * 32


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SQLiteEventStore:
    return SQLiteEventStore(
        tmp_path / "log.db", writer="paging", ownership=Ownership.platform(), clock=clock
    )


@pytest.fixture
def app(store: SQLiteEventStore, clock: FakeClock) -> PagingApplication:
    return PagingApplication(
        store, clock, ack_secret=SECRET, ack_url_base="https://firewatch.test/ack"
    )


def email(user: str) -> dict[str, str]:
    return {"method_id": "email", "kind": "email", "address": f"{user}@example.com"}


def register(app: PagingApplication, *users: str, time_zone: str = "Europe/Berlin") -> None:
    for user in users:
        app.register_user(user, user.title(), time_zone, contact_methods=[email(user)])
