"""A real log (SQLite file or PostgreSQL schema) that tests can tamper with directly.

`tampered_log` gives a store per writer on one log plus raw SQL on its tables, as a
database administrator would have. Tables are named {events} and {streams}; `?` is the
placeholder on both backends.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from audit_service.app import AuditApplication
from audit_service.keys import SigningKey, generate_key
from eventlog import EventStore, FakeClock, NewEvent, Ownership, StreamState
from eventlog.chain import event_hash
from eventlog.model import GENESIS_HASH
from eventlog.postgres import PostgresEventStore
from eventlog.sqlite import SQLiteEventStore
from eventlog.validation import encode_json
from tests.conftest import PG_URL
from tests.contract.eventlog.harness_postgres import connect_or_fail


@dataclass
class TamperableLog:
    backend: str
    clock: FakeClock
    tmp: Path
    schema: str = ""
    stores: list[EventStore] = field(default_factory=list)
    _admin: Any = None

    def open(self, writer: str | None) -> EventStore:
        ownership = Ownership.platform()
        if self.backend == "sqlite":
            store: EventStore = SQLiteEventStore(
                self.tmp / "eventlog.db", writer=writer, ownership=ownership, clock=self.clock
            )
        else:
            store = PostgresEventStore(
                PG_URL, writer=writer, ownership=ownership, clock=self.clock, schema=self.schema
            )
        self.stores.append(store)
        return store

    @property
    def url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / 'eventlog.db'}"
        return f"{PG_URL}?schema={self.schema}"

    def execute(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            text = statement.format(events="events", streams="streams")
            with sqlite3.connect(self.tmp / "eventlog.db", isolation_level=None) as connection:
                return connection.execute(text, params).fetchall()
        text = statement.replace("?", "%s")
        query = sql.SQL(text).format(
            events=sql.Identifier(self.schema, "events"),
            streams=sql.Identifier(self.schema, "streams"),
        )
        cursor = self._admin.execute(query, params)
        return cursor.fetchall() if cursor.description else []

    # ------------------------------------------------------------ a forger's tools

    def rewrite_consistently(self, stream: str, version: int, data: dict[str, Any]) -> None:
        """Edit one event's data and recompute its hash, every later hash in the stream
        and the stream head: the chain alone can no longer tell."""
        rows = self.execute(
            "SELECT event_id, type, schema_version, data, recorded_at_us, version, position "
            "FROM {events} WHERE stream = ? ORDER BY version",
            stream,
        )
        reader = self.open(None)
        events = {e.version: e for e in reader.read_stream(stream)}
        prev = GENESIS_HASH
        for row in rows:
            event = events[row[5]]
            data_json = encode_json(data, "data") if row[5] == version else str(row[3])
            if row[5] < version:
                prev = event.hash
                continue
            new_hash = event_hash(
                event_id=str(event.id),
                stream=stream,
                event_type=event.type,
                schema_version=event.schema_version,
                data_json=data_json,
                metadata=event.metadata,
                recorded_at=event.recorded_at,
                prev_hash=prev,
            )
            self.execute(
                "UPDATE {events} SET data = ?, prev_hash = ?, hash = ? WHERE position = ?",
                data_json,
                prev,
                new_hash,
                row[6],
            )
            prev = new_hash
        self.execute("UPDATE {streams} SET last_hash = ? WHERE stream = ?", prev, stream)

    def insert_forged(self, stream: str, version: int, data: dict[str, Any]) -> str:
        """Slip a forged event in at `version`, validly hashed and chained to its new
        predecessor, shifting that version and later ones up by one; returns its id."""
        reader = self.open(None)
        before = reader.read_stream(stream)[version - 1]
        forged_id = str(uuid.uuid4())
        data_json = encode_json(data, "data")
        forged_hash = event_hash(
            event_id=forged_id,
            stream=stream,
            event_type="IncidentNoteAdded",
            schema_version=1,
            data_json=data_json,
            metadata=before.metadata.__class__(),
            recorded_at=before.recorded_at,
            prev_hash=before.hash,
        )
        self.execute(
            "UPDATE {events} SET version = -version - 1000 WHERE stream = ? AND version >= ?",
            stream,
            version,
        )
        self.execute(
            "UPDATE {events} SET version = -version - 1000 + 1 WHERE stream = ? AND version < 0",
            stream,
        )
        self.execute(
            "INSERT INTO {events} (event_id, stream, category, version, type, schema_version, "
            "data, metadata, recorded_at_us, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            forged_id,
            stream,
            stream.split("-", 1)[0],
            version,
            "IncidentNoteAdded",
            1,
            data_json,
            "{}",
            before._recorded_at_us if before._recorded_at_us else 0,
            before.hash,
            forged_hash,
        )
        return forged_id

    def truncate_tail(self, count: int) -> None:
        """Delete the log's last `count` events and fix up every stream head to match."""
        doomed = self.execute(
            "SELECT position, stream FROM {events} ORDER BY position DESC LIMIT ?", count
        )
        for position, _ in doomed:
            self.execute("DELETE FROM {events} WHERE position = ?", position)
        for stream in {s for _, s in doomed}:
            last = self.execute(
                "SELECT version, hash FROM {events} WHERE stream = ? ORDER BY version DESC LIMIT 1",
                stream,
            )
            if last:
                self.execute(
                    "UPDATE {streams} SET version = ?, last_hash = ? WHERE stream = ?",
                    last[0][0],
                    last[0][1],
                    stream,
                )
            else:
                self.execute("DELETE FROM {streams} WHERE stream = ?", stream)

    def close(self) -> None:
        for store in self.stores:
            store.close()
        if self._admin is not None:
            self._admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )
            self._admin.close()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def tampered_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TamperableLog]:
    log = TamperableLog(request.param, FakeClock(), tmp_path)
    if request.param == "postgres":
        log.schema = f"fw_audit_{uuid.uuid4().hex[:12]}"
        log._admin = connect_or_fail()
    try:
        log.open(None).head_position()  # creates the schema
        yield log
    finally:
        log.close()


