"""The paging worker (nameko, eventlet): incident events in, pages out.

Thin adapter over `PagingApplication`, following its documented call sequence:

    IncidentDeclared -> start_escalation_and_fire (policy chosen per service,
                        settings.Routing): the start and its first step in one
                        transaction; then tick() at once, for latency
    SeverityChanged  -> raise_severity
    IncidentResolved -> incident_resolved (cancels everything pending)
    at start         -> start_sender(): this process now sends for its slot
                        (FIREWATCH_PAGING_SENDER), so the first tick resends what the
                        slot's previous, dead instance recorded but never reported
    every second     -> tick(): fires what is due, each exactly once, also what fell
                        due while no worker ran; returns the attempts it recorded
    each Delivery    -> one send (delivery.Courier), then record_delivery_outcome;
                        after a permanent failure tick() again so failover is immediate

Fault points (servicekit.faults, armed only by tests): "paging.attempt-recorded"
(the attempt is in the log, nothing was sent) and "paging.sent" (sent, the outcome
not yet recorded). A crash at either is recovered by the next instance: the page goes
out again through the same method, marked as a possible repeat (ADR 0011).

The handler is `@reliable_handler` (retry with backoff, then a parking queue) on the
quorum queue `paging.incident`, declared at deploy time (QUEUE_BINDINGS) so incidents
declared before the worker starts still page. Every application call is idempotent by
derived event ids, so a redelivered event changes nothing.

Why sends run in real threads: under eventlet every blocking call freezes the whole
hub (../shared/STACK-NOTES.md). Short SQLite/PostgreSQL appends are fine inline, but a
slow or silent mail server would stop every other page, timer and handler for up to
the SMTP timeout. Each send therefore runs via `eventlet.tpool.execute` from a green
pool, and neither the timer nor the handler waits for it.

Why one green lock around application calls: `tick()` keeps an in-memory due
projection; with a backend that yields (EventStoreDB runs in tpool) a handler's tick
and the timer's tick could interleave inside it. The calls are short; serialising them
costs nothing and keeps the projection single-writer per process. Across processes,
the application's derived ids and per-call markers already make racing ticks safe.
"""

from __future__ import annotations

import logging
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
from paging_service import metrics
from paging_service.app import Delivery, PagingApplication
from paging_service.delivery import Courier, IncidentContext, incident_context
from paging_service.settings import PagingSettings, Routing
from servicekit import faults
from servicekit.consumer import reliable_handler
from servicekit.topology import QueueBinding

log = logging.getLogger(__name__)

SERVICE_NAME = "paging"
SOURCE_SERVICE = "incident"
EVENT_TYPES = ("IncidentDeclared", "SeverityChanged", "IncidentResolved")
INCIDENT_QUEUE = "paging.incident"
TICK_SECONDS = 1.0

QUEUE_BINDINGS: list[QueueBinding] = [QueueBinding(INCIDENT_QUEUE, SOURCE_SERVICE, EVENT_TYPES)]
"""The queues this worker consumes, to declare at deploy time (deploy/local/run.py) as
well as at startup, so events published before the worker starts wait for it."""


# ----------------------------------------------------------------- inbound contracts


