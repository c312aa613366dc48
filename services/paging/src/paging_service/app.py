"""The paging service's application layer: load, decide, append; and the scheduler.

Every adapter calls this and nothing below it: the nameko worker (incident events and
the scheduler timer), the gRPC OnCallService, the delivery adapters (SMTP, webhook,
Slack), the one-click ack endpoint and the CLI. It knows the store port and the injected
clock; it never sends anything, never sleeps and never reads the wall clock.

Call sequence for the worker and the delivery adapters
------------------------------------------------------
1. On IncidentDeclared: ``app.start_escalation(incident_id, severity, policy_id,
   service=..., title=..., causation_id=<event id>)``. Idempotent per incident.
2. On a timer (e.g. every second) and right after step 1 (for the lowest latency):
   ``deliveries = app.tick()``. It fires every escalation step, un-ack timeout,
   business-hours deferral, retry and failover whose due time has passed, each exactly
   once (also those that fell due while the worker was down), creates the pages, and
   returns the deliveries it has just *recorded* (PageDeliveryAttempted).
3. For each ``Delivery``: send exactly that message through ``delivery.kind`` to
   ``delivery.address`` (include ``delivery.ack_url`` when set), then report
   ``app.record_delivery_outcome(delivery.page_id, delivery.method_id,
   delivery.attempt, delivered=..., reason=..., permanent=...)``. A temporary failure
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
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from contracts.domain import DomainError, InvalidCommandError, NotFoundError
from contracts.events import DomainEvent
from eventlog import (
    ConcurrencyError,
    EventFilter,
    EventMetadata,
    EventStore,
    StreamState,
)
from eventlog.clock import Clock
from paging_service import ack_token
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import policy as pol
from paging_service import schedule as sch
from paging_service import sender as snd
from paging_service import team as tm
from paging_service import user as usr
from paging_service.common import EVENTS, Urgency, build, derived_id
from paging_service.due import CATEGORIES, DueItem, DueItems, DueKind
from paging_service.ical import export_ical as render_ical
from paging_service.policy import Target, TargetKind, UrgencyRules
from paging_service.user import ContactKind

S = TypeVar("S")
log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
MAX_TICK_PASSES = 1000
"""A tick repeats until nothing more is due; this only guards against a logic bug."""
SHIFT_HORIZON = timedelta(days=8)
"""How far ahead a low-urgency step looks for someone's business hours."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    stream: str
    version: int | None
    """The stream's version after the command (unchanged for a no-op)."""
    position: int
    """The log position of the command's last event (0 for a no-op)."""
    event_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A recorded attempt the delivery adapter must now make, once."""

    attempt_event_id: uuid.UUID
    page_id: uuid.UUID
    incident_id: uuid.UUID
    user_id: str
    method_id: str
    kind: ContactKind
    address: str
    attempt: int
    title: str
    attempted_at: datetime
    outcome_due_by: datetime
    ack_token: str | None = None
    ack_url: str | None = None
    possible_repeat: bool = False
    """An earlier attempt through this method may have gone out (its outcome is
    unknown): the message must say so."""
    idempotency_key: uuid.UUID | None = None
    """The email Message-ID / webhook Idempotency-Key: the attempt's own id, or for a
    possible repeat the id of the attempt it may repeat, so receivers that deduplicate
    drop it."""

    @property
    def to_operators(self) -> bool:
        """The platform's own alert: an escalation reached nobody."""
        return self.user_id == esc.FALLBACK_RECIPIENT


