"""The SQLite append path remembers stream heads and the log's last recorded time between
commits (docs/adr/0032). These tests prove it never trusts them once anyone else has
committed to the file: another handle, another process's connection, a tamperer's
sqlite3 shell. They also pin the lone append's path without a savepoint: a refused or
partly repeated batch writes nothing.

Real SQLite files; the "other writer" is a second handle or a plain sqlite3 connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eventlog import (
    ConcurrencyError,
    DuplicateEventIdError,
    NewEvent,
    Ownership,
    StreamState,
)
from eventlog.clock import FakeClock
from eventlog.sqlite import HEAD_CACHE_MAX, SQLiteEventStore

OWNERSHIP = Ownership({"writer": {"acct"}})


def event(n: int) -> NewEvent:
    return NewEvent("Deposited", {"n": n})


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "log.db"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteEventStore]:
    opened = SQLiteEventStore(path, writer="writer", ownership=OWNERSHIP)
    yield opened
    opened.close()


def test_appends_from_another_handle_are_seen_by_the_next_append(
    path: Path, store: SQLiteEventStore
) -> None:
    other = SQLiteEventStore(path, writer="writer", ownership=OWNERSHIP)
    try:
        store.append("acct-1", [event(0)], StreamState.NO_STREAM)
        store.append("acct-1", [event(1)], 0)  # acct-1 is now remembered at version 1
        other.append("acct-1", [event(2)], 1)
        with pytest.raises(ConcurrencyError):
            store.append("acct-1", [event(3)], 1)  # the remembered head would allow it
        result = store.append("acct-1", [event(3)], 2)
        assert result.versions == (3,)
        other.append("acct-1", [event(4)], 3)
        store.append("acct-1", [event(5)], 4)
    finally:
        other.close()
    assert [e.data["n"] for e in store.read_stream("acct-1")] == [0, 1, 2, 3, 4, 5]
    report = store.verify_all()
    assert report.ok, report.findings


def test_a_head_rewritten_behind_the_stores_back_is_read_again(
    path: Path, store: SQLiteEventStore
) -> None:
    store.append("acct-1", [event(0)], StreamState.NO_STREAM)
    store.append("acct-1", [event(1)], 0)
    first = store.read_stream("acct-1")[0]
    # A tamperer removes the last event and makes the head agree, in its own connection.
    with closing(sqlite3.connect(path, isolation_level=None)) as tamperer:
        tamperer.execute("DELETE FROM events WHERE stream = 'acct-1' AND version = 1")
        tamperer.execute(
            "UPDATE streams SET version = 0, last_hash = ? WHERE stream = 'acct-1'",
            (first.hash,),
        )
    # The store remembered version 1; the file now says 0, and the file wins.
    with pytest.raises(ConcurrencyError):
        store.append("acct-1", [event(2)], 1)
    result = store.append("acct-1", [event(2)], 0)
    assert result.versions == (1,)
    assert store.read_stream("acct-1")[1].prev_hash == first.hash


def test_recorded_time_follows_a_later_time_written_by_another_handle(path: Path) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    behind = SQLiteEventStore(path, writer="writer", ownership=OWNERSHIP, clock=FakeClock(start))
    ahead = SQLiteEventStore(
        path, writer="writer", ownership=OWNERSHIP, clock=FakeClock(start + timedelta(hours=1))
    )
    try:
        behind.append("acct-1", [event(0)], StreamState.NO_STREAM)  # remembers `start`
        ahead.append("acct-2", [event(1)], StreamState.NO_STREAM)
        behind.append("acct-1", [event(2)], 0)
    finally:
        behind.close()
        ahead.close()
    reader = SQLiteEventStore(path, ownership=Ownership({}))
    try:
        times = [e.recorded_at for e in reader.read_all()]
    finally:
        reader.close()
    assert times == [start, start + timedelta(hours=1), start + timedelta(hours=1)]


def test_a_refused_lone_append_leaves_nothing_behind(store: SQLiteEventStore) -> None:
    store.append("acct-1", [event(0)], StreamState.NO_STREAM)
    with pytest.raises(ConcurrencyError):
        store.append("acct-1", [event(1)], 5)
    assert store.append("acct-1", [event(1)], 0).versions == (1,)
    assert store.head_position() == 2


def test_a_lone_batch_whose_second_event_repeats_a_stored_id_writes_nothing(
    store: SQLiteEventStore,
) -> None:
    # Without a savepoint the first row is inserted before the second violates the
    # unique id; the whole transaction must be rolled back, not committed.
    repeated = event(0)
    store.append("acct-1", [repeated], StreamState.NO_STREAM)
    with pytest.raises(DuplicateEventIdError):
        store.append("acct-2", [event(1), repeated], StreamState.ANY)
    assert store.read_stream("acct-2") == []
    assert store.head_position() == 1
    # The remembered head of acct-1 was not disturbed by the rolled-back attempt.
    assert store.append("acct-1", [event(2)], 0).versions == (1,)


def test_the_remembered_heads_are_bounded(
    store: SQLiteEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventlog import sqlite as sqlite_backend

    monkeypatch.setattr(sqlite_backend, "HEAD_CACHE_MAX", 3)
    for index in range(5):
        store.append(f"acct-{index}", [event(index)], StreamState.NO_STREAM)
    assert list(store._head_cache) == ["acct-2", "acct-3", "acct-4"]
    # A forgotten head is read from the file again.
    assert store.append("acct-0", [event(9)], 0).versions == (1,)
    assert HEAD_CACHE_MAX >= 1000


# ---------------------------------------------------------------------- positions (ADR 0033)


def test_a_new_log_numbers_positions_without_a_sequence_table(
    path: Path, store: SQLiteEventStore
) -> None:
    positions = [
        store.append(f"acct-{n}", [event(n)], StreamState.NO_STREAM).positions[0] for n in range(5)
    ]
    positions += store.append("acct-0", [event(5), event(6)], 0).positions
    assert positions == list(range(positions[0], positions[0] + 7))
    assert [e.position for e in store.read_all()][-7:] == positions
    with closing(sqlite3.connect(path)) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    # AUTOINCREMENT would keep its counter here and write it in every commit.
    assert "sqlite_sequence" not in tables


def test_a_log_created_with_autoincrement_keeps_numbering_after_its_sequence(
    path: Path,
) -> None:
    # The schema of a log created before ADR 0033: the same table with AUTOINCREMENT,
    # whose counter has moved past rows that a rolled-back writer never committed.
    from eventlog.sqlite import SCHEMA

    old_schema = SCHEMA.replace("INTEGER PRIMARY KEY,", "INTEGER PRIMARY KEY AUTOINCREMENT,", 1)
    assert old_schema != SCHEMA
    with closing(sqlite3.connect(path)) as raw:
        raw.executescript(old_schema)
        raw.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', 41)")
        raw.commit()
    opened = SQLiteEventStore(path, writer="writer", ownership=OWNERSHIP)
    try:
        first = opened.append("acct-1", [event(0)], StreamState.NO_STREAM).positions[0]
        second = opened.append("acct-1", [event(1), event(2)], 0).positions
        assert first > 41
        assert second == (first + 1, first + 2)
        assert [e.version for e in opened.read_stream("acct-1")] == [0, 1, 2]
    finally:
        opened.close()
    with closing(sqlite3.connect(path)) as raw:
        [[seq]] = raw.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
    assert seq == second[-1]
