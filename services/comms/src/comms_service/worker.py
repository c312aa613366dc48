"""The communications worker (nameko, eventlet): incident events in, channel messages,
reminders and subscriber notices out.

Thin adapter over `CommsApplication`:

    IncidentDeclared   -> track_incident (opens the war room and stakeholder channel,
                          makes the first promise), then tick() at once, for latency
    SeverityChanged, StatusChanged, CommanderAssigned, MitigationApplied,
    TimelineNoteAdded, IncidentResolved, IncidentReopened
                       -> record_change (the war room's feed)
    runbooks' StepMarked, ActionResultRecorded (queue comms.runbooks)
                       -> record_change, change "runbook" (a step marked by hand, an
                          automated action's result)
    at start           -> start_sender(): this process now sends for its slot, so the
                          first tick resends (labelled) what a dead predecessor recorded
                          but never reported
    every second       -> tick(): reminders, overdue promises, requested messages and
                          due attempts, each exactly once; every Send is made once in a
                          real thread and its outcome recorded

Fault points (servicekit.faults, armed only by tests): "comms.attempt-recorded" (the
attempts are in the log, nothing sent) and "comms.sent" (sent, outcome not recorded).
Either crash is recovered by the next instance: the message goes out again, marked as a
possible repeat with the first attempt's key (ADR 0015).

Like paging's worker: `@reliable_handler` on a quorum queue declared at deploy time
(QUEUE_BINDINGS), one green lock around application calls (its in-memory model is
single-writer per process), sends in eventlet's tpool so a slow SMTP server stops
nothing else.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import eventlet
import eventlet.semaphore
from eventlet import tpool
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from pydantic import BaseModel, ConfigDict

from comms_service.app import CommsApplication, Send
from comms_service.delivery import CommsEmailChannel, Courier, SignedWebhook
from comms_service.settings import CommsSettings
from comms_service.views import subscriber_payload
from eventlog import RecordedEvent, open_store
from eventlog.clock import system_clock
from notify import SlackChannel
from servicekit import faults
from servicekit.consumer import reliable_handler
from servicekit.topology import QueueBinding

log = logging.getLogger(__name__)

SERVICE_NAME = "communications"
SOURCE_SERVICE = "incident"
EVENT_TYPES = (
    "IncidentDeclared",
    "SeverityChanged",
    "StatusChanged",
    "CommanderAssigned",
    "MitigationApplied",
    "TimelineNoteAdded",
    "IncidentResolved",
    "IncidentReopened",
)
INCIDENT_QUEUE = "comms.incident"
RUNBOOKS_SOURCE = "runbooks"
RUNBOOK_EVENT_TYPES = ("StepMarked", "ActionResultRecorded")
"""The runbooks service's events that are incident changes for the war room (their
data names the incident)."""
RUNBOOKS_QUEUE = "comms.runbooks"
TICK_SECONDS = 1.0

QUEUE_BINDINGS: list[QueueBinding] = [
    QueueBinding(INCIDENT_QUEUE, SOURCE_SERVICE, EVENT_TYPES),
    QueueBinding(RUNBOOKS_QUEUE, RUNBOOKS_SOURCE, RUNBOOK_EVENT_TYPES),
]


class _Inbound(BaseModel):
    """A tolerant reader of the incident service's events (unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Declared(_Inbound):
    incident_id: uuid.UUID
    number: int | None = None
    title: str = ""
    severity: str
    services: list[str] = []


def incident_id_of(event: RecordedEvent) -> uuid.UUID:
    if event.type in RUNBOOK_EVENT_TYPES:
        return uuid.UUID(str(event.data["incident_id"]))
    return uuid.UUID(event.stream.partition("-")[2])


def _runbook_step(event: RecordedEvent) -> str:
    """ "<runbook> <step>": StepMarked names both; an action run's stream is
    `rbaction-<runbook>:<step>`."""
    d = event.data
    if d.get("runbook_id") and d.get("step_id"):
        return f"{d['runbook_id']} {d['step_id']}"
    return event.stream.partition("-")[2].replace(":", " ", 1)


def describe(event: RecordedEvent) -> tuple[str, str, dict[str, str | None]]:
    """(change, war-room text, state fields) for one incident event."""
    d: Mapping[str, Any] = event.data
    match event.type:
        case "SeverityChanged":
            text = (
                f"Severity {d.get('from_severity')} -> {d.get('to_severity')}: "
                f"{d.get('reason', '')}"
            )
            return "severity", text, {"severity": d.get("to_severity")}
        case "StatusChanged":
            note = f" ({d['note']})" if d.get("note") else ""
            text = f"Status {d.get('from_status')} -> {d.get('to_status')}{note}"
            return "status", text, {"status": d.get("to_status")}
        case "CommanderAssigned":
            text = f"Incident commander: {d.get('commander')}"
            return "commander", text, {"commander": d.get("commander")}
        case "MitigationApplied":
            temporary = " (temporary)" if d.get("temporary") else ""
            text = f"Mitigation {d.get('kind')}{temporary}: {d.get('description', '')}"
            return "mitigation", text, {}
        case "StepMarked":
            note = f": {d['note']}" if d.get("note") else ""
            text = f"Runbook step {_runbook_step(event)} {d.get('status')} by {d.get('marked_by')}"
            return "runbook", text + note, {}
        case "ActionResultRecorded":
            code = f" (HTTP {d['status_code']})" if d.get("status_code") else ""
            error = f": {d['error']}" if d.get("error") else ""
            timed_out = " (timed out)" if d.get("timed_out") else ""
            text = f"Runbook action {_runbook_step(event)} {d.get('outcome')}{code}{timed_out}"
            return "runbook", text + error, {}
        case "TimelineNoteAdded":
            return "note", f"Note from {d.get('author')}: {d.get('text', '')}", {}
        case "IncidentResolved":
            text = f"Resolved by {d.get('resolved_by')}: {d.get('summary', '')}"
            return "resolved", text, {"status": "resolved"}
        case "IncidentReopened":
            return "reopened", f"Reopened: {d.get('reason', '')}", {"status": "investigating"}
    return "other", event.type, {}