@dataclass(frozen=True, slots=True)
class _Loaded(Generic[S]):
    state: S
    version: int | None


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
        self.urgency = urgency or UrgencyRules()
        self.retry = retry or pg.RetryPolicy()
        self.ack_secret = ack_secret
        self.ack_url_base = ack_url_base
        self.ack_token_ttl = ack_token_ttl
        self.max_attempts = max_attempts
        self.sender = snd.slot_name(sender)
        self.instance = instance or uuid.uuid4().hex
        self.fallback = tuple(fallback)
        self._due = DueItems()

    # ================================================================== users

    def register_user(
        self,
        user_id: str,
        name: str,
        time_zone: str,
        *,
        contact_methods: Sequence[Mapping[str, Any] | usr.ContactMethod] = (),
        notification_rules: Sequence[Mapping[str, Any] | usr.NotificationRule] | None = None,
        business_hours: Sequence[Mapping[str, Any]] | None = None,
        actor: str = "system",
    ) -> CommandResult:
        command = build(
            usr.RegisterUser,
            at=self.clock(),
            user_id=user_id,
            name=name,
            time_zone=time_zone,
            contact_methods=tuple(contact_methods),
            notification_rules=None if notification_rules is None else tuple(notification_rules),
            business_hours=None if business_hours is None else tuple(business_hours),
        )
        return self._user(command.user_id, command, actor, create=True)

    def change_time_zone(
        self, user_id: str, time_zone: str, *, actor: str = "system"
    ) -> CommandResult:
        return self._user(
            user_id, build(usr.ChangeTimeZone, at=self.clock(), time_zone=time_zone), actor
        )

    def add_contact_method(
        self, user_id: str, method_id: str, kind: str, address: str, *, actor: str = "system"
    ) -> CommandResult:
        method = {"method_id": method_id, "kind": kind, "address": address}
        return self._user(
            user_id, build(usr.AddContactMethod, at=self.clock(), method=method), actor
        )

    def remove_contact_method(
        self, user_id: str, method_id: str, *, actor: str = "system"
    ) -> CommandResult:
        command = build(usr.RemoveContactMethod, at=self.clock(), method_id=method_id)
        return self._user(user_id, command, actor)

    def set_notification_rules(
        self,
        user_id: str,
        rules: Sequence[Mapping[str, Any] | usr.NotificationRule],
        *,
        actor: str = "system",
    ) -> CommandResult:
        command = build(usr.SetNotificationRules, at=self.clock(), rules=tuple(rules))
        return self._user(user_id, command, actor)

    def set_business_hours(
        self, user_id: str, windows: Sequence[Mapping[str, Any]], *, actor: str = "system"
    ) -> CommandResult:
        command = build(usr.SetBusinessHours, at=self.clock(), windows=tuple(windows))
        return self._user(user_id, command, actor)

    def get_user(self, user_id: str, *, as_of: datetime | None = None) -> usr.User:
        state = self._load(usr.stream_for(user_id), usr.fold, usr.INITIAL, until=as_of).state
        if not state.registered:
            raise NotFoundError(f"user {user_id!r} does not exist")
        return state

    def _user(
        self, user_id: str, command: usr.UserCommand, actor: str, *, create: bool = False
    ) -> CommandResult:
        return self._execute(
            usr.stream_for(_ident(user_id, "user_id")),
            usr.fold,
            usr.INITIAL,
            lambda state: usr.decide(command, state),
            actor=actor,
            not_found=None if create else f"user {user_id!r} does not exist",
        )

    # ================================================================== teams

    def create_team(
        self,
        team_id: str,
        name: str,
        members: Sequence[str],
        *,
        schedule_id: str | None = None,
        actor: str = "system",
    ) -> CommandResult:
        command = build(
            tm.CreateTeam,
            at=self.clock(),
            team_id=team_id,
            name=name,
            members=tuple(members),
            schedule_id=schedule_id,
        )
        self._require_users("members", command.members)
        if command.schedule_id is not None:
            self._require("schedule_id", TargetKind.SCHEDULE, command.schedule_id)
        return self._execute(
            tm.stream_for(command.team_id),
            tm.fold,
            tm.INITIAL,
            lambda state: tm.decide(command, state),
            actor=actor,
        )

    def change_team(
        self,
        team_id: str,
        name: str,
        members: Sequence[str],
        *,
        schedule_id: str | None = None,
        actor: str = "system",
    ) -> CommandResult:
        command = build(
            tm.ChangeTeam,
            at=self.clock(),
            name=name,
            members=tuple(members),
            schedule_id=schedule_id,
        )
        self._require_users("members", command.members)
        if command.schedule_id is not None:
            self._require("schedule_id", TargetKind.SCHEDULE, command.schedule_id)
        return self._execute(
            tm.stream_for(_ident(team_id, "team_id")),
            tm.fold,
            tm.INITIAL,
            lambda state: tm.decide(command, state),
            actor=actor,
            not_found=f"team {team_id!r} does not exist",
        )

    def get_team(self, team_id: str, *, as_of: datetime | None = None) -> tm.Team:
        state = self._load(tm.stream_for(team_id), tm.fold, tm.INITIAL, until=as_of).state
        if not state.created:
            raise NotFoundError(f"team {team_id!r} does not exist")
        return state

    # ================================================================== schedules

    def create_schedule(
        self, schedule_id: str, name: str, time_zone: str, *, actor: str = "system"
    ) -> CommandResult:
        command = build(
            sch.CreateSchedule,
            at=self.clock(),
            schedule_id=schedule_id,
            name=name,
            time_zone=time_zone,
        )
        return self._schedule(command.schedule_id, command, actor, create=True)

    def add_layer(
        self,
        schedule_id: str,
        layer_id: str,
        name: str,
        users: Sequence[str],
        *,
        start: datetime,
        turn: Mapping[str, Any] | sch.Turn | None = None,
        time_zone: str | None = None,
        restrictions: Sequence[Mapping[str, Any]] = (),
        actor: str = "system",
    ) -> CommandResult:
        """Add a rotation on top of the schedule's layers. `start` is the first handoff:
        a naive wall-clock time in the layer's zone, or an aware instant."""
        command = build(
            sch.AddLayer,
            at=self.clock(),
            **_layer_fields(layer_id, name, users, start, turn, time_zone, restrictions),
        )
        self._require_users("users", command.users)
        return self._schedule(schedule_id, command, actor)

    def change_layer(
        self,
        schedule_id: str,
        layer_id: str,
        name: str,
        users: Sequence[str],
        *,
        start: datetime,
        turn: Mapping[str, Any] | sch.Turn | None = None,
        time_zone: str | None = None,
        restrictions: Sequence[Mapping[str, Any]] = (),
        actor: str = "system",
    ) -> CommandResult:
        command = build(
            sch.ChangeLayer,
            at=self.clock(),
            **_layer_fields(layer_id, name, users, start, turn, time_zone, restrictions),
        )
        self._require_users("users", command.users)
        return self._schedule(schedule_id, command, actor)

    def remove_layer(
        self, schedule_id: str, layer_id: str, *, actor: str = "system"
    ) -> CommandResult:
        command = build(sch.RemoveLayer, at=self.clock(), layer_id=layer_id)
        return self._schedule(schedule_id, command, actor)

    def add_override(
        self,
        schedule_id: str,
        user_id: str,
        start: datetime,
        end: datetime,
        *,
        override_id: str | None = None,
        actor: str = "system",
    ) -> str:
        """Put `user_id` on call from `start` to `end`; returns the override's id."""
        command = build(
            sch.AddOverride,
            at=self.clock(),
            override_id=override_id or f"o-{uuid.uuid4().hex[:12]}",
            user_id=user_id,
            start=start,
            end=end,
        )
        self._require_users("user_id", [command.user_id], single=True)
        self._schedule(schedule_id, command, actor)
        return command.override_id

    def remove_override(
        self, schedule_id: str, override_id: str, *, actor: str = "system"
    ) -> CommandResult:
        command = build(sch.RemoveOverride, at=self.clock(), override_id=override_id)
        return self._schedule(schedule_id, command, actor)

    def get_schedule(self, schedule_id: str, *, as_of: datetime | None = None) -> sch.Schedule:
        state = self._load(
            sch.stream_for(_ident(schedule_id, "schedule")), sch.fold, sch.INITIAL, until=as_of
        ).state
        if not state.created:
            when = "" if as_of is None else f" at {as_of.isoformat()}"
            raise NotFoundError(f"schedule {schedule_id!r} did not exist{when}")
        return state

    def list_shifts(self, schedule_id: str, start: datetime, end: datetime) -> list[sch.Shift]:
        """The final shifts over [start, end), under today's configuration."""
        _check_range(start, end)
        return sch.shifts(self.get_schedule(schedule_id), start, end)

    def export_ical(self, schedule_id: str, start: datetime, end: datetime) -> bytes:
        """An RFC 5545 feed of the schedule's shifts over [start, end)."""
        _check_range(start, end)
        state = self.get_schedule(schedule_id)
        shifts = sch.shifts(state, start, end)
        names = {}
        for user_id in {s.user_id for s in shifts}:
            found = self._load(usr.stream_for(user_id), usr.fold, usr.INITIAL).state
            if found.registered:
                names[user_id] = found.name
        return render_ical(state, shifts, generated_at=self.clock(), user_names=names)

    def who_is_on_call(self, target: str | Target, at: datetime | None = None) -> list[str]:
        """Who is on call for a schedule, team or user at instant `at` (now by default).

        A past instant is answered with the configuration as it stood then (every
        stream involved is read as of `at`, so an override deleted later still counts);
        now or a future instant with today's configuration."""
        now = self.clock()
        at = at or now
        if at.tzinfo is None:
            raise InvalidCommandError("at", "must be a timezone-aware timestamp")
        parsed = _target(target)
        return self._resolve(parsed, at, as_of=at if at < now else None)

    def _schedule(
        self, schedule_id: str, command: sch.ScheduleCommand, actor: str, *, create: bool = False
    ) -> CommandResult:
        return self._execute(
            sch.stream_for(_ident(schedule_id, "schedule_id")),
            sch.fold,
            sch.INITIAL,
            lambda state: sch.decide(command, state),
            actor=actor,
            not_found=None if create else f"schedule {schedule_id!r} does not exist",
        )

    # ================================================================== policies

    def create_policy(
        self,
        policy_id: str,
        name: str,
        levels: Sequence[Mapping[str, Any] | pol.Level],
        *,
        repeat: int = 0,
        un_ack_timeout_minutes: int | None = None,
        actor: str = "system",
    ) -> CommandResult:
        """Levels look like ``{"targets": ["user:alice", "schedule:primary"],
        "delay_minutes": 5}`` (targets may also be ``{"kind": ..., "id": ...}``)."""
        command = build(
            pol.CreatePolicy,
            at=self.clock(),
            policy_id=policy_id,
            name=name,
            levels=_levels(levels),
            repeat=repeat,
            un_ack_timeout_minutes=un_ack_timeout_minutes,
        )
        self._require_targets(command.levels)
        return self._execute(
            pol.stream_for(command.policy_id),
            pol.fold,
            pol.INITIAL,
            lambda state: pol.decide(command, state),
            actor=actor,
        )

    def revise_policy(
        self,
        policy_id: str,
        name: str,
        levels: Sequence[Mapping[str, Any] | pol.Level],
        *,
        repeat: int = 0,
        un_ack_timeout_minutes: int | None = None,
        actor: str = "system",
    ) -> CommandResult:
        """Replace the definition. Running escalations keep the one they started with."""
        command = build(
            pol.RevisePolicy,
            at=self.clock(),
            name=name,
            levels=_levels(levels),
            repeat=repeat,
            un_ack_timeout_minutes=un_ack_timeout_minutes,
        )
        self._require_targets(command.levels)
        return self._execute(
            pol.stream_for(_ident(policy_id, "policy_id")),
            pol.fold,
            pol.INITIAL,
            lambda state: pol.decide(command, state),
            actor=actor,
            not_found=f"policy {policy_id!r} does not exist",
        )

    def get_policy(self, policy_id: str, *, as_of: datetime | None = None) -> pol.Policy:
        state = self._load(
            pol.stream_for(_ident(policy_id, "policy")), pol.fold, pol.INITIAL, until=as_of
        ).state
        if not state.created:
            raise NotFoundError(f"policy {policy_id!r} does not exist")
        return state

    # ================================================================== escalations

    def start_escalation(
        self,
        incident_id: uuid.UUID,
        severity: str,
        policy_id: str,
        *,
        service: str | None = None,
        title: str = "",
        causation_id: str | None = None,
    ) -> esc.Escalation:
        """Start paging for an incident (the worker calls this on IncidentDeclared).

        Snapshots the policy as it is now. Idempotent: a second call for the same
        incident, or one after the incident was resolved, changes nothing. The first
        step is due at once; call `tick()` to fire it."""
        at = self.clock()
        policy_state = self._load(
            pol.stream_for(_ident(policy_id, "policy")), pol.fold, pol.INITIAL
        ).state
        if not policy_state.created:
            raise InvalidCommandError("policy", f"unknown escalation policy {policy_id!r}")
        parsed = build(
            esc.StartEscalation,
            at=at,
            incident_id=incident_id,
            policy=policy_state.snapshot(),
            severity=severity,
            urgency="high",
            service=service,
            title=title[:500],
        )
        command = parsed.model_copy(
            update={"urgency": self.urgency.urgency(parsed.severity, service)}
        )
        return self._escalate(incident_id, command, key="start", causation_id=causation_id)

    def raise_severity(
        self, incident_id: uuid.UUID, severity: str, *, causation_id: str | None = None
    ) -> esc.Escalation:
        """Re-evaluate urgency after the incident's severity changed (either way; only a
        rise to high urgency changes what happens next)."""
        state = self.get_escalation(incident_id)
        sev = build(esc.ChangeSeverity, at=self.clock(), severity=severity, urgency="high")
        command = sev.model_copy(
            update={"urgency": self.urgency.urgency(sev.severity, state.service)}
        )
        key = f"severity/{causation_id}" if causation_id else None
        return self._escalate(incident_id, command, key=key, causation_id=causation_id)

    def incident_resolved(
        self, incident_id: uuid.UUID, *, causation_id: str | None = None
    ) -> esc.Escalation:
        """Cancel everything pending for the incident (also if paging never started:
        a late IncidentDeclared then starts nothing)."""
        command = esc.Cancel(at=self.clock(), reason="incident resolved")
        state = self._escalate(incident_id, command, key="cancel", causation_id=causation_id)
        self._close_pages(state, self.clock())
        return state

    def acknowledge(
        self,
        *,
        by: str,
        page_id: uuid.UUID | None = None,
        incident_id: uuid.UUID | None = None,
        via: str = "api",
    ) -> esc.Escalation:
        """Acknowledge one page, or an incident's paging as a whole: stops the
        escalation (scheduling the un-ack timeout if the policy has one) and closes
        every open page of the incident."""
        channel = build(pg.AcknowledgePage, at=self.clock(), by=by, via=via)
        if page_id is None and incident_id is None:
            raise InvalidCommandError("page_id", "name the page or the incident to acknowledge")
        if page_id is not None:
            page_state = self._load(pg.stream_for(page_id), pg.fold, pg.INITIAL).state
            if page_state.status is pg.Status.NONE:
                raise NotFoundError(f"page {page_id} does not exist")
            assert page_state.incident_id is not None
            if incident_id is not None and incident_id != page_state.incident_id:
                raise InvalidCommandError(
                    "incident_id", f"page {page_id} belongs to another incident"
                )
            incident_id = page_state.incident_id
        assert incident_id is not None
        current = self.get_escalation(incident_id)
        command = esc.Acknowledge(
            at=channel.at, by=channel.by, page_id=page_id, via=channel.via.value
        )
        state = self._escalate(
            incident_id, command, key=f"ack/{current.round}", causation_id=None, actor=by
        )
        if page_id is not None:
            self._page(page_id, channel, key="ack", actor=by)
        self._close_pages(state, channel.at)
        return state

    def acknowledge_with_token(self, token: str) -> esc.Escalation:
        """The one-click link: verify the signed token, then acknowledge its page."""
        if self.ack_secret is None:
            raise InvalidCommandError("token", "acknowledgement links are not enabled")
        claim = ack_token.verify(self.ack_secret, token, self.clock())
        return self.acknowledge(by=claim.user_id, page_id=claim.page_id, via="link")

    def get_escalation(
        self, incident_id: uuid.UUID, *, as_of: datetime | None = None
    ) -> esc.Escalation:
        state = self._load(esc.stream_for(incident_id), esc.fold, esc.INITIAL, until=as_of).state
        if state.status is esc.Status.NOT_STARTED:
            raise NotFoundError(f"no escalation for incident {incident_id}")
        return state

    def list_pages(self, incident_id: uuid.UUID) -> list[pg.Page]:
        state = self.get_escalation(incident_id)
        pages = [
            self._load(pg.stream_for(pid), pg.fold, pg.INITIAL).state for pid in state.page_ids
        ]
        return [p for p in pages if p.status is not pg.Status.NONE]

    def get_page(self, page_id: uuid.UUID) -> pg.Page:
        state = self._load(pg.stream_for(page_id), pg.fold, pg.INITIAL).state
        if state.status is pg.Status.NONE:
            raise NotFoundError(f"page {page_id} does not exist")
        return state

    def record_delivery_outcome(
        self,
        page_id: uuid.UUID,
        method_id: str,
        attempt: int,
        *,
        delivered: bool,
        reason: str = "",
        permanent: bool = False,
    ) -> CommandResult:
        """What happened to a Delivery returned by `tick()`. Idempotent."""
        command = build(
            pg.RecordOutcome,
            at=self.clock(),
            method_id=method_id,
            attempt=attempt,
            delivered=delivered,
            reason=reason[:2000],
            permanent=permanent,
        )
        return self._page(page_id, command, key=f"outcome/{method_id}/{attempt}")

    # ================================================================== the scheduler

    def start_sender(self) -> CommandResult:
        """Record that this process now sends for its slot (call once at start, before
        the first tick): the previous instance's unanswered attempts become unknown and
        are sent again by the next tick instead of after their deadline."""
        command = snd.StartSender(at=self.clock(), sender=self.sender, instance=self.instance)
        return self._execute(
            snd.stream_for(self.sender),
            snd.fold,
            snd.INITIAL,
            lambda state: snd.decide(command, state),
            actor=self.actor,
            key=f"start/{self.instance}",
        )

    @property
    def actor(self) -> str:
        """Who the scheduler's own events name: the worker slot, stable across restarts."""
        return f"paging-worker:{self.sender}"

    def pending_timers(self) -> list[DueItem]:
        """Every timer and follow-up not yet done, soonest first (for ops and tests)."""
        self._catch_up()
        return self._due.pending()

    def tick(self) -> list[Delivery]:
        """Fire everything due at the clock's now, each exactly once; return the
        deliveries recorded by this call, for the adapter to make."""
        now = self.clock()
        deliveries: list[Delivery] = []
        handled: set[tuple[tuple[object, ...], datetime]] = set()
        for _ in range(MAX_TICK_PASSES):
            self._catch_up()
            items = [i for i in self._due.due(now) if (i.key, i.due_at) not in handled]
            if not items:
                break
            for item in items:
                handled.add((item.key, item.due_at))
                try:
                    delivery = self._run(item, now)
                except DomainError:
                    # One item the domain refuses (e.g. a page whose data no longer
                    # makes sense) must not stop every other escalation; it stays in
                    # the log for an operator. Store failures still propagate.
                    log.exception("paging: due item %s could not be handled", item.key)
                    continue
                if delivery is not None:
                    deliveries.append(delivery)
        return deliveries

    def _catch_up(self) -> None:
        self._due.apply_all(
            self.store.read_all(
                from_position=self._due.position + 1, filter=EventFilter.of(categories=CATEGORIES)
            )
        )

    def _run(self, item: DueItem, now: datetime) -> Delivery | None:
        match item.kind:
            case DueKind.STEP:
                assert item.incident_id is not None
                assert item.step is not None
                self._fire_step(item.incident_id, item.step, now)
            case DueKind.UNACK_TIMEOUT:
                assert item.incident_id is not None
                assert item.round is not None
                command = esc.FireUnackTimeout(at=now, round=item.round)
                self._escalate(
                    item.incident_id, command, key=f"unack/{item.round}", causation_id=None
                )
            case DueKind.CREATE_PAGES:
                assert item.incident_id is not None
                assert item.step is not None
                self._create_pages(item.incident_id, item.step)
            case DueKind.CLOSE_PAGE:
                assert item.incident_id is not None
                assert item.page_id is not None
                self._close_page(self.get_escalation(item.incident_id), item.page_id, now)
            case DueKind.OUTCOME_OVERDUE:
                assert item.page_id is not None
                assert item.method_id
                assert item.attempt
                unknown: pg.PageCommand
                if item.orphaned and item.sender_instance is not None:
                    unknown = pg.SenderReplaced(
                        at=now,
                        method_id=item.method_id,
                        attempt=item.attempt,
                        sender_instance=item.sender_instance,
                    )
                else:
                    unknown = pg.TimeOutAttempt(
                        at=now, method_id=item.method_id, attempt=item.attempt
                    )
                key = f"outcome/{item.method_id}/{item.attempt}"
                self._page(item.page_id, unknown, key=key, actor=self.actor)
            case DueKind.ADVANCE:
                assert item.incident_id is not None
                assert item.page_id is not None
                undeliverable = esc.PageUndeliverable(
                    at=now,
                    page_id=item.page_id,
                    reason=item.reason or "the page reached nobody",
                    fallback_configured=bool(self.fallback),
                )
                state = self._escalate(
                    item.incident_id,
                    undeliverable,
                    key=f"undeliverable/{item.page_id}",
                    causation_id=None,
                    actor=self.actor,
                )
                self._due.discard(item)
                if state.exhausted_round is not None and not self.fallback:
                    log.critical(
                        "paging: incident %s reached nobody and no fallback route is "
                        "configured (FIREWATCH_PAGING_FALLBACK_EMAILS)",
                        item.incident_id,
                    )
            case DueKind.FALLBACK_PAGE:
                assert item.incident_id is not None
                assert item.page_id is not None
                self._create_fallback_page(item.incident_id, item.page_id, now)
            case DueKind.NOTIFY:
                assert item.page_id is not None
                assert item.method_id
                assert item.attempt
                return self._attempt(item.page_id, item.method_id, item.attempt, now)
        return None

    def _fire_step(self, incident_id: uuid.UUID, step: int, now: datetime) -> None:
        state = self.get_escalation(incident_id)
        pending = state.pending
        if state.status is not esc.Status.ACTIVE or pending is None or pending.step != step:
            return
        assert state.policy is not None
        targets = state.policy.levels[pending.level].targets
        responders: list[str] = []
        for target in targets:
            responders += self._resolve(target, now, as_of=None)
        business_open = None
        if state.urgency is Urgency.LOW:
            business_open = self._business_open(targets, now)
        command = esc.FireStep(
            at=now, step=step, responders=tuple(responders), business_open_at=business_open
        )
        # The key names the step (and the deferral target), so a retried firing derives
        # the same ids and the log keeps the first.
        key = (
            f"fire/{step}"
            if business_open is None or business_open <= now
            else f"defer/{step}/{business_open.isoformat()}"
        )
        self._escalate(incident_id, command, key=key, causation_id=None)

    def _create_pages(self, incident_id: uuid.UUID, step: int) -> None:
        state = self.get_escalation(incident_id)
        fired = next((f for f in state.fired if f.step == step), None)
        if fired is None:
            return
        for user_id in fired.responders:
            user = self._load(usr.stream_for(user_id), usr.fold, usr.INITIAL).state
            plan = tuple(
                pg.PlannedMethod(
                    method_id=m.method_id,
                    kind=m.kind,
                    address=m.address,
                    after_minutes=rule.after_minutes,
                )
                for rule in user.effective_rules
                if (m := user.method(rule.method_id)) is not None
            )
            page_id = esc.page_id_for(incident_id, step, user_id)
            command = pg.CreatePage(
                at=fired.fired_at,
                page_id=page_id,
                incident_id=incident_id,
                step=step,
                user_id=user_id,
                title=state.title,
                plan=plan,
            )
            self._page(page_id, command, key="paged", correlation=incident_id)

    def _create_fallback_page(
        self, incident_id: uuid.UUID, page_id: uuid.UUID, now: datetime
    ) -> None:
        """Page the operators' route: the platform's own alert that nobody was reached.
        It is an ordinary page, so it gets every delivery guarantee a person's has."""
        state = self.get_escalation(incident_id)
        command = pg.CreatePage(
            at=now,
            page_id=page_id,
            incident_id=incident_id,
            step=state.next_step,
            user_id=esc.FALLBACK_RECIPIENT,
            title=f"nobody could be paged: {state.title}"[:500],
            plan=self.fallback,
        )
        self._page(page_id, command, key="paged", correlation=incident_id, actor=self.actor)

    def _close_pages(self, state: esc.Escalation, at: datetime) -> None:
        for page_id in state.page_ids:
            self._close_page(state, page_id, at)

    def _close_page(self, state: esc.Escalation, page_id: uuid.UUID, at: datetime) -> None:
        page_state = self._load(pg.stream_for(page_id), pg.fold, pg.INITIAL).state
        if page_state.status is not pg.Status.OPEN:
            return
        command: pg.PageCommand
        if state.status is esc.Status.ACKNOWLEDGED and state.acknowledged_page == page_id:
            command = build(
                pg.AcknowledgePage,
                at=at,
                by=state.acknowledged_by or "unknown",
                via=state.acknowledged_via,
            )
            key = "ack"
        else:
            if state.status is esc.Status.ACKNOWLEDGED:
                reason = f"incident acknowledged by {state.acknowledged_by}"
            elif state.status is esc.Status.CANCELLED:
                reason = state.cancel_reason or "incident resolved"
            else:
                reason = "superseded by a new escalation round"
            command = pg.CancelPage(at=at, reason=reason)
            key = "close"
        self._page(page_id, command, key=key)

    def _attempt(
        self, page_id: uuid.UUID, method_id: str, attempt: int, now: datetime
    ) -> Delivery | None:
        stream = pg.stream_for(page_id)
        loaded = self._load(stream, pg.fold, pg.INITIAL)
        command = pg.AttemptDelivery(
            at=now,
            method_id=method_id,
            attempt=attempt,
            outcome_timeout=self.retry.outcome_timeout,
            sender=self.sender,
            sender_instance=self.instance,
        )
        events = pg.decide(command, loaded.state, self.retry)
        if not events:
            return None
        event = events[0]
        assert isinstance(event, pg.PageDeliveryAttempted)
        event_id = _attempt_id(stream, method_id, attempt)
        new = EVENTS.to_new_event(
            event,
            event_id=event_id,
            metadata=EventMetadata(correlation_id=str(loaded.state.incident_id), actor=self.actor),
        )
        expected = loaded.version if loaded.version is not None else StreamState.NO_STREAM
        try:
            result = self.store.append(stream, [new], expected)
        except ConcurrencyError:
            return None  # someone else changed the page; the next pass re-decides
        # The attempt's sender instance tells *this* call whether its append wrote the
        # attempt or found one a racing scheduler (another process) wrote first: only
        # the writer sends. One application object ticks from one thread at a time.
        written = self.store.read_stream(stream, from_version=result.current_version, limit=1)
        if (
            not written
            or written[0].id != event_id
            or written[0].data.get("sender_instance") != self.instance
        ):
            return None
        page_state = loaded.state
        assert page_state.incident_id is not None
        token = url = None
        if self.ack_secret is not None:
            token = ack_token.issue(
                self.ack_secret, page_id, page_state.user_id, now + self.ack_token_ttl
            )
            if self.ack_url_base:
                url = f"{self.ack_url_base.rstrip('/')}/{token}"
        return Delivery(
            attempt_event_id=event_id,
            page_id=page_id,
            incident_id=page_state.incident_id,
            user_id=page_state.user_id,
            method_id=method_id,
            kind=event.kind,
            address=event.address,
            attempt=attempt,
            title=page_state.title,
            attempted_at=event.attempted_at,
            outcome_due_by=event.outcome_due_by,
            ack_token=token,
            ack_url=url,
            possible_repeat=event.repeat_of is not None,
            idempotency_key=(
                _attempt_id(stream, method_id, event.repeat_of)
                if event.repeat_of is not None
                else event_id
            ),
        )

    # ================================================================== resolution

    def _resolve(self, target: Target, at: datetime, *, as_of: datetime | None) -> list[str]:
        """The users a target means at `at`, with the configuration as of `as_of`
        (None: today's)."""
        match target.kind:
            case TargetKind.USER:
                self.get_user(target.id, as_of=as_of)
                return [target.id]
            case TargetKind.SCHEDULE:
                return sch.who_is_on_call(self.get_schedule(target.id, as_of=as_of), at)
            case TargetKind.TEAM:
                team = self.get_team(target.id, as_of=as_of)
                if team.schedule_id is not None:
                    return sch.who_is_on_call(self.get_schedule(team.schedule_id, as_of=as_of), at)
                return list(team.members)
        raise AssertionError(target)  # pragma: no cover

    def _business_open(self, targets: Iterable[Target], at: datetime) -> datetime | None:
        """The first instant >= at when someone a step targets is on call *and* inside
        their business hours (schedule restrictions included), or None if unknown."""
        candidates: list[datetime] = []
        for target in targets:
            if target.kind is TargetKind.USER:
                found = self._user_open(target.id, at, None)
                candidates += [found] if found else []
                continue
            schedule_id: str | None = target.id
            members: tuple[str, ...] = ()
            if target.kind is TargetKind.TEAM:
                team = self.get_team(target.id)
                schedule_id, members = team.schedule_id, team.members
            if schedule_id is None:
                candidates += [t for m in members if (t := self._user_open(m, at, None))]
                continue
            for shift in sch.shifts(self.get_schedule(schedule_id), at, at + SHIFT_HORIZON):
                found = self._user_open(shift.user_id, shift.start, shift.end)
                if found is not None:
                    candidates.append(found)
                    break
        return min(candidates) if candidates else None

    def _user_open(self, user_id: str, start: datetime, end: datetime | None) -> datetime | None:
        user = self._load(usr.stream_for(user_id), usr.fold, usr.INITIAL).state
        if not user.registered:
            return None
        found = user.next_business_start(start)
        return found if found is not None and (end is None or found < end) else None

    def _require(self, field: str, kind: TargetKind, ident: str) -> None:
        stream = {
            TargetKind.USER: usr.stream_for,
            TargetKind.SCHEDULE: sch.stream_for,
            TargetKind.TEAM: tm.stream_for,
        }[kind](ident)
        if self.store.current_version(stream) is None:
            raise InvalidCommandError(field, f"unknown {kind.value} {ident!r}")

    def _require_users(self, field: str, user_ids: Iterable[str], *, single: bool = False) -> None:
        for index, user_id in enumerate(user_ids):
            self._require(field if single else f"{field}.{index}", TargetKind.USER, user_id)

    def _require_targets(self, levels: Sequence[pol.Level]) -> None:
        for li, level in enumerate(levels):
            for ti, target in enumerate(level.targets):
                self._require(f"levels.{li}.targets.{ti}", target.kind, target.id)

    # ================================================================== plumbing

    def _escalate(
        self,
        incident_id: uuid.UUID,
        command: esc.EscalationCommand,
        *,
        key: str | None,
        causation_id: str | None,
        actor: str = "paging",
    ) -> esc.Escalation:
        stream = esc.stream_for(incident_id)
        self._execute(
            stream,
            esc.fold,
            esc.INITIAL,
            lambda current: esc.decide(command, current),
            actor=actor,
            key=key,
            correlation=incident_id,
            causation_id=causation_id,
        )
        return self._load(stream, esc.fold, esc.INITIAL).state

    def _page(
        self,
        page_id: uuid.UUID,
        command: pg.PageCommand,
        *,
        key: str | None,
        actor: str = "paging",
        correlation: uuid.UUID | None = None,
    ) -> CommandResult:
        return self._execute(
            pg.stream_for(page_id),
            pg.fold,
            pg.INITIAL,
            lambda state: pg.decide(command, state, self.retry),
            actor=actor,
            key=key,
            correlation=correlation,
            correlation_from=lambda state: state.incident_id,
        )

    def _load(
        self,
        stream: str,
        fold: Callable[[Iterable[DomainEvent]], S],
        initial: S,
        *,
        until: datetime | None = None,
    ) -> _Loaded[S]:
        recorded = self.store.read_stream(stream, until=until)
        if not recorded:
            return _Loaded(initial, None)
        return _Loaded(fold(EVENTS.from_recorded(e) for e in recorded), recorded[-1].version)

    def _execute(
        self,
        stream: str,
        fold: Callable[[Iterable[DomainEvent]], S],
        initial: S,
        decide: Callable[[S], Sequence[DomainEvent]],
        *,
        actor: str,
        key: str | None = None,
        correlation: uuid.UUID | None = None,
        correlation_from: Callable[[S], uuid.UUID | None] | None = None,
        causation_id: str | None = None,
        not_found: str | None = None,
    ) -> CommandResult:
        """Load, decide, append with the version read; retry on a concurrency conflict.

        With a `key`, event ids are derived from (stream, key, index): a retried or
        racing identical decision appends the same ids and the log keeps one copy."""
        for attempt in range(1, self.max_attempts + 1):
            recorded = self.store.read_stream(stream)
            if not recorded and not_found is not None:
                raise NotFoundError(not_found)
            state = fold(EVENTS.from_recorded(e) for e in recorded) if recorded else initial
            version = recorded[-1].version if recorded else None
            events = decide(state)
            if not events:
                return CommandResult(stream, version, 0, ())
            incident = correlation or (correlation_from(state) if correlation_from else None)
            metadata = EventMetadata(
                correlation_id=str(incident) if incident else None,
                causation_id=causation_id,
                actor=actor,
            )
            new = [
                EVENTS.to_new_event(
                    event,
                    event_id=derived_id(stream, key, index) if key else None,
                    metadata=metadata,
                )
                for index, event in enumerate(events)
            ]
            try:
                result = self.store.append(
                    stream, new, version if version is not None else StreamState.NO_STREAM
                )
            except ConcurrencyError:
                if attempt == self.max_attempts:
                    raise
                continue
            return CommandResult(
                stream,
                result.current_version,
                result.last_position,
                tuple(e.event_type() for e in events),
            )
        raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------- helpers


