"""SQLite harness: a fresh log file per test in pytest's tmp_path."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from eventlog import Clock, EventStore, Ownership
from eventlog.sqlite import SQLiteEventStore, _to_us
from tests.contract.eventlog.harness import BackendHarness, ForgedEvent


class SQLiteHarness(BackendHarness):
    name = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.path = directory / "eventlog.db"
        self._stores: list[EventStore] = []

    def open(self, *, writer: str | None, ownership: Ownership, clock: Clock) -> EventStore:
        store = SQLiteEventStore(self.path, writer=writer, ownership=ownership, clock=clock)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()

    def _sql(self, statement: str, *params: object) -> None:
        with sqlite3.connect(self.path, isolation_level=None) as connection:
            connection.execute(statement, params)

    def tamper_edit_data(self, stream: str, version: int, data: Mapping[str, Any]) -> None:
        self._sql(
            "UPDATE events SET data = ? WHERE stream = ? AND version = ?",
            json.dumps(data, sort_keys=True, separators=(",", ":")),
            stream,
            version,
        )

    def tamper_add_metadata_field(self, stream: str, version: int, key: str, value: str) -> None:
        self._sql(
            "UPDATE events SET metadata = json_set(metadata, '$.' || ?, ?) "
            "WHERE stream = ? AND version = ?",
            key,
            value,
            stream,
            version,
        )

    def tamper_delete(self, stream: str, version: int) -> None:
        self._sql("DELETE FROM events WHERE stream = ? AND version = ?", stream, version)

    def tamper_swap_versions(self, stream: str, first: int, second: int) -> None:
        with sqlite3.connect(self.path, isolation_level=None) as connection:
            connection.execute("BEGIN")
            connection.execute(
                "UPDATE events SET version = -1 WHERE stream = ? AND version = ?", (stream, first)
            )
            connection.execute(
                "UPDATE events SET version = ? WHERE stream = ? AND version = ?",
                (first, stream, second),
            )
            connection.execute(
                "UPDATE events SET version = ? WHERE stream = ? AND version = -1", (second, stream)
            )
            connection.execute("COMMIT")

    def tamper_insert(self, stream: str, version: int, forged: ForgedEvent) -> None:
        with sqlite3.connect(self.path, isolation_level=None) as connection:
            connection.execute("BEGIN")
            # Shift in two steps so the (stream, version) unique index never collides.
            connection.execute(
                "UPDATE events SET version = -version - 1000000 WHERE stream = ? AND version >= ?",
                (stream, version),
            )
            connection.execute(
                "UPDATE events SET version = -version - 1000000 + 1 "
                "WHERE stream = ? AND version < 0",
                (stream,),
            )
            connection.execute(
                "INSERT INTO events (event_id, stream, category, version, type, schema_version, "
                "data, metadata, recorded_at_us, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    forged.id,
                    stream,
                    stream.split("-", 1)[0],
                    version,
                    forged.type,
                    forged.schema_version,
                    forged.data_json,
                    forged.metadata_json,
                    _to_us(forged.recorded_at),
                    forged.prev_hash,
                    forged.hash,
                ),
            )
            connection.execute("COMMIT")


HARNESSES = [pytest.param(SQLiteHarness, id="sqlite")]
