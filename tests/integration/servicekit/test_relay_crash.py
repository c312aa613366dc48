"""Crash safety: the relay process is killed with SIGKILL at random points while it
publishes, restarted each time, and nothing is lost."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eventlog.sqlite import SQLiteEventStore
from servicekit.checkpoint import SQLiteCheckpointStore
from servicekit.topology import QueueBinding

from .conftest import Broker, assert_complete_and_ordered, fill, positions, relayed_positions

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

EVENTS = 6000
KILLS = 5


def _start_relay(
    broker: Broker, log_path: Path, checkpoint_path: Path, output: Any
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "servicekit.relay",
            "--store-url",
            f"sqlite:///{log_path}",
            "--broker-url",
            broker.url,
            "--checkpoint",
            f"sqlite:///{checkpoint_path}",
            "--name",
            "crashy",
            "--exchange-prefix",
            broker.prefix,
            "--window",
            "64",
        ],
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def test_relay_killed_repeatedly_loses_nothing(
    broker: Broker,
    store: SQLiteEventStore,
    log_path: Path,
    tmp_path: Path,
    reader_factory: Any,
    record_property: Any,
) -> None:
    queue = broker.queue_name("crash")
    broker.declare(QueueBinding(queue, "incident", ["#"]))
    head = fill(store, EVENTS)
    expected = relayed_positions(head)
    checkpoint_path = tmp_path / "checkpoints.db"
    reader = reader_factory(queue)
    rng = random.Random()
    kills: list[tuple[int, int]] = []  # (unique events seen, checkpoint) at each kill

    with (tmp_path / "relay.log").open("wb") as output:
        for round_no in range(KILLS):
            process = _start_relay(broker, log_path, checkpoint_path, output)
            try:
                # A random point: after a random number of new events reach the queue.
                seen = len(reader.unique_positions)
                left = len(expected) - seen
                target = seen + rng.randint(1, max(1, left // (KILLS - round_no + 1)))
                reader.wait_for_positions(target, timeout=60)
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
            cp = SQLiteCheckpointStore(checkpoint_path)
            kills.append((len(reader.unique_positions), cp.load("crashy")))
            cp.close()

        process = _start_relay(broker, log_path, checkpoint_path, output)
        try:
            reader.wait_for_positions(len(expected), timeout=120)
        finally:
            # A clean stop: SIGTERM lets it finish its window's confirms.
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0

    # Every publisher has stopped: whatever is still queued is a duplicate.
    delivered = positions(reader.take_rest())
    duplicates = assert_complete_and_ordered(delivered, expected)
    ids = [m.properties["message_id"] for m in reader.messages]
    assert len(set(ids)) == len(expected), "deduplicating by event id must leave one each"
    mid_stream = sum(1 for _, checkpoint in kills if checkpoint < head)
    record_property("duplicates", duplicates)
    record_property("kills", kills)
    print(
        f"\n{KILLS} SIGKILLs at (seen, checkpoint) {kills}; {mid_stream} mid-stream; "
        f"{len(delivered)} deliveries of {head} events, {duplicates} duplicates"
    )
    assert mid_stream >= 3, "most kills should land while the relay is still publishing"
