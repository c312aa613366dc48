"""The Alert aggregate: one stream per dedup key (`alert-<id>`), holding every
occurrence of that alert, from pending through firing to resolved, and again.

Pure: no I/O, no clock. Facts that live in other aggregates (is a silence active, does
a firing alert inhibit this one, which flapping policy applies) arrive inside the
command, decided by the application layer.

Rules worth knowing:
- dedup: a key never opens a second alert while one is open; a repeated firing
  notification appends nothing, except that it may push the auto-resolve deadline out
  (`AlertAutoResolveScheduled`), at most about twice per timeout, so a source that keeps
  re-sending "still firing" (Alertmanager's repeat_interval) is never auto-resolved
  while the log stays small;
- an alert's time-to-detect is `fired_at - pending_at` for rule alerts, and
  `fired_at - started_at` for alerts whose source says when the condition began;
- flapping: `changes` state changes (fired or resolved) within `window` mark it
  flapping; a flapping alert stays recorded but does not page, visibly, until a whole
  window passes with fewer changes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from contracts.domain import InvalidCommandError
from contracts.events import DomainEvent
from detection_service.labels import Labels, stable_id
from detection_service.registry import EVENTS

STREAM_CATEGORY = "alert"
MAX_REMEMBERED_CHANGES = 64


class SourceKind(enum.StrEnum):
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    GRPC = "grpc"
    RULE = "rule"
    HEARTBEAT = "heartbeat"


class SourceSeverity(enum.StrEnum):
    """PagerDuty's four severities; Alertmanager's `severity` label maps onto them."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class ResolveReason(enum.StrEnum):
    SOURCE = "source"
    AUTO_TIMEOUT = "auto_timeout"
    HEARTBEAT_RETURNED = "heartbeat_returned"
    RULE = "rule"


