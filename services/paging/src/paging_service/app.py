"""The paging service's application layer: every use case an adapter may call.

Every adapter calls this and nothing below it: the nameko worker (incident events and
the scheduler timer), the gRPC OnCallService, the delivery adapters (SMTP, webhook,
Slack), the one-click ack endpoint and the CLI. It knows the store port and the injected
clock; it never sends anything, never sleeps and never reads the wall clock.

Call sequence for the worker and the delivery adapters
------------------------------------------------------
1. On IncidentDeclared: ``app.start_escalation(incident_id, severity, policy_id,
   service=..., title=..., causation_id=<event id>)``. Idempotent per incident.
   ``app.start_escalation_and_fire(...)`` (same arguments) also fires the first step
   in the same transaction and returns its deliveries, to make as in step 3.
2. On a timer (e.g. every second) and right after step 1 (for the lowest latency):
   ``deliveries = app.tick()``. It fires every escalation step, un-ack timeout,
   business-hours deferral, retry and failover whose due time has passed, each exactly
   once (also those that fell due while the worker was down), creates the pages, and
   returns the deliveries it has just *recorded* (PageDeliveryAttempted).
3. For each ``Delivery``: send exactly that message through ``delivery.kind`` to
   ``delivery.address`` (include ``delivery.ack_url`` when set), then report
   ``app.report(delivery, outcome)`` with notify's ``DeliveryOutcome`` (or
   ``app.record_delivery_outcome`` field by field). A temporary failure
   schedules a retry with backoff; a permanent one fails over to the next contact method
   at once (call ``tick()`` again to pick it up). Never resend a Delivery yourself: one
   returned by ``tick()`` is handed out once; if the process dies before reporting, the
   attempt's outcome becomes unknown (at once when its sender slot restarts, see
   ``start_sender``; at its deadline otherwise) and ``tick()`` hands out a new
   Delivery through the same method marked ``possible_repeat`` (ADR 0011).
0. A worker process calls ``app.start_sender()`` once before its first tick: it
   records that this process instance now sends for its slot, which makes every
   unanswered attempt of the slot's previous (dead) instance unknown at once.
4. On IncidentSeverityChanged: ``app.raise_severity(incident_id, severity)``.
   On IncidentResolved: ``app.incident_resolved(incident_id)``.
5. Acknowledgements: ``app.acknowledge(by=..., page_id=... | incident_id=..., via=...)``
   from gRPC/CLI, ``app.acknowledge_with_token(token)`` from the signed link.

Exactly once: event ids of timer firings and follow-ups are derived (uuid5) from the
stream and what caused them, so a crash-and-retry or two workers racing append the same
ids and the log keeps one copy; a delivery is handed to an adapter only by the call
whose append actually wrote its PageDeliveryAttempted.

The use cases live where they belong, each a few lines over one kit command runner
(appkit, ADR 0013): the on-call **directory** (`directory.py`: users, teams,
schedules, policies, who is on call) and the **escalation runtime**
(`escalations.py`: what incidents and responders do to paging; `scheduler.py`: `tick`,
due items, delivery attempts). `PagingApplication` wires them and lists them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from appkit import CommandResult, CommandRunner
from eventlog import EventStore
from eventlog.clock import Clock
from notify import DeliveryOutcome
from paging_service import page as pg
from paging_service import sender as snd
from paging_service.aggregates import EVENT_IDS
from paging_service.common import EVENTS
from paging_service.directory import Directory
from paging_service.escalations import AckLinks, Escalations
from paging_service.policy import UrgencyRules
from paging_service.scheduler import Delivery, Scheduler

MAX_ATTEMPTS = 5

__all__ = ["CommandResult", "Delivery", "PagingApplication"]


class PagingApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        urgency: UrgencyRules | None = None,
        retry: pg.RetryPolicy | None = None,
        ack_secret: bytes | None = None,
        ack_url_base: str | None = None,
        ack_token_ttl: timedelta = timedelta(hours=24),
        max_attempts: int = MAX_ATTEMPTS,
        sender: str = "paging",
        instance: str | None = None,
        fallback: Sequence[pg.PlannedMethod] = (),
    ) -> None:
        """`sender` names this worker's slot and `instance` this process (fresh by
        default); `fallback` is the operators' route paged when an escalation reaches
        nobody (configured at install time; empty: only logged and recorded)."""
        self.store = store
        self.clock = clock
        self.links = AckLinks(ack_secret, ack_url_base, ack_token_ttl)
        self.sender = snd.slot_name(sender)
        self.instance = instance or uuid.uuid4().hex
        self.fallback = tuple(fallback)
        # Keys name slots that different commands compete for (a delivery outcome is
        # settled by a report or by a timeout), so a key never replays a result: the
        # command is decided again and the log drops duplicate ids (ADR 0013).
        self.runner = CommandRunner(
            store, EVENTS, EVENT_IDS, max_attempts=max_attempts, replays=False
        )
        directory = Directory(self.runner, store, clock)
        escalations = Escalations(
            self.runner,
            clock,
            urgency=urgency or UrgencyRules(),
            retry=retry or pg.RetryPolicy(),
            links=self.links,
        )
        scheduler = Scheduler(
            self.runner,
            store,
            clock,
            directory,
            escalations,
            sender=self.sender,
            instance=self.instance,
            fallback=self.fallback,
        )

        # ---- the directory: users, teams, schedules, policies, who is on call
        self.register_user = directory.register_user
        self.change_time_zone = directory.change_time_zone
        self.add_contact_method = directory.add_contact_method
        self.remove_contact_method = directory.remove_contact_method
        self.set_notification_rules = directory.set_notification_rules
        self.set_business_hours = directory.set_business_hours
        self.get_user = directory.get_user
        self.create_team = directory.create_team
        self.change_team = directory.change_team
        self.get_team = directory.get_team
        self.create_schedule = directory.create_schedule
        self.add_layer = directory.add_layer
        self.change_layer = directory.change_layer
        self.remove_layer = directory.remove_layer
        self.add_override = directory.add_override
        self.remove_override = directory.remove_override
        self.get_schedule = directory.get_schedule
        self.list_shifts = directory.list_shifts
        self.export_ical = directory.export_ical
        self.who_is_on_call = directory.who_is_on_call
        self.create_policy = directory.create_policy
        self.revise_policy = directory.revise_policy
        self.get_policy = directory.get_policy
        # ---- the escalation runtime: incidents, responders, adapters
        self.start_escalation = escalations.start_escalation

        def start_escalation_and_fire(
            incident_id: uuid.UUID,
            severity: str,
            policy_id: str,
            *,
            service: str | None = None,
            title: str = "",
            causation_id: str | None = None,
        ) -> list[Delivery]:
            """`start_escalation`, and in the same transaction the first step fired when
            it is due at once (pages created, first attempts recorded); the deliveries
            to make, exactly as `tick()` returns them. One commit instead of two for a
            declared incident's first page (ADR 0028)."""
            return scheduler.start_and_fire(
                incident_id,
                lambda: escalations.start_escalation(
                    incident_id,
                    severity,
                    policy_id,
                    service=service,
                    title=title,
                    causation_id=causation_id,
                ),
            )

        self.start_escalation_and_fire = start_escalation_and_fire
        self.raise_severity = escalations.raise_severity
        self.incident_resolved = escalations.incident_resolved
        self.acknowledge = escalations.acknowledge
        self.acknowledge_with_token = escalations.acknowledge_with_token
        # The worker that sent a page records its outcome under its own identity.
        self.record_delivery_outcome = partial(
            escalations.record_delivery_outcome, actor=scheduler.actor
        )

        def report(delivery: Delivery, outcome: DeliveryOutcome) -> CommandResult[pg.Page]:
            # One place turns notify's outcome into the page's: a caller that spelled
            # out the fields could drop `unknown` and turn a labelled resend into a retry.
            return self.record_delivery_outcome(
                delivery.page_id,
                delivery.method_id,
                delivery.attempt,
                delivered=outcome.delivered,
                reason=outcome.reason,
                permanent=outcome.permanent,
                unknown=outcome.unknown,
            )

        self.report = report
        self.get_escalation = escalations.get_escalation
        self.list_pages = escalations.list_pages
        self.get_page = escalations.get_page
        # ---- ... and time: the worker's sender slot and its ticker
        self.start_sender = scheduler.start_sender
        self.tick = scheduler.tick
        self.pending_timers = scheduler.pending_timers
        self._escalate = escalations.escalate  # tests drive a half-finished tick with it

    @property
    def ack_secret(self) -> bytes | None:
        return self.links.secret

    @property
    def ack_url_base(self) -> str | None:
        return self.links.url_base

    @ack_url_base.setter
    def ack_url_base(self, value: str | None) -> None:
        # The ack site's address may be known only once its server listens.
        self.links.url_base = value