@pytest.fixture
def signing_key(tmp_path: Path) -> SigningKey:
    return generate_key(tmp_path / "keys" / "seal.pem")


@pytest.fixture
def audit_app(tampered_log: TamperableLog, signing_key: SigningKey) -> AuditApplication:
    return AuditApplication(
        tampered_log.open("audit"),
        tampered_log.clock,
        key=signing_key,
        seal_file=tampered_log.tmp / "outside" / "seals.jsonl",
    )


def fill(log: TamperableLog, streams: int = 3, events: int = 4) -> None:
    """A few incident and policy streams with several events each."""
    incident = log.open("incident")
    paging = log.open("paging")
    for n in range(streams):
        for v in range(events):
            log.clock.advance(1)
            incident.append(
                f"incident-{n}",
                [NewEvent("IncidentNoteAdded", {"n": n, "v": v, "text": f"note {v}"})],
                v - 1 if v else StreamState.NO_STREAM,
            )
        paging.append(f"policy-{n}", [NewEvent("PolicyDefined", {"n": n})], StreamState.ANY)


@dataclass
class AuditApi:
    log: TamperableLog
    app: AuditApplication
    server: Any
    channel: Any
    stub: Any
    tokens: dict[str, str]

    def auth(self, who: str = "audrey") -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.tokens[who]}")]


@pytest.fixture
def audit_api(
    tampered_log: TamperableLog, audit_app: AuditApplication, tmp_path: Path
) -> Iterator[AuditApi]:
    import grpc

    from apikit.auth import Role, TokenRegistry, issue_token
    from apikit.rpc import start_server
    from audit_service.api import SERVICE_NAME, AuditServicer
    from firewatch.audit.v1 import audit_pb2_grpc

    tokens_file = tmp_path / "tokens.json"
    tokens = {
        "alice": issue_token(tokens_file, "alice", Role.RESPONDER),
        "root": issue_token(tokens_file, "root", Role.ADMIN),
        "audrey": issue_token(tokens_file, "audrey", Role.AUDITOR),
        "prom": issue_token(tokens_file, "prom", Role.INTEGRATION),
    }
    servicer = AuditServicer(audit_app, TokenRegistry(tokens_file))
    server = start_server(
        host="127.0.0.1",
        port=0,
        register=[lambda s: audit_pb2_grpc.add_AuditServiceServicer_to_server(servicer, s)],
        service_names=[SERVICE_NAME],
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield AuditApi(
            tampered_log,
            audit_app,
            server,
            channel,
            audit_pb2_grpc.AuditServiceStub(channel),
            tokens,
        )
    finally:
        channel.close()
        server.stop(0)


def declare_incident(log: TamperableLog, title: str = "checkout 5xx") -> str:
    """Declare an incident through the incident service's own application; returns INC-N."""
    from incident_service.app import IncidentApplication

    app = IncidentApplication(log.open("incident"), log.clock)
    result = app.declare(
        title=title,
        severity="P2",
        services=["checkout"],
        source_alerts=[],
        declared_by="alice",
        idempotency_key=None,
    )
    return result.reference
