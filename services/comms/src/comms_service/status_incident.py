"""A status-page incident or scheduled maintenance (stream `statusincident-<id>`).

Owns what the status page says about one event: its name, impact, affected components,
its updates (each with a Statuspage incident status), internal notes, and whether it is
public. Publishing is an explicit act: an incident starts as a draft and reaches the
public page only with StatusIncidentPublished; an `internal_only` incident can never be
published, and an internal note is never public. Maintenance uses the maintenance
statuses (scheduled, in_progress, verifying, completed) with its window. Pure.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import Field

from comms_service.common import EVENTS, Body, Command, Instant, Name, Person, Value
from comms_service.statuspage import ComponentStatus
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent

STREAM_CATEGORY = "statusincident"


def stream_for(incident_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{incident_id}"


class Kind(enum.StrEnum):
    INCIDENT = "incident"
    MAINTENANCE = "maintenance"


class Impact(enum.StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class IncidentStatus(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    POSTMORTEM = "postmortem"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    VERIFYING = "verifying"
    COMPLETED = "completed"


INCIDENT_STATUSES = frozenset(
    {
        IncidentStatus.INVESTIGATING,
        IncidentStatus.IDENTIFIED,
        IncidentStatus.MONITORING,
        IncidentStatus.RESOLVED,
        IncidentStatus.POSTMORTEM,
    }
)
MAINTENANCE_STATUSES = frozenset(
    {
        IncidentStatus.SCHEDULED,
        IncidentStatus.IN_PROGRESS,
        IncidentStatus.VERIFYING,
        IncidentStatus.COMPLETED,
    }
)
CLOSED = frozenset({IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM, IncidentStatus.COMPLETED})


class ComponentChange(Value):
    component_id: str
    old_status: ComponentStatus
    new_status: ComponentStatus


# ---------------------------------------------------------------------- events


@EVENTS.register
class StatusIncidentDrafted(DomainEvent):
    status_incident_id: uuid.UUID
    kind: Kind
    name: str
    impact: Impact
    component_ids: tuple[str, ...]
    internal_only: bool
    incident_id: uuid.UUID | None
    """The platform incident it is about, if any."""
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    drafted_by: str
    drafted_at: datetime


@EVENTS.register
class StatusIncidentUpdated(DomainEvent):
    update_id: uuid.UUID
    status: IncidentStatus
    body: str
    impact: Impact | None
    affected_components: tuple[ComponentChange, ...]
    deliver_notifications: bool
    posted_by: str
    posted_at: datetime


@EVENTS.register
class InternalNoteAdded(DomainEvent):
    """For the internal page only; never published, never sent to subscribers."""

    note_id: uuid.UUID
    body: str
    author: str
    added_at: datetime


@EVENTS.register
class StatusIncidentPublished(DomainEvent):
    published_by: str
    published_at: datetime


# ---------------------------------------------------------------------- commands


class DraftIncident(Command):
    status_incident_id: uuid.UUID
    kind: Kind = Kind.INCIDENT
    name: Name
    impact: Impact = Impact.MINOR
    component_ids: tuple[str, ...] = Field(default=(), max_length=200)
    internal_only: bool = False
    incident_id: uuid.UUID | None = None
    scheduled_for: Instant | None = None
    scheduled_until: Instant | None = None
    drafted_by: Person
    body: Body
    """The first update's text."""
    status: IncidentStatus | None = None


class PostStatusUpdate(Command):
    update_id: uuid.UUID
    status: IncidentStatus
    body: Body
    impact: Impact | None = None
    affected_components: tuple[ComponentChange, ...] = ()
    deliver_notifications: bool = True
    posted_by: Person


class AddInternalNote(Command):
    note_id: uuid.UUID
    body: Body
    author: Person


class Publish(Command):
    published_by: Person


StatusCommand = DraftIncident | PostStatusUpdate | AddInternalNote | Publish

# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class StatusIncident:
    drafted: StatusIncidentDrafted | None = None
    status: IncidentStatus | None = None
    impact: Impact = Impact.NONE
    published_at: datetime | None = None
    updates: tuple[StatusIncidentUpdated, ...] = ()
    notes: tuple[InternalNoteAdded, ...] = ()
    updated_at: datetime | None = None

    @property
    def update_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(u.update_id for u in self.updates)

    @property
    def note_ids(self) -> tuple[uuid.UUID, ...]:
        return tuple(n.note_id for n in self.notes)

    @property
    def public(self) -> bool:
        return self.published_at is not None

    @property
    def closed(self) -> bool:
        return self.status in CLOSED


INITIAL = StatusIncident()


def evolve(state: StatusIncident, event: DomainEvent) -> StatusIncident:
    match event:
        case StatusIncidentDrafted():
            return replace(state, drafted=event, impact=event.impact, updated_at=event.drafted_at)
        case StatusIncidentUpdated():
            return replace(
                state,
                status=event.status,
                impact=event.impact or state.impact,
                updates=(*state.updates, event),
                updated_at=event.posted_at,
            )
        case InternalNoteAdded():
            return replace(state, notes=(*state.notes, event))
        case StatusIncidentPublished():
            return replace(state, published_at=event.published_at, updated_at=event.published_at)
    return state


def _check_status(kind: Kind, status: IncidentStatus) -> None:
    allowed = INCIDENT_STATUSES if kind is Kind.INCIDENT else MAINTENANCE_STATUSES
    if status not in allowed:
        raise InvalidCommandError(
            "status", f"a {kind.value} is one of {', '.join(sorted(s.value for s in allowed))}"
        )


def decide(command: StatusCommand, state: StatusIncident) -> Sequence[DomainEvent]:
    if isinstance(command, DraftIncident):
        if state.drafted is not None:
            return []
        status = command.status or (
            IncidentStatus.INVESTIGATING
            if command.kind is Kind.INCIDENT
            else IncidentStatus.SCHEDULED
        )
        _check_status(command.kind, status)
        if command.kind is Kind.MAINTENANCE:
            if command.scheduled_for is None or command.scheduled_until is None:
                raise InvalidCommandError("scheduled_for", "maintenance needs its window")
            if command.scheduled_until <= command.scheduled_for:
                raise InvalidCommandError("scheduled_until", "must be after scheduled_for")
        return [
            StatusIncidentDrafted(
                status_incident_id=command.status_incident_id,
                kind=command.kind,
                name=command.name,
                impact=command.impact,
                component_ids=command.component_ids,
                internal_only=command.internal_only,
                incident_id=command.incident_id,
                scheduled_for=command.scheduled_for,
                scheduled_until=command.scheduled_until,
                drafted_by=command.drafted_by,
                drafted_at=command.at,
            ),
            StatusIncidentUpdated(
                update_id=command.status_incident_id,
                status=status,
                body=command.body,
                impact=None,
                affected_components=(),
                deliver_notifications=True,
                posted_by=command.drafted_by,
                posted_at=command.at,
            ),
        ]
    drafted = state.drafted
    if drafted is None:
        raise NotFoundError("no such status-page incident")
    if isinstance(command, PostStatusUpdate):
        if command.update_id in state.update_ids:
            return []
        _check_status(drafted.kind, command.status)
        return [
            StatusIncidentUpdated(
                update_id=command.update_id,
                status=command.status,
                body=command.body,
                impact=command.impact,
                affected_components=command.affected_components,
                deliver_notifications=command.deliver_notifications,
                posted_by=command.posted_by,
                posted_at=command.at,
            )
        ]
    if isinstance(command, AddInternalNote):
        if command.note_id in state.note_ids:
            return []
        return [
            InternalNoteAdded(
                note_id=command.note_id,
                body=command.body,
                author=command.author,
                added_at=command.at,
            )
        ]
    if isinstance(command, Publish):
        if drafted.internal_only:
            raise PreconditionFailedError("an internal-only incident is never published")
        if state.public:
            return []
        return [StatusIncidentPublished(published_by=command.published_by, published_at=command.at)]
    raise TypeError(f"unknown command {type(command).__name__}")  # pragma: no cover
