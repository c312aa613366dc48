"""The postmortem worker (nameko, eventlet): incident events in; reminders and change
webhooks out.

Thin adapter over `PostmortemApplication`:

    IncidentResolved          -> incident_resolved (opens or updates the postmortem)
    RootCauseFollowUpRequired -> follow_up_required (publishing will close it)
    every second              -> tick(): each reminder slot, retry and unknown-outcome
                                 resend that is due, exactly once; each returned Reminder
                                 is sent (notify, in a real thread) and its outcome
                                 recorded; then pending change webhooks are posted
                                 (recorded as attempted before, delivered after)

Fault points (servicekit.faults, armed only by tests): "postmortem.attempt-recorded"
(the attempt is in the log, nothing sent) and "postmortem.sent" (sent, outcome not
recorded). A crash at either is recovered after the outcome timeout: the reminder goes
out again, marked as a possible repeat with the first attempt's idempotency key.

The handler is `@reliable_handler` on the quorum queue `postmortem.incident`, declared
at deploy time (QUEUE_BINDINGS). Application calls are idempotent by derived event ids.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import eventlet
import eventlet.semaphore
from eventlet import tpool
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from pydantic import BaseModel, ConfigDict

from eventlog import RecordedEvent, open_store
from eventlog.clock import system_clock
from notify import DeliveryOutcome
from postmortem_service import webhooks
from postmortem_service.app import PostmortemApplication, Reminder
from postmortem_service.delivery import Courier
from postmortem_service.settings import PostmortemSettings
from servicekit import faults
from servicekit.consumer import reliable_handler
from servicekit.topology import QueueBinding

log = logging.getLogger(__name__)

SERVICE_NAME = "postmortem"
SOURCE_SERVICE = "incident"
EVENT_TYPES = ("IncidentResolved", "RootCauseFollowUpRequired")
INCIDENT_QUEUE = "postmortem.incident"
TICK_SECONDS = 1.0

QUEUE_BINDINGS: list[QueueBinding] = [QueueBinding(INCIDENT_QUEUE, SOURCE_SERVICE, EVENT_TYPES)]


class RootCauseFollowUpRequired(BaseModel):
    """Tolerant reader of the incident service's event."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    reason: str = ""
    temporary_mitigations: list[str] = []


def incident_id_of(event: RecordedEvent) -> uuid.UUID:
    return uuid.UUID(event.stream.partition("-")[2])


class Scribe:
    """One per worker process: the application, the courier, the lock and the sends."""

    def __init__(
        self,
        app: PostmortemApplication,
        courier: Courier,
        *,
        webhook_urls: list[str] | None = None,
        webhook_secret: bytes = b"",
        webhook_timeout: float = 10.0,
        run_blocking: Callable[..., Any] = tpool.execute,
    ) -> None:
        self.app = app
        self.courier = courier
        self.webhook_urls = webhook_urls or []
        self.webhook_secret = webhook_secret
        self.webhook_timeout = webhook_timeout
        self.lock = eventlet.semaphore.Semaphore(1)
        self.sends = eventlet.GreenPool(20)
        self.run_blocking = run_blocking

    def handle(self, event: RecordedEvent) -> None:
        cause = str(event.id)
        with self.lock:
            if event.type == "IncidentResolved":
                self.app.incident_resolved(incident_id_of(event), causation_id=cause)
            elif event.type == "RootCauseFollowUpRequired":
                data = RootCauseFollowUpRequired.model_validate(event.data)
                self.app.follow_up_required(
                    incident_id_of(event),
                    reason=data.reason,
                    temporary_mitigations=data.temporary_mitigations,
                    causation_id=cause,
                )

    def tick(self) -> int:
        with self.lock:
            reminders = self.app.tick()
            jobs = [(r, self._reference(r)) for r in reminders]
        for reminder, reference in jobs:
            self.sends.spawn_n(self._deliver, reminder, reference)
        for url in self.webhook_urls:
            try:
                self.push(url)
            except Exception:
                log.exception("postmortem: change webhooks to %s failed", url)
        return len(jobs)

    def _reference(self, reminder: Reminder) -> str:
        state = self.app.find_postmortem(reminder.incident_id)
        return f"INC-{state.number}" if state is not None and state.number else "incident"

    def _deliver(self, reminder: Reminder, reference: str) -> None:
        try:
            faults.point("postmortem.attempt-recorded")
            outcome: DeliveryOutcome = self.run_blocking(self.courier.send, reminder, reference)
            faults.point("postmortem.sent")
            with self.lock:
                self.app.record_reminder_outcome(
                    reminder.action_id,
                    reminder.slot,
                    reminder.target.key,
                    reminder.attempt,
                    delivered=outcome.delivered,
                    reason=outcome.reason,
                    permanent=outcome.permanent,
                    unknown=outcome.unknown,
                )
        except Exception:
            # Nothing is lost: the attempt without an outcome is sent again after its
            # deadline, marked as a possible repeat.
            log.exception("postmortem: reminder %s/%s failed", reminder.action_id, reminder.slot)

    def push(self, url: str) -> int:
        """Post the next batch of changes to one receiver; returns how many."""
        with self.lock:
            batch = self.app.next_webhook_batch(url)
        if batch is None:
            return 0
        for event in batch.events:
            payload = webhooks.body(event)
            headers = {
                "X-Firewatch-Event-Id": str(event.id),
                "X-Firewatch-Signature": webhooks.sign(
                    self.webhook_secret, payload, int(time.time())
                ),
            }
            if event.position <= batch.repeat_upto:
                headers["X-Firewatch-Possible-Repeat"] = "true"
            ok, reason = self.run_blocking(
                webhooks.post, url, payload, headers, self.webhook_timeout
            )
            if not ok:
                log.warning("postmortem: webhook %s refused %s: %s", url, event.id, reason)
                with self.lock:
                    if event.position > batch.events[0].position:
                        self.app.webhook_delivered(url, event.position - 1)
                return 0
        with self.lock:
            self.app.webhook_delivered(url, batch.events[-1].position)
        return len(batch.events)

    def drain(self) -> None:
        self.sends.waitall()


class ScribeProvider(DependencyProvider):  # type: ignore[misc]
    def setup(self) -> None:
        settings = PostmortemSettings()
        self.store = open_store(settings.store_url, writer=SERVICE_NAME)
        app = settings.application(self.store, system_clock)
        secret = settings.postmortem_webhook_secret
        self.scribe = Scribe(
            app,
            Courier.from_settings(settings),
            webhook_urls=settings.webhook_targets(),
            webhook_secret=secret.get_secret_value().encode() if secret else b"",
            webhook_timeout=settings.webhook_timeout_seconds,
        )

    def stop(self) -> None:
        self.scribe.drain()
        self.store.close()

    def kill(self) -> None:
        self.store.close()

    def get_dependency(self, worker_ctx: Any) -> Scribe:
        return self.scribe


class PostmortemWorker:
    name = SERVICE_NAME

    scribe: Scribe = ScribeProvider()

    @reliable_handler(source_service=SOURCE_SERVICE, event_types=EVENT_TYPES, queue=INCIDENT_QUEUE)
    def on_incident_event(self, event: RecordedEvent) -> None:
        """An incident was resolved, or resolved on temporary mitigations only."""
        self.scribe.handle(event)

    @timer(interval=TICK_SECONDS)  # type: ignore[untyped-decorator]
    def tick(self) -> None:
        """The durable-timer scheduler: every reminder due fires here, exactly once."""
        self.scribe.tick()
