"""The whole alert → incident path on real RabbitMQ: detection's events, appended to the
log, are relayed with confirms and consumed by the incident worker (its own process),
which declares one incident per alert group and attaches later alerts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from eventlog import EventFilter, FakeClock, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore
from incident_service.worker import QUEUE_BINDINGS
from servicekit.checkpoint import open_checkpoint_store
from servicekit.relay import Relay
from servicekit.topology import Topology
from tests.broker import wait_until_consumed
from tests.conftest import BROKER_URL

CONFIG = Path(__file__).resolve().parents[3] / "services" / "incident" / "config.yaml"
pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[dict[str, Any]]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    topology = Topology(prefix)
    log_path = tmp_path / "log.db"
    detection = SQLiteEventStore(
        log_path, writer="detection", ownership=Ownership.platform(), clock=FakeClock()
    )
    with Connection(BROKER_URL) as connection:
        topology.declare(connection, QUEUE_BINDINGS)
    relay = Relay(
        detection,
        BROKER_URL,
        open_checkpoint_store(f"sqlite:///{tmp_path / 'cp.db'}"),
        "t",
        EventFilter.of(categories=["alertgroup"]),
        topology=topology,
    )
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
        "FIREWATCH_BROKER_URL": BROKER_URL,
        "FIREWATCH_EXCHANGE_PREFIX": prefix,
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG), "incident_service.worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # A fast test could otherwise stop the worker while it is still starting.
        wait_until_consumed(
            [topology.qualified(QUEUE_BINDINGS[0]).queue, topology.rpc_queue("incident")]
        )
        yield {"detection": detection, "log": log_path}
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        relay.stop()
        relay_thread.join(timeout=30)
        with Connection(BROKER_URL) as connection:
            topology.delete(connection, QUEUE_BINDINGS)


def test_a_firing_group_becomes_an_incident_and_later_alerts_join_its_timeline(
    platform: dict[str, Any],
) -> None:
    detection: SQLiteEventStore = platform["detection"]
    reader = SQLiteEventStore(platform["log"], ownership=Ownership({}))
    incidents = reader.subscribe(from_position=1, filter=EventFilter.of(categories=["incident"]))
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC).isoformat()
    detection.append(
        "alertgroup-g1",
        [
            NewEvent(
                "AlertGroupFiring",
                {
                    "group_id": "g1",
                    "group_key": "k",
                    "title": "checkout 5xx above 1%",
                    "labels": {"service": "checkout"},
                    "incident_severity": "P2",
                    "services": ["checkout"],
                    "alert_key": "alert-1",
                    "summary": "5xx ratio 3%",
                    "fired_at": now,
                },
            )
        ],
        StreamState.NO_STREAM,
    )
    detection.append(
        "alertgroup-g1",
        [
            NewEvent(
                "AlertGroupAlertAdded",
                {
                    "group_id": "g1",
                    "alert_key": "alert-2",
                    "summary": "latency",
                    "labels": {},
                    "severity": "warning",
                },
            )
        ],
        0,
    )
    try:
        declared = incidents.next_event(timeout=60)
        attached = incidents.next_event(timeout=60)
    finally:
        incidents.close()
    assert declared is not None, "the incident worker did not react"
    assert attached is not None, "the later alert was not attached"
    assert declared.type == "IncidentDeclared"
    assert declared.data["severity"] == "P2"
    assert attached.type == "AlertAttached"
    assert attached.stream == declared.stream
    assert attached.data["alert_key"] == "alert-2"
