"""The communications application layer: use cases over appkit's CommandRunner, and the
scheduler that turns durable timers and requested messages into deliveries.

Every adapter calls this and nothing below it: the nameko worker (incident events, the
timer), the gRPC CommsService, the status-page HTTP process and the CLI (through gRPC).
It knows the store port and the injected clock; it never sends, sleeps or reads the
wall clock. Loads come from one in-memory model (`model.CommsModel`, appkit's
ModelSource), caught up from the log before each command and query.

Call sequence for the worker:
0. ``app.start_sender()`` once at start (this process instance now sends for its slot:
   the previous instance's unanswered attempts are resent, labelled, on the first tick);
1. incident events: ``track_incident`` / ``record_change`` (idempotent by the event id);
2. every second: ``sends = app.tick()`` fires reminders and overdue promises, queues the
   requested messages and records attempts; each returned ``Send`` is made once by the
   adapter, which then reports ``app.record_outcomes(dispatch_id, outcomes)``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from appkit import CommandResult, CommandRunner, EventIds, ModelSource, ProjectionRunner
from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import sender as snd
from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service import subscriber as sub
from comms_service import templates as tpl
from comms_service.cadence import CadencePolicy
from comms_service.checks import check_update
from comms_service.common import (
    EVENTS,
    ID_NAMESPACE,
    MAX_BODY,
    Severity,
    build,
    check_email,
    check_url,
    derived_id,
)
from comms_service.model import CommsModel, Request, aggregates, notice_id
from contracts.domain import InvalidCommandError, NotFoundError
from eventlog import EventStore
from eventlog.clock import Clock

MAX_TICK_PASSES = 100
NOTICE_BUCKETS = 64
MAINTENANCE_NOTICE = timedelta(hours=1)
"""Subscribers are reminded this long before a maintenance starts (unless it was
published later than that)."""
"""A subscriber notice is split into this many dispatches at most (by subscriber id):
about 4,500 subscribers fit one bucket's event, so up to ~280,000 subscribers."""


@dataclass(frozen=True, slots=True)
class ChannelRouting:
    """Where each incident's channels open (deployment configuration), per service."""

    war_room: tuple[rm.DestinationSpec, ...] = ()
    stakeholder: tuple[rm.DestinationSpec, ...] = ()
    per_service: Mapping[
        str, tuple[tuple[rm.DestinationSpec, ...], tuple[rm.DestinationSpec, ...]]
    ] = field(default_factory=dict)
    min_severity: Severity = Severity.P4
    """Open channels for this severity and more severe (P4: every incident)."""
    per_service_min: Mapping[str, Severity] = field(default_factory=dict)
    """The same threshold for a service (its incidents' first listed service)."""

    def for_service(
        self, services: Sequence[str]
    ) -> tuple[tuple[rm.DestinationSpec, ...], tuple[rm.DestinationSpec, ...], str | None]:
        for service in services:
            if service in self.per_service:
                war, stake = self.per_service[service]
                return war, stake, service
        return self.war_room, self.stakeholder, (services[0] if services else None)

    def opens(self, severity: Severity, service: str | None = None) -> bool:
        threshold = self.per_service_min.get(service or "", self.min_severity)
        return int(severity.value[1]) <= int(threshold.value[1])


@dataclass(frozen=True, slots=True)
class Send:
    """One recorded attempt the adapter must now make, once."""

    dispatch_id: uuid.UUID
    purpose: str
    target: dsp.Target
    attempt: int
    subject: str
    body: str
    reference: str
    severity: str
    incident_id: uuid.UUID | None
    possible_repeat: bool
    idempotency_key: str
    """Stable per attempt; a possible repeat carries the attempt it may repeat."""
    source: str | None = None
    """The stream whose event asked for this message (a status incident for notices)."""
    data: dict[str, str] | None = None
    """Structured facts for machine receivers (a component update's statuses)."""


@dataclass(frozen=True, slots=True)
class Preview:
    body: str
    next_update_by: datetime | None
    warnings: tuple[str, ...] = ()
    """Message checks (checks.py): advice, never a refusal."""


class CommsApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        cadence: CadencePolicy | None = None,
        retry: dsp.RetryPolicy | None = None,
        routing: ChannelRouting | None = None,
        templates: Mapping[str, str] | None = None,
        secret: bytes = b"firewatch-comms-development-secret-change-me",
        page_url: str = "http://127.0.0.1:8090",
        sender: str = "comms",
        contacts: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.cadence = cadence or CadencePolicy()
        self.retry = retry or dsp.RetryPolicy()
        self.routing = routing or ChannelRouting()
        self.templates: dict[str, str] = {a.value: t for a, t in tpl.DEFAULT_TEMPLATES.items()}
        for name, source in (templates or {}).items():
            tpl.check(source, field=f"templates.{name}")
            self.templates[name] = source
        self.secret = secret
        self.page_url = page_url.rstrip("/")
        self.sender = sender
        self.instance = str(uuid.uuid4())
        self.contacts = dict(contacts or {})
        self._mirrored_upto = 0
        """How many public updates this process has mirrored (each is idempotent, so a
        restart that starts from 0 repeats nothing)."""
        self.aggregates = aggregates(
            rm.make_decide(self.cadence), dsp.make_decide(self.retry), dsp.make_evolve(self.retry)
        )
        self.projections = ProjectionRunner(store, lambda: CommsModel(self.aggregates.values()))
        self.runner = CommandRunner(
            store, EVENTS, EventIds(ID_NAMESPACE), source=ModelSource(self.projections)
        )

    # ------------------------------------------------------------------ helpers

    @property
    def model(self) -> CommsModel:
        self.projections.catch_up()
        return self.projections.projection

    def _run(
        self,
        category: str,
        stream: str,
        command: Any,
        *,
        actor: str,
        key: str | None = None,
        causation_id: str | None = None,
        not_found: str | None = None,
    ) -> CommandResult[Any]:
        return self.runner.execute(
            self.aggregates[category],
            stream,
            command,
            actor=actor,
            key=key,
            causation_id=causation_id,
            not_found=not_found,
        )

    def room(self, incident_id: uuid.UUID) -> rm.Room:
        state, _ = self.model.state(rm.stream_for(incident_id))
        if not state.tracked:
            raise NotFoundError(f"incident {incident_id} has no communications here")
        return state  # type: ignore[no-any-return]

    def tracked(self, incident_id: uuid.UUID) -> bool:
        state, _ = self.model.state(rm.stream_for(incident_id))
        return bool(state.tracked)

    def find_incident(self, reference: str) -> uuid.UUID:
        """An incident by its reference ("INC-1") or id."""
        text = reference.strip()
        for _, state in self.model.streams(rm.STREAM_CATEGORY):
            if state.reference.lower() == text.lower() or str(state.incident_id) == text:
                return state.incident_id  # type: ignore[no-any-return]
        raise InvalidCommandError(
            "incident", f"no incident {reference!r} is known to communications"
        )

    # ------------------------------------------------------------------ sender slots

    def start_sender(self) -> None:
        command = snd.StartSender(at=self.clock(), sender=self.sender, instance=self.instance)
        self._run(snd.STREAM_CATEGORY, snd.stream_for(self.sender), command, actor=self._actor)

    @property
    def _actor(self) -> str:
        return f"comms-worker:{self.sender}"

    # ------------------------------------------------------------------ incidents

    def track_incident(
        self,
        incident_id: uuid.UUID,
        *,
        number: int | None,
        title: str,
        severity: str,
        services: Sequence[str] = (),
        commander: str | None = None,
        causation_id: str | None = None,
    ) -> CommandResult[Any] | None:
        """IncidentDeclared: open the war room and the stakeholder channel (if the
        severity calls for them) and make the first promise."""
        try:
            level = Severity(severity)
        except ValueError:
            raise InvalidCommandError("severity", "one of P1, P2, P3, P4") from None
        war, stake, service = self.routing.for_service(services)
        if not self.routing.opens(level, service):
            return None
        command = build(
            rm.TrackIncident,
            at=self.clock(),
            incident_id=incident_id,
            reference=f"INC-{number}" if number else f"incident {str(incident_id)[:8]}",
            title=title[:500],
            severity=severity,
            service=service,
            commander=commander,
            war_room=war,
            stakeholder=stake,
        )
        return self._run(
            rm.STREAM_CATEGORY,
            rm.stream_for(incident_id),
            command,
            actor="comms-worker",
            key=f"tracked/{causation_id or incident_id}",
            causation_id=causation_id,
        )

    def record_change(
        self,
        incident_id: uuid.UUID,
        change: str,
        text: str,
        *,
        cause: str,
        severity: str | None = None,
        status: str | None = None,
        commander: str | None = None,
    ) -> CommandResult[Any] | None:
        """An incident change for the war room; ignored for incidents not tracked here."""
        state, _ = self.model.state(rm.stream_for(incident_id))
        if not state.tracked:
            return None
        command = build(
            rm.RecordChange,
            at=self.clock(),
            message_id=derived_id("war-room", cause),
            change=change,
            text=text[:2000],
            severity=severity,
            status=status,
            commander=commander,
        )
        return self._run(
            rm.STREAM_CATEGORY,
            rm.stream_for(incident_id),
            command,
            actor="comms-worker",
            key=f"change/{cause}",
            causation_id=cause,
        )

    def assign_comms_lead(self, incident: str, comms_lead: str, *, by: str) -> CommandResult[Any]:
        incident_id = self.find_incident(incident)
        command = build(rm.AssignCommsLead, at=self.clock(), comms_lead=comms_lead, assigned_by=by)
        return self._run(rm.STREAM_CATEGORY, rm.stream_for(incident_id), command, actor=by)

    # ------------------------------------------------------------------ updates

    def preview_update(
        self,
        incident: str,
        *,
        audience: str,
        message: str,
        status: str = "investigating",
        template: str | None = None,
    ) -> Preview:
        incident_id = self.find_incident(incident)
        state = self.room(incident_id)
        preview = self._render(state, audience, message, status, template, self.clock())
        statuses = [c.status.value for c in self.page().components.values()]
        warnings = check_update(
            preview.body, audience=audience, status=status, component_statuses=statuses
        )
        return Preview(preview.body, preview.next_update_by, tuple(warnings))

    def _render(
        self,
        state: rm.Room,
        audience: str,
        message: str,
        status: str,
        template: str | None,
        at: datetime,
    ) -> Preview:
        try:
            chosen = tpl.Audience(audience)
        except ValueError:
            raise InvalidCommandError("audience", "one of internal, executive, public") from None
        try:
            rm.UpdateStatus(status)
        except ValueError:
            raise InvalidCommandError(
                "status", "one of investigating, identified, monitoring, resolved"
            ) from None
        if not message.strip():
            raise InvalidCommandError("message", "an update says something")
        if len(message) > MAX_BODY:
            raise InvalidCommandError("message", f"at most {MAX_BODY} characters")
        source = (
            self.templates[chosen.value]
            if template is None
            else self.templates.get(template, template)
        )
        next_due = None
        if status != rm.UpdateStatus.RESOLVED and state.severity is not None:
            next_due = self.cadence.next_due(state.severity, at, state.service)
        body = tpl.render(
            source,
            {
                "reference": state.reference,
                "title": state.title,
                "severity": state.severity.value if state.severity else "",
                "status": status,
                "commander": state.commander,
                "comms_lead": state.comms_lead,
                "message": message.strip(),
                "next_update_by": next_due.strftime("%H:%M UTC") if next_due else "",
            },
            field="template",
        )
        return Preview(body, next_due)

    def post_update(
        self,
        incident: str,
        *,
        audience: str,
        message: str,
        posted_by: str,
        status: str = "investigating",
        template: str | None = None,
        privileged: bool = False,
        key: str | None = None,
    ) -> CommandResult[Any]:
        """A stakeholder update: rendered, recorded with its promise, then delivered
        to every stakeholder destination exactly once (by the scheduler)."""
        incident_id = self.find_incident(incident)
        state = self.room(incident_id)
        at = self.clock()
        preview = self._render(state, audience, message, status, template, at)
        command = build(
            rm.PostUpdate,
            at=at,
            update_id=derived_id("update", incident_id, key) if key else uuid.uuid4(),
            audience=audience,
            status=status,
            body=preview.body,
            template=template or audience,
            posted_by=posted_by,
            privileged=privileged,
        )
        result = self._run(
            rm.STREAM_CATEGORY, rm.stream_for(incident_id), command, actor=posted_by, key=key
        )
        self.mirror_public_updates()
        self.queue_requested()
        return result

    # ------------------------------------------------------------------ status page

    def configure_page(
        self, *, name: str, url: str, time_zone: str = "UTC", by: str
    ) -> CommandResult[Any]:
        command = build(sp.ConfigurePage, at=self.clock(), name=name, url=url, time_zone=time_zone)
        return self._run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def add_group(
        self, group_id: str, name: str, *, description: str = "", by: str
    ) -> CommandResult[Any]:
        command = build(
            sp.AddGroup, at=self.clock(), group_id=group_id, name=name, description=description
        )
        return self._run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def add_component(
        self,
        component_id: str,
        name: str,
        *,
        description: str = "",
        group_id: str | None = None,
        only_show_if_degraded: bool = False,
        by: str,
    ) -> CommandResult[Any]:
        command = build(
            sp.AddComponent,
            at=self.clock(),
            component_id=component_id,
            name=name,
            description=description,
            group_id=group_id or None,
            only_show_if_degraded=only_show_if_degraded,
        )
        return self._run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def set_component_status(
        self, component_id: str, status: str, *, by: str
    ) -> CommandResult[Any]:
        command = build(
            sp.SetComponentStatus,
            at=self.clock(),
            component_id=component_id,
            status=status,
            changed_by=by,
        )
        return self._run(sp.STREAM_CATEGORY, sp.PAGE_STREAM, command, actor=by)

    def page(self) -> sp.Page:
        state, _ = self.model.state(sp.PAGE_STREAM)
        return state  # type: ignore[no-any-return]

    def _check_components(self, ids: Sequence[str], field_name: str = "component_ids") -> None:
        known = self.page().components
        for index, component_id in enumerate(ids):
            if component_id not in known:
                raise InvalidCommandError(
                    f"{field_name}[{index}]", f"no component {component_id!r}"
                )

    def draft_status_incident(
        self,
        *,
        name: str,
        body: str,
        by: str,
        impact: str = "minor",
        component_ids: Sequence[str] = (),
        internal_only: bool = False,
        incident: str | None = None,
        kind: str = "incident",
        scheduled_for: datetime | None = None,
        scheduled_until: datetime | None = None,
        key: str | None = None,
    ) -> CommandResult[Any]:
        self._check_components(component_ids)
        incident_id = self.find_incident(incident) if incident else None
        status_id = derived_id("status-incident", key) if key else uuid.uuid4()
        command = build(
            si.DraftIncident,
            at=self.clock(),
            status_incident_id=status_id,
            kind=kind,
            name=name,
            impact=impact,
            component_ids=tuple(component_ids),
            internal_only=internal_only,
            incident_id=incident_id,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            drafted_by=by,
            body=body,
        )
        return self._run(si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by, key=key)

    def status_incident(self, status_id: uuid.UUID) -> si.StatusIncident:
        state, _ = self.model.state(si.stream_for(status_id))
        if state.drafted is None:
            raise NotFoundError(f"no status-page incident {status_id}")
        return state  # type: ignore[no-any-return]

    def post_status_update(
        self,
        status_id: uuid.UUID,
        *,
        status: str,
        body: str,
        by: str,
        impact: str | None = None,
        components: Mapping[str, str] | None = None,
        deliver_notifications: bool = True,
        key: str | None = None,
    ) -> CommandResult[Any]:
        """An update; its component statuses apply to the page (public once published)."""
        self.status_incident(status_id)
        changes = []
        page = self.page()
        for index, (component_id, new_status) in enumerate((components or {}).items()):
            component = page.components.get(component_id)
            if component is None:
                raise InvalidCommandError(f"components[{index}]", f"no component {component_id!r}")
            changes.append(
                {
                    "component_id": component_id,
                    "old_status": component.status,
                    "new_status": new_status,
                }
            )
        command = build(
            si.PostStatusUpdate,
            at=self.clock(),
            update_id=derived_id("status-update", status_id, key) if key else uuid.uuid4(),
            status=status,
            body=body,
            impact=impact,
            affected_components=tuple(changes),
            deliver_notifications=deliver_notifications,
            posted_by=by,
        )
        result = self._run(si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by, key=key)
        self.queue_requested()
        return result

    def add_internal_note(self, status_id: uuid.UUID, body: str, *, by: str) -> CommandResult[Any]:
        self.status_incident(status_id)
        command = build(
            si.AddInternalNote, at=self.clock(), note_id=uuid.uuid4(), body=body, author=by
        )
        return self._run(si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by)

    def publish(self, status_id: uuid.UUID, *, by: str) -> CommandResult[Any]:
        self.status_incident(status_id)
        command = build(si.Publish, at=self.clock(), published_by=by)
        result = self._run(si.STREAM_CATEGORY, si.stream_for(status_id), command, actor=by)
        self.queue_requested()
        return result

    # ------------------------------------------------------------------ subscribers

    def _confirm_token(self, stream: str, at: datetime) -> str:
        return hmac.new(
            self.secret, f"confirm|{stream}|{at.isoformat()}".encode(), hashlib.sha256
        ).hexdigest()

    def unsubscribe_signature(self, subscriber_id: uuid.UUID) -> str:
        return hmac.new(
            self.secret, f"unsubscribe|{subscriber_id}".encode(), hashlib.sha256
        ).hexdigest()[:32]

    def unsubscribe_url(self, subscriber_id: uuid.UUID) -> str:
        signature = self.unsubscribe_signature(subscriber_id)
        return f"{self.page_url}/unsubscribe/{subscriber_id}/{signature}"

    def subscribe_email(
        self, address: str, component_ids: Sequence[str] = ()
    ) -> CommandResult[Any]:
        """Double opt-in: records the request and mails a confirmation link."""
        email = check_email("email", address)
        self._check_components(component_ids)
        sub_id = sub.subscriber_id(sub.SubscriberKind.EMAIL, email)
        stream = sub.stream_for(sub_id)
        at = self.clock()
        command = build(
            sub.RequestSubscription,
            at=at,
            kind="email",
            address=email,
            component_ids=tuple(component_ids),
            confirm_token=self._confirm_token(stream, at),
        )
        result = self._run(sub.STREAM_CATEGORY, stream, command, actor="public")
        self.queue_requested()
        return result

    def add_webhook_subscriber(
        self, url: str, component_ids: Sequence[str] = (), *, by: str
    ) -> CommandResult[Any]:
        address = check_url("url", url)
        self._check_components(component_ids)
        sub_id = sub.subscriber_id(sub.SubscriberKind.WEBHOOK, address)
        command = build(
            sub.RequestSubscription,
            at=self.clock(),
            kind="webhook",
            address=address,
            component_ids=tuple(component_ids),
        )
        return self._run(sub.STREAM_CATEGORY, sub.stream_for(sub_id), command, actor=by)

    def confirm_subscription(self, subscriber_id: uuid.UUID, token: str) -> CommandResult[Any]:
        command = build(sub.ConfirmSubscription, at=self.clock(), token=token)
        return self._run(
            sub.STREAM_CATEGORY,
            sub.stream_for(subscriber_id),
            command,
            actor="public",
            not_found="no such subscription",
        )

    def unsubscribe(
        self, subscriber_id: uuid.UUID, signature: str, *, via: str = "link"
    ) -> CommandResult[Any]:
        if not hmac.compare_digest(signature, self.unsubscribe_signature(subscriber_id)):
            raise InvalidCommandError("signature", "this unsubscribe link is not valid")
        command = build(sub.Unsubscribe, at=self.clock(), via=via)
        return self._run(
            sub.STREAM_CATEGORY,
            sub.stream_for(subscriber_id),
            command,
            actor="public",
            not_found="no such subscription",
        )

    def subscribers(self) -> list[sub.Subscriber]:
        return [state for _, state in self.model.streams(sub.STREAM_CATEGORY)]

    # ------------------------------------------------------------------ the scheduler

    def tick(self, *, limit: int = dsp.MAX_BATCH) -> list[Send]:
        """Fire due timers, queue requested messages, expire unknown outcomes and record
        the attempts that are due; returns what this call recorded, to send once."""
        sends: list[Send] = []
        for _ in range(MAX_TICK_PASSES):
            now = self.clock()
            progressed = self._fire_timers(now)
            progressed = self.queue_requested() or progressed
            fresh = self._attempt_due(now, limit)
            sends.extend(fresh)
            if not progressed and not fresh:
                break
        return sends

    def _fire_timers(self, now: datetime) -> bool:
        fired = self._maintenance_windows(now)
        fired = self.mirror_public_updates() or fired
        for stream, state in self.model.streams(rm.STREAM_CATEGORY):
            promise = state.promise
            if promise is None:
                continue
            if not promise.reminded and promise.remind_at <= now:
                result = self._run(
                    rm.STREAM_CATEGORY,
                    stream,
                    rm.FireReminder(at=now, seq=promise.seq),
                    actor=self._actor,
                    key=f"remind/{promise.seq}",
                )
                fired = fired or result.appended
            if not promise.overdue and promise.due_by <= now:
                result = self._run(
                    rm.STREAM_CATEGORY,
                    stream,
                    rm.MarkOverdue(at=now, seq=promise.seq),
                    actor=self._actor,
                    key=f"overdue/{promise.seq}",
                )
                fired = fired or result.appended
        return fired

    def mirror_public_updates(self) -> bool:
        """A public-audience update also appears on the incident's linked status-page
        incidents that are still open (drafts too: publishing stays explicit). Keyed by
        the update, so a retry or a crash in between posts it once."""
        model = self.model
        mirrored = False
        pending = model.ix.public_updates[self._mirrored_upto :]
        for room_stream, posted in pending:
            room: rm.Room = model.state(room_stream)[0]
            for stream, state in model.streams(si.STREAM_CATEGORY):
                drafted = state.drafted
                if (
                    drafted is None
                    or drafted.incident_id != room.incident_id
                    or drafted.kind is not si.Kind.INCIDENT
                    or state.closed
                    or drafted.drafted_at > posted.posted_at
                ):
                    continue
                update_id = derived_id(
                    "status-update", drafted.status_incident_id, posted.update_id
                )
                if update_id in state.update_ids:
                    continue
                command = si.PostStatusUpdate(
                    at=posted.posted_at,
                    update_id=update_id,
                    status=si.IncidentStatus(posted.status.value),
                    body=posted.body,
                    posted_by=posted.posted_by,
                )
                result = self._run(
                    si.STREAM_CATEGORY,
                    stream,
                    command,
                    actor=posted.posted_by,
                    key=f"mirror/{posted.update_id}",
                )
                mirrored = mirrored or result.appended
        self._mirrored_upto += len(pending)
        return mirrored

    def _maintenance_windows(self, now: datetime) -> bool:
        """A published maintenance is announced an hour before it starts, then starts
        and completes on its schedule (subscribers are told each time); each step is
        keyed, so it happens once."""
        fired = False
        for stream, state in self.model.streams(si.STREAM_CATEGORY):
            drafted = state.drafted
            if drafted is None or drafted.kind is not si.Kind.MAINTENANCE or not state.public:
                continue
            assert drafted.scheduled_for is not None
            assert drafted.scheduled_until is not None
            reminder = derived_id("status-update", drafted.status_incident_id, "auto/reminder")
            if (
                state.status is si.IncidentStatus.SCHEDULED
                and drafted.scheduled_for - MAINTENANCE_NOTICE <= now < drafted.scheduled_for
                and reminder not in state.update_ids
                and (state.published_at or now) < drafted.scheduled_for - MAINTENANCE_NOTICE
            ):
                status, body, key = (
                    si.IncidentStatus.SCHEDULED,
                    f"Reminder: this maintenance starts at "
                    f"{drafted.scheduled_for.strftime('%Y-%m-%d %H:%M UTC')}.",
                    "auto/reminder",
                )
            elif state.status is si.IncidentStatus.SCHEDULED and drafted.scheduled_for <= now:
                status, body, key = (
                    si.IncidentStatus.IN_PROGRESS,
                    "Scheduled maintenance is in progress. We will provide updates as necessary.",
                    "auto/started",
                )
            elif (
                state.status in (si.IncidentStatus.IN_PROGRESS, si.IncidentStatus.VERIFYING)
                and drafted.scheduled_until <= now
            ):
                status, body, key = (
                    si.IncidentStatus.COMPLETED,
                    "The scheduled maintenance has been completed.",
                    "auto/completed",
                )
            else:
                continue
            command = si.PostStatusUpdate(
                at=now,
                update_id=derived_id("status-update", drafted.status_incident_id, key),
                status=status,
                body=body,
                posted_by="statuspage",
            )
            result = self._run(si.STREAM_CATEGORY, stream, command, actor=self._actor, key=key)
            fired = fired or result.appended
        return fired

    def queue_requested(self) -> bool:
        """Create the dispatch of every requested message not queued yet."""
        queued = False
        for request in self.model.pending_requests():
            command = self._dispatch_for(request)
            if request.purpose in (dsp.Purpose.SUBSCRIBER_NOTICE, dsp.Purpose.COMPONENT_UPDATE):
                # One event may hold at most 1 MiB, so a notice to many subscribers is
                # split into buckets by subscriber id (a subscriber's bucket never
                # changes: a retry after a crash recreates only the missing buckets and
                # nobody lands in two). The request's own dispatch, with no targets, is
                # queued last and marks the request done.
                commands = [
                    *self._buckets(command, request.stream),
                    command.model_copy(update={"targets": (), "source": request.stream}),
                ]
            else:
                commands = [command.model_copy(update={"source": request.stream})]
            for each in commands:
                result = self._run(
                    dsp.STREAM_CATEGORY,
                    dsp.stream_for(each.dispatch_id),
                    each,
                    actor=self._actor,
                    key="queued",
                )
                queued = queued or result.appended
        return queued

    @staticmethod
    def _buckets(command: dsp.QueueDispatch, source: str) -> list[dsp.QueueDispatch]:
        buckets: dict[int, list[dsp.Target]] = {}
        for target in command.targets:
            bucket = uuid.UUID(target.target_id).int % NOTICE_BUCKETS
            buckets.setdefault(bucket, []).append(target)
        return [
            command.model_copy(
                update={
                    "dispatch_id": derived_id(command.dispatch_id, "bucket", bucket),
                    "targets": tuple(targets),
                    "source": source,
                }
            )
            for bucket, targets in sorted(buckets.items())
        ]

    def _attempt_due(self, now: datetime, limit: int) -> list[Send]:
        sends: list[Send] = []
        instances = self.model.sender_instances()
        model = self.model
        for stream in sorted(model.ix.open_dispatches):
            state: dsp.Dispatch = model.state(stream)[0]
            due = dsp.due_at(state)
            replaced = any(
                instances.get(s) not in (None, i) for s, i in dsp.in_flight_senders(state)
            )
            if (due is None or due > now) and not replaced:
                continue
            self._run(
                dsp.STREAM_CATEGORY,
                stream,
                dsp.ExpireAttempts(at=now, current_instances=instances),
                actor=self._actor,
            )
            while True:
                result = self._run(
                    dsp.STREAM_CATEGORY,
                    stream,
                    dsp.AttemptDue(
                        at=now, sender=self.sender, sender_instance=self.instance, limit=limit
                    ),
                    actor=self._actor,
                )
                if not result.appended:
                    break
                sends.extend(self._sends(result.state, result.events[0]))
        return sends

    def _sends(self, state: dsp.Dispatch, event: Any) -> list[Send]:
        assert state.queued is not None
        queued = state.queued
        targets = {t.target_id: t for t in queued.targets}
        out = []
        for attempt in event.attempts:
            first = attempt.repeat_of or attempt.attempt
            out.append(
                Send(
                    dispatch_id=queued.dispatch_id,
                    purpose=queued.purpose,
                    target=targets[attempt.target_id],
                    attempt=attempt.attempt,
                    subject=queued.subject,
                    body=queued.body,
                    reference=queued.reference,
                    severity=queued.severity,
                    incident_id=queued.incident_id,
                    possible_repeat=attempt.repeat_of is not None,
                    idempotency_key=str(
                        derived_id("send", queued.dispatch_id, attempt.target_id, first)
                    ),
                    source=queued.source,
                    data=queued.data,
                )
            )
        return out

    def record_outcomes(
        self, dispatch_id: uuid.UUID, outcomes: Sequence[tuple[str, int, bool, str, bool]]
    ) -> CommandResult[Any]:
        """(target_id, attempt, delivered, reason, permanent) for each send made."""
        command = dsp.RecordOutcomes(
            at=self.clock(),
            outcomes=tuple(
                dsp.Outcome(target_id=t, attempt=a, delivered=d, reason=r[:500], permanent=p)
                for t, a, d, r, p in outcomes
            ),
        )
        return self._run(
            dsp.STREAM_CATEGORY, dsp.stream_for(dispatch_id), command, actor=self._actor
        )

    def open_status(self, incident_id: uuid.UUID, destination: rm.Destination) -> str:
        """How the message that opened `destination` fared."""
        opened = self.dispatch(
            derived_id(rm.stream_for(incident_id), "opened", destination.role.value)
        )
        target = opened.targets.get(f"{destination.role.value}.{destination.channel_id}")
        if target is None:
            return "pending"
        if target.status is dsp.TargetStatus.DELIVERED:
            return "delivered"
        if target.status is dsp.TargetStatus.FAILED:
            return f"failed: {target.reason}"
        if target.reason:
            return f"retrying: {target.reason}"
        return "pending"

    def dispatch(self, dispatch_id: uuid.UUID) -> dsp.Dispatch:
        state, _ = self.model.state(dsp.stream_for(dispatch_id))
        return state  # type: ignore[no-any-return]

    def dispatches_for(self, incident_id: uuid.UUID) -> list[dsp.Dispatch]:
        return [
            s
            for _, s in self.model.streams(dsp.STREAM_CATEGORY)
            if s.queued is not None and s.queued.incident_id == incident_id
        ]

    # ------------------------------------------------------------------ messages

    def _dispatch_for(self, request: Request) -> dsp.QueueDispatch:
        at = self.clock()
        if request.purpose in (
            dsp.Purpose.SUBSCRIBER_NOTICE,
            dsp.Purpose.CONFIRM_SUBSCRIPTION,
            dsp.Purpose.COMPONENT_UPDATE,
        ):
            return self._status_message(request, at)
        state: rm.Room = self.model.state(request.stream)[0]
        data = request.data
        war = [self._target(d) for d in state.destinations(rm.Role.WAR_ROOM)]
        stake = [self._target(d) for d in state.destinations(rm.Role.STAKEHOLDER)]
        head = f"{state.reference} {state.severity or ''}".strip()
        match request.purpose:
            case dsp.Purpose.CHANNEL_OPENED:
                role = (
                    rm.Role.WAR_ROOM
                    if request.dispatch_id == derived_id(request.stream, "opened", "war_room")
                    else rm.Role.STAKEHOLDER
                )
                targets = war if role is rm.Role.WAR_ROOM else stake
                what = "War room" if role is rm.Role.WAR_ROOM else "Stakeholder channel"
                subject = f"{what} opened: {head}: {state.title}"
                body = (
                    f"{what} for {state.reference} ({state.title}), severity {state.severity}. "
                    + (
                        "Incident changes are posted here as they happen."
                        if role is rm.Role.WAR_ROOM
                        else "Stakeholder updates are posted here."
                    )
                )
            case dsp.Purpose.WAR_ROOM:
                targets = war
                subject = f"{head} {data['change']}: {state.title}"
                body = data["text"]
            case dsp.Purpose.STAKEHOLDER_UPDATE:
                targets = stake
                subject = f"Update on {head}: {state.title} ({data['status']})"
                body = data["body"]
            case dsp.Purpose.REMINDER:
                targets = war + self._person(state.commander)
                subject = f"Stakeholder update due by {data['due_by'][11:16]} UTC: {head}"
                body = (
                    f"{state.commander or 'Commander'}: the next stakeholder update for "
                    f"{state.reference} is due by {data['due_by']}. Post it with "
                    f"`incidentctl comms update {state.reference} ...`."
                )
            case _:
                who = data.get("escalated_to")
                targets = war + self._person(who)
                subject = f"OVERDUE stakeholder update: {head}"
                body = (
                    f"{who or 'Communications lead'}: the stakeholder update promised for "
                    f"{state.reference} by {data['due_by']} was not posted. Stakeholders are "
                    'waiting; post an update now ("still investigating" counts).'
                )
        return dsp.QueueDispatch(
            at=at,
            dispatch_id=request.dispatch_id,
            purpose=request.purpose.value,
            incident_id=state.incident_id,
            reference=state.reference,
            subject=subject[:500],
            body=body,
            severity=state.severity.value if state.severity else "",
            targets=tuple(_dedupe(targets)),
        )

    def _person(self, user: str | None) -> list[dsp.Target]:
        address = self.contacts.get(user or "")
        if not address:
            return []
        return [dsp.Target(target_id=f"person.{user}", kind=dsp.TargetKind.EMAIL, address=address)]

    @staticmethod
    def _target(destination: rm.Destination) -> dsp.Target:
        return dsp.Target(
            target_id=f"{destination.role.value}.{destination.channel_id}",
            kind=dsp.TargetKind(destination.kind.value),
            address=destination.address,
        )

    def _status_message(self, request: Request, at: datetime) -> dsp.QueueDispatch:
        page = self.page()
        if request.purpose is dsp.Purpose.CONFIRM_SUBSCRIPTION:
            state: sub.Subscriber = self.model.state(request.stream)[0]
            assert state.subscriber_id is not None
            token = self._confirm_token(
                request.stream, datetime.fromisoformat(request.data["requested_at"])
            )
            link = f"{self.page_url}/subscriptions/{state.subscriber_id}/confirm?token={token}"
            return dsp.QueueDispatch(
                at=at,
                dispatch_id=request.dispatch_id,
                purpose=request.purpose.value,
                reference=page.name,
                subject=f"Confirm your subscription to {page.name}",
                body=(
                    f"Someone (we hope you) asked to receive {page.name} notifications at "
                    f"{state.address}. Confirm with this link: {link}\n\n"
                    "If it was not you, ignore this message: nothing will be sent."
                ),
                targets=(
                    dsp.Target(
                        target_id=str(state.subscriber_id),
                        kind=dsp.TargetKind.EMAIL,
                        address=state.address,
                    ),
                ),
            )
        if request.purpose is dsp.Purpose.COMPONENT_UPDATE:
            return self._component_update(request, page, at)
        incident: si.StatusIncident = self.model.state(request.stream)[0]
        assert incident.drafted is not None
        drafted = incident.drafted
        update = incident.updates[-1]
        for candidate in incident.updates:
            if notice_id(candidate.update_id) == request.dispatch_id:
                update = candidate
        components = drafted.component_ids
        # Maintenance reaches every subscriber of the page, per-component ones too.
        targets = self._subscriber_targets(components, everyone=drafted.kind is si.Kind.MAINTENANCE)
        label = "Maintenance" if drafted.kind is si.Kind.MAINTENANCE else "Incident"
        status_words = update.status.value.replace("_", " ")
        return dsp.QueueDispatch(
            at=at,
            dispatch_id=request.dispatch_id,
            purpose=request.purpose.value,
            incident_id=drafted.incident_id,
            reference=page.name,
            subject=f"[{page.name}] {label} {status_words}: {drafted.name}",
            body=update.body,
            severity=incident.impact.value,
            targets=tuple(targets),
        )

    def _component_update(self, request: Request, page: sp.Page, at: datetime) -> dsp.QueueDispatch:
        data = request.data
        component = page.components.get(data["component_id"])
        name = component.name if component else data["component_id"]
        old, new = data["old_status"], data["new_status"]
        return dsp.QueueDispatch(
            at=at,
            dispatch_id=request.dispatch_id,
            purpose=request.purpose.value,
            reference=page.name,
            subject=f"[{page.name}] {name} is now {new.replace('_', ' ')}",
            body=f"{name} changed from {old.replace('_', ' ')} to {new.replace('_', ' ')}.",
            severity=new,
            targets=tuple(self._subscriber_targets([data["component_id"]], everyone=False)),
            data={
                "component_id": data["component_id"],
                "old_status": old,
                "new_status": new,
                "created_at": data["changed_at"],
            },
        )

    def _subscriber_targets(self, components: Sequence[str], *, everyone: bool) -> list[dsp.Target]:
        return [
            dsp.Target(
                target_id=str(s.subscriber_id),
                kind=dsp.TargetKind(s.kind.value if s.kind else "email"),
                address=s.address,
                unsubscribe_url=self.unsubscribe_url(s.subscriber_id),
            )
            for s in self.subscribers()
            if s.status is sub.Status.CONFIRMED
            and s.subscriber_id is not None
            and (everyone or s.follows(components))
        ]

    # ------------------------------------------------------------------ report

    def report(self) -> dict[str, Any]:
        """Promises kept and missed, per incident and per severity."""
        per_incident: dict[str, dict[str, int]] = {}
        per_severity: dict[str, dict[str, int]] = {}
        for record in self.model.ix.promises.values():
            if record.outcome not in ("kept", "missed", "open"):
                continue
            for bucket, name in ((per_incident, record.reference), (per_severity, record.severity)):
                counts = bucket.setdefault(name, {"kept": 0, "missed": 0, "open": 0})
                counts[record.outcome] += 1
        return {"incidents": per_incident, "severities": per_severity}


def _dedupe(targets: Sequence[dsp.Target]) -> list[dsp.Target]:
    seen: set[str] = set()
    out = []
    for target in targets:
        if target.target_id not in seen:
            seen.add(target.target_id)
            out.append(target)
    return out
