"""The communications worker as a real process: the war room's feed, and the worker
killed (os._exit, like SIGKILL) exactly between recording a delivery and making it, and
between making it and recording its outcome (ADR 0015).

Real surroundings: a SQLite log, RabbitMQ, the relay (a thread), `nameko run` of the
worker in its own process, a real SMTP server and HTTP receiver. The incident service
is played by an incident-owned store handle. Nothing sleeps: waits are on the
receivers' conditions or log events, with deadlines.

After the restart every destination has the message; a second copy exists only when
the first may have left, and it is marked "(possible repeat)" with the first copy's
Message-ID / Idempotency-Key. Nobody gets an update twice unlabelled; none is lost.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from comms_service.app import CommsApplication
from comms_service.worker import QUEUE_BINDINGS
from eventlog import EventFilter, NewEvent, Ownership, StreamState
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from servicekit.checkpoint import open_checkpoint_store
from servicekit.faults import FAULT_EXIT_CODE
from servicekit.relay import Relay
from servicekit.topology import Topology
from tests.conftest import BROKER_URL
from tests.receivers import HttpReceiver, Mailbox

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "services" / "comms" / "config.yaml"
WAIT = 30.0


# The crash test also opens a Slack-compatible war room, so the unknown-outcome rule is
# shown for every destination kind; the other tests keep one webhook and one email.
WITH_SLACK_WAR_ROOM = {"test_a_killed_worker_loses_no_message_and_every_repeat_is_labelled"}


@pytest.fixture
def surroundings(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    smtp_server: tuple[str, int, Mailbox],
    http_receiver: HttpReceiver,
) -> Iterator[dict[str, Any]]:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    topology = Topology(prefix)
    log_path = tmp_path / "log.db"
    incident = SQLiteEventStore(log_path, writer="incident", ownership=Ownership.platform())
    comms_store = SQLiteEventStore(
        log_path, writer="communications", ownership=Ownership.platform()
    )
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
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "war_room:\n"
        f"  - {{channel_id: war, kind: webhook, address: '{http_receiver.url('/war')}'}}\n"
        + (
            f"  - {{channel_id: chat, kind: slack, address: '{http_receiver.url('/chat')}'}}\n"
            if request.node.originalname in WITH_SLACK_WAR_ROOM
            else ""
        )
        + "stakeholder:\n"
        "  - {channel_id: execs, kind: email, address: execs@example.com}\n",
        encoding="utf-8",
    )
    host, port, mailbox = smtp_server
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
        "FIREWATCH_BROKER_URL": BROKER_URL,
        "FIREWATCH_EXCHANGE_PREFIX": prefix,
        "FIREWATCH_SMTP_HOST": host,
        "FIREWATCH_SMTP_PORT": str(port),
        "FIREWATCH_COMMS_CHANNELS_FILE": str(channels),
        "FIREWATCH_COMMS_SENDER": "comms-0",
        # Only the restart can recover an unknown outcome within the test.
        "FIREWATCH_COMMS_OUTCOME_TIMEOUT_SECONDS": "600",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "PYTHONUNBUFFERED": "1",
    }
    workers: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(**extra: str) -> subprocess.Popen[bytes]:
        log_file = tmp_path / f"worker-{len(logs) + 1}.log"
        logs.append(log_file)
        with log_file.open("wb") as out:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nameko",
                    "run",
                    "--config",
                    str(CONFIG),
                    "comms_service.worker",
                ],
                env={**env, **extra},
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        workers.append(worker)
        return worker

    def declare() -> uuid.UUID:
        incident_id = uuid.uuid4()
        data = {
            "declared_at": datetime.now(UTC).isoformat(),
            "declared_by": "alice",
            "incident_id": str(incident_id),
            "number": 1,
            "services": ["checkout"],
            "severity": "P1",
            "source_alerts": [],
            "title": "checkout 5xx",
        }
        incident.append(
            f"incident-{incident_id}", [NewEvent("IncidentDeclared", data)], StreamState.NO_STREAM
        )
        return incident_id

    try:
        yield {
            "comms": CommsApplication(comms_store, system_clock),
            "start": start,
            "declare": declare,
            "mailbox": mailbox,
            "http": http_receiver,
            "log": incident,
            "output": lambda: "\n".join(p.read_text(errors="replace")[-4000:] for p in logs),
        }
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        relay.stop()
        thread.join(timeout=30)
        with Connection(BROKER_URL) as connection:
            topology.delete(connection, QUEUE_BINDINGS)
        for p in logs:
            print(p.read_text(errors="replace")[-4000:])
        comms_store.close()
        incident.close()


def settled(log: SQLiteEventStore, timeout: float = WAIT) -> None:
    """Until every dispatch target in the log has a recorded delivery (follows the log
    with a subscription, never sleeps)."""
    deadline = time.monotonic() + timeout
    targets: set[tuple[str, str]] = set()
    delivered: set[tuple[str, str]] = set()
    subscription = log.subscribe(
        from_position=1, filter=EventFilter.of(categories=["dispatch"]), poll_interval=0.05
    )
    try:
        while not (targets and targets <= delivered):
            e = subscription.next_event(timeout=max(deadline - time.monotonic(), 0.0))
            if e is None:
                raise AssertionError(f"deliveries never settled: {targets - delivered}")
            if e.type == "DispatchQueued":
                targets |= {(e.stream, t["target_id"]) for t in e.data["targets"]}
            elif e.type == "DeliveryOutcomesRecorded":
                delivered |= {
                    (e.stream, o["target_id"]) for o in e.data["outcomes"] if o["delivered"]
                }
    finally:
        subscription.close()


@pytest.mark.parametrize("point", ["comms.attempt-recorded", "comms.sent"])
def test_a_killed_worker_loses_no_message_and_every_repeat_is_labelled(
    surroundings: dict[str, Any], point: str
) -> None:
    crashing = surroundings["start"](FIREWATCH_FAULT_POINTS=point)
    surroundings["declare"]()
    try:
        code = crashing.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the worker never reached {point}") from None
    assert code == FAULT_EXIT_CODE, surroundings["output"]()
    surroundings["start"]()
    settled(surroundings["log"])

    mailbox: Mailbox = surroundings["mailbox"]
    emails = mailbox.wait_for(1)
    for message in emails:
        mailbox.claim(lambda m, message=message: m is message)  # type: ignore[misc]
    every_post = surroundings["http"].wait_for(2)
    for post in every_post:
        surroundings["http"].claim(lambda r, post=post: r is post)  # type: ignore[misc]
    posts = [p for p in every_post if p.path == "/war"]  # the signed JSON webhook
    chats = [p for p in every_post if p.path == "/chat"]  # the Slack-compatible one

    # Email: at most one unlabelled copy, every other copy labelled with the same id.
    assert 1 <= len(emails) <= 2
    assert sum("(possible repeat)" not in m["Subject"] for m in emails) <= 1
    assert len({m["Message-ID"] for m in emails}) == 1
    assert 1 <= len(posts) <= 2
    assert sum(not p.json()["possible_repeat"] for p in posts) <= 1
    assert len({p.headers["Idempotency-Key"] for p in posts}) == 1
    assert all(p.headers["X-Firewatch-Signature"].startswith("sha256=") for p in posts)
    # Slack: the same rule, the label in the message text people read.
    assert 1 <= len(chats) <= 2
    assert sum("(possible repeat)" not in c.json()["text"] for c in chats) <= 1
    assert len({c.headers["Idempotency-Key"] for c in chats}) == 1
    if point == "comms.attempt-recorded":
        # Nothing had left, but the platform cannot know it: one copy each, labelled.
        assert len(emails) == 1
        assert "(possible repeat)" in emails[0]["Subject"]
        assert len(posts) == 1
        assert len(chats) == 1
        assert "(possible repeat)" in chats[0].json()["text"]


@pytest.mark.parametrize("point", ["comms.attempt-recorded", "comms.sent"])
def test_a_killed_worker_notifies_every_subscriber_once_or_labelled(
    surroundings: dict[str, Any], point: str
) -> None:
    comms: CommsApplication = surroundings["comms"]
    http: HttpReceiver = surroundings["http"]
    comms.add_component("api", "API", by="admin")
    for i in range(3):
        comms.add_webhook_subscriber(http.url(f"/sub{i}"), by="admin")
    status_id = comms.draft_status_incident(
        name="API errors", body="Investigating", by="alice", component_ids=["api"]
    ).state.drafted.status_incident_id
    comms.publish(status_id, by="alice")  # the notice is queued; the worker sends it
    crashing = surroundings["start"](FIREWATCH_FAULT_POINTS=point)
    try:
        code = crashing.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the worker never reached {point}") from None
    assert code == FAULT_EXIT_CODE, surroundings["output"]()
    surroundings["start"]()
    settled(surroundings["log"])
    posts = http.wait_for(3)
    for post in posts:
        http.claim(lambda r, post=post: r is post)  # type: ignore[misc]
    by_path: dict[str, list[Any]] = {}
    for post in posts:
        by_path.setdefault(post.path, []).append(post)
    assert set(by_path) == {f"/sub{i}" for i in range(3)}  # none lost
    for copies in by_path.values():
        assert 1 <= len(copies) <= 2
        assert sum(not c.json()["possible_repeat"] for c in copies) <= 1  # never twice unlabelled
        assert len({c.headers["Idempotency-Key"] for c in copies}) == 1
        assert copies[0].json()["incident"]["name"] == "API errors"


def test_the_war_room_gets_incident_changes_as_they_happen_and_stakeholders_only_updates(
    surroundings: dict[str, Any],
) -> None:
    surroundings["start"]()
    incident_id = surroundings["declare"]()
    stream = f"incident-{incident_id}"
    now = datetime.now(UTC).isoformat()
    log: SQLiteEventStore = surroundings["log"]
    log.append(
        stream,
        [
            NewEvent(
                "CommanderAssigned",
                {
                    "commander": "alice",
                    "previous_commander": None,
                    "assigned_by": "bob",
                    "assigned_at": now,
                },
            )
        ],
        0,
    )
    log.append(
        stream,
        [
            NewEvent(
                "StatusChanged",
                {
                    "from_status": "investigating",
                    "to_status": "identified",
                    "changed_by": "alice",
                    "changed_at": now,
                    "note": "bad deploy <1.4.2>",
                },
            )
        ],
        1,
    )
    http: HttpReceiver = surroundings["http"]
    posts = http.wait_for(3, timeout=WAIT)
    for post in posts:
        http.claim(lambda r, post=post: r is post)  # type: ignore[misc]
    bodies = [p.json()["body"] for p in posts]
    assert any("Incident commander: alice" in b for b in bodies)
    assert any("Status investigating -> identified (bad deploy <1.4.2>)" in b for b in bodies)
    assert all(p.path == "/war" for p in posts)
    mailbox: Mailbox = surroundings["mailbox"]
    [opened] = mailbox.wait_for(1)
    mailbox.claim(lambda m: m is opened)
    assert opened["Subject"].startswith("Stakeholder channel opened")
    settled(log)
    assert len(mailbox.messages) == 1  # no incident change reached the stakeholders
