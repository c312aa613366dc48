"""The stored rows `verify_all` checks (`EventStore._stored_rows`, docs/adr/0030), on the
real SQLite file and PostgreSQL server: every event once, in commit order, exactly as
`read_all` reads it; and a pass abandoned half way gives its connection back (the next
read does not wait for it, even with a one-connection PostgreSQL pool)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventlog import (
    EventMetadata,
    EventStore,
    NewEvent,
    Ownership,
    RecordedEvent,
    StreamState,
    system_clock,
)
from eventlog.port import READ_BATCH
from eventlog.sqlite import SQLiteEventStore
from tests.contract.eventlog.harness_postgres import PostgresHarness

_OWNERS = Ownership({"w": {"s"}})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "sqlite":
        log: EventStore = SQLiteEventStore(tmp_path / "log.db", writer="w", ownership=_OWNERS)
        try:
            yield log
        finally:
            log.close()
        return
    harness = PostgresHarness()
    try:
        log = harness.open(writer="w", ownership=_OWNERS, clock=system_clock, pool_size=1)
        try:
            yield log
        finally:
            log.close()
    finally:
        harness.close()


def _fill(store: EventStore, count: int) -> None:
    # More than a page, in three streams, with metadata, in batches that interleave.
    streams = ["s-a", "s-b", "s-c:1@x"]
    for start in range(0, count, 300):
        for index, stream in enumerate(streams):
            batch = [
                NewEvent(
                    "Noted",
                    {"n": n, "text": f"é {n}"},
                    metadata=EventMetadata(correlation_id=f"c{index}", actor="alice"),
                )
                for n in range(start, min(count, start + 300))
            ]
            store.append(stream, batch, start - 1 if start else StreamState.NO_STREAM)


def _as_row(event: RecordedEvent) -> tuple[Any, ...]:
    return (
        event.position,
        str(event.id),
        event.stream,
        event.version,
        event.type,
        event.schema_version,
        event.data_json,
        event._metadata_json,
        event._recorded_at_us,
        event.prev_hash,
        event.hash,
    )


def test_every_event_once_in_commit_order_as_read_all_reads_it(store: EventStore) -> None:
    _fill(store, READ_BATCH // 2 + 1)  # three streams: more than one page in all
    rows = store._stored_rows()
    assert rows is not None
    stored = [(row[0], str(row[1]), *row[2:]) for row in rows]
    assert len(stored) > READ_BATCH
    assert stored == [_as_row(event) for event in store.read_all()]
    assert store.verify_all().ok


def test_an_abandoned_pass_gives_its_connection_back(store: EventStore) -> None:
    _fill(store, READ_BATCH)
    rows = store._stored_rows()
    assert rows is not None
    iterator = iter(rows)
    first = [next(iterator) for _ in range(10)]
    assert [row[0] for row in first] == sorted(row[0] for row in first)
    getattr(rows, "close")()  # noqa: B009 - what verify_all calls when a row raises
    # With a one-connection pool a connection still held would make this time out.
    assert store.read_stream("s-a", limit=1)[0].version == 0
    assert store.verify_all().ok
