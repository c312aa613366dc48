"""kill -9 of the postmortem worker around reminder deadlines: every reminder slot is
sent exactly once per idempotency key, a send whose outcome was lost is repeated and
says so, and a restart never resends what was delivered.

The worker is `nameko run` in its own process group, on RabbitMQ with a private
exchange prefix and a SQLite log seeded by the test (an action item whose due date
passed while no worker ran). It dies at servicekit.faults points: after recording the
attempt and before sending ("postmortem.attempt-recorded"), or after sending and before
recording the outcome ("postmortem.sent"). Nothing sleeps: waits are on log events and
on the SMTP server's condition, each with a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from eventlog import EventFilter, FakeClock, Ownership, RecordedEvent
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from incident_service.app import IncidentApplication
from paging_service.app import PagingApplication
from postmortem_service.app import PostmortemApplication
from tests.broker import delete_prefix
from tests.conftest import BROKER_URL
from tests.receivers import Mailbox

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "services" / "postmortem" / "config.yaml"
WAIT = 30.0


@dataclass
class Rig:
    tmp: Path
    log_path: Path
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    seen: list[RecordedEvent] = field(default_factory=list)

    def open_as(self, writer: str, clock: FakeClock) -> SQLiteEventStore:
        return SQLiteEventStore(
            self.log_path, writer=writer, ownership=Ownership.platform(), clock=clock
        )

    def overdue_item(self, title: str) -> uuid.UUID:
        """An incident resolved ten days ago and an action item of its postmortem due
        three days ago (17:00 UTC): its "due" reminder fell due while no worker ran."""
        past = FakeClock(datetime.now(UTC) - timedelta(days=10))
        incidents = IncidentApplication(self.open_as("incident", past), past)
        declared = incidents.declare(
            title="Checkout 5xx", severity="P3", services=["checkout"], declared_by="alice"
        )
        incidents.execute(
            declared.incident_id, inc.Resolve, actor="alice", summary="fixed", resolved_by="alice"
        )
        app = PostmortemApplication(self.open_as("postmortem", past), past)
        resolved = incidents.store.read_stream(inc.stream_for(declared.incident_id))[-1]
        app.incident_resolved(declared.incident_id, causation_id=str(resolved.id))
        due = (datetime.now(UTC) - timedelta(days=3)).date()
        item = app.add_action_item(
            declared.incident_id, kind="technical", title=title, owner="alice",
            due_on=due, by="alice",
        ).state  # fmt: skip
        assert item.action_id is not None
        return item.action_id

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        log_file = self.tmp / f"worker-{len(self.workers) + 1}.log"
        with log_file.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG),
                 "postmortem_service.worker"],
                env={**self.env, **env}, cwd=self.tmp, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.workers.append(worker)
        return worker

    def output(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in self.tmp.glob("worker-*.log")
        )

    def wait(self, event_type: str, count: int = 1, **data: object) -> list[RecordedEvent]:
        store = self.open_as("postmortem", FakeClock())
        deadline = time.monotonic() + WAIT
        try:
            subscription = store.subscribe(
                from_position=1, filter=EventFilter.of(categories=["action"]), poll_interval=0.05
            )
            seen: list[RecordedEvent] = []
            while True:
                found = [
                    e for e in seen
                    if e.type == event_type and all(e.data.get(k) == v for k, v in data.items())
                ]  # fmt: skip
                if len(found) >= count:
                    subscription.close()
                    self.seen = seen
                    return found
                event = subscription.next_event(timeout=max(deadline - time.monotonic(), 0.0))
                if event is None:
                    raise AssertionError(
                        f"no {count} x {event_type} {data}; saw {[e.type for e in seen]}\n"
                        + self.output()
                    )
                seen.append(event)
        finally:
            store.close()


@pytest.fixture
def rig(tmp_path: Path, smtp_server: tuple[str, int, Mailbox]) -> Iterator[Rig]:
    host, port, _ = smtp_server
    log_path = tmp_path / "log.db"
    prefix = f"pmtest{uuid.uuid4().hex[:8]}"
    clock = FakeClock(datetime.now(UTC) - timedelta(days=30))
    paging = PagingApplication(
        SQLiteEventStore(log_path, writer="paging", ownership=Ownership.platform(), clock=clock),
        clock,
    )
    paging.register_user(
        "alice", "Alice Example", "UTC",
        contact_methods=[{"method_id": "email", "kind": "email", "address": "alice@example.com"}],
    )  # fmt: skip
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
        "FIREWATCH_BROKER_URL": BROKER_URL,
        "FIREWATCH_EXCHANGE_PREFIX": prefix,
        "FIREWATCH_SMTP_HOST": host,
        "FIREWATCH_SMTP_PORT": str(port),
        "FIREWATCH_POSTMORTEM_OUTCOME_TIMEOUT_SECONDS": "2",
        "FIREWATCH_POSTMORTEM_SENDER": "pm-test",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    env.pop("FIREWATCH_FAULT_POINTS", None)
    rig = Rig(tmp_path, log_path, env)
    try:
        yield rig
    finally:
        for worker in rig.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
        delete_prefix(prefix)


def reminders(mailbox: Mailbox, title: str, count: int) -> list[EmailMessage]:
    mailbox.wait_for(len(mailbox.messages) if count == 0 else count, timeout=WAIT)
    return [mailbox.claim(lambda m: title in str(m["Subject"])) for _ in range(count)]


def test_killed_after_sending_the_reminder_is_repeated_once_and_labelled(
    rig: Rig, smtp_server: tuple[str, int, Mailbox]
) -> None:
    mailbox = smtp_server[2]
    rig.overdue_item("Raise the pool limit")
    dying = rig.start_worker(FIREWATCH_FAULT_POINTS="postmortem.sent")
    assert dying.wait(timeout=WAIT) != 0  # died at the fault point, outcome unrecorded
    rig.start_worker()
    rig.wait("ReminderDelivered", slot="due")
    first, repeat = reminders(mailbox, "Raise the pool limit", 2)
    assert "(possible repeat)" not in str(first["Subject"])
    assert "(possible repeat)" in str(repeat["Subject"])
    assert first["Message-ID"] == repeat["Message-ID"]  # receivers can drop the repeat
    attempts = [e for e in rig.seen if e.type == "ReminderAttempted"]
    assert [(e.data["slot"], e.data["attempt"]) for e in attempts] == [("due", 1), ("due", 2)]


def test_killed_before_sending_the_reminder_still_arrives_exactly_once(
    rig: Rig, smtp_server: tuple[str, int, Mailbox]
) -> None:
    mailbox = smtp_server[2]
    rig.overdue_item("Add a saturation alert")
    dying = rig.start_worker(FIREWATCH_FAULT_POINTS="postmortem.attempt-recorded")
    assert dying.wait(timeout=WAIT) != 0
    assert mailbox.messages == []
    rig.start_worker()
    rig.wait("ReminderDelivered", slot="due")
    (only,) = reminders(mailbox, "Add a saturation alert", 1)
    assert "(possible repeat)" in str(only["Subject"])  # honest: it cannot know


def test_a_delivered_reminder_is_never_resent_after_kill_9(
    rig: Rig, smtp_server: tuple[str, int, Mailbox]
) -> None:
    mailbox = smtp_server[2]
    rig.overdue_item("Document the rollback")
    worker = rig.start_worker()
    rig.wait("ReminderDelivered", slot="due")
    reminders(mailbox, "Document the rollback", 1)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=WAIT)
    rig.start_worker()
    # A second item due while the worker was down: its reminder proves the restarted
    # worker ticked, and the first item's is not among what it sent.
    rig.overdue_item("Review the alert thresholds")
    rig.wait("ReminderDelivered", count=2, slot="due")
    reminders(mailbox, "Review the alert thresholds", 1)
    assert not any("Document the rollback" in m for m in mailbox.unclaimed())
    attempts = [e for e in rig.seen if e.type == "ReminderAttempted"]
    assert len(attempts) == 2