class AlertStatus(enum.StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


def alert_id_for(integration: str, dedup_key: str) -> str:
    """A stable, stream-safe id for a dedup key as one integration spells it."""
    return stable_id("alert", integration, dedup_key)


def stream_for(alert_id: str) -> str:
    return f"{STREAM_CATEGORY}-{alert_id}"


# ---------------------------------------------------------------------- events


@EVENTS.register
class AlertPending(DomainEvent):
    """A rule's condition became true; it fires if it stays true for the rule's `for`."""

    alert_id: str
    alert_key: str
    integration: str
    source: SourceKind
    labels: Labels
    annotations: Labels
    summary: str
    severity: SourceSeverity
    pending_at: datetime


@EVENTS.register
class AlertTriggered(DomainEvent):
    alert_id: str
    alert_key: str
    integration: str
    source: SourceKind
    labels: Labels
    annotations: Labels
    summary: str
    severity: SourceSeverity
    occurrence: int
    """1 for the first time this key fired, 2 after it resolved and fired again, ..."""
    started_at: datetime
    """When the source says the condition began (Alertmanager startsAt, PD timestamp)."""
    fired_at: datetime
    """When the platform recorded it firing."""
    pending_at: datetime | None = None


@EVENTS.register
class AlertAcknowledged(DomainEvent):
    acknowledged_by: str
    acknowledged_at: datetime


@EVENTS.register
class AlertResolved(DomainEvent):
    reason: ResolveReason
    resolved_at: datetime
    was_firing: bool = True
    """False when a pending alert's condition cleared before it ever fired."""


@EVENTS.register
class AlertSuppressed(DomainEvent):
    """The alert is recorded but does not page. `reason` is for people, e.g.
    "silence 3f2a… (maintenance)" or "inhibited by ClusterDown {cluster="eu1"}"."""

    reason: str
    suppressed_by: str
    """`silence:<id>` or `alert:<alert_id>`: what must end for the alert to page."""
    suppressed_at: datetime


@EVENTS.register
class AlertSuppressionLifted(DomainEvent):
    """What suppressed a still-firing alert ended (a silence expired, the inhibiting
    alert resolved), so it pages now."""

    suppressed_by: str
    lifted_at: datetime


@EVENTS.register
class AlertFlapping(DomainEvent):
    changes: int
    window_seconds: float
    since: datetime


@EVENTS.register
class AlertFlappingStopped(DomainEvent):
    stopped_at: datetime


@EVENTS.register
class AlertAutoResolveScheduled(DomainEvent):
    """The alert resolves at `due_at` unless the source says it is still firing."""

    due_at: datetime


# ---------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class AlertDetails:
    """What the source told us about the alert (validated by a format parser)."""

    alert_id: str
    alert_key: str
    integration: str
    source: SourceKind
    labels: Labels
    annotations: Labels
    summary: str
    severity: SourceSeverity


@dataclass(frozen=True, slots=True)
class Suppression:
    reason: str
    suppressed_by: str


@dataclass(frozen=True, slots=True)
class FlapPolicy:
    changes: int = 6
    window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class MarkPending:
    at: datetime
    details: AlertDetails


@dataclass(frozen=True, slots=True)
class Fire:
    at: datetime
    details: AlertDetails
    started_at: datetime
    suppression: Suppression | None = None
    auto_resolve_after: timedelta | None = None
    flapping: FlapPolicy = field(default_factory=FlapPolicy)


@dataclass(frozen=True, slots=True)
class Acknowledge:
    at: datetime
    acknowledged_by: str


@dataclass(frozen=True, slots=True)
class Resolve:
    at: datetime
    reason: ResolveReason
    flapping: FlapPolicy = field(default_factory=FlapPolicy)


@dataclass(frozen=True, slots=True)
class CheckTimers:
    """Fire whatever is due at `at`: auto-resolve, and the end of flapping."""

    at: datetime
    flapping: FlapPolicy = field(default_factory=FlapPolicy)


@dataclass(frozen=True, slots=True)
class ReviewSuppression:
    """Re-check a firing alert's suppression; `still` is what suppresses it now (or None)."""

    at: datetime
    still: Suppression | None


AlertCommand = MarkPending | Fire | Acknowledge | Resolve | CheckTimers | ReviewSuppression


# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: str = ""
    alert_key: str = ""
    integration: str = ""
    source: SourceKind = SourceKind.GRPC
    status: AlertStatus = AlertStatus.INACTIVE
    occurrence: int = 0
    labels: Labels = field(default_factory=dict)
    annotations: Labels = field(default_factory=dict)
    summary: str = ""
    severity: SourceSeverity = SourceSeverity.ERROR
    pending_at: datetime | None = None
    started_at: datetime | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    resolve_reason: ResolveReason | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    suppressed_by: str | None = None
    suppression_reason: str | None = None
    flapping: bool = False
    changes: tuple[datetime, ...] = ()
    """When it fired or resolved, most recent last (bounded)."""
    auto_resolve_due: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in (AlertStatus.PENDING, AlertStatus.FIRING)

    @property
    def pages(self) -> bool:
        """Firing, and neither suppressed nor flapping: it belongs in a group."""
        return self.status is AlertStatus.FIRING and not self.suppressed_by and not self.flapping

    def changes_within(self, window: timedelta, at: datetime) -> int:
        return sum(1 for when in self.changes if at - when < window)


INITIAL = Alert()


def _changed(state: Alert, at: datetime) -> tuple[datetime, ...]:
    return (*state.changes, at)[-MAX_REMEMBERED_CHANGES:]


def evolve(state: Alert, event: DomainEvent) -> Alert:
    """Apply one recorded event. Never raises: the past is not up for debate."""
    match event:
        case AlertPending():
            return replace(
                state,
                alert_id=event.alert_id,
                alert_key=event.alert_key,
                integration=event.integration,
                source=event.source,
                labels=dict(event.labels),
                annotations=dict(event.annotations),
                summary=event.summary,
                severity=event.severity,
                status=AlertStatus.PENDING,
                pending_at=event.pending_at,
                started_at=None,
                fired_at=None,
                resolved_at=None,
                resolve_reason=None,
            )
        case AlertTriggered():
            return replace(
                state,
                alert_id=event.alert_id,
                alert_key=event.alert_key,
                integration=event.integration,
                source=event.source,
                labels=dict(event.labels),
                annotations=dict(event.annotations),
                summary=event.summary,
                severity=event.severity,
                status=AlertStatus.FIRING,
                occurrence=event.occurrence,
                pending_at=event.pending_at,
                started_at=event.started_at,
                fired_at=event.fired_at,
                resolved_at=None,
                resolve_reason=None,
                acknowledged_by=None,
                acknowledged_at=None,
                suppressed_by=None,
                suppression_reason=None,
                auto_resolve_due=None,
                changes=_changed(state, event.fired_at),
            )
        case AlertAcknowledged():
            return replace(
                state, acknowledged_by=event.acknowledged_by, acknowledged_at=event.acknowledged_at
            )
        case AlertResolved():
            return replace(
                state,
                status=AlertStatus.RESOLVED,
                resolved_at=event.resolved_at,
                resolve_reason=event.reason,
                auto_resolve_due=None,
                changes=_changed(state, event.resolved_at) if event.was_firing else state.changes,
            )
        case AlertSuppressed():
            return replace(
                state, suppressed_by=event.suppressed_by, suppression_reason=event.reason
            )
        case AlertSuppressionLifted():
            return replace(state, suppressed_by=None, suppression_reason=None)
        case AlertFlapping():
            return replace(state, flapping=True)
        case AlertFlappingStopped():
            return replace(state, flapping=False)
        case AlertAutoResolveScheduled():
            return replace(state, auto_resolve_due=event.due_at)
    return state


def fold(events: Iterable[DomainEvent], state: Alert = INITIAL) -> Alert:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def decide(command: AlertCommand, state: Alert) -> Sequence[DomainEvent]:
    """The events a command produces (often none: most notifications repeat news)."""
    match command:
        case MarkPending():
            if state.is_open:
                return []
            d = command.details
            return [
                AlertPending(
                    alert_id=d.alert_id,
                    alert_key=d.alert_key,
                    integration=d.integration,
                    source=d.source,
                    labels=d.labels,
                    annotations=d.annotations,
                    summary=d.summary,
                    severity=d.severity,
                    pending_at=command.at,
                )
            ]
        case Fire():
            return _fire(command, state)
        case Acknowledge():
            if state.status is not AlertStatus.FIRING or state.acknowledged_by is not None:
                return []
            return [
                AlertAcknowledged(
                    acknowledged_by=command.acknowledged_by, acknowledged_at=command.at
                )
            ]
        case Resolve():
            return _resolve(state, command.at, command.reason, command.flapping)
        case CheckTimers():
            due = state.auto_resolve_due
            if state.status is AlertStatus.FIRING and due is not None and due <= command.at:
                return _resolve(state, command.at, ResolveReason.AUTO_TIMEOUT, command.flapping)
            policy = command.flapping
            if state.flapping and state.changes_within(policy.window, command.at) < policy.changes:
                return [AlertFlappingStopped(stopped_at=command.at)]
            return []
        case ReviewSuppression():
            if state.status is not AlertStatus.FIRING:
                return []
            still = command.still
            if state.suppressed_by is None:
                # A silence created, or an inhibiting source that fired, after this
                # alert began: it stops paging from now on (Alertmanager does the same).
                if still is None:
                    return []
                return [
                    AlertSuppressed(
                        reason=still.reason,
                        suppressed_by=still.suppressed_by,
                        suppressed_at=command.at,
                    )
                ]
            if still is None:
                return [
                    AlertSuppressionLifted(suppressed_by=state.suppressed_by, lifted_at=command.at)
                ]
            if still.suppressed_by != state.suppressed_by:
                return [
                    AlertSuppressed(
                        reason=still.reason,
                        suppressed_by=still.suppressed_by,
                        suppressed_at=command.at,
                    )
                ]
            return []
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


def _fire(command: Fire, state: Alert) -> Sequence[DomainEvent]:
    after = command.auto_resolve_after
    if state.status is AlertStatus.FIRING:
        # Still firing: only keep the auto-resolve deadline ahead of the source's
        # re-notifications, renewing when less than half of the timeout is left.
        due = state.auto_resolve_due
        if after is not None and (due is None or due - command.at < after / 2):
            return [AlertAutoResolveScheduled(due_at=command.at + after)]
        return []
    d = command.details
    events: list[DomainEvent] = [
        AlertTriggered(
            alert_id=d.alert_id,
            alert_key=d.alert_key,
            integration=d.integration,
            source=d.source,
            labels=d.labels,
            annotations=d.annotations,
            summary=d.summary,
            severity=d.severity,
            occurrence=state.occurrence + 1,
            started_at=min(command.started_at, command.at),
            fired_at=command.at,
            pending_at=state.pending_at if state.status is AlertStatus.PENDING else None,
        )
    ]
    if command.suppression is not None:
        events.append(
            AlertSuppressed(
                reason=command.suppression.reason,
                suppressed_by=command.suppression.suppressed_by,
                suppressed_at=command.at,
            )
        )
    if after is not None:
        events.append(AlertAutoResolveScheduled(due_at=command.at + after))
    events.extend(_flapping_after_change(state, command.at, command.flapping))
    return events


def _resolve(
    state: Alert, at: datetime, reason: ResolveReason, policy: FlapPolicy
) -> Sequence[DomainEvent]:
    if state.status is AlertStatus.PENDING:
        return [AlertResolved(reason=reason, resolved_at=at, was_firing=False)]
    if state.status is not AlertStatus.FIRING:
        return []
    return [
        AlertResolved(reason=reason, resolved_at=at),
        *_flapping_after_change(state, at, policy),
    ]


def _flapping_after_change(state: Alert, at: datetime, policy: FlapPolicy) -> list[DomainEvent]:
    if state.flapping or policy.changes <= 0:
        return []
    changes = state.changes_within(policy.window, at) + 1
    if changes < policy.changes:
        return []
    return [AlertFlapping(changes=changes, window_seconds=policy.window.total_seconds(), since=at)]
