"""The FAKE EventStoreDB server keeps the EventStoreDB semantics our adapter relies on.

Spoken to with plain esdbclient, so these tests pin the fake's behaviour (not the
adapter's). Each mirrors something esdbclient's documentation states about the real
server; the real-server run (ESDB_URI) is what confirms the adapter against the real one.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator

import pytest
from esdbclient import EventStoreDBClient, NewEvent, StreamState
from esdbclient.exceptions import EventStoreDBClientException, NotFound, WrongCurrentVersion

from eventlog.testing.fake_esdb import FakeEventStoreDBServer

pytestmark = pytest.mark.esdb


@pytest.fixture
def server() -> Iterator[FakeEventStoreDBServer]:
    with FakeEventStoreDBServer() as fake:
        yield fake


@pytest.fixture
def client(server: FakeEventStoreDBServer) -> Iterator[EventStoreDBClient]:
    esdb = EventStoreDBClient(server.url)
    yield esdb
    esdb.close()


def event(n: int = 0) -> NewEvent:
    return NewEvent(type="Happened", data=json.dumps({"n": n}).encode())


def test_expected_versions_behave_like_eventstoredb(client: EventStoreDBClient) -> None:
    stream = f"acct-{uuid.uuid4().hex}"
    with pytest.raises(WrongCurrentVersion):
        client.append_to_stream(stream, current_version=StreamState.EXISTS, events=[event()])
    with pytest.raises(WrongCurrentVersion):
        client.append_to_stream(stream, current_version=0, events=[event()])
    client.append_to_stream(stream, current_version=StreamState.NO_STREAM, events=[event(0)])
    with pytest.raises(WrongCurrentVersion, match="last event is 0"):
        client.append_to_stream(stream, current_version=StreamState.NO_STREAM, events=[event()])
    client.append_to_stream(stream, current_version=StreamState.EXISTS, events=[event(1)])
    client.append_to_stream(stream, current_version=StreamState.ANY, events=[event(2)])
    client.append_to_stream(stream, current_version=2, events=[event(3)])
    assert [e.stream_position for e in client.get_stream(stream)] == [0, 1, 2, 3]


def test_repeating_an_append_is_idempotent_and_a_partial_repeat_is_refused(
    client: EventStoreDBClient, server: FakeEventStoreDBServer
) -> None:
    stream = f"acct-{uuid.uuid4().hex}"
    batch = [event(0), event(1)]
    first = client.append_to_stream(stream, current_version=StreamState.NO_STREAM, events=batch)
    client.append_to_stream(stream, current_version=1, events=[event(2)])

    assert (
        client.append_to_stream(stream, current_version=StreamState.NO_STREAM, events=batch)
        == first
    )
    assert client.append_to_stream(stream, current_version=StreamState.ANY, events=batch) == first
    with pytest.raises(WrongCurrentVersion):
        client.append_to_stream(stream, current_version=StreamState.ANY, events=[batch[0], event()])
    assert len(server.records(stream)) == 3


def test_commit_positions_increase_with_gaps_and_stream_reads_report_them(
    client: EventStoreDBClient,
) -> None:
    stream = f"acct-{uuid.uuid4().hex}"
    last = client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[event(n) for n in range(3)]
    )
    positions = [e.commit_position for e in client.get_stream(stream)]
    assert positions[-1] == last
    assert positions == sorted(positions)
    assert all(b - a > 1 for a, b in itertools.pairwise(positions))


def test_reads_forwards_backwards_with_limits_and_a_missing_stream(
    client: EventStoreDBClient,
) -> None:
    stream = f"acct-{uuid.uuid4().hex}"
    client.append_to_stream(
        stream, current_version=StreamState.NO_STREAM, events=[event(n) for n in range(5)]
    )
    assert [e.stream_position for e in client.get_stream(stream, stream_position=2, limit=2)] == [
        2,
        3,
    ]
    assert [e.stream_position for e in client.get_stream(stream, backwards=True, limit=2)] == [
        4,
        3,
    ]
    with pytest.raises(NotFound):
        client.get_stream(f"acct-{uuid.uuid4().hex}")


def test_all_reads_start_only_at_existing_positions_and_filter_on_the_server(
    client: EventStoreDBClient,
) -> None:
    first = client.append_to_stream(
        "acct-1", current_version=StreamState.NO_STREAM, events=[event(0)]
    )
    client.append_to_stream("other-1", current_version=StreamState.NO_STREAM, events=[event(1)])

    everything = list(client.read_all())
    assert [e.stream_name for e in everything] == ["acct-1", "other-1"], "system events excluded"
    assert [e.stream_name for e in client.read_all(commit_position=first)] == ["acct-1", "other-1"]
    only_other = client.read_all(filter_include=[r"other-.*"], filter_by_stream_name=True)
    assert [e.stream_name for e in only_other] == ["other-1"]
    with pytest.raises(EventStoreDBClientException, match="Invalid position"):
        list(client.read_all(commit_position=first + 1))
    backwards = client.read_all(commit_position=everything[1].commit_position, backwards=True)
    assert [e.stream_name for e in backwards] == ["acct-1"], "backwards excludes the start"


def test_a_subscription_catches_up_then_delivers_live_events(client: EventStoreDBClient) -> None:
    first = client.append_to_stream(
        "acct-1", current_version=StreamState.NO_STREAM, events=[event(0)]
    )
    client.append_to_stream("acct-1", current_version=0, events=[event(1)])
    subscription = client.subscribe_to_all(commit_position=first, timeout=10)
    try:
        assert json.loads(next(subscription).data) == {"n": 1}, "starts after the position"
        client.append_to_stream("acct-1", current_version=1, events=[event(2)])
        assert json.loads(next(subscription).data) == {"n": 2}
    finally:
        subscription.stop()


def test_a_zero_event_append_only_checks_the_expected_version(
    client: EventStoreDBClient, server: FakeEventStoreDBServer
) -> None:
    client.append_to_stream("acct-1", current_version=StreamState.NO_STREAM, events=[event()])
    server.delete_record("acct-1", 0)
    with pytest.raises(WrongCurrentVersion, match="last event is 0"):
        client.append_to_stream("acct-1", current_version=2**62, events=[])
    assert server.records("acct-1") == []
    assert server.last_revision("acct-1") == 0


def test_discovery_finds_the_one_node_leader(server: FakeEventStoreDBServer) -> None:
    discovering = EventStoreDBClient(server.url.replace("esdb://", "esdb+discover://"))
    try:
        assert discovering.get_current_version("acct-none") is StreamState.NO_STREAM
    finally:
        discovering.close()
    assert server.calls["Gossip.Read"] >= 1


def test_stop_leaves_no_handler_thread_behind() -> None:
    # A live subscription keeps a handler thread in its wait loop; stop() must not
    # return before that thread has finished, or it lingers in the test process.
    fake = FakeEventStoreDBServer().start()
    esdb = EventStoreDBClient(fake.url)
    try:
        esdb.append_to_stream("acct-live", current_version=StreamState.ANY, events=[event()])
        subscription = esdb.subscribe_to_all()
        next(iter(subscription))  # the handler is now serving a live call
        executor = fake._executor
        assert executor is not None
        handlers = [t for t in getattr(executor, "_threads", ()) if t.is_alive()]
        assert handlers, "the subscription has a handler thread"
        fake.stop()
        assert [t.name for t in handlers if t.is_alive()] == []
    finally:
        esdb.close()
        fake.stop()
