"""The incident's communications (stream `comms-<incident id>`): its two channels, the
war-room feed, stakeholder updates and the cadence promise.

Owns:
- opening a **war room** (responders) and a **stakeholder channel** (updates) per
  incident, never the same destination (ChannelOpened per destination, with its link);
- the war-room feed: each incident change (severity, status, commander, mitigation,
  note, resolution) becomes a WarRoomPosted;
- stakeholder updates (StakeholderUpdatePosted, written by the commander or the
  communications lead, or by any writer while neither is assigned; rendered by the
  app from an audience template);
- the promise "next update by T" (UpdatePromised), its reminder before it falls due
  (UpdateDue, to the commander) and, when missed, UpdateOverdue (escalated to the
  communications lead). Timers are these events' due times; the scheduler (app.tick)
  fires them, and the decider returns [] for anything moot, so each fires once.

It never delivers anything: the application turns the messages these events imply
into dispatches (dispatch.py). Pure: the cadence policy is injected, the time is the
command's `at`.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field

from comms_service.cadence import CadencePolicy
from comms_service.common import (
    EVENTS,
    Body,
    Command,
    Name,
    Person,
    Severity,
    ShortText,
    Value,
    check_email,
    check_url,
)
from comms_service.templates import Audience
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent

STREAM_CATEGORY = "comms"


def stream_for(incident_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{incident_id}"


class Role(enum.StrEnum):
    WAR_ROOM = "war_room"
    STAKEHOLDER = "stakeholder"


class ChannelKind(enum.StrEnum):
    SLACK = "slack"
    """A Slack-compatible incoming webhook (Mattermost accepts the same payload)."""
    WEBHOOK = "webhook"
    """A generic JSON webhook, signed with HMAC-SHA256."""
    EMAIL = "email"
    """An email list."""


class UpdateStatus(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Destination(Value):
    channel_id: str
    role: Role
    kind: ChannelKind
    address: str
    link: str | None = None


# ---------------------------------------------------------------------- events


@EVENTS.register
class IncidentTracked(DomainEvent):
    incident_id: uuid.UUID
    reference: str
    title: str
    severity: Severity
    service: str | None
    commander: str | None
    tracked_at: datetime


@EVENTS.register
class ChannelOpened(DomainEvent):
    channel_id: str
    role: Role
    kind: ChannelKind
    address: str
    link: str | None
    opened_at: datetime


@EVENTS.register
class WarRoomPosted(DomainEvent):
    """An incident change, fed to the war room as it happens."""

    message_id: uuid.UUID
    change: str
    """"severity", "status", "commander", "mitigation", "runbook", "note", "resolved",
    "reopened" or "comms" (the communications lead changed)."""
    text: str
    severity: Severity | None = None
    status: str | None = None
    commander: str | None = None
    posted_at: datetime


@EVENTS.register
class CommsLeadAssigned(DomainEvent):
    comms_lead: str
    assigned_by: str
    assigned_at: datetime


@EVENTS.register
class StakeholderUpdatePosted(DomainEvent):
    update_id: uuid.UUID
    audience: Audience
    status: UpdateStatus
    body: str
    template: str
    posted_by: str
    """The author: the authenticated caller (the user a token is bound to)."""
    posted_at: datetime
    settled_promise: int | None
    """The promise this update answers (None if none was open)."""
    promise_kept: bool | None
    """Posted by the promised time (None when no promise was open)."""
    entered_by: str | None = None
    """An admin who posted it on the author's behalf (None: the author posted it)."""


@EVENTS.register
class UpdatePromised(DomainEvent):
    """ "Next update by `due_by`": a durable timer with a reminder at `remind_at`."""

    seq: int
    due_by: datetime
    remind_at: datetime
    made_at: datetime
    reason: str
    """"declared", "update" or "severity" (a raise shortened the cadence)."""


@EVENTS.register
class UpdateDue(DomainEvent):
    """The reminder: the promised update falls due soon; the commander is told."""

    seq: int
    due_by: datetime
    reminded: str | None
    reminded_at: datetime


@EVENTS.register
class UpdateOverdue(DomainEvent):
    """The promise was missed; escalated to the communications lead."""

    seq: int
    due_by: datetime
    escalated_to: str | None
    detected_at: datetime


# ---------------------------------------------------------------------- commands


class DestinationSpec(Value):
    channel_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    kind: ChannelKind
    address: str = Field(min_length=1, max_length=2000)
    link: str | None = None


class TrackIncident(Command):
    incident_id: uuid.UUID
    reference: Name
    title: str = Field(max_length=500)
    severity: Severity
    service: str | None = None
    commander: str | None = None
    war_room: tuple[DestinationSpec, ...] = ()
    stakeholder: tuple[DestinationSpec, ...] = ()


class RecordChange(Command):
    message_id: uuid.UUID
    change: str
    text: ShortText
    severity: Severity | None = None
    status: str | None = None
    commander: str | None = None