class Communicator:
    """One per worker process: the application, the courier, the lock and the sends."""

    def __init__(
        self,
        app: CommsApplication,
        courier: Courier,
        *,
        max_concurrent_sends: int = 50,
        run_blocking: Callable[..., Any] = tpool.execute,
    ) -> None:
        self.app = app
        self.courier = courier
        self.lock = eventlet.semaphore.Semaphore(1)
        self.sends = eventlet.GreenPool(max_concurrent_sends)
        self.run_blocking = run_blocking

    def handle(self, event: RecordedEvent) -> None:
        cause = str(event.id)
        with self.lock:
            if event.type == "IncidentDeclared":
                self._track(event)
            else:
                incident_id = incident_id_of(event)
                if not self.app.tracked(incident_id):
                    # Handlers run concurrently, so a change can overtake its incident's
                    # declaration: track the incident from the log first.
                    first = self.app.store.read_stream(f"incident-{incident_id}", limit=1)
                    if first and first[0].type == "IncidentDeclared":
                        self._track(first[0])
                change, text, fields = describe(event)
                self.app.record_change(incident_id, change, text, cause=cause, **fields)
        try:
            self.tick()
        except Exception:
            log.exception("comms: tick after %s failed (the timer retries)", cause)

    def _track(self, event: RecordedEvent) -> None:
        declared = Declared.model_validate(event.data)
        self.app.track_incident(
            declared.incident_id,
            number=declared.number,
            title=declared.title,
            severity=declared.severity,
            services=declared.services,
            commander=None,
            causation_id=str(event.id),
        )

    def tick(self) -> int:
        with self.lock:
            sends = self.app.tick()
        batches: dict[uuid.UUID, list[Send]] = defaultdict(list)
        for send in sends:
            batches[send.dispatch_id].append(send)
        for batch in batches.values():
            self.sends.spawn_n(self._deliver, batch)
        return len(sends)

    def _deliver(self, batch: list[Send]) -> None:
        try:
            faults.point("comms.attempt-recorded")
            # Webhook bodies read the in-memory model: build them here, in the hub's
            # thread, never in a tpool thread (its locks are green locks).
            with self.lock:
                payloads = [self.courier.payload(s) for s in batch]
            pool = eventlet.GreenPool(20)
            outcomes = list(
                pool.imap(
                    lambda job: (job[0], self.run_blocking(self.courier.send, *job)),
                    zip(batch, payloads, strict=True),
                )
            )
            faults.point("comms.sent")
            with self.lock:
                self.app.record_outcomes(
                    batch[0].dispatch_id,
                    [(s.target.target_id, s.attempt, o) for s, o in outcomes],
                )
        except Exception:
            # Nothing is lost: attempts without an outcome are resent, labelled.
            log.exception("comms: delivery of %s failed unexpectedly", batch[0].dispatch_id)

    def drain(self) -> None:
        self.sends.waitall()


def build_courier(settings: CommsSettings, app: CommsApplication) -> Courier:
    def statuspage_payload(send: Send) -> dict[str, Any] | None:
        return subscriber_payload(app, send)

    return Courier(
        CommsEmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_sender,
            timeout=settings.smtp_timeout_seconds,
        ),
        SignedWebhook(settings.secret(), timeout=settings.webhook_timeout_seconds),
        SlackChannel(timeout=settings.webhook_timeout_seconds),
        statuspage_payload=statuspage_payload,
    )


class CommunicatorProvider(DependencyProvider):  # type: ignore[misc]
    def setup(self) -> None:
        settings = CommsSettings()
        self.store = open_store(settings.store_url, writer=SERVICE_NAME)
        app = CommsApplication(
            self.store,
            system_clock,
            cadence=settings.cadence(),
            retry=settings.retry(),
            routing=settings.routing(),
            secret=settings.secret(),
            page_url=settings.page_url,
            sender=settings.comms_sender,
            contacts=settings.contacts(),
            templates=settings.templates(),
        )
        app.start_sender()
        log.info("comms: sending as %s (instance %s)", app.sender, app.instance)
        self.communicator = Communicator(app, build_courier(settings, app))

    def stop(self) -> None:
        self.communicator.drain()
        self.store.close()

    def kill(self) -> None:
        self.store.close()

    def get_dependency(self, worker_ctx: Any) -> Communicator:
        return self.communicator


class CommsWorker:
    name = SERVICE_NAME

    communicator: Communicator = CommunicatorProvider()

    @reliable_handler(source_service=SOURCE_SERVICE, event_types=EVENT_TYPES, queue=INCIDENT_QUEUE)
    def on_incident_event(self, event: RecordedEvent) -> None:
        """An incident was declared or changed."""
        self.communicator.handle(event)

    @reliable_handler(
        source_service=RUNBOOKS_SOURCE, event_types=RUNBOOK_EVENT_TYPES, queue=RUNBOOKS_QUEUE
    )
    def on_runbook_event(self, event: RecordedEvent) -> None:
        """A runbook step was marked or an automated action's result came back."""
        self.communicator.handle(event)

    @timer(interval=TICK_SECONDS)  # type: ignore[untyped-decorator]
    def tick(self) -> None:
        """The durable-timer scheduler: everything due fires here, exactly once."""
        self.communicator.tick()
