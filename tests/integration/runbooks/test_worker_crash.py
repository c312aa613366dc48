"""kill -9 of the runbooks worker mid-action, against a real HTTP receiver on loopback
that counts calls: an idempotent action completes exactly once (one idempotency key;
a repeat says so), a non-idempotent one is never sent twice and the incident says
'outcome unknown, check by hand'.

The worker is `nameko run` in its own process group, on RabbitMQ with a private
exchange prefix and a SQLite log seeded by the test (a runbook with an automatic HTTP
step and an incident whose declaration already requested the run, as the worker's
handler does). It dies at servicekit.faults points, exactly like SIGKILL: after
recording the attempt and before calling ("runbooks.attempt-recorded"), or after the
call and before recording its result ("runbooks.sent"). The restarted worker runs in
the same slot, so it knows the attempt was lost at its first tick. Nothing sleeps:
waits are on log events and on the receiver's condition, each with a deadline.
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
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventlog import EventFilter, FakeClock, Ownership, RecordedEvent
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from incident_service.app import IncidentApplication
from runbooks_service.app import RunbooksApplication
from servicekit.faults import FAULT_EXIT_CODE
from tests.broker import delete_prefix
from tests.conftest import BROKER_URL
from tests.receivers import HttpReceiver

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "services" / "runbooks" / "config.yaml"
WAIT = 30.0


@dataclass
class Rig:
    tmp: Path
    log_path: Path
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    seen: list[RecordedEvent] = field(default_factory=list)

    def open_as(self, writer: str) -> SQLiteEventStore:
        clock = FakeClock(datetime.now(UTC))
        return SQLiteEventStore(
            self.log_path, writer=writer, ownership=Ownership.platform(), clock=clock
        )

    def declared_with_rollback(self, url: str, *, idempotent: bool) -> uuid.UUID:
        """A runbook whose rollback runs automatically, and an incident whose
        declaration requested it (what the worker's handler records)."""
        now = FakeClock(datetime.now(UTC))
        runbooks = RunbooksApplication(self.open_as("runbooks"), now)
        runbooks.publish(
            {
                "id": "checkout-5xx", "title": "Checkout 5xx", "services": ["checkout"],
                "steps": [{
                    "id": "rollback", "title": "Roll back", "kind": "http", "automatic": True,
                    "idempotent": idempotent,
                    "action": {"url": url, "body": '{"incident": "{{ incident.reference }}"}'},
                }],
            },
            by="alice",
        )  # fmt: skip
        incidents = IncidentApplication(self.open_as("incident"), now)
        declared = incidents.declare(
            title="Checkout 5xx", severity="P1", services=["checkout"], declared_by="alice"
        )
        event = incidents.store.read_stream(inc.stream_for(declared.incident_id))[0]
        runbooks.incident_declared(declared.incident_id, causation_id=str(event.id))
        return declared.incident_id

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        log_file = self.tmp / f"worker-{len(self.workers) + 1}.log"
        with log_file.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "nameko", "run", "--config", str(CONFIG),
                 "runbooks_service.worker"],
                env={**self.env, **env}, cwd=self.tmp, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.workers.append(worker)
        return worker

    def output(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in self.tmp.glob("worker-*.log")
        )

    def wait(self, event_type: str) -> list[RecordedEvent]:
        """Every action-ledger event up to the first `event_type`."""
        store = self.open_as("runbooks")
        deadline = time.monotonic() + WAIT
        try:
            subscription = store.subscribe(
                from_position=1, filter=EventFilter.of(categories=["rbaction"]), poll_interval=0.05
            )
            seen: list[RecordedEvent] = []
            while not any(e.type == event_type for e in seen):
                event = subscription.next_event(timeout=max(deadline - time.monotonic(), 0.0))
                if event is None:
                    raise AssertionError(
                        f"no {event_type}; saw {[e.type for e in seen]}\n{self.output()}"
                    )
                seen.append(event)
            subscription.close()
            self.seen = seen
            return seen
        finally:
            store.close()

    def of_type(self, event_type: str) -> list[RecordedEvent]:
        return [e for e in self.seen if e.type == event_type]


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    log_path = tmp_path / "log.db"
    prefix = f"rbtest{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log_path}",
        "FIREWATCH_BROKER_URL": BROKER_URL,
        "FIREWATCH_EXCHANGE_PREFIX": prefix,
        # Far beyond the test: only the restart in the same slot can recover the attempt.
        "FIREWATCH_RUNBOOKS_OUTCOME_TIMEOUT_SECONDS": "600",
        "FIREWATCH_RUNBOOKS_SENDER": "runbooks-0",
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


def crash_then_restart(rig: Rig, point: str) -> None:
    dying = rig.start_worker(FIREWATCH_FAULT_POINTS=point)
    try:
        code = dying.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the worker never reached {point}\n{rig.output()}") from None
    assert code == FAULT_EXIT_CODE, rig.output()
    rig.start_worker()


def test_idempotent_action_killed_before_the_call_is_sent_once_after_restart(
    rig: Rig, http_receiver: HttpReceiver
) -> None:
    rig.declared_with_rollback(http_receiver.url("/rollback"), idempotent=True)
    crash_then_restart(rig, "runbooks.attempt-recorded")
    rig.wait("ActionResultRecorded")
    [call] = http_receiver.wait_for(1)
    http_receiver.claim(lambda r: r is call)
    assert call.headers["X-Firewatch-Possible-Repeat"] == "true"  # it cannot know
    attempts = rig.of_type("ActionAttempted")
    assert [(a.data["attempt"], a.data["repeat_of"]) for a in attempts] == [(1, None), (2, 1)]
    assert rig.of_type("ActionResultRecorded")[0].data["outcome"] == "succeeded"


def test_idempotent_action_killed_after_the_call_completes_exactly_once_by_its_key(
    rig: Rig, http_receiver: HttpReceiver
) -> None:
    rig.declared_with_rollback(http_receiver.url("/rollback"), idempotent=True)
    crash_then_restart(rig, "runbooks.sent")
    rig.wait("ActionResultRecorded")
    first, repeat = http_receiver.wait_for(2)
    for call in (first, repeat):
        http_receiver.claim(lambda r, call=call: r is call)  # type: ignore[misc]
    # One idempotency key: a receiver that deduplicates applies it exactly once.
    assert first.headers["Idempotency-Key"] == repeat.headers["Idempotency-Key"]
    assert "X-Firewatch-Possible-Repeat" not in first.headers
    assert repeat.headers["X-Firewatch-Possible-Repeat"] == "true"
    assert len(rig.of_type("ActionResultRecorded")) == 1


def test_non_idempotent_action_killed_after_the_call_is_never_sent_again(
    rig: Rig, http_receiver: HttpReceiver
) -> None:
    rig.declared_with_rollback(http_receiver.url("/rollback"), idempotent=False)
    crash_then_restart(rig, "runbooks.sent")
    rig.wait("ActionOutcomeUnconfirmed")
    [only] = http_receiver.wait_for(1)
    http_receiver.claim(lambda r: r is only)
    assert rig.of_type("ActionAttempted")[-1].data["attempt"] == 1
    assert rig.of_type("ActionResultRecorded") == []


def test_non_idempotent_action_killed_before_the_call_is_not_sent_and_shows_unknown(
    rig: Rig, http_receiver: HttpReceiver
) -> None:
    rig.declared_with_rollback(http_receiver.url("/rollback"), idempotent=False)
    crash_then_restart(rig, "runbooks.attempt-recorded")
    rig.wait("ActionOutcomeUnconfirmed")
    assert http_receiver.requests == []
    assert len(rig.of_type("ActionAttempted")) == 1
