"""Fixtures for servicekit's broker tests: a private exchange prefix per test, a log in
tmp_path (its platform identity first, at position 1, so the events a test appends
start at position 2), a relay in a thread, and a queue reader that waits on the socket.

No eventlet monkey-patching here on purpose: these tests share the pytest process with
every other test, and patching would turn their threads green. nameko services run
in a subprocess (nameko_worker.py) that patches itself; the relay is plain threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from eventlog import EventFilter, EventMetadata, NewEvent, Ownership, RecordedEvent, StreamState
from eventlog.sqlite import SQLiteEventStore
from servicekit.checkpoint import SQLiteCheckpointStore
from servicekit.relay import Relay
from servicekit.topology import QueueBinding, Topology
from tests.conftest import BROKER_URL


def _broker_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def broker_url() -> str:
    if not _broker_reachable():
        # CI starts the broker; a silent skip would hide a broken pipeline.
        pytest.fail("RabbitMQ is not reachable on 127.0.0.1:5672 (run `make services`)")
    return BROKER_URL


@dataclass
class Broker:
    """A private corner of the shared broker: everything declared here is deleted."""

    url: str
    topology: Topology
    bindings: list[QueueBinding] = field(default_factory=list)
    extra_queues: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.topology.prefix

    def queue_name(self, suffix: str) -> str:
        return f"{self.prefix}.q.{suffix}"

    def declare(self, *bindings: QueueBinding) -> None:
        self.bindings.extend(bindings)
        with Connection(self.url) as connection:
            self.topology.declare(connection, list(bindings))

    def channel_call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with Connection(self.url) as connection:
            channel = connection.channel()
            try:
                return getattr(channel, method)(*args, **kwargs)
            finally:
                channel.close()

    def message_count(self, queue: str) -> int:
        return int(self.channel_call("queue_declare", queue, passive=True).message_count)

    def cleanup(self) -> None:
        with Connection(self.url) as connection:
            self.topology.delete(connection, self.bindings)
            channel = connection.channel()
            for queue in self.extra_queues:
                channel.queue_delete(queue)
            channel.close()


@pytest.fixture
def broker(broker_url: str) -> Iterator[Broker]:
    broker = Broker(broker_url, Topology(f"fwtest-{uuid.uuid4().hex[:10]}"))
    try:
        yield broker
    finally:
        broker.cleanup()


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "eventlog.db"


FIRST_POSITION = 2
"""Where a test's first event lands: the log's identity (the relay reads it) is at 1."""


@pytest.fixture
def store(log_path: Path) -> Iterator[SQLiteEventStore]:
    store = SQLiteEventStore(log_path, writer="incident", ownership=Ownership.platform())
    assert store.platform_identity().position == FIRST_POSITION - 1
    yield store
    store.close()


def fill(store: SQLiteEventStore, count: int, *, streams: int = 20, start: int = 0) -> int:
    """Append `count` incident events over `streams` streams; returns the head position.

    Batches of up to 50 keep pre-filling a few thousand events fast."""
    types = ("IncidentDeclared", "SeverityChanged", "TimelineNoteAdded")
    n = start
    while n < start + count:
        stream_no = n % streams
        batch = [
            NewEvent(
                types[(n + i) % len(types)],
                {"n": n + i, "note": "é ✓"},
                metadata=EventMetadata(correlation_id=f"incident-{stream_no}", actor="test"),
            )
            for i in range(min(50, start + count - n))
        ]
        store.append(f"incident-{stream_no}", batch, StreamState.ANY)
        n += len(batch)
    return store.head_position()


class QueueReader:
    """Consumes a queue and waits on the socket (never sleeps) for messages."""

    def __init__(self, url: str, queue: str) -> None:
        self.connection = Connection(url)
        self.channel = self.connection.channel()
        self.channel.basic_qos(0, 500, False)
        self.queue = queue
        self.messages: list[Any] = []
        self.unique_positions: set[int] = set()
        """Kept up to date per message, so a wait's predicate stays O(1)."""
        self.consumer_tag = self.channel.basic_consume(
            queue, callback=self._on_message, no_ack=False
        )

    def _on_message(self, message: Any) -> None:
        self.messages.append(message)
        if "x-position" in (message.headers or {}):
            self.unique_positions.add(int(message.headers["x-position"]))
        self.channel.basic_ack(message.delivery_tag)

    def wait_for(self, predicate: Callable[[QueueReader], bool], timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s with {len(self.messages)} messages"
                )
            with contextlib.suppress(TimeoutError):
                self.connection.drain_events(timeout=min(left, 1.0))
        return self.messages

    def wait_for_count(self, count: int, timeout: float) -> list[Any]:
        return self.wait_for(lambda reader: len(reader.messages) >= count, timeout)

    def wait_for_positions(self, count: int, timeout: float) -> list[Any]:
        """Until `count` distinct log positions have arrived (duplicates not counted)."""
        return self.wait_for(lambda reader: len(reader.unique_positions) >= count, timeout)

    def take_rest(self) -> list[Any]:
        """After every publisher has stopped: stop consuming, then basic_get what is
        left. Deterministic, since basic_get answers "empty" instead of waiting; used to
        count duplicates, never to wait for expected work."""
        # Deliveries already in flight are dispatched to the callback while
        # basic_cancel waits for its cancel-ok.
        self.channel.basic_cancel(self.consumer_tag)
        while (message := self.channel.basic_get(self.queue)) is not None:
            self._on_message(message)
        return self.messages

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.release()


