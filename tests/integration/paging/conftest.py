"""The paging worker's real surroundings: a SQLite log, RabbitMQ, the relay, the worker
and the ack-link server as subprocesses, and a watcher that waits on log positions.

- The incident service is played by an incident-owned store handle: the test appends
  IncidentDeclared / SeverityChanged / IncidentResolved exactly as the incident service
  would, and the relay (a thread here, with a unique exchange prefix) publishes them.
- Users and policies are created through a paging-owned PagingApplication in the test
  process (what the gRPC API and CLI do in production).
- The worker is `nameko run` in its own process group (`start_worker` / `kill_worker`
  with SIGKILL), so nothing here is monkey-patched.
- Nothing sleeps: waits are on log events (`LogWatcher`) or on the receivers'
  conditions, each with a deadline.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest
from kombu import Connection

from eventlog import EventFilter, NewEvent, Ownership, RecordedEvent, StreamState
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from paging_service.app import PagingApplication
from paging_service.worker import QUEUE_BINDINGS
from servicekit.checkpoint import open_checkpoint_store
from servicekit.relay import Relay
from servicekit.topology import Topology
from tests.conftest import BROKER_URL

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "services" / "paging" / "config.yaml"
SECRET = "paging-integration-test-secret-0123456789abcdef"
POLICY = "oncall"
WORKER = "paging_service.worker"
WAIT = 30.0
"""Deadline of each wait: generous for a loaded CI machine; success takes milliseconds."""


class LogWatcher:
    """Follows the paging categories from position 1 and remembers what it saw, so a
    test can wait for the n-th event matching a predicate without ever missing one."""

    def __init__(self, store: SQLiteEventStore) -> None:
        self.subscription = store.subscribe(
            from_position=1,
            filter=EventFilter.of(categories=["escalation", "page", "sender"]),
            poll_interval=0.05,
        )
        self.seen: list[RecordedEvent] = []

    def matching(self, predicate: Callable[[RecordedEvent], bool]) -> list[RecordedEvent]:
        return [e for e in self.seen if predicate(e)]

    def of_type(self, event_type: str, **data: Any) -> list[RecordedEvent]:
        return self.matching(lambda e: _is(e, event_type, data))

    def wait(
        self,
        event_type: str,
        count: int = 1,
        timeout: float = WAIT,
        **data: Any,
    ) -> list[RecordedEvent]:
        """Until `count` events of `event_type` whose data contains `data` were seen."""
        deadline = time.monotonic() + timeout
        while len(found := self.of_type(event_type, **data)) < count:
            remaining = deadline - time.monotonic()
            event = self.subscription.next_event(timeout=max(remaining, 0.0))
            if event is None:
                raise AssertionError(
                    f"waited {timeout}s for {count} x {event_type} {data or ''}; saw "
                    f"{[e.type for e in self.seen]}"
                )
            self.seen.append(event)
        return found

    def close(self) -> None:
        self.subscription.close()


def _is(event: RecordedEvent, event_type: str, data: dict[str, Any]) -> bool:
    return event.type == event_type and all(event.data.get(k) == v for k, v in data.items())


@dataclass
class Platform:
    tmp: Path
    log_path: Path
    prefix: str
    incident: SQLiteEventStore
    paging: PagingApplication
    watcher: LogWatcher
    env: dict[str, str]
    smtp: tuple[str, int]
    ack_base: str = ""
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    numbers: int = 0

    # ---------------------------------------------------------------- processes

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        log_file = self.tmp / f"worker-{len(self.logs) + 1}.log"
        self.logs.append(log_file)
        with log_file.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG), WORKER],
                env={**self.env, **env},
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.workers.append(worker)
        return worker

    def kill_worker(self) -> None:
        """SIGKILL: no graceful stop, no drain, no outcome reported."""
        worker = self.workers[-1]
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    def stop_workers(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()

    def worker_output(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-6000:]}" for p in self.logs
        )

    # ---------------------------------------------------------------- the incident service

    def declare(
        self,
        title: str = "checkout 5xx above 1%",
        severity: str = "P1",
        services: tuple[str, ...] = ("checkout",),
    ) -> uuid.UUID:
        """Append IncidentDeclared as the incident service does (its own stream)."""
        self.numbers += 1
        incident_id = uuid.uuid4()
        data = {
            "declared_at": datetime.now(UTC).isoformat(),
            "declared_by": "alice",
            "incident_id": str(incident_id),
            "number": self.numbers,
            "services": list(services),
            "severity": severity,
            "source_alerts": [],
            "title": title,
        }
        self.incident.append(
            f"incident-{incident_id}",
            [NewEvent("IncidentDeclared", data)],
            StreamState.NO_STREAM,
        )
        return incident_id

    def change_severity(self, incident_id: uuid.UUID, to: str) -> None:
        stream = f"incident-{incident_id}"
        data = {
            "changed_at": datetime.now(UTC).isoformat(),
            "changed_by": "carol",
            "from_severity": "P1",
            "reason": "EU only",
            "to_severity": to,
        }
        version = self.incident.current_version(stream)
        assert version is not None
        self.incident.append(stream, [NewEvent("SeverityChanged", data)], version)

    def resolve(self, incident_id: uuid.UUID) -> None:
        stream = f"incident-{incident_id}"
        data = {
            "resolved_at": datetime.now(UTC).isoformat(),
            "resolved_by": "carol",
            "root_cause_pending": False,
            "summary": "rolled back",
        }
        version = self.incident.current_version(stream)
        assert version is not None
        self.incident.append(stream, [NewEvent("IncidentResolved", data)], version)

    # ---------------------------------------------------------------- paging configuration

    def user(self, user_id: str, *methods: tuple[str, str], rules: list[Any] | None = None) -> None:
        """Register a user with (kind, address) contact methods, named by their kind."""
        self.paging.register_user(
            user_id,
            user_id.title(),
            "UTC",
            contact_methods=[
                {"method_id": kind, "kind": kind, "address": address} for kind, address in methods
            ],
            notification_rules=rules,
        )

    def policy(self, *levels: str, delay_minutes: int = 1) -> None:
        self.paging.create_policy(
            POLICY,
            "On call",
            [{"targets": [f"user:{u}"], "delay_minutes": delay_minutes} for u in levels],
        )


def _first_line(stream: IO[str], timeout: float) -> str:
    """The first line of a child's output; the rest is drained so its pipe never fills."""
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError("firewatch-paging-http did not start") from None