class _Inbound(BaseModel):
    """A tolerant reader of the incident service's published events: unknown fields are
    ignored, the fields below are required."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class IncidentDeclared(_Inbound):
    incident_id: uuid.UUID
    title: str = ""
    severity: str
    services: list[str] = []


class SeverityChanged(_Inbound):
    to_severity: str


def incident_id_of(event: RecordedEvent) -> uuid.UUID:
    """Incident events live in `incident-<uuid>` (the incident service's layout)."""
    return uuid.UUID(event.stream.partition("-")[2])


# ----------------------------------------------------------------- the runtime


class Pager:
    """One per worker process: the application, the courier, the lock and the sends."""

    def __init__(
        self,
        app: PagingApplication,
        courier: Courier,
        routing: Routing,
        *,
        max_concurrent_sends: int = 20,
        run_blocking: Callable[..., Any] = tpool.execute,
    ) -> None:
        self.app = app
        self.courier = courier
        self.routing = routing
        self.lock = eventlet.semaphore.Semaphore(1)
        self.sends = eventlet.GreenPool(max_concurrent_sends)
        self.run_blocking = run_blocking

    def handle(self, event: RecordedEvent) -> None:
        """One incident event; raising makes the reliable handler retry it later."""
        cause = str(event.id)
        jobs: list[tuple[Delivery, IncidentContext]] = []
        with self.lock:
            if event.type == "IncidentDeclared":
                declared = IncidentDeclared.model_validate(event.data)
                policy, service = self.routing.policy_for(declared.services)
                # The first step is due now: it fires in the start's own transaction
                # (ADR 0028), and its deliveries are ours to send, as a tick's are.
                deliveries = self.app.start_escalation_and_fire(
                    declared.incident_id,
                    declared.severity,
                    policy,
                    service=service,
                    title=declared.title,
                    causation_id=cause,
                )
                jobs = [(d, self._context(d)) for d in deliveries]
            elif event.type == "SeverityChanged":
                changed = SeverityChanged.model_validate(event.data)
                self.app.raise_severity(
                    incident_id_of(event), changed.to_severity, causation_id=cause
                )
            elif event.type == "IncidentResolved":
                self.app.incident_resolved(incident_id_of(event), causation_id=cause)
            else:
                return
        for delivery, context in jobs:
            self.sends.spawn_n(self._deliver, delivery, context)
        if event.type == "IncidentDeclared":
            # Whatever else fell due (and whatever the firing above left to the due
            # items) goes now rather than in up to a second. The escalation is already
            # durable, so a failure here is only latency: the timer's next tick fires
            # it; the event must not be retried for it.
            try:
                self.tick()
            except Exception:
                log.exception("paging: tick after IncidentDeclared %s failed", cause)

    def tick(self) -> int:
        """Fire what is due and start a send for each recorded attempt; returns how many.

        Does not wait for the sends: a slow mail server must not delay other steps."""
        with self.lock:
            deliveries = self.app.tick()
            jobs = [(d, self._context(d)) for d in deliveries]
        for delivery, context in jobs:
            # Each Delivery is handed out exactly once: from here on it is ours to send.
            self.sends.spawn_n(self._deliver, delivery, context)
        return len(jobs)

    def _context(self, delivery: Delivery) -> IncidentContext:
        try:
            return incident_context(self.app, delivery.incident_id)
        except Exception:
            # The attempt is recorded and must still go out; say less rather than nothing.
            log.exception("paging: no incident context for page %s", delivery.page_id)
            return IncidentContext(f"incident {str(delivery.incident_id)[:8]}", "P?", None)

    def _deliver(self, delivery: Delivery, context: IncidentContext) -> None:
        try:
            faults.point("paging.attempt-recorded")
            outcome: DeliveryOutcome = self.run_blocking(self.courier.send, delivery, context)
            faults.point("paging.sent")
            log.info(
                "paging: page %s to %s via %s (attempt %d): %s",
                delivery.page_id,
                delivery.user_id,
                delivery.method_id,
                delivery.attempt,
                "delivered" if outcome.delivered else outcome.reason,
            )
            if outcome.delivered:
                metrics.PAGES_SENT.labels(delivery.kind.value).inc()
            else:
                permanent = "true" if outcome.permanent else "false"
                metrics.PAGES_FAILED.labels(delivery.kind.value, permanent).inc()
            with self.lock:
                self.app.report(delivery, outcome)
            if outcome.permanent or outcome.unknown:
                # Fail over (or send the labelled repeat) now, not at the next tick.
                self.tick()
        except Exception:
            metrics.PAGES_FAILED.labels(delivery.kind.value, "false").inc()
            # Nothing is lost: an attempt without an outcome is sent again after its
            # deadline (or at once by this slot's next instance), marked as a repeat.
            log.exception("paging: delivery of page %s failed unexpectedly", delivery.page_id)

    def drain(self) -> None:
        """Wait for sends in flight (bounded by the channels' timeouts), so a graceful
        stop reports every outcome instead of leaving attempts to time out."""
        self.sends.waitall()


class PagerProvider(DependencyProvider):  # type: ignore[misc]
    """Opens the log and builds the Pager once per worker process."""

    def setup(self) -> None:
        settings = PagingSettings()
        secret = settings.ack_secret(required=False)
        if secret is None:
            log.warning("paging: FIREWATCH_PAGING_ACK_SECRET is not set; pages carry no ack link")
        routing = settings.routing()
        self.store = open_store(settings.store_url, writer=SERVICE_NAME)
        app = PagingApplication(
            self.store,
            system_clock,
            urgency=routing.urgency,
            retry=settings.retry_policy(),
            ack_secret=secret,
            ack_url_base=settings.ack_url_base(),
            sender=settings.paging_sender,
            fallback=settings.fallback_plan(),
        )
        if not app.fallback:
            log.warning(
                "paging: FIREWATCH_PAGING_FALLBACK_EMAILS is not set; an escalation that "
                "reaches nobody is recorded and logged but pages no operator"
            )
        # Before the first tick: the previous instance of this slot is dead, so its
        # unanswered attempts are resent now rather than after their deadline.
        app.start_sender()
        log.info("paging: sending as %s (instance %s)", app.sender, app.instance)
        self.pager = Pager(
            app,
            Courier.from_settings(settings),
            routing,
            max_concurrent_sends=settings.paging_max_concurrent_sends,
        )

    def stop(self) -> None:
        self.pager.drain()
        self.pager.courier.close()
        self.store.close()

    def kill(self) -> None:
        self.store.close()

    def get_dependency(self, worker_ctx: Any) -> Pager:
        return self.pager


class PagingWorker:
    name = SERVICE_NAME

    pager: Pager = PagerProvider()

    @reliable_handler(source_service=SOURCE_SERVICE, event_types=EVENT_TYPES, queue=INCIDENT_QUEUE)
    def on_incident_event(self, event: RecordedEvent) -> None:
        """An incident was declared, changed severity or was resolved."""
        self.pager.handle(event)

    @timer(interval=TICK_SECONDS)  # type: ignore[untyped-decorator]
    def tick(self) -> None:
        """The durable-timer scheduler: everything due fires here, exactly once."""
        self.pager.tick()
