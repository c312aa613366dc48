"""The Incident aggregate: its events, state, decider and domain errors.

Its commands and the vocabulary they are written in live in
`incident_service.domain_commands`; every name there is re-exported here, so callers
name the aggregate by one module.

Pure: no I/O, no clock, no framework. Time and ids arrive inside commands. Everything
the incident service knows about an incident is `fold(evolve, initial_state, events)`,
and the same `evolve` serves live commands, projections and as-of replays.

Rules worth knowing:
- the incident commander (IC) is a role; handing it over is an explicit event;
- status moves between investigating, identified and monitoring; resolving needs a
  summary and is its own command; only a resolved incident can be reopened;
- an incident resolved while every mitigation so far was temporary (a restart, a
  rollback) is resolved with the root cause *pending* and a follow-up obligation that
  the postmortem service picks up: a band-aid never passes silently as a root cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from pydantic import Field

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent, EventRegistry
from incident_service.domain_commands import (
    AddNote,
    AlertRef,
    AssignCommander,
    AttachAlert,
    ChangeSeverity,
    CloseRootCauseFollowUp,
    Command,
    DeclareIncident,
    IncidentCommand,
    Instant,
    LongText,
    MitigationKind,
    Person,
    RecordMitigation,
    RecordSourceAcknowledged,
    RecordSourceResolved,
    Reopen,
    Resolve,
    ServiceName,
    Severity,
    Status,
    Text,
    UpdateStatus,
)

__all__ = [  # the public names, with those re-exported from domain_commands
    "ALLOWED_TRANSITIONS", "EVENTS", "INITIAL", "STREAM_CATEGORY", "AddNote", "AlertAttached",
    "AlertRef", "AssignCommander", "AttachAlert", "ChangeSeverity", "CloseRootCauseFollowUp",
    "Command", "CommanderAssigned", "DeclareIncident", "Incident", "IncidentCommand",
    "IncidentDeclared", "IncidentNumberAllocated", "IncidentReopened", "IncidentResolved",
    "Instant", "LongText", "Mitigation", "MitigationApplied", "MitigationKind", "Person",
    "RecordMitigation", "RecordSourceAcknowledged", "RecordSourceResolved", "Reopen", "Resolve",
    "RootCauseFollowUpClosed", "RootCauseFollowUpRequired", "ServiceName", "Severity",
    "SeverityChanged", "SourceAlertAcknowledged", "SourceAlertsResolved", "Status",
    "StatusChanged", "Text", "TimelineNoteAdded", "UpdateStatus", "decide", "evolve", "fold",
    "stream_for",
]  # fmt: skip

EVENTS = EventRegistry("incident")
STREAM_CATEGORY = "incident"


def stream_for(incident_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{incident_id}"


# Moving between the working states is free in both directions (a fix that did not
# hold sends "monitoring" back to "investigating"); "resolved" is reached only through
# Resolve, which demands a summary, and left only through Reopen.
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.INVESTIGATING: frozenset({Status.IDENTIFIED, Status.MONITORING}),
    Status.IDENTIFIED: frozenset({Status.INVESTIGATING, Status.MONITORING}),
    Status.MONITORING: frozenset({Status.INVESTIGATING, Status.IDENTIFIED}),
    Status.RESOLVED: frozenset(),
}


# ---------------------------------------------------------------------- events


@EVENTS.register
class IncidentNumberAllocated(DomainEvent):
    """Recorded in the numbering stream; its stream version + 1 is the number."""

    incident_id: uuid.UUID


@EVENTS.register
class IncidentDeclared(DomainEvent):
    incident_id: uuid.UUID
    number: int = Field(ge=1)
    title: str
    severity: Severity
    services: tuple[str, ...]
    source_alerts: tuple[str, ...] = ()
    declared_by: str
    declared_at: datetime


@EVENTS.register
class CommanderAssigned(DomainEvent):
    commander: str
    previous_commander: str | None
    assigned_by: str
    assigned_at: datetime


@EVENTS.register
class SeverityChanged(DomainEvent):
    from_severity: Severity
    to_severity: Severity
    reason: str
    changed_by: str
    changed_at: datetime


@EVENTS.register
class StatusChanged(DomainEvent):
    from_status: Status
    to_status: Status
    changed_by: str
    changed_at: datetime
    note: str | None = None


@EVENTS.register
class TimelineNoteAdded(DomainEvent):
    text: str
    author: str
    added_at: datetime


@EVENTS.register
class MitigationApplied(DomainEvent):
    kind: MitigationKind
    description: str
    temporary: bool
    applied_by: str
    applied_at: datetime
    """When it was done, which may be well before it was recorded."""
    recorded_at: datetime


@EVENTS.register
class IncidentResolved(DomainEvent):
    summary: str
    resolved_by: str
    resolved_at: datetime
    root_cause_pending: bool
    """True when no permanent mitigation was recorded: the cause is still unknown."""


@EVENTS.register
class RootCauseFollowUpRequired(DomainEvent):
    """An obligation for the postmortem service: find and fix the real cause."""

    reason: str
    temporary_mitigations: tuple[str, ...]
    required_at: datetime


@EVENTS.register
class RootCauseFollowUpClosed(DomainEvent):
    """The postmortem found and published the root cause: the follow-up that
    RootCauseFollowUpRequired opened is done (the postmortem service's
    PostmortemPublished, consumed by this service's worker)."""

    root_cause: str
    closed_by: str
    postmortem: str
    """Where the cause is written down: the postmortem's stream."""
    closed_at: datetime


@EVENTS.register
class IncidentReopened(DomainEvent):
    reason: str
    reopened_by: str
    reopened_at: datetime


@EVENTS.register
class AlertAttached(DomainEvent):
    """Another alert of the incident's alert group fired; it joins the timeline."""

    alert_key: str
    summary: str
    labels: dict[str, str] = Field(default_factory=dict)
    source_severity: str | None = None
    attached_at: datetime


@EVENTS.register
class SourceAlertsResolved(DomainEvent):
    """Every alert that opened the incident has resolved at its source. Recorded, not
    acted on: only people resolve incidents, with a summary."""

    group_id: str
    resolved_at: datetime


@EVENTS.register
class SourceAlertAcknowledged(DomainEvent):
    """Someone acknowledged one of the incident's alerts at its source (e.g. through
    the PagerDuty-compatible API)."""

    alert_key: str
    acknowledged_by: str
    acknowledged_at: datetime


# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Mitigation:
    kind: MitigationKind
    description: str
    temporary: bool
    applied_by: str
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident as its events describe it. `declared` is False before the first event."""

    declared: bool = False
    incident_id: uuid.UUID | None = None
    number: int = 0
    title: str = ""
    severity: Severity = Severity.P4
    status: Status = Status.INVESTIGATING
    services: tuple[str, ...] = ()
    source_alerts: tuple[str, ...] = ()
    declared_by: str = ""
    declared_at: datetime | None = None
    commander: str | None = None
    mitigations: tuple[Mitigation, ...] = ()
    notes: int = 0
    resolved_at: datetime | None = None
    resolution_summary: str | None = None
    root_cause_pending: bool = False
    follow_up_required: bool = False
    reopen_count: int = 0
    source_resolved: bool = False
    """The alerts behind the incident have all resolved at their source."""
    last_changed_at: datetime | None = None

    @property
    def reference(self) -> str:
        return f"INC-{self.number}"


INITIAL = Incident()

_INCIDENT_FIELDS = tuple(f.name for f in fields(Incident))
_incident_values = attrgetter(*_INCIDENT_FIELDS)
_set_field = object.__setattr__


def _copy(state: Incident) -> Incident:
    """A fresh, unshared copy of `state`, to be filled in by `_apply` before anyone else
    sees it. Copies the slots directly: no per-call field introspection, no frozen
    __init__ (a 10,000-event incident is folded on each as-of replay)."""
    new = object.__new__(Incident)
    for name, value in zip(_INCIDENT_FIELDS, _incident_values(state), strict=True):
        _set_field(new, name, value)
    return new


# What each event does to an incident, one function per event class; each writes into
# `draft`, a state nobody else holds yet (fresh from `_copy`). `evolve` applies one to a
# copy per event, `fold` to a single draft for a whole run.


def _declared(draft: Incident, event: IncidentDeclared) -> None:
    _set_field(draft, "declared", True)
    _set_field(draft, "incident_id", event.incident_id)
    _set_field(draft, "number", event.number)
    _set_field(draft, "title", event.title)
    _set_field(draft, "severity", event.severity)
    _set_field(draft, "status", Status.INVESTIGATING)
    _set_field(draft, "services", event.services)
    _set_field(draft, "source_alerts", event.source_alerts)
    _set_field(draft, "declared_by", event.declared_by)
    _set_field(draft, "declared_at", event.declared_at)
    _set_field(draft, "last_changed_at", event.declared_at)


def _commander_assigned(draft: Incident, event: CommanderAssigned) -> None:
    _set_field(draft, "commander", event.commander)
    _set_field(draft, "last_changed_at", event.assigned_at)


def _severity_changed(draft: Incident, event: SeverityChanged) -> None:
    _set_field(draft, "severity", event.to_severity)
    _set_field(draft, "last_changed_at", event.changed_at)


def _status_changed(draft: Incident, event: StatusChanged) -> None:
    _set_field(draft, "status", event.to_status)
    _set_field(draft, "last_changed_at", event.changed_at)


def _note_added(draft: Incident, event: TimelineNoteAdded) -> None:
    _set_field(draft, "notes", draft.notes + 1)
    _set_field(draft, "last_changed_at", event.added_at)


def _mitigation_applied(draft: Incident, event: MitigationApplied) -> None:
    mitigation = Mitigation(
        event.kind, event.description, event.temporary, event.applied_by, event.applied_at
    )
    _set_field(draft, "mitigations", (*draft.mitigations, mitigation))
    _set_field(draft, "last_changed_at", event.recorded_at)


def _resolved(draft: Incident, event: IncidentResolved) -> None:
    _set_field(draft, "status", Status.RESOLVED)
    _set_field(draft, "resolved_at", event.resolved_at)
    _set_field(draft, "resolution_summary", event.summary)
    _set_field(draft, "root_cause_pending", event.root_cause_pending)
    _set_field(draft, "last_changed_at", event.resolved_at)


def _follow_up_required(draft: Incident, event: RootCauseFollowUpRequired) -> None:
    _set_field(draft, "follow_up_required", True)


def _follow_up_closed(draft: Incident, event: RootCauseFollowUpClosed) -> None:
    _set_field(draft, "follow_up_required", False)
    _set_field(draft, "root_cause_pending", False)
    _set_field(draft, "last_changed_at", event.closed_at)


def _alert_attached(draft: Incident, event: AlertAttached) -> None:
    _set_field(draft, "source_alerts", (*draft.source_alerts, event.alert_key))
    _set_field(draft, "last_changed_at", event.attached_at)


def _source_alerts_resolved(draft: Incident, event: SourceAlertsResolved) -> None:
    _set_field(draft, "source_resolved", True)
    _set_field(draft, "last_changed_at", event.resolved_at)


def _reopened(draft: Incident, event: IncidentReopened) -> None:
    _set_field(draft, "status", Status.INVESTIGATING)
    _set_field(draft, "resolved_at", None)
    _set_field(draft, "resolution_summary", None)
    _set_field(draft, "root_cause_pending", False)
    _set_field(draft, "reopen_count", draft.reopen_count + 1)
    _set_field(draft, "last_changed_at", event.reopened_at)


_Applier = Callable[[Incident, Any], None]
_APPLIERS: dict[type[DomainEvent], _Applier] = {
    IncidentDeclared: _declared,
    CommanderAssigned: _commander_assigned,
    SeverityChanged: _severity_changed,
    StatusChanged: _status_changed,
    TimelineNoteAdded: _note_added,
    MitigationApplied: _mitigation_applied,
    IncidentResolved: _resolved,
    RootCauseFollowUpRequired: _follow_up_required,
    RootCauseFollowUpClosed: _follow_up_closed,
    AlertAttached: _alert_attached,
    SourceAlertsResolved: _source_alerts_resolved,
    IncidentReopened: _reopened,
}
"""The one place that says what each event does to an incident, in the order the
applier of a subclass is chosen (the first base listed here)."""

_INCIDENT_EVENTS = tuple(_APPLIERS)
"""The events that change an incident; any other leaves the state as it is."""

_BY_CLASS: dict[type, _Applier | None] = dict(_APPLIERS)
"""`_applier_for`'s answers so far: one dict lookup per event in a fold instead of a
chain of isinstance checks (a 10,000-event incident is folded on each as-of replay,
docs/adr/0030)."""


def _applier_for(kind: type) -> _Applier | None:
    """What an event of class `kind` does: its own applier, or for a subclass its first
    base's in `_APPLIERS` order, as isinstance matching would choose; None for an event
    the incident does not know."""
    if kind in _BY_CLASS:
        return _BY_CLASS[kind]
    found = next((f for base, f in _APPLIERS.items() if issubclass(kind, base)), None)
    _BY_CLASS[kind] = found  # the same answer whoever computes it first
    return found


def _apply(draft: Incident, event: DomainEvent) -> None:
    """Write what `event` changes into `draft`, a state nobody else holds yet."""
    applier = _applier_for(type(event))
    if applier is not None:
        applier(draft, event)


def evolve(state: Incident, event: DomainEvent) -> Incident:
    """Apply one event. Never raises for a recorded event: the past is not up for debate."""
    applier = _applier_for(type(event))
    if applier is None:
        return state
    new = _copy(state)
    applier(new, event)
    return new


def fold(events: Iterable[DomainEvent], state: Incident = INITIAL) -> Incident:
    """`evolve` over `events`, with one copy for the whole run instead of one per event
    (the same result: the same appliers write either way; a test folds every event
    type both ways)."""
    draft: Incident | None = None
    by_class = _BY_CLASS
    for event in events:
        kind = type(event)
        applier = by_class[kind] if kind in by_class else _applier_for(kind)
        if applier is None:
            continue
        if draft is None:
            draft = _copy(state)
        applier(draft, event)
    return state if draft is None else draft


# ---------------------------------------------------------------------- decider


def decide(command: IncidentCommand, state: Incident) -> Sequence[DomainEvent]:
    """The events a command produces, or a DomainError saying why it cannot."""
    if isinstance(command, DeclareIncident):
        if state.declared:
            raise PreconditionFailedError(
                f"incident {command.incident_id} was already declared as {state.reference}"
            )
        return [
            IncidentDeclared(
                incident_id=command.incident_id,
                number=command.number,
                title=command.title,
                severity=command.severity,
                services=tuple(dict.fromkeys(command.services)),
                source_alerts=tuple(dict.fromkeys(command.source_alerts)),
                declared_by=command.declared_by,
                declared_at=command.at,
            )
        ]
    if not state.declared:
        raise NotFoundError("no such incident")
    match command:
        case AssignCommander():
            _refuse_if_resolved(state, "assign a commander")
            if command.commander == state.commander:
                return []
            return [
                CommanderAssigned(
                    commander=command.commander,
                    previous_commander=state.commander,
                    assigned_by=command.assigned_by,
                    assigned_at=command.at,
                )
            ]
        case ChangeSeverity():
            # Allowed after resolution too: a postmortem may re-grade an incident.
            if command.severity == state.severity:
                return []
            return [
                SeverityChanged(
                    from_severity=state.severity,
                    to_severity=command.severity,
                    reason=command.reason,
                    changed_by=command.changed_by,
                    changed_at=command.at,
                )
            ]
        case UpdateStatus():
            return _update_status(command, state)
        case AddNote():
            return [
                TimelineNoteAdded(text=command.text, author=command.author, added_at=command.at)
            ]
        case RecordMitigation():
            _refuse_if_resolved(state, "record a mitigation")
            applied_at = command.applied_at or command.at
            if applied_at > command.at:
                raise InvalidCommandError(
                    "applied_at", "a mitigation cannot be applied in the future"
                )
            if state.declared_at is not None and applied_at < state.declared_at - _GRACE:
                raise InvalidCommandError(
                    "applied_at",
                    "is more than a day before the incident was declared; record it as a note",
                )
            return [
                MitigationApplied(
                    kind=command.kind,
                    description=command.description,
                    temporary=command.temporary,
                    applied_by=command.applied_by,
                    applied_at=applied_at,
                    recorded_at=command.at,
                )
            ]
        case Resolve():
            return _resolve(command, state)
        case AttachAlert():
            if command.alert_key in state.source_alerts:
                return []
            return [
                AlertAttached(
                    alert_key=command.alert_key,
                    summary=command.summary,
                    labels=command.labels,
                    source_severity=command.source_severity,
                    attached_at=command.at,
                )
            ]
        case RecordSourceResolved():
            if state.source_resolved:
                return []
            return [SourceAlertsResolved(group_id=command.group_id, resolved_at=command.at)]
        case RecordSourceAcknowledged():
            return [
                SourceAlertAcknowledged(
                    alert_key=command.alert_key,
                    acknowledged_by=command.acknowledged_by,
                    acknowledged_at=command.at,
                )
            ]
        case CloseRootCauseFollowUp():
            if not state.follow_up_required and not state.root_cause_pending:
                return []  # nothing owed (or already closed): a republish changes nothing
            return [
                RootCauseFollowUpClosed(
                    root_cause=command.root_cause,
                    closed_by=command.closed_by,
                    postmortem=command.postmortem,
                    closed_at=command.at,
                )
            ]
        case Reopen():
            if state.status is not Status.RESOLVED:
                raise PreconditionFailedError(
                    f"{state.reference} is {state.status.value}, not resolved; only a "
                    "resolved incident can be reopened"
                )
            return [
                IncidentReopened(
                    reason=command.reason, reopened_by=command.reopened_by, reopened_at=command.at
                )
            ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


# A mitigation may be recorded late, but one "applied" long before the incident began
# is almost certainly a typo in the timestamp.
_GRACE = timedelta(days=1)


def _refuse_if_resolved(state: Incident, action: str) -> None:
    if state.status is Status.RESOLVED:
        raise PreconditionFailedError(
            f"{state.reference} is resolved; reopen it before you {action}"
        )


def _update_status(command: UpdateStatus, state: Incident) -> Sequence[DomainEvent]:
    if command.status is Status.RESOLVED:
        raise PreconditionFailedError(
            "resolving needs a resolution summary: use Resolve instead of a status update"
        )
    if command.status is state.status:
        return []
    allowed = ALLOWED_TRANSITIONS[state.status]
    if command.status not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "none (reopen it first)"
        raise PreconditionFailedError(
            f"{state.reference} cannot go from {state.status.value} to "
            f"{command.status.value}; allowed from {state.status.value}: {options}"
        )
    return [
        StatusChanged(
            from_status=state.status,
            to_status=command.status,
            changed_by=command.changed_by,
            changed_at=command.at,
            note=command.note,
        )
    ]


def _resolve(command: Resolve, state: Incident) -> Sequence[DomainEvent]:
    if state.status is Status.RESOLVED:
        raise PreconditionFailedError(f"{state.reference} is already resolved")
    permanent = [m for m in state.mitigations if not m.temporary]
    pending = not permanent
    events: list[DomainEvent] = [
        IncidentResolved(
            summary=command.summary,
            resolved_by=command.resolved_by,
            resolved_at=command.at,
            root_cause_pending=pending,
        )
    ]
    if pending:
        band_aids = tuple(f"{m.kind.value}: {m.description}" for m in state.mitigations)
        reason = (
            "resolved with only temporary mitigations; the root cause is still unknown"
            if band_aids
            else "resolved without any recorded mitigation; the root cause is still unknown"
        )
        events.append(
            RootCauseFollowUpRequired(
                reason=reason, temporary_mitigations=band_aids, required_at=command.at
            )
        )
    return events