@pytest.fixture
def platform(tmp_path: Path, smtp_server: tuple[str, int, Any]) -> Iterator[Platform]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    topology = Topology(prefix)
    log_path = tmp_path / "log.db"
    incident = SQLiteEventStore(log_path, writer="incident", ownership=Ownership.platform())
    paging_store = SQLiteEventStore(log_path, writer="paging", ownership=Ownership.platform())
    paging = PagingApplication(paging_store, system_clock, ack_secret=SECRET.encode())
    with Connection(BROKER_URL) as connection:
        topology.declare(connection, QUEUE_BINDINGS)
    relay = Relay(
        incident,
        BROKER_URL,
        open_checkpoint_store(f"sqlite:///{tmp_path / 'cp.db'}"),
        "t",
        EventFilter.of(categories=["incident"]),
        topology=topology,
    )
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()
    host, port, _ = smtp_server
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
        "FIREWATCH_BROKER_URL": BROKER_URL,
        "FIREWATCH_EXCHANGE_PREFIX": prefix,
        "FIREWATCH_SMTP_HOST": host,
        "FIREWATCH_SMTP_PORT": str(port),
        "FIREWATCH_PAGING_ACK_SECRET": SECRET,
        "FIREWATCH_PAGING_DEFAULT_POLICY": POLICY,
        # Seconds instead of minutes, so retries and timeouts happen within a test.
        "FIREWATCH_PAGING_RETRY_BASE_SECONDS": "1",
        "FIREWATCH_PAGING_RETRY_FACTOR": "1",
        "FIREWATCH_PAGING_OUTCOME_TIMEOUT_SECONDS": "60",
        "FIREWATCH_PAGING_HTTP_HOST": "127.0.0.1",
        "FIREWATCH_PAGING_HTTP_PORT": "0",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "PYTHONUNBUFFERED": "1",
    }
    http = subprocess.Popen(
        [sys.executable, "-m", "paging_service.http"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watcher = LogWatcher(paging_store)
    found = Platform(tmp_path, log_path, prefix, incident, paging, watcher, env, (host, port))
    try:
        assert http.stdout is not None
        line = _first_line(http.stdout, WAIT)
        assert "listening on http://" in line, line
        found.ack_base = line.split("listening on ", 1)[1].strip() + "/ack"
        found.env["FIREWATCH_PAGING_ACK_URL_BASE"] = found.ack_base
        yield found
    finally:
        found.stop_workers()
        http.terminate()
        http.wait(timeout=30)
        watcher.close()
        relay.stop()
        relay_thread.join(timeout=30)
        with Connection(BROKER_URL) as connection:
            topology.delete(connection, QUEUE_BINDINGS)
        print(found.worker_output())  # shown by pytest only when the test failed
        paging_store.close()
        incident.close()
