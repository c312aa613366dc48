"""A real IncidentService gRPC server over a real log (SQLite file or PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg
import pytest

from apikit.auth import Role, TokenRegistry, issue_token
from apikit.rpc import RunningServer, start_server
from appkit import ProjectionRunner
from eventlog import EventStore, FakeClock, Ownership
from eventlog.postgres import PostgresEventStore
from eventlog.sqlite import SQLiteEventStore
from firewatch.incident.v1 import incident_pb2_grpc
from incident_service.api import SERVICE_NAME, IncidentServicer
from incident_service.app import IncidentApplication
from incident_service.projections import IncidentReadModel
from tests.conftest import PG_URL

StoreFactory = Callable[[str | None], EventStore]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def open_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens handles on one fresh log: `open_log(writer)`."""
    opened: list[EventStore] = []
    if request.param == "sqlite":

        def factory(writer: str | None) -> EventStore:
            store = SQLiteEventStore(
                tmp_path / "log.db", writer=writer, ownership=Ownership.platform()
            )
            opened.append(store)
            return store

        yield factory
    else:
        schema = f"t_incident_{uuid.uuid4().hex[:10]}"

        def factory(writer: str | None) -> EventStore:
            store = PostgresEventStore(
                PG_URL, writer=writer, ownership=Ownership.platform(), schema=schema
            )
            opened.append(store)
            return store

        yield factory
    for store in opened:
        store.close()
    if request.param == "postgres":
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@dataclass
class Api:
    stub: incident_pb2_grpc.IncidentServiceStub
    channel: grpc.Channel
    server: RunningServer
    store: EventStore
    clock: FakeClock
    tokens: dict[str, str]

    def auth(self, who: str = "alice") -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.tokens[who]}")]


@pytest.fixture
def api(open_log: StoreFactory, tmp_path: Path) -> Iterator[Api]:
    tokens_file = tmp_path / "tokens.json"
    tokens = {
        "alice": issue_token(tokens_file, "alice", Role.RESPONDER),
        "root": issue_token(tokens_file, "root", Role.ADMIN),
        "audrey": issue_token(tokens_file, "audrey", Role.AUDITOR),
        "prom": issue_token(tokens_file, "prom", Role.INTEGRATION),
    }
    clock = FakeClock()
    store = open_log("incident")
    store.clock = clock
    runner = ProjectionRunner(store, IncidentReadModel)
    runner.catch_up()
    servicer = IncidentServicer(
        IncidentApplication(store, clock), store, runner, TokenRegistry(tokens_file)
    )
    server = start_server(
        host="127.0.0.1",
        port=0,
        register=[lambda s: incident_pb2_grpc.add_IncidentServiceServicer_to_server(servicer, s)],
        service_names=[SERVICE_NAME],
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Api(
            incident_pb2_grpc.IncidentServiceStub(channel), channel, server, store, clock, tokens
        )
    finally:
        channel.close()
        server.stop(grace=0)
