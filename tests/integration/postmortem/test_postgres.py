"""The postmortem application on PostgreSQL: the same flow as on SQLite (open on
resolution, root cause, action item, reminders exactly once, publish, metrics)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

from eventlog import EventStore, FakeClock, Ownership
from eventlog.postgres import PostgresEventStore
from postmortem_service import metrics
from tests.conftest import PG_URL
from tests.unit.postmortem.conftest import T0, World, build_world

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_world() -> Iterator[World]:
    schema = f"t_pm_{uuid.uuid4().hex[:10]}"
    clock = FakeClock(T0)
    opened: list[EventStore] = []

    def open_as(writer: str) -> EventStore:
        store = PostgresEventStore(
            PG_URL, writer=writer, ownership=Ownership.platform(), clock=clock, schema=schema
        )
        opened.append(store)
        return store

    try:
        yield build_world(open_as, clock)
    finally:
        for store in opened:
            store.close()
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_the_postmortem_flow_on_postgresql(pg_world: World) -> None:
    world = pg_world
    incident_id = world.resolved_incident("P1")
    assert world.app.get_postmortem(incident_id).owner == "alice"
    world.app.record_root_cause(incident_id, "The pool limit was below the worker count.", by="bob")
    item = world.app.add_action_item(
        incident_id, kind="technical", title="Raise the pool limit", owner="alice",
        due_on="2026-12-07", by="bob",
    ).state  # fmt: skip
    assert item.due_at is not None
    world.clock.advance(item.due_at - world.clock())
    (due,) = world.app.tick()
    assert due.slot == "due"
    assert world.new_app().tick() == []  # a second process finds nothing left to send
    world.app.publish(incident_id, by="alice")
    assert world.app.get_postmortem(incident_id).published
    figures = metrics.compute(world.app.store.read_all(filter=metrics.FILTER), world.clock())
    assert figures.summaries["MTTR"].mean_seconds == 15 * 60
    assert world.app.prefill(incident_id).durations.time_to_mitigate == timedelta(minutes=5)
