"""The relay against the real broker: order, checkpoint-after-confirm, nacks, returns
and a connection that dies under it."""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from eventlog import NewEvent, StreamState
from eventlog.sqlite import SQLiteEventStore
from servicekit import envelope, metrics
from servicekit.checkpoint import SQLiteCheckpointStore
from servicekit.relay import Relay
from servicekit.topology import QueueBinding

from .conftest import (
    Broker,
    QueueReader,
    RelayThread,
    assert_complete_and_ordered,
    events_by_position,
    fill,
    make_relay,
    positions,
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
        # Nobody consumes the queue during the test and every event is routed to it,
        # so a confirmed prefix up to `position` means at least `position` messages.
        self.saves.append((position, self.broker.message_count(self.queue)))
        super().save(name, position)


def _sample(value: Any, relay: str, **labels: str) -> float:
    return value.labels(relay, *labels.values())._value.get()  # type: ignore[no-any-return]


def test_relay_delivers_every_event_in_order_and_checkpoints_only_after_confirms(
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

    assert checkpoint.load("ordered") == head == 850
    saved = [position for position, _ in checkpoint.saves]
    assert saved == sorted(saved), "checkpoint moved backwards"
    assert len(saved) >= 850 // 64, "confirms were not awaited per window"
    ahead = [(p, count) for p, count in checkpoint.saves if count < p]
    assert not ahead, f"checkpoint saved before the broker held the events: {ahead[:5]}"

    messages = reader_factory(queue).wait_for_count(850, timeout=60)
    assert positions(messages) == list(range(1, 851))
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
        assert checkpointed <= broker.message_count(queue), "checkpoint passed a nacked event"
        assert checkpointed < head
        # Consuming makes room; each time the relay's retry gets a few more through.
        reader = reader_factory(queue)
        reader.wait_for_positions(60, timeout=60)
        assert relay.wait_for_checkpoint(head, timeout=30)

    # No gap. Order is not asserted here: when one message of a pipelined window is
    # nacked, a later one of the same window may still get in (the reader made room),
    # and it arrives again, in order, when the relay republishes from the nack.
    seen = positions(reader.messages)
    assert set(seen) == set(range(1, 61))
    assert _sample(metrics.RELAY_FAILURES, "nacked", reason="nack") > nacks_before


def test_a_returned_message_is_republished_after_the_relay_redeclares_the_topology(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, reader_factory: Any
) -> None:
    bound = broker.queue_name("declared")
    broker.declare(QueueBinding(bound, "incident", ["IncidentDeclared"]))
    checkpoint = SQLiteCheckpointStore(tmp_path / "cp.db")
    relay = make_relay(broker, store, checkpoint, "returned", max_backoff=0.3)
    returns_before = _sample(metrics.RELAY_FAILURES, "returned", reason="returned")

    with RelayThread(relay):
        first = store.append("incident-1", [NewEvent("IncidentDeclared", {})], StreamState.ANY)
        assert relay.wait_for_checkpoint(first.last_position, timeout=30)
        # Nothing binds "SeverityChanged" and the alternate exchange has lost its queue:
        # the broker returns the message, and the relay must not move past it.
        broker.channel_call("queue_delete", broker.topology.unrouted_queue)
        second = store.append("incident-1", [NewEvent("SeverityChanged", {})], StreamState.ANY)
        # Reconnecting re-declares the unrouted queue, so the republish is kept there.
        assert relay.wait_for_checkpoint(second.last_position, timeout=30)
        assert relay.sessions >= 2

    assert _sample(metrics.RELAY_FAILURES, "returned", reason="returned") > returns_before
    kept = reader_factory(broker.topology.unrouted_queue).wait_for_count(1, timeout=10)
    assert envelope.decode(kept[0].body).position == second.last_position


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
    messages = reader.wait_for_positions(head, timeout=60)
    duplicates = assert_complete_and_ordered(
        positions(reader.take_rest()), list(range(1, head + 1))
    )
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