class AssignCommsLead(Command):
    comms_lead: Person
    assigned_by: Person


class PostUpdate(Command):
    update_id: uuid.UUID
    audience: Audience
    status: UpdateStatus
    body: Body
    template: str = Field(max_length=100)
    posted_by: Person
    privileged: bool = False
    """The caller is an admin posting as themself (the API's role check): the author
    rule does not apply."""
    entered_by: Person | None = None
    """An admin posting on `posted_by`'s behalf; the author rule applies to `posted_by`."""


class FireReminder(Command):
    seq: int


class MarkOverdue(Command):
    seq: int


RoomCommand = (
    TrackIncident | RecordChange | AssignCommsLead | PostUpdate | FireReminder | MarkOverdue
)

# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Promise:
    seq: int
    due_by: datetime
    remind_at: datetime
    reminded: bool = False
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Room:
    tracked: bool = False
    incident_id: uuid.UUID | None = None
    reference: str = ""
    title: str = ""
    severity: Severity | None = None
    service: str | None = None
    status: str = "investigating"
    commander: str | None = None
    comms_lead: str | None = None
    resolved: bool = False
    channels: tuple[Destination, ...] = ()
    promise: Promise | None = None
    promises_made: int = 0
    updates: tuple[uuid.UUID, ...] = ()
    last_update_status: UpdateStatus | None = None

    def destinations(self, role: Role) -> tuple[Destination, ...]:
        return tuple(c for c in self.channels if c.role is role)


INITIAL = Room()


def evolve(state: Room, event: DomainEvent) -> Room:
    match event:
        case IncidentTracked():
            return replace(
                state,
                tracked=True,
                incident_id=event.incident_id,
                reference=event.reference,
                title=event.title,
                severity=event.severity,
                service=event.service,
                commander=event.commander,
            )
        case ChannelOpened():
            destination = Destination(
                channel_id=event.channel_id,
                role=event.role,
                kind=event.kind,
                address=event.address,
                link=event.link,
            )
            return replace(state, channels=(*state.channels, destination))
        case WarRoomPosted():
            resolved = {"resolved": True, "reopened": False}.get(event.change, state.resolved)
            return replace(
                state,
                severity=event.severity or state.severity,
                status=event.status or state.status,
                commander=event.commander or state.commander,
                resolved=resolved,
            )
        case CommsLeadAssigned():
            return replace(state, comms_lead=event.comms_lead)
        case StakeholderUpdatePosted():
            promise = state.promise if event.settled_promise is None else None
            return replace(
                state,
                updates=(*state.updates, event.update_id),
                promise=promise,
                last_update_status=event.status,
            )
        case UpdatePromised():
            return replace(
                state,
                promise=Promise(event.seq, event.due_by, event.remind_at),
                promises_made=max(state.promises_made, event.seq),
            )
        case UpdateDue():
            if state.promise is not None and state.promise.seq == event.seq:
                return replace(state, promise=replace(state.promise, reminded=True))
            return state
        case UpdateOverdue():
            if state.promise is not None and state.promise.seq == event.seq:
                return replace(state, promise=replace(state.promise, overdue=True, reminded=True))
            return state
    return state


def fold(events: Sequence[DomainEvent], state: Room = INITIAL) -> Room:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decide


def _check_destination(role: Role, spec: DestinationSpec, index: int) -> None:
    field = f"{role.value}[{index}].address"
    if spec.kind is ChannelKind.EMAIL:
        check_email(field, spec.address)
    else:
        check_url(field, spec.address)
    if spec.link is not None:
        check_url(f"{role.value}[{index}].link", spec.link)


def _comparable(spec: DestinationSpec) -> str:
    """The destination as delivery sees it: an email address in any case, a URL whose
    scheme and host differ only in case or whose path differs only by a trailing slash,
    are the same place."""
    address = spec.address.strip()
    if spec.kind is ChannelKind.EMAIL:
        return address.lower()
    parts = urlsplit(address)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def _promise(
    state: Room, policy: CadencePolicy, severity: Severity, at: datetime, reason: str
) -> list[DomainEvent]:
    due_by = policy.next_due(severity, at, state.service)
    if due_by is None:
        return []
    return [
        UpdatePromised(
            seq=state.promises_made + 1,
            due_by=due_by,
            remind_at=policy.reminder_at(at, due_by),
            made_at=at,
            reason=reason,
        )
    ]


def make_decide(policy: CadencePolicy) -> Callable[[RoomCommand, Room], list[DomainEvent]]:
    """The decider under a deployment's cadence policy."""

    def decide(command: RoomCommand, state: Room) -> list[DomainEvent]:
        return _decide(command, state, policy)

    return decide


