"""What the EventStoreDB adapter does beyond the conformance suite: its wire format, the
URLs it accepts, how it reads `$all` and how it reports a broken or tampered server.
Run against the FAKE EventStoreDB server (eventlog.testing.fake_esdb)."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from eventlog import (
    BackendUnavailableError,
    EventFilter,
    EventMetadata,
    FakeClock,
    InvalidEventError,
    NewEvent,
    Ownership,
    StreamState,
    greengrpc,
    open_store,
)
from eventlog.esdb import EventStoreDBEventStore, client_uri, redact
from eventlog.testing.fake_esdb import FakeEventStoreDBServer

pytestmark = pytest.mark.esdb

OWNERSHIP = Ownership({"writer": {"acct"}})


@pytest.fixture
def server() -> Iterator[FakeEventStoreDBServer]:
    with FakeEventStoreDBServer() as fake:
        yield fake


@pytest.fixture
def store(server: FakeEventStoreDBServer) -> Iterator[EventStoreDBEventStore]:
    handle = EventStoreDBEventStore(
        server.url, writer="writer", ownership=OWNERSHIP, clock=FakeClock()
    )
    yield handle
    handle.close()


def test_the_wire_format_keeps_data_canonical_and_the_rest_in_metadata(
    store: EventStoreDBEventStore, server: FakeEventStoreDBServer
) -> None:
    occurred = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
    store.append(
        "acct-1",
        [
            NewEvent(
                "Opened",
                {"b": 1, "a": "ü"},
                schema_version=2,
                metadata=EventMetadata(correlation_id="incident-7", occurred_at=occurred),
            )
        ],
        StreamState.NO_STREAM,
    )
    [record] = server.records("acct-1")
    [event] = store.read_stream("acct-1")
    assert record.data == '{"a":"ü","b":1}'.encode()
    assert record.type == "Opened"
    assert record.event_id == str(event.id)
    assert record.content_type == "application/json"
    assert json.loads(record.custom_metadata) == {
        "schema_version": 2,
        "correlation_id": "incident-7",
        "occurred_at": "2026-01-01T00:30:00.000000Z",
        "recorded_at": "2026-01-01T00:00:00.000000Z",
        "prev_hash": "0" * 64,
        "hash": event.hash,
    }
    assert (event.version, event.position) == (record.revision, record.commit_position)


@pytest.mark.parametrize("scheme", ["esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover"])
def test_open_store_accepts_every_eventstoredb_url_scheme(
    server: FakeEventStoreDBServer, scheme: str
) -> None:
    url = server.url.replace("esdb://", f"{scheme}://")
    store = open_store(url, writer="writer", ownership=OWNERSHIP)
    try:
        store.append("acct-1", [NewEvent("Opened", {})], StreamState.ANY)
        assert store.current_version("acct-1") is not None
    finally:
        store.close()


def test_urls_are_translated_and_passwords_never_shown() -> None:
    assert client_uri("kurrentdb://h:2113?Tls=false") == "esdb://h:2113?Tls=false"
    assert client_uri("kurrentdb+discover://h:2113") == "esdb+discover://h:2113"
    assert redact("esdb://svc:s3cret@h:2113?Tls=true") == "esdb://svc:***@h:2113?Tls=true"


def test_an_unreachable_server_is_a_clear_backend_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = EventStoreDBEventStore(
        f"esdb://svc:s3cret@127.0.0.1:{port}?Tls=false", writer="writer", ownership=OWNERSHIP
    )
    try:
        with pytest.raises(BackendUnavailableError, match="unavailable") as info:
            store.append("acct-1", [NewEvent("Opened", {})], StreamState.ANY)
        assert "s3cret" not in str(info.value)
        assert f"127.0.0.1:{port}" in str(info.value)
    finally:
        store.close()


def test_system_events_are_not_part_of_the_log(
    store: EventStoreDBEventStore, server: FakeEventStoreDBServer
) -> None:
    assert any(r.type.startswith("$") for r in server.records()), "the fake seeds some"
    assert store.head_position() == 0
    assert list(store.read_all()) == []
    result = store.append("acct-1", [NewEvent("Opened", {})], StreamState.NO_STREAM)
    assert [e.stream for e in store.read_all()] == ["acct-1"]
    assert store.head_position() == result.last_position


def test_reading_from_a_checkpoint_in_a_fresh_process_does_not_rescan_the_log(
    store: EventStoreDBEventStore, server: FakeEventStoreDBServer
) -> None:
    store.append("acct-1", [NewEvent("E", {"n": n}) for n in range(50)], StreamState.NO_STREAM)
    checkpoint = store.read_stream("acct-1")[29].position
    fresh = EventStoreDBEventStore(server.url, ownership=OWNERSHIP)
    try:
        before = server.calls.get("Streams.Read", 0)
        rest = list(
            fresh.read_all(from_position=checkpoint + 1, filter=EventFilter.of(categories=["acct"]))
        )
        reads = server.calls["Streams.Read"] - before
    finally:
        fresh.close()
    assert [e.data["n"] for e in rest] == list(range(30, 50))
    # A guessed start (checkpoint + 1 is not an event's position) is refused, then the
    # checkpoint itself is used: two reads, not a scan from the start of the log.
    assert reads <= 3


def test_a_retried_any_append_finds_its_events_deep_in_the_stream(
    store: EventStoreDBEventStore, server: FakeEventStoreDBServer
) -> None:
    batch = [NewEvent("E", {"n": 0}, id=uuid.uuid4()), NewEvent("E", {"n": 1}, id=uuid.uuid4())]
    first = store.append("acct-1", batch, StreamState.ANY)
    for n in range(2, 40):
        store.append("acct-1", [NewEvent("E", {"n": n})], StreamState.ANY)
    assert store.append("acct-1", batch, StreamState.ANY) == first
    assert store.append("acct-1", batch, StreamState.EXISTS) == first
    assert len(server.records("acct-1")) == 40


def test_an_append_after_the_tail_was_cut_out_names_the_problem(
    store: EventStoreDBEventStore, server: FakeEventStoreDBServer
) -> None:
    store.append("acct-1", [NewEvent("E", {"n": n}) for n in range(3)], StreamState.NO_STREAM)
    server.delete_record("acct-1", 2)
    with pytest.raises(BackendUnavailableError, match="run verify"):
        store.append("acct-1", [NewEvent("E", {"n": 3})], 1)
    with pytest.raises(BackendUnavailableError, match="run verify"):
        store.append("acct-1", [NewEvent("E", {"n": 3})], StreamState.ANY)
    findings = store.verify("acct-1").findings
    assert [(f.kind.value, f.version) for f in findings] == [("deleted", 2)]


def test_an_event_written_by_another_client_is_reported_not_crashed_on(
    store: EventStoreDBEventStore, server: FakeEventStoreDBServer
) -> None:
    store.append("acct-1", [NewEvent("E", {"n": 0})], StreamState.NO_STREAM)
    server.insert_record(
        "acct-1",
        1,
        event_id=str(uuid.uuid4()),
        event_type="Foreign",
        data=b"{}",
        custom_metadata=b"",
    )
    events = store.read_stream("acct-1")
    assert [e.type for e in events] == ["E", "Foreign"]
    assert not store.verify("acct-1").ok


def test_a_batch_larger_than_the_server_accepts_is_invalid_input(
    server: FakeEventStoreDBServer,
) -> None:
    server.max_append_size = 4096
    store = EventStoreDBEventStore(server.url, writer="writer", ownership=OWNERSHIP)
    try:
        with pytest.raises(InvalidEventError, match="larger than the EventStoreDB server"):
            store.append(
                "acct-1", [NewEvent("E", {"pad": "x" * 1000}) for _ in range(8)], StreamState.ANY
            )
        assert store.read_stream("acct-1") == []
    finally:
        store.close()


def test_greengrpc_is_a_plain_call_outside_eventlet() -> None:
    assert not greengrpc.is_green()
    assert greengrpc.call(lambda a, b=0: a + b, 1, b=2) == 3
    assert greengrpc.green_bound_modules() == []
    greengrpc.ensure_native_grpc()
    with greengrpc.native_imports():
        import grpc  # noqa: F401
