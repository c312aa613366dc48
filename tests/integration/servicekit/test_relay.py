"""The relay against the real broker: order, checkpoint-after-confirm, the platform id on
every message, nacks, unbound event types and a connection that dies under it."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from pathlib import Path
from typing import Any

import amqp
import amqp.exceptions
import pytest

from eventlog import NewEvent, StreamState
from eventlog.sqlite import SQLiteEventStore
from servicekit import envelope, metrics
from servicekit.checkpoint import SQLiteCheckpointStore
from servicekit.relay import Relay
from servicekit.topology import QueueBinding

from .conftest import (
    FIRST_POSITION,
    Broker,
    QueueReader,
    RelayThread,
    assert_complete_and_ordered,
    events_by_position,
    fill,
    make_relay,
    positions,
    relayed_positions,
)

pytestmark = pytest.mark.rabbitmq


class AuditingCheckpoint(SQLiteCheckpointStore):
    """Checks, at every save, that the broker already holds every event up to the
    position being saved: the checkpoint must never run ahead of the confirms."""

    def __init__(self, path: Path, broker: Broker, queue: str) -> None:
        super().__init__(path)
        self.broker = broker
        self.queue = queue
        self.saves: list[tuple[int, int]] = []

    def save(self, name: str, position: int) -> None:
        # Nobody consumes the queue during the test and every event but the log's
        # identity is routed to it, so a confirmed prefix up to `position` means at
        # least `position - 1` messages.
        self.saves.append((position, self.broker.message_count(self.queue)))
        super().save(name, position)


def _sample(value: Any, relay: str, **labels: str) -> float:
    return value.labels(relay, *labels.values())._value.get()  # type: ignore[no-any-return]


def test_relay_delivers_every_event_in_order_with_its_platform_and_checkpoints_after_confirms(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, reader_factory: Any
) -> None:
    queue = broker.queue_name("all")
    broker.declare(QueueBinding(queue, "incident", ["#"]))
    head = fill(store, 700)
    checkpoint = AuditingCheckpoint(tmp_path / "cp.db", broker, queue)
    relay = make_relay(broker, store, checkpoint, "ordered", window=64)

    with RelayThread(relay):
        assert relay.wait_for_checkpoint(head, timeout=60)
        # Events appended while it runs are relayed live, after the backlog.
        head = fill(store, 150, start=700)
        assert relay.wait_for_checkpoint(head, timeout=60)

    assert checkpoint.load("ordered") == head == 850 + FIRST_POSITION - 1
    saved = [position for position, _ in checkpoint.saves]
    assert saved == sorted(saved), "checkpoint moved backwards"
    assert len(saved) >= 850 // 64, "confirms were not awaited per window"
    ahead = [(p, count) for p, count in checkpoint.saves if count < p - 1]
    assert not ahead, f"checkpoint saved before the broker held the events: {ahead[:5]}"

    messages = reader_factory(queue).wait_for_count(850, timeout=60)
    assert positions(messages) == relayed_positions(head)
    platform = str(store.platform_identity().platform_id)
    originals = events_by_position(store)
    for message in messages:
        event = envelope.decode(message.body)
        original = originals[event.position]
        assert (event.id, event.hash, dict(event.data)) == (
            original.id,
            original.hash,
            dict(original.data),
        )
        assert message.properties["message_id"] == str(original.id)
        assert message.properties["type"] == original.type
        assert message.properties["delivery_mode"] == 2
        assert message.properties["content_type"] == "application/json"
        assert message.headers["x-firewatch-platform"] == platform
        assert message.delivery_info["routing_key"] == original.type
        assert message.delivery_info["exchange"] == f"{broker.prefix}.incident"
        assert json.loads(message.body)["metadata"]["correlation_id"] == original.stream


def test_a_nacked_window_is_republished_and_the_checkpoint_never_passes_it(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, reader_factory: Any
) -> None:
    # A queue that holds 5 messages and nacks publishes beyond that (reject-publish):
    # the relay must stop at the last accepted event and republish the rest later.
    broker.declare()
    queue = broker.queue_name("tiny")
    broker.extra_queues.append(queue)
    broker.channel_call(
        "queue_declare",
        queue,
        durable=True,
        auto_delete=False,
        arguments={"x-queue-type": "quorum", "x-max-length": 5, "x-overflow": "reject-publish"},
    )
    broker.channel_call("queue_bind", queue, f"{broker.prefix}.incident", "#")
    head = fill(store, 60)
    checkpoint = SQLiteCheckpointStore(tmp_path / "cp.db")
    relay = make_relay(broker, store, checkpoint, "nacked", window=10, max_backoff=0.3)
    nacks_before = _sample(metrics.RELAY_FAILURES, "nacked", reason="nack")

    with RelayThread(relay):
        assert relay.wait_for_checkpoint(5, timeout=30)
        # Quorum queues enforce max-length loosely (a window in flight may all get in);
        # the invariant is that the checkpoint never exceeds what the broker took.
        checkpointed = relay.checkpoint_position
        taken = broker.message_count(queue)
        assert checkpointed - 1 <= taken, "checkpoint passed a nacked event"
        assert checkpointed < head
        # Consuming makes room; each time the relay's retry gets a few more through.
        reader = reader_factory(queue)
        reader.wait_for_positions(60, timeout=60)
        assert relay.wait_for_checkpoint(head, timeout=30)

    # No gap. Order is not asserted here: when one message of a pipelined window is
    # nacked, a later one of the same window may still get in (the reader made room),
    # and it arrives again, in order, when the relay republishes from the nack.
    seen = positions(reader.messages)
    assert set(seen) == set(relayed_positions(head))
    assert _sample(metrics.RELAY_FAILURES, "nacked", reason="nack") > nacks_before


def test_an_event_type_nobody_binds_is_counted_as_unrouted_and_kept_nowhere_on_the_broker(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, reader_factory: Any
) -> None:
    bound = broker.queue_name("declared")
    broker.declare(QueueBinding(bound, "incident", ["IncidentDeclared"]))
    checkpoint = SQLiteCheckpointStore(tmp_path / "cp.db")
    relay = make_relay(broker, store, checkpoint, "unbound")
    reader = reader_factory(bound)

    with RelayThread(relay):
        store.append("incident-1", [NewEvent("IncidentDeclared", {})], StreamState.ANY)
        store.append("incident-1", [NewEvent("SeverityChanged", {})], StreamState.ANY)
        last = store.append("incident-1", [NewEvent("IncidentDeclared", {})], StreamState.ANY)
        # Nothing binds SeverityChanged: the broker returns it, and the relay moves on.
        assert relay.wait_for_checkpoint(last.last_position, timeout=30)

    assert relay.sessions == 1, "an unbound type must not fail the session"
    assert _sample(metrics.RELAY_UNROUTED, "unbound", event_type="SeverityChanged") == 1
    # The log's own identity (category `platform`, owned by no service) is not published.
    assert _sample(metrics.RELAY_UNROUTED, "unbound", event_type="PlatformInitialized") == 1
    assert _sample(metrics.RELAY_FAILURES, "unbound", reason="returned") == 0
    assert [m.properties["type"] for m in reader.wait_for_count(2, timeout=10)] == [
        "IncidentDeclared",
        "IncidentDeclared",
    ]
    # No catch-all queue collects what nobody reads (issue 8: it grew without bound).
    with pytest.raises(amqp.exceptions.NotFound):
        broker.message_count(f"{broker.prefix}.unrouted")


def test_the_relay_reads_the_socket_per_window_not_per_publish(
    broker: Broker,
    store: SQLiteEventStore,
    tmp_path: Path,
    reader_factory: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # py-amqp would read the socket before each publish, for blocked notices: a
    # non-blocking read (timeout=0) per message. The relay reads it only while it awaits
    # a window's confirms and when idle, always with a timeout, however busy the broker.
    queue = broker.queue_name("reads")
    broker.declare(QueueBinding(queue, "incident", ["#"]))
    head = fill(store, 640)
    reads = polls = 0
    real_drain = amqp.Connection.drain_events

    def counting_drain(self: Any, timeout: float | None = None) -> Any:
        nonlocal reads, polls
        if threading.current_thread().name == "relay-reads":
            reads += 1
            polls += timeout == 0
        return real_drain(self, timeout)

    monkeypatch.setattr(amqp.Connection, "drain_events", counting_drain)
    relay = make_relay(broker, store, SQLiteCheckpointStore(tmp_path / "cp.db"), "reads", window=64)
    with RelayThread(relay):
        assert relay.wait_for_checkpoint(head, timeout=60)
    assert len(reader_factory(queue).wait_for_count(640, timeout=30)) == 640
    assert reads > 0, "the relay never read its confirms"
    assert polls == 0, f"{polls} non-blocking reads for 640 publishes (one per publish?)"


def test_a_broker_blocked_notice_is_logged_and_exported_until_unblocked(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path
) -> None:
    # The notice itself needs a RabbitMQ resource alarm, which a test must not raise on a
    # shared broker; py-amqp's own handlers of the connection.blocked and .unblocked
    # frames are called instead, on the relay's live connection.
    broker.declare(QueueBinding(broker.queue_name("blocked"), "incident", ["#"]))
    head = fill(store, 1)
    relay = make_relay(broker, store, SQLiteCheckpointStore(tmp_path / "cp.db"), "blocked")
    with RelayThread(relay):
        assert relay.wait_for_checkpoint(head, timeout=30)
        live = relay.connection.connection
        assert _sample(metrics.RELAY_BROKER_BLOCKED, "blocked") == 0
        live._on_blocked()
        assert _sample(metrics.RELAY_BROKER_BLOCKED, "blocked") == 1
        live._on_unblocked()
        assert _sample(metrics.RELAY_BROKER_BLOCKED, "blocked") == 0


def test_relay_reconnects_after_its_socket_dies_and_resumes_from_the_checkpoint(
    broker: Broker,
    store: SQLiteEventStore,
    tmp_path: Path,
    reader_factory: Any,
    record_property: Any,
) -> None:
    # Restarting the shared broker is not safe here, so the relay's TCP connection is
    # cut under it (shutdown of the socket) three times while it publishes.
    queue = broker.queue_name("severed")
    broker.declare(QueueBinding(queue, "incident", ["#"]))
    head = fill(store, 3000)
    checkpoint = SQLiteCheckpointStore(tmp_path / "cp.db")
    relay = make_relay(broker, store, checkpoint, "severed", window=50)
    reader: QueueReader = reader_factory(queue)
    cuts = 0

    with RelayThread(relay):
        for target in (400, 1200, 2100):
            assert relay.wait_for_checkpoint(target, timeout=60)
            connection = relay.connection
            if connection is None:  # between sessions: cut the next one instead
                continue
            connection.connection.transport.sock.shutdown(socket.SHUT_RDWR)
            cuts += 1
        assert relay.wait_for_checkpoint(head, timeout=60)

    assert cuts >= 2
    assert relay.sessions >= cuts + 1
    messages = reader.wait_for_positions(len(relayed_positions(head)), timeout=60)
    duplicates = assert_complete_and_ordered(positions(reader.take_rest()), relayed_positions(head))
    record_property("duplicates", duplicates)
    print(f"\nsevered {cuts} times: {len(messages)} messages, {duplicates} duplicates")


def test_a_relay_without_a_broker_backs_off_and_still_stops_at_once(
    store: SQLiteEventStore, tmp_path: Path
) -> None:
    fill(store, 3)
    checkpoint = SQLiteCheckpointStore(tmp_path / "cp.db")
    # Port 1: connection refused at once, so every session fails without progress.
    relay = Relay(store, "amqp://guest:guest@127.0.0.1:1//", checkpoint, "nobroker", max_backoff=30)
    thread = RelayThread(relay)
    with thread:
        deadline = time.monotonic() + 30
        while relay.failed_sessions < 3:
            assert time.monotonic() < deadline, "relay did not retry"
            select.select([], [], [], 0.02)
        stop_requested = time.monotonic()
    # RelayThread's exit called stop() and joined: the backoff wait was interrupted.
    assert time.monotonic() - stop_requested < 5
    assert checkpoint.load("nobroker") == 0
