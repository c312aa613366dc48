"""@reliable_handler in a real nameko service (a subprocess) on the real broker: a late
consumer gets everything, a flaky handler is retried, a hopeless one is parked."""

from __future__ import annotations

import select
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from eventlog import EventFilter, Ownership
from eventlog.sqlite import SQLiteEventStore
from servicekit import envelope
from servicekit.checkpoint import SQLiteCheckpointStore
from servicekit.ids import derived_event_id
from servicekit.topology import QueueBinding, exponential_delays
from tests.ports import free_port

from .conftest import (
    FIRST_POSITION,
    Broker,
    RelayThread,
    Worker,
    fill,
    follow,
    make_relay,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

HANDLER = "servicekit_test.open_channel"


def _relay_everything(broker: Broker, store: SQLiteEventStore, tmp_path: Path) -> None:
    checkpoint = SQLiteCheckpointStore(tmp_path / "relay-cp.db")
    relay = make_relay(broker, store, checkpoint, "to-handlers")
    with RelayThread(relay):
        assert relay.wait_for_checkpoint(store.head_position(), timeout=60)
    checkpoint.close()


def _platform_of(store: SQLiteEventStore) -> str:
    return str(store.platform_identity().platform_id)


def _publish(
    broker: Broker, queue: str, body: bytes, message_id: str, *, platform: str | None
) -> None:
    """Straight into a consumer queue, as a misrouted or injected message would arrive."""
    headers = {} if platform is None else {"x-firewatch-platform": platform}
    with Connection(broker.url) as connection:
        channel = connection.channel()
        channel.basic_publish(
            channel.prepare_message(body, properties={"message_id": message_id}, headers=headers),
            exchange="",
            routing_key=queue,
        )
        channel.close()


def _binding(queue: str, max_attempts: int = 5) -> QueueBinding:
    # Must match what the worker's decorator declares (same delays → same queues).
    return QueueBinding(queue, "incident", ["#"], exponential_delays(max_attempts, 0.05, 2.0))


def test_a_consumer_started_after_the_events_were_relayed_receives_them_all(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, start_worker: Any
) -> None:
    queue = broker.queue_name("late")
    broker.declare(_binding(queue))  # deploy time: before any event is published
    fill(store, 60)
    inputs = list(store.read_all(filter=EventFilter.of(categories=["incident"])))
    _relay_everything(broker, store, tmp_path)
    assert broker.message_count(queue) == 60, "the queue must hold them before the worker"

    start_worker("record", queue)  # the late consumer

    opened = follow(store, 60, timeout=60, categories=["comms"])
    assert {event.id for event in opened} == {
        derived_event_id(HANDLER, event.id) for event in inputs
    }
    assert {event.data["input_position"] for event in opened} == {e.position for e in inputs}


def test_redelivered_events_are_appended_only_once_thanks_to_derived_ids(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, start_worker: Any
) -> None:
    queue = broker.queue_name("again")
    broker.declare(_binding(queue))
    fill(store, 20)
    _relay_everything(broker, store, tmp_path)
    start_worker("record", queue, max_workers=1)
    follow(store, 20, timeout=60, categories=["comms"])

    # Replay: rewind the relay's checkpoint, so every event is delivered a second time,
    # then one new event; one worker handles them in queue order, so once the new
    # one's reaction is in the log every duplicate has been handled too.
    SQLiteCheckpointStore(tmp_path / "relay-cp.db").reset("to-handlers", 0)
    fill(store, 1, start=20)
    _relay_everything(broker, store, tmp_path)
    follow(store, 21, timeout=60, categories=["comms"])

    reader = SQLiteEventStore(store.path, ownership=Ownership.platform())
    reactions = list(reader.read_all(filter=EventFilter.of(categories=["comms"])))
    reader.close()
    assert len(reactions) == 21, "a redelivery appended a second reaction"


def test_a_handler_that_fails_twice_gets_the_message_three_times(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, start_worker: Any
) -> None:
    queue = broker.queue_name("flaky")
    broker.declare(_binding(queue))
    fill(store, 5)
    worker = start_worker("flaky", queue)
    _relay_everything(broker, store, tmp_path)

    opened = follow(store, 5, timeout=60, event_types=["ChannelOpened"])
    first = FIRST_POSITION
    assert sorted(event.data["input_position"] for event in opened) == list(range(first, first + 5))
    assert all(event.data["attempt"] == 3 for event in opened)
    failures = Counter(
        event.data["input_position"]
        for event in follow(store, 10, timeout=10, event_types=["ChannelOpenFailed"])
    )
    assert failures == dict.fromkeys(range(first, first + 5), 2)
    assert worker.metric("firewatch_events_retried_total", queue=queue) == 10
    assert worker.metric("firewatch_events_handled_total", queue=queue) == 5
    assert worker.metric("firewatch_events_parked_total", queue=queue) == 0


def test_a_handler_that_always_fails_parks_the_message_with_its_attempts(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, start_worker: Any, reader_factory: Any
) -> None:
    queue = broker.queue_name("hopeless")
    binding = _binding(queue, max_attempts=3)
    broker.declare(binding)
    fill(store, 2)
    worker = start_worker("failing", queue, max_attempts=3)
    _relay_everything(broker, store, tmp_path)
    # A poison message (not an envelope, though from this platform) is parked at once,
    # without retries.
    _publish(broker, queue, b"\x00not json", "poison", platform=_platform_of(store))

    parked = reader_factory(binding.parking_queue).wait_for_count(3, timeout=60)
    by_id = {message.properties["message_id"]: message for message in parked}
    poison = by_id.pop("poison")
    assert poison.headers["x-attempt"] == 1
    assert "undecodable envelope" in poison.headers["x-parked-reason"]
    expected_ids = {
        str(event.id) for event in store.read_all(filter=EventFilter.of(categories=["incident"]))
    }
    assert set(by_id) == expected_ids
    for message in by_id.values():
        assert message.headers["x-attempt"] == 3
        assert message.headers["x-parked-reason"].startswith("RuntimeError: always fails")
        assert "Traceback" in message.headers["x-parked-traceback"]
        assert message.headers["x-original-queue"] == queue
        assert message.headers["x-position"] in (FIRST_POSITION, FIRST_POSITION + 1)
    assert broker.message_count(queue) == 0

    # The counter is incremented just after the parking publish is confirmed, so it may
    # trail the message by a moment: wait for it with a deadline.
    deadline = time.monotonic() + 10
    while worker.metric("firewatch_events_parked_total", queue=queue) < 3:
        assert time.monotonic() < deadline, "parked counter never reached 3"
        select.select([], [], [], 0.05)
    assert worker.metric("firewatch_events_parked_total", queue=queue) == 3
    assert worker.metric("firewatch_events_retried_total", queue=queue) == 4


def _wait_for_metric(worker: Worker, name: str, value: float, **labels: str) -> None:
    # Counters move just after the parking publish is confirmed: wait with a deadline.
    deadline = time.monotonic() + 10
    while worker.metric(name, **labels) < value:
        assert time.monotonic() < deadline, f"{name}{labels} never reached {value}"
        select.select([], [], [], 0.05)


def test_a_message_from_another_platform_is_refused_and_parked_never_handled(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, start_worker: Any, reader_factory: Any
) -> None:
    queue = broker.queue_name("isolated")
    binding = _binding(queue)
    broker.declare(binding)
    fill(store, 1)
    # Another platform's log and event: well-formed, valid in every way but its origin.
    other = SQLiteEventStore(tmp_path / "other.db", writer="incident")
    foreign = str(other.platform_identity().platform_id)
    fill(other, 1)
    theirs = next(iter(other.read_all(filter=EventFilter.of(categories=["incident"]))))
    other.close()
    body = envelope.encode(theirs, foreign).body
    _publish(broker, queue, body, "from-elsewhere", platform=foreign)
    _publish(broker, queue, body, "from-nowhere", platform=None)
    # Metrics served by the handler itself (METRICS_PORT), as a deployed worker does.
    worker = start_worker("record", queue, metrics_port=free_port())

    parked = reader_factory(binding.parking_queue).wait_for_count(2, timeout=60)
    by_id = {message.properties["message_id"]: message for message in parked}
    mine = _platform_of(store)
    elsewhere = by_id["from-elsewhere"].headers["x-parked-reason"]
    assert elsewhere.startswith(f"foreign platform: published by platform {foreign}")
    assert f"this consumer's log is platform {mine}" in elsewhere
    nowhere = by_id["from-nowhere"].headers["x-parked-reason"]
    assert nowhere.startswith("no platform id: the message has no x-firewatch-platform header")
    _wait_for_metric(
        worker, "firewatch_events_refused_total", 1, queue=queue, reason="no_platform_id"
    )
    _wait_for_metric(
        worker, "firewatch_events_refused_total", 1, queue=queue, reason="foreign_platform"
    )
    assert worker.metric("firewatch_events_parked_total", queue=queue) == 2

    # This platform's own event, relayed after them, is handled: only it.
    _relay_everything(broker, store, tmp_path)
    (reaction,) = follow(store, 1, timeout=60, categories=["comms"])
    assert reaction.data["input_position"] == FIRST_POSITION
    assert worker.metric("firewatch_events_handled_total", queue=queue) == 1
    reader = SQLiteEventStore(store.path, ownership=Ownership.platform())
    reactions = list(reader.read_all(filter=EventFilter.of(categories=["comms"])))
    reader.close()
    ours = next(iter(store.read_all(from_position=FIRST_POSITION)))
    assert [r.data["input_id"] for r in reactions] == [str(ours.id)]
    assert worker.stop() == 0
    assert "consumer.event_refused" in (tmp_path / "worker-0.log").read_text()


def test_a_message_redelivered_to_the_delivery_limit_is_parked_visibly_not_dropped(
    broker: Broker, store: SQLiteEventStore, start_worker: Any, reader_factory: Any
) -> None:
    queue = broker.queue_name("crashloop")
    binding = QueueBinding(queue, "incident", ["#"], exponential_delays(5, 0.05, 2.0), 2)
    broker.declare(binding)
    fill(store, 1)
    event = next(iter(store.read_all(from_position=FIRST_POSITION)))
    platform = _platform_of(store)
    _publish(broker, queue, envelope.encode(event, platform).body, "m", platform=platform)
    # Two deliveries that end without an ack, as when a worker crashes mid-handler;
    # RabbitMQ would dead-letter the next requeue into parking with no log or metric.
    with Connection(broker.url) as connection:
        channel = connection.channel()
        for _ in range(2):
            message = None
            deadline = time.monotonic() + 10
            while message is None:
                assert time.monotonic() < deadline, "message never became available"
                message = channel.basic_get(queue)
            channel.basic_reject(message.delivery_tag, requeue=True)
        channel.close()
    worker = start_worker("record", queue, delivery_limit=2)

    (parked,) = reader_factory(binding.parking_queue).wait_for_count(1, timeout=60)
    assert parked.headers["x-parked-reason"].startswith("delivered 3 times without an ack")
    _wait_for_metric(worker, "firewatch_events_parked_total", 1, queue=queue)
    assert worker.metric("firewatch_events_handled_total", queue=queue) == 0