@pytest.fixture
def reader_factory(broker: Broker) -> Iterator[Callable[[str], QueueReader]]:
    readers: list[QueueReader] = []

    def make(queue: str) -> QueueReader:
        reader = QueueReader(broker.url, queue)
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()


class RelayThread:
    """A Relay running in a plain thread, stopped and joined on exit."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"relay-{relay.name}", daemon=True)

    def _run(self) -> None:
        try:
            self.relay.run()
        except BaseException as exc:
            self.error = exc
            raise

    def __enter__(self) -> Relay:
        self.thread.start()
        return self.relay

    def __exit__(self, *exc: object) -> None:
        self.relay.stop()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "relay did not stop within 60 s"
        assert self.error is None, f"relay thread crashed: {self.error!r}"


def make_relay(
    broker: Broker,
    store: SQLiteEventStore,
    checkpoint: SQLiteCheckpointStore,
    name: str = "relay",
    **kwargs: Any,
) -> Relay:
    return Relay(store, broker.url, checkpoint, name, topology=broker.topology, **kwargs)


def positions(messages: list[Any]) -> list[int]:
    return [int(m.headers["x-position"]) for m in messages]


def assert_complete_and_ordered(positions_seen: list[int], expected: list[int]) -> int:
    """Every expected position arrived, first arrivals are in log order; returns the
    number of duplicates (which at-least-once delivery allows)."""
    first_seen: list[int] = []
    seen: set[int] = set()
    for position in positions_seen:
        if position not in seen:
            seen.add(position)
            first_seen.append(position)
    missing = sorted(set(expected) - seen)
    assert not missing, f"{len(missing)} events never arrived, first: {missing[:10]}"
    assert first_seen == sorted(first_seen), "events first arrived out of log order"
    assert seen == set(expected)
    return len(positions_seen) - len(seen)


def events_by_position(store: SQLiteEventStore) -> dict[int, RecordedEvent]:
    """The test's own events (not the log's identity), by position."""
    return {event.position: event for event in store.read_all(from_position=FIRST_POSITION)}


def relayed_positions(head: int) -> list[int]:
    """The positions a relay publishes from a filled log whose head is `head`."""
    return list(range(FIRST_POSITION, head + 1))


# ---------------------------------------------------------------- nameko workers

WORKER = Path(__file__).with_name("nameko_worker.py")


class Worker:
    """The nameko worker subprocess: started with params, stopped with SIGTERM."""

    def __init__(self, params: dict[str, Any], output: Path) -> None:
        self._output = output.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(params)],
            stdout=subprocess.PIPE,
            stderr=self._output,
            env=env,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        assert ready, f"worker did not start; see {output}"
        line = self.process.stdout.readline()
        assert line, f"worker exited at startup; see {output}"
        self.metrics_port = int(json.loads(line)["metrics_port"])

    def metric(self, name: str, **labels: str) -> float:
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics").read()
        wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
        for line in text.decode().splitlines():
            if line.startswith(f"{name}{{{wanted}}} "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            self._output.close()


@pytest.fixture
def start_worker(broker: Broker, log_path: Path, tmp_path: Path) -> Iterator[Any]:
    workers: list[Worker] = []

    def start(mode: str, queue: str, **params: Any) -> Worker:
        worker = Worker(
            {
                "mode": mode,
                "broker": broker.url,
                "prefix": broker.prefix,
                "queue": queue,
                "log": str(log_path),
                **params,
            },
            tmp_path / f"worker-{len(workers)}.log",
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        assert worker.stop() == 0, "nameko worker did not shut down cleanly"


def follow(store: SQLiteEventStore, count: int, timeout: float, **filter_: Any) -> list[Any]:
    """Wait on the log (not the clock) until `count` matching events exist."""
    subscription = store.subscribe(from_position=1, filter=EventFilter.of(**filter_))
    found: list[RecordedEvent] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(found)} of {count} events after {timeout}s"
            event = subscription.next_event(timeout=left)
            if event is not None:
                found.append(event)
    finally:
        subscription.close()
    return found
