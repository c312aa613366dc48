"""The real detection path, end to end: a tiny app's 5xx ratio crosses 1%, real
Prometheus fires, real Alertmanager delivers to the platform's webhook and to its
PagerDuty-compatible /v2/enqueue, detection groups the alert, the relay publishes the
group's events over RabbitMQ, and the incident worker declares the incident with the
mapped severity; after healing, the resolution reaches the incident's timeline.

Every wait is on the event log (a subscription with a deadline) or on an external
server's state; nothing sleeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from detection_service.app import DetectionApplication
from detection_service.routing import DetectionConfig
from eventlog import EventFilter, Ownership, RecordedEvent
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from incident_service.worker import QUEUE_BINDINGS
from servicekit.checkpoint import open_checkpoint_store
from servicekit.relay import Relay
from servicekit.topology import Topology
from tests.conftest import BROKER_URL
from tests.e2e.observability import Binaries, ObservabilityStack
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

DETECTION_CONFIG = """
group_by: [alertname, service]
severity_map: {critical: P1, error: P2, warning: P3, info: P4}
"""


def wait_for_line(process: subprocess.Popen[str], needle: str) -> None:
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if needle in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()  # keep draining
            return
    raise AssertionError(f"process exited before {needle!r}:\n" + "".join(seen))


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[dict[str, Any]]:
    log_path = tmp_path / "log.db"
    detection_store = SQLiteEventStore(log_path, writer="detection", ownership=Ownership.platform())
    setup = DetectionApplication(detection_store, system_clock, DetectionConfig())
    alertmanager_key = setup.create_integration(
        "alertmanager", "alertmanager", created_by="e2e"
    ).key
    pagerduty_key = setup.create_integration("pagerduty", "pagerduty", created_by="e2e").key
    config = tmp_path / "detection.yaml"
    config.write_text(DETECTION_CONFIG)

    prefix = f"e2e{uuid.uuid4().hex[:10]}"
    topology = Topology(prefix)
    with Connection(BROKER_URL) as connection:
        topology.declare(connection, QUEUE_BINDINGS)
    relay = Relay(
        SQLiteEventStore(log_path, ownership=Ownership.platform()),
        BROKER_URL,
        open_checkpoint_store(f"sqlite:///{tmp_path / 'cp.db'}"),
        "e2e",
        EventFilter.of(categories=["alertgroup"]),
        topology=topology,
    )
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()

    port = free_port()
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
        "FIREWATCH_BROKER_URL": BROKER_URL,
        "FIREWATCH_EXCHANGE_PREFIX": prefix,
        "FIREWATCH_DETECTION_CONFIG": str(config),
        "FIREWATCH_DETECTION_HTTP_PORT": str(port),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    detection = subprocess.Popen(
        [sys.executable, "-m", "detection_service.http"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nameko",
            "run",
            "--config",
            str(ROOT / "services/incident/config.yaml"),
            "incident_service.worker",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_line(detection, "detection HTTP on")
        wait_for_line(worker, "Connected to amqp")
        yield {
            "log": log_path,
            "base_url": f"http://127.0.0.1:{port}",
            "alertmanager_key": alertmanager_key,
            "pagerduty_key": pagerduty_key,
        }
    finally:
        for process in (detection, worker):
            process.terminate()
            process.wait(timeout=30)
        relay.stop()
        relay_thread.join(timeout=30)
        with Connection(BROKER_URL) as connection:
            topology.delete(connection, QUEUE_BINDINGS)


def next_of(subscription: Any, event_type: str, timeout: float) -> RecordedEvent:
    while True:
        event = subscription.next_event(timeout=timeout)
        assert event is not None, f"no {event_type} within {timeout} s"
        if event.type == event_type:
            return event


def test_a_real_alertmanager_alert_opens_an_incident_and_its_resolution_reaches_the_timeline(
    observability_binaries: Binaries, platform: dict[str, Any]
) -> None:
    reader = SQLiteEventStore(platform["log"], ownership=Ownership({}))
    incidents = reader.subscribe(from_position=1, filter=EventFilter.of(categories=["incident"]))
    base = platform["base_url"]
    try:
        with ObservabilityStack(
            webhook_url=f"{base}/v1/alertmanager",
            pagerduty_url=f"{base}/v2/enqueue",
            routing_key=platform["pagerduty_key"],
            webhook_token=platform["alertmanager_key"],
        ) as stack:
            stack.break_app()
            # The webhook and the PagerDuty integration each open a group, so two
            # incidents are declared, in whichever order the two deliveries arrive.
            declared = [next_of(incidents, "IncidentDeclared", timeout=90) for _ in range(2)]
            stack.heal_app()
            resolved = [next_of(incidents, "SourceAlertsResolved", timeout=90) for _ in range(2)]
    finally:
        incidents.close()

    by_severity = {event.data["severity"]: event for event in declared}
    # Alertmanager's webhook carries the rule's severity=critical label -> P1; its
    # PagerDuty integration always sends severity "error" -> P2 (routing defaults).
    assert set(by_severity) == {"P1", "P2"}, [e.data for e in declared]
    assert "checkout" in by_severity["P1"].data["services"]
    # The PagerDuty path names it through payload.component (README, "Which services").
    assert by_severity["P2"].data["services"] == ["checkout"]
    assert {e.stream for e in resolved} == {e.stream for e in declared}

    detection_events = list(reader.read_all(filter=EventFilter.of(categories=["alert"])))
    triggered = [e for e in detection_events if e.type == "AlertTriggered"]
    sources = {e.data.get("source") for e in triggered}
    assert {"alertmanager", "pagerduty"} <= sources, sources
    resolved_alerts = [e for e in detection_events if e.type == "AlertResolved"]
    assert len(resolved_alerts) >= 2, "both the webhook and the PagerDuty alert resolve"
