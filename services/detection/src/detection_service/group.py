"""The AlertGroup aggregate (`alertgroup-<id>`): paging alerts that share the configured
group-by labels, which the incident service turns into ONE incident.

Pure. Only alerts that page (firing, not suppressed, not flapping) are members, so a
group whose alerts are all silenced never fires. The group fires with its first member
(`AlertGroupOpened` + `AlertGroupFiring`), records later members
(`AlertGroupAlertAdded`) and members that stop firing (`AlertGroupAlertResolved`), and
resolves when its last member does (`AlertGroupResolved`). A resolved group stays
resolved: the next alert with the same key opens a new group (a new incident).

PUBLISHED CONTRACT, consumed by the incident service: AlertGroupFiring,
AlertGroupAlertAdded, AlertGroupResolved and AlertGroupAcknowledged. Add optional
fields only; never remove or rename one (fixtures in services/detection/fixtures).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from contracts.domain import InvalidCommandError, PreconditionFailedError
from contracts.events import DomainEvent
from detection_service.labels import Labels, stable_id
from detection_service.registry import EVENTS

STREAM_CATEGORY = "alertgroup"


class IncidentSeverity(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


def group_id_for(group_key: str, opened_at: datetime) -> str:
    """Each opening of a key is a new group: the key alone would reuse resolved ones."""
    return stable_id("group", group_key, opened_at.isoformat())


def stream_for(group_id: str) -> str:
    return f"{STREAM_CATEGORY}-{group_id}"


# ---------------------------------------------------------------------- events


@EVENTS.register
class AlertGroupOpened(DomainEvent):
    group_id: str
    group_key: str
    group_labels: Labels
    opened_at: datetime


@EVENTS.register
class AlertGroupFiring(DomainEvent):
    """The group's first paging alert: the incident service declares ONE incident."""

    group_id: str
    group_key: str
    title: str
    labels: dict[str, str]
    incident_severity: Literal["P1", "P2", "P3", "P4"]
    services: list[str]
    alert_key: str
    summary: str
    fired_at: datetime
    alert_id: str | None = None
    """The alert's stream id (`alert-<alert_id>`), for timelines that link to it."""


@EVENTS.register
class AlertGroupAlertAdded(DomainEvent):
    """A later paging alert joined the group (attach it to the incident's timeline)."""

    group_id: str
    alert_key: str
    summary: str
    labels: dict[str, str]
    severity: str
    alert_id: str | None = None
    added_at: datetime | None = None


@EVENTS.register
class AlertGroupAlertResolved(DomainEvent):
    """A member stopped paging (resolved, or suppressed/flapping after it joined)."""

    group_id: str
    alert_id: str
    alert_key: str
    reason: str
    resolved_at: datetime


@EVENTS.register
class AlertGroupResolved(DomainEvent):
    """Every member alert resolved."""

    group_id: str
    resolved_at: datetime


@EVENTS.register
class AlertGroupAcknowledged(DomainEvent):
    """A member alert was acknowledged through the PagerDuty-style API (once per group)."""

    group_id: str
    alert_key: str
    acknowledged_by: str
    acknowledged_at: datetime


# ---------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Routed:
    """What routing decided for the alert that opens a group."""

    title: str
    incident_severity: IncidentSeverity
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AddAlert:
    at: datetime
    group_id: str
    group_key: str
    group_labels: Labels
    routed: Routed
    alert_id: str
    alert_key: str
    summary: str
    labels: Labels
    severity: str
    fired_at: datetime


@dataclass(frozen=True, slots=True)
class RemoveAlert:
    at: datetime
    alert_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AcknowledgeAlert:
    at: datetime
    alert_id: str
    acknowledged_by: str


GroupCommand = AddAlert | RemoveAlert | AcknowledgeAlert


# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class AlertGroup:
    group_id: str = ""
    group_key: str = ""
    group_labels: Labels = field(default_factory=dict)
    opened_at: datetime | None = None
    fired_at: datetime | None = None
    title: str = ""
    incident_severity: IncidentSeverity | None = None
    services: tuple[str, ...] = ()
    members: dict[str, str] = field(default_factory=dict)
    """alert_id → alert_key of alerts paging now."""
    ever: int = 0
    """How many alerts ever joined."""
    last_joined_at: datetime | None = None
    acknowledged: bool = False
    resolved_at: datetime | None = None

    @property
    def opened(self) -> bool:
        return self.opened_at is not None

    @property
    def is_open(self) -> bool:
        return self.opened and self.resolved_at is None


INITIAL = AlertGroup()


def evolve(state: AlertGroup, event: DomainEvent) -> AlertGroup:
    match event:
        case AlertGroupOpened():
            return replace(
                state,
                group_id=event.group_id,
                group_key=event.group_key,
                group_labels=dict(event.group_labels),
                opened_at=event.opened_at,
            )
        case AlertGroupFiring():
            return replace(
                state,
                fired_at=event.fired_at,
                title=event.title,
                incident_severity=IncidentSeverity(event.incident_severity),
                services=tuple(event.services),
                members={**state.members, (event.alert_id or event.alert_key): event.alert_key},
                ever=state.ever + 1,
                last_joined_at=event.fired_at,
            )
        case AlertGroupAlertAdded():
            return replace(
                state,
                members={**state.members, (event.alert_id or event.alert_key): event.alert_key},
                ever=state.ever + 1,
                last_joined_at=event.added_at or state.last_joined_at,
            )
        case AlertGroupAlertResolved():
            members = {k: v for k, v in state.members.items() if k != event.alert_id}
            return replace(state, members=members)
        case AlertGroupResolved():
            return replace(state, resolved_at=event.resolved_at, members={})
        case AlertGroupAcknowledged():
            return replace(state, acknowledged=True)
    return state


def fold(events: Iterable[DomainEvent], state: AlertGroup = INITIAL) -> AlertGroup:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def decide(command: GroupCommand, state: AlertGroup) -> Sequence[DomainEvent]:
    match command:
        case AddAlert():
            return _add(command, state)
        case RemoveAlert():
            if command.alert_id not in state.members or not state.is_open:
                return []
            events: list[DomainEvent] = [
                AlertGroupAlertResolved(
                    group_id=state.group_id,
                    alert_id=command.alert_id,
                    alert_key=state.members[command.alert_id],
                    reason=command.reason,
                    resolved_at=command.at,
                )
            ]
            if len(state.members) == 1:
                events.append(AlertGroupResolved(group_id=state.group_id, resolved_at=command.at))
            return events
        case AcknowledgeAlert():
            if command.alert_id not in state.members or state.acknowledged:
                return []
            return [
                AlertGroupAcknowledged(
                    group_id=state.group_id,
                    alert_key=state.members[command.alert_id],
                    acknowledged_by=command.acknowledged_by,
                    acknowledged_at=command.at,
                )
            ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


def _add(command: AddAlert, state: AlertGroup) -> Sequence[DomainEvent]:
    if state.opened and not state.is_open:
        raise PreconditionFailedError(
            f"alert group {state.group_id} is resolved; a new alert opens a new group"
        )
    if command.alert_id in state.members:
        return []
    if not state.opened:
        routed = command.routed
        return [
            AlertGroupOpened(
                group_id=command.group_id,
                group_key=command.group_key,
                group_labels=command.group_labels,
                opened_at=command.at,
            ),
            AlertGroupFiring(
                group_id=command.group_id,
                group_key=command.group_key,
                title=routed.title,
                labels=command.labels,
                incident_severity=routed.incident_severity.value,
                services=list(routed.services),
                alert_key=command.alert_key,
                summary=command.summary,
                fired_at=command.fired_at,
                alert_id=command.alert_id,
            ),
        ]
    return [
        AlertGroupAlertAdded(
            group_id=state.group_id,
            alert_key=command.alert_key,
            summary=command.summary,
            labels=command.labels,
            severity=command.severity,
            alert_id=command.alert_id,
            added_at=command.at,
        )
    ]
