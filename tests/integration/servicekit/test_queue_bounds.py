"""No queue grows with load (issue 8): under sustained traffic in which most event types
have no consumer, every queue the topology declares drains back to empty, nothing
collects the unbound types, and what the broker did not keep is counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import amqp.exceptions
import pytest

from eventlog import EventFilter, EventMetadata, NewEvent, RecordedEvent, StreamState
from eventlog.sqlite import SQLiteEventStore
from servicekit import metrics
from servicekit.checkpoint import SQLiteCheckpointStore
from servicekit.topology import QueueBinding, exponential_delays

from .conftest import Broker, RelayThread, follow, make_relay

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

BOUND = "IncidentDeclared"
UNBOUND = (
    "SeverityChanged",
    "CommanderAssigned",
    "StatusChanged",
    "MitigationApplied",
    "TimelineNoteAdded",
    "AlertAttached",
    "SourceAlertsResolved",
    "SourceAlertAcknowledged",
    "RootCauseFollowUpRequired",
    "IncidentResolved",
    "IncidentReopened",
)
"""Like the platform: about eleven event types per alert that no consumer binds."""
ROUNDS = 3
INCIDENTS_PER_ROUND = 200


def _load(store: SQLiteEventStore, round_no: int) -> tuple[int, int]:
    """One incident's worth of events per stream: 1 bound type, 11 unbound; returns the
    number of unbound events appended and the position of the last one."""
    last = 0
    for n in range(INCIDENTS_PER_ROUND):
        stream = f"incident-r{round_no}-{n}"
        events = [BOUND, *UNBOUND]
        result = store.append(
            stream,
            [NewEvent(t, {"n": n}, metadata=EventMetadata(correlation_id=stream)) for t in events],
            StreamState.NO_STREAM,
        )
        last = result.positions[-1]
    return INCIDENTS_PER_ROUND * len(UNBOUND), last


def _unrouted(relay: str) -> float:
    return sum(
        metrics.RELAY_UNROUTED.labels(relay, t)._value.get()  # type: ignore[attr-defined]
        for t in UNBOUND
    )


def test_sustained_load_leaves_every_queue_empty_and_counts_what_nobody_binds(
    broker: Broker, store: SQLiteEventStore, tmp_path: Path, start_worker: Any
) -> None:
    queue = broker.queue_name("bounded")
    # The worker's decorator declares the same queues (same delays).
    binding = QueueBinding(queue, "incident", [BOUND], exponential_delays(5, 0.05, 2.0))
    broker.declare(binding)
    declared = [spec.name for spec in broker.topology.queue_specs(binding)]
    assert len(declared) == 1 + 1 + 4, "main, parking and four retry queues"
    # Flaky: every event fails twice, so the retry queues carry traffic too.
    start_worker("flaky", queue, event_types=[BOUND])
    checkpoint = SQLiteCheckpointStore(tmp_path / "cp.db")
    relay = make_relay(
        broker, store, checkpoint, "bounds", filter=EventFilter.of(categories=["incident"])
    )
    depths_after: list[dict[str, int]] = []
    handled: list[RecordedEvent] = []

    with RelayThread(relay):
        for round_no in range(ROUNDS):
            before = _unrouted("bounds")
            unbound, last_position = _load(store, round_no)
            # Not the log's head: the worker appends its own (unrelayed) events meanwhile,
            # and a filtered relay's checkpoint only moves past events it relays.
            assert relay.wait_for_checkpoint(last_position, timeout=120)
            # Every bound event handled (after its two retries) means the consumer has
            # caught up; only then is a depth meaningful.
            expected = (round_no + 1) * INCIDENTS_PER_ROUND
            handled = follow(store, expected, timeout=120, event_types=["ChannelOpened"])
            assert _unrouted("bounds") - before == unbound
            depths_after.append(_depths(broker, declared))

    assert len({event.data["input_id"] for event in handled}) == ROUNDS * INCIDENTS_PER_ROUND
    # 6,600 unbound events went through; the broker holds none of them, and every queue
    # is as empty after the third round as after the first.
    assert depths_after == [dict.fromkeys(declared, 0)] * ROUNDS
    with pytest.raises(amqp.exceptions.NotFound):
        broker.message_count(f"{broker.prefix}.unrouted")


def _depths(broker: Broker, queues: list[str]) -> dict[str, int]:
    # Read once the consumer has caught up: nothing is in flight any more (the last
    # attempt of every bound event succeeded, so no copy is waiting in a retry queue).
    return {queue: broker.message_count(queue) for queue in queues}
