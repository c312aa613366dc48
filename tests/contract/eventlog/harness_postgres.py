"""PostgreSQL harness: a fresh, uniquely named schema per test on the shared server.

The server is a hard requirement wherever these tests run (CI starts it), so an
unreachable server fails the tests with a clear message instead of skipping them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from eventlog import Clock, EventStore, Ownership
from eventlog.postgres import PostgresEventStore, _to_us
from tests.conftest import PG_URL
from tests.contract.eventlog.harness import BackendHarness, ForgedEvent


def connect_or_fail(url: str = PG_URL) -> psycopg.Connection[Any]:
    """An autocommit connection, or a failed test that says how to get the server."""
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        problem = str(exc).strip()
    # Outside the except block, so the report shows one clear message, not a chain.
    pytest.fail(
        f"PostgreSQL is not reachable at {url}: {problem}\nThese tests need it: start it "
        "with `make services`, or point FIREWATCH_TEST_PG_URL at a server.",
        pytrace=False,
    )


class PostgresHarness(BackendHarness):
    name = "postgres"

    def __init__(self, directory: Path | None = None, url: str = PG_URL) -> None:
        self.url = url
        self.schema = f"fw_test_{uuid.uuid4().hex[:16]}"
        self._admin = connect_or_fail(url)
        self._stores: list[EventStore] = []

    def open(
        self, *, writer: str | None, ownership: Ownership, clock: Clock, **options: Any
    ) -> PostgresEventStore:
        store = PostgresEventStore(
            self.url,
            writer=writer,
            ownership=ownership,
            clock=clock,
            schema=self.schema,
            pool_size=options.pop("pool_size", 4),
            **options,
        )
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()
        self._stores.clear()
        try:
            self._admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )
        finally:
            self._admin.close()

    def _sql(self, statement: str, *params: object) -> None:
        self._admin.execute(self._qualify(statement), params)

    def _qualify(self, statement: str) -> sql.Composed:
        return sql.SQL(statement).format(events=sql.Identifier(self.schema, "events"))

    def tamper_edit_data(self, stream: str, version: int, data: Mapping[str, Any]) -> None:
        self._sql(
            "UPDATE {events} SET data = %s WHERE stream = %s AND version = %s",
            json.dumps(data, sort_keys=True, separators=(",", ":")),
            stream,
            version,
        )

    def tamper_add_metadata_field(self, stream: str, version: int, key: str, value: str) -> None:
        self._sql(
            "UPDATE {events} SET metadata = (metadata::jsonb || jsonb_build_object(%s::text, "
            "%s::text))::text WHERE stream = %s AND version = %s",
            key,
            value,
            stream,
            version,
        )

    def tamper_delete(self, stream: str, version: int) -> None:
        self._sql("DELETE FROM {events} WHERE stream = %s AND version = %s", stream, version)

    def tamper_swap_versions(self, stream: str, first: int, second: int) -> None:
        with self._admin.transaction():
            self._sql(
                "UPDATE {events} SET version = -1 WHERE stream = %s AND version = %s",
                stream,
                first,
            )
            self._sql(
                "UPDATE {events} SET version = %s WHERE stream = %s AND version = %s",
                first,
                stream,
                second,
            )
            self._sql(
                "UPDATE {events} SET version = %s WHERE stream = %s AND version = -1",
                second,
                stream,
            )

    def tamper_insert(self, stream: str, version: int, forged: ForgedEvent) -> None:
        with self._admin.transaction():
            # Shift in two steps so the (stream, version) unique index never collides.
            self._sql(
                "UPDATE {events} SET version = -version - 1000000 "
                "WHERE stream = %s AND version >= %s",
                stream,
                version,
            )
            self._sql(
                "UPDATE {events} SET version = -version - 1000000 + 1 "
                "WHERE stream = %s AND version < 0",
                stream,
            )
            # The forged row takes the next position, as a forger using plain INSERT would.
            self._sql(
                "INSERT INTO {events} (event_id, stream, category, version, type, "
                "schema_version, data, metadata, recorded_at_us, prev_hash, hash) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
            )


HARNESSES = [pytest.param(PostgresHarness, id="postgres", marks=pytest.mark.postgres)]