def _attempt_id(stream: str, method_id: str, attempt: int) -> uuid.UUID:
    """The id of a page's attempt event, derived so that only one append writes it."""
    return derived_id(stream, "attempt", method_id, attempt)


def _ident(value: str, field: str) -> str:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text or len(text) > 63 or text != text.lower():
        raise InvalidCommandError(field, f"{value!r} is not a valid id")
    if not all(c.isalnum() or c in "._-" for c in text):
        raise InvalidCommandError(field, f"{value!r} is not a valid id")
    return text


def _target(target: str | Target) -> Target:
    if isinstance(target, Target):
        return target
    try:
        return Target.parse(target)
    except ValueError as error:
        raise InvalidCommandError("target", str(error).splitlines()[0]) from None


def _levels(levels: Sequence[Mapping[str, Any] | pol.Level]) -> tuple[Any, ...]:
    # Accept the compact "kind:id" spelling for targets; pydantic validates the rest.
    out: list[Any] = []
    for level in levels:
        if isinstance(level, Mapping) and isinstance(level.get("targets"), list | tuple):
            targets = [_split_target(t) if isinstance(t, str) else t for t in level["targets"]]
            out.append({**level, "targets": targets})
        else:
            out.append(level)
    return tuple(out)


def _split_target(text: str) -> dict[str, str]:
    kind, _, ident = text.partition(":")
    return {"kind": kind.strip(), "id": ident.strip()}


def _layer_fields(
    layer_id: str,
    name: str,
    users: Sequence[str],
    start: datetime,
    turn: Mapping[str, Any] | sch.Turn | None,
    time_zone: str | None,
    restrictions: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "layer_id": layer_id,
        "name": name,
        "users": tuple(users),
        "start": start,
        "time_zone": time_zone,
        "restrictions": tuple(restrictions),
    }
    if turn is not None:
        fields["turn"] = turn
    return fields


def _check_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None:
        raise InvalidCommandError("start", "must be a timezone-aware timestamp")
    if end.tzinfo is None:
        raise InvalidCommandError("end", "must be a timezone-aware timestamp")
    if end <= start:
        raise InvalidCommandError("end", "must be after start")
    if end - start > timedelta(days=366):
        raise InvalidCommandError("end", "a range may span at most a year")


__all__ = ["CommandResult", "Delivery", "PagingApplication"]