def _decide(command: RoomCommand, state: Room, policy: CadencePolicy) -> list[DomainEvent]:
    if isinstance(command, TrackIncident):
        if state.tracked:
            return []
        if not command.war_room:
            raise InvalidCommandError("war_room", "needs at least one destination")
        if not command.stakeholder:
            raise InvalidCommandError("stakeholder", "needs at least one destination")
        for role, specs in (
            (Role.WAR_ROOM, command.war_room),
            (Role.STAKEHOLDER, command.stakeholder),
        ):
            for index, spec in enumerate(specs):
                _check_destination(role, spec, index)
        shared = {_comparable(s) for s in command.war_room} & {
            _comparable(s) for s in command.stakeholder
        }
        if shared:
            raise InvalidCommandError(
                "stakeholder",
                f"must never be the war room's destination ({sorted(shared)[0]!r})",
            )
        ids = [s.channel_id for s in (*command.war_room, *command.stakeholder)]
        if len(set(ids)) != len(ids):
            raise InvalidCommandError("channel_id", "channel ids must be distinct")
        events: list[DomainEvent] = [
            IncidentTracked(
                incident_id=command.incident_id,
                reference=command.reference,
                title=command.title,
                severity=command.severity,
                service=command.service,
                commander=command.commander,
                tracked_at=command.at,
            )
        ]
        for role, specs in (
            (Role.WAR_ROOM, command.war_room),
            (Role.STAKEHOLDER, command.stakeholder),
        ):
            events.extend(
                ChannelOpened(
                    channel_id=spec.channel_id,
                    role=role,
                    kind=spec.kind,
                    address=spec.address.strip(),
                    link=spec.link,
                    opened_at=command.at,
                )
                for spec in specs
            )
        events.extend(_promise(state, policy, command.severity, command.at, "declared"))
        return events
    if not state.tracked:
        raise NotFoundError("no communications for this incident (it was never declared here)")
    if isinstance(command, RecordChange):
        events = [
            WarRoomPosted(
                message_id=command.message_id,
                change=command.change,
                text=command.text,
                severity=command.severity,
                status=command.status,
                commander=command.commander,
                posted_at=command.at,
            )
        ]
        severity = command.severity or state.severity
        if command.change == "reopened" and state.promise is None and severity is not None:
            # Stakeholders were told it was over: the next update is owed again.
            events.extend(_promise(state, policy, severity, command.at, "reopened"))
            return events
        # A raise can only shorten the promise: stakeholders of a P1 hear sooner.
        if (
            command.severity is not None
            and command.severity != state.severity
            and not state.resolved
        ):
            due = policy.next_due(command.severity, command.at, state.service)
            if due is not None and (state.promise is None or due < state.promise.due_by):
                events.extend(_promise(state, policy, command.severity, command.at, "severity"))
        return events
    if isinstance(command, AssignCommsLead):
        if command.comms_lead == state.comms_lead:
            return []
        return [
            CommsLeadAssigned(
                comms_lead=command.comms_lead,
                assigned_by=command.assigned_by,
                assigned_at=command.at,
            )
        ]
    if isinstance(command, PostUpdate):
        if command.update_id in state.updates:
            return []
        # Until a commander or a comms lead is assigned, any writer may tell stakeholders
        # (the first minutes must not be silent); from then on only they may.
        allowed = {p for p in (state.commander, state.comms_lead) if p}
        if allowed and command.posted_by not in allowed and not command.privileged:
            raise PreconditionFailedError(
                f"updates are written by the commander or the communications lead "
                f"({', '.join(sorted(allowed))}), not {command.posted_by!r}"
            )
        open_promise = state.promise
        events = [
            StakeholderUpdatePosted(
                update_id=command.update_id,
                audience=command.audience,
                status=command.status,
                body=command.body,
                template=command.template,
                posted_by=command.posted_by,
                posted_at=command.at,
                settled_promise=open_promise.seq if open_promise else None,
                promise_kept=(command.at <= open_promise.due_by) if open_promise else None,
                entered_by=command.entered_by,
            )
        ]
        if command.status is not UpdateStatus.RESOLVED and state.severity is not None:
            events.extend(_promise(state, policy, state.severity, command.at, "update"))
        return events
    if isinstance(command, FireReminder):
        promise = state.promise
        if promise is None or promise.seq != command.seq or promise.reminded:
            return []
        if command.at < promise.remind_at:
            return []
        return [
            UpdateDue(
                seq=promise.seq,
                due_by=promise.due_by,
                reminded=state.commander,
                reminded_at=command.at,
            )
        ]
    if isinstance(command, MarkOverdue):
        promise = state.promise
        if promise is None or promise.seq != command.seq or promise.overdue:
            return []
        if command.at < promise.due_by:
            return []
        return [
            UpdateOverdue(
                seq=promise.seq,
                due_by=promise.due_by,
                escalated_to=state.comms_lead or state.commander,
                detected_at=command.at,
            )
        ]
    raise TypeError(f"unknown command {type(command).__name__}")  # pragma: no cover
