"""The ActionItem aggregate (stream `action-<action id>`): one follow-up of a
postmortem, tracked until it is done or explicitly dropped, and its reminders.

Rules:
- kind (technical, process, monitoring), a title, an owner (the application checks
  the user directory), a due date (required; not in the past in the owner's zone), a
  priority, a status (open, in progress, done, won't do with a reason) and an optional
  tracker link; every change is an event;
- reminders are durable timers derived from the item itself (`next_due`): one before
  the due date, one on it, then one every week while overdue; for items of P1/P2
  postmortems, one escalation to the owner's team a configurable time after the due
  date. Each reminder *slot* fires once: a slot that passed while nobody ran is skipped
  when a later one is already due (nobody wants "due in two days" after the due date);
- delivery bookkeeping follows ADR 0011: an attempt per contact method is recorded
  (ReminderAttempted) *before* the adapter sends; the adapter reports the outcome; a
  temporary failure is retried with backoff; an attempt whose outcome never arrives
  (the worker died) is recorded as ReminderUnconfirmed and sent again, marked as a
  possible repeat with the first attempt's idempotency key.

Its commands and their values live in `action_commands`, the reminder schedule in
`reminders`; both are re-exported here.

Pure: no I/O, no clock; time and the reminder policy arrive as arguments.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from contracts.domain import InvalidCommandError
from contracts.events import DomainEvent
from postmortem_service.action_commands import (
    ActionCommand,
    AddActionItem,
    ChangePriority,
    CompleteActionItem,
    DeclineActionItem,
    Kind,
    LinkTracker,
    Priority,
    ReassignActionItem,
    RecordReminderOutcome,
    ReopenActionItem,
    RescheduleActionItem,
    RetitleActionItem,
    RetryReminder,
    SendReminder,
    StartActionItem,
    Target,
    TimeOutReminder,
)
from postmortem_service.common import (
    EVENTS,
    HIGH_SEVERITIES,
    end_of_day,
    zone,
)
from postmortem_service.postmortem import RefusedError
from postmortem_service.reminders import (
    Due,
    ReminderPolicy,
    Work,
    current_slot,
    escalation_due,
    next_due,
    schedule,
    slot_time,
)

__all__ = [  # the public names, with those re-exported from the modules split off
    "ACTIVE", "INITIAL", "STREAM_CATEGORY", "ActionCommand", "ActionItem",
    "ActionItemAdded", "ActionItemCompleted", "ActionItemDeclined", "ActionItemOverdue",
    "ActionItemPriorityChanged", "ActionItemReassigned", "ActionItemReopened",
    "ActionItemRescheduled", "ActionItemRetitled", "ActionItemStarted",
    "ActionItemTrackerLinked", "AddActionItem", "ChangePriority", "CompleteActionItem",
    "DeclineActionItem", "Due", "ItemStatus", "Kind", "LinkTracker", "Priority",
    "ReassignActionItem", "RecordReminderOutcome", "ReminderAttempted", "ReminderDelivered",
    "ReminderFailed", "ReminderPolicy", "ReminderUnconfirmed", "ReopenActionItem",
    "RescheduleActionItem", "RetitleActionItem", "RetryReminder", "SendReminder",
    "StartActionItem", "Target", "TimeOutReminder", "Track", "Work", "current_slot",
    "decide", "escalation_due", "evolve", "fold", "next_due", "schedule", "slot_time",
    "stream_for",
]  # fmt: skip

STREAM_CATEGORY = "action"


def stream_for(action_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{action_id}"


class ItemStatus(enum.StrEnum):
    NONE = "none"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WONT_DO = "wont_do"


ACTIVE = frozenset({ItemStatus.OPEN, ItemStatus.IN_PROGRESS})


# ---------------------------------------------------------------------- events


@EVENTS.register
class ActionItemAdded(DomainEvent):
    action_id: uuid.UUID
    incident_id: uuid.UUID
    postmortem_severity: str
    kind: Kind
    title: str
    owner: str
    owner_time_zone: str
    due_on: date
    due_at: datetime
    priority: Priority
    tracker_url: str | None
    added_by: str
    added_at: datetime


@EVENTS.register
class ActionItemStarted(DomainEvent):
    by: str
    started_at: datetime


@EVENTS.register
class ActionItemCompleted(DomainEvent):
    by: str
    completed_at: datetime


@EVENTS.register
class ActionItemDeclined(DomainEvent):
    """Won't do, with the reason."""

    reason: str
    by: str
    declined_at: datetime


@EVENTS.register
class ActionItemReopened(DomainEvent):
    reason: str
    by: str
    reopened_at: datetime


@EVENTS.register
class ActionItemReassigned(DomainEvent):
    owner: str
    owner_time_zone: str
    previous_owner: str
    by: str
    reassigned_at: datetime


@EVENTS.register
class ActionItemRescheduled(DomainEvent):
    due_on: date
    due_at: datetime
    reason: str
    by: str
    rescheduled_at: datetime


@EVENTS.register
class ActionItemRetitled(DomainEvent):
    title: str
    by: str
    retitled_at: datetime


@EVENTS.register
class ActionItemPriorityChanged(DomainEvent):
    priority: Priority
    by: str
    changed_at: datetime


@EVENTS.register
class ActionItemTrackerLinked(DomainEvent):
    tracker_url: str
    by: str
    linked_at: datetime


@EVENTS.register
class ActionItemOverdue(DomainEvent):
    """The first overdue reminder fired: the item is past its due date and open."""

    due_at: datetime
    noticed_at: datetime


@EVENTS.register
class ReminderAttempted(DomainEvent):
    """Recorded before the adapter sends: the adapter must send exactly this."""

    slot: str
    """"before", "due", "overdue-<n>" or "escalation"."""
    target: Target
    attempt: int
    attempted_at: datetime
    outcome_due_by: datetime
    repeat_of: int | None = None
    sender: str | None = None
    """The worker process instance that makes the send: a racing worker that appended
    the same (derived) event finds someone else's name here and does not send."""


@EVENTS.register
class ReminderDelivered(DomainEvent):
    slot: str
    target_key: str
    attempt: int
    delivered_at: datetime


@EVENTS.register
class ReminderFailed(DomainEvent):
    slot: str
    target_key: str
    attempt: int
    reason: str
    permanent: bool
    failed_at: datetime


@EVENTS.register
class ReminderUnconfirmed(DomainEvent):
    """The attempt's outcome will never be reported (the sender died or its deadline
    passed): it is sent again, marked as a possible repeat."""

    slot: str
    target_key: str
    attempt: int
    detected_at: datetime


# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Track:
    """One contact method's attempts within one reminder slot."""

    target: Target
    attempt: int
    attempted_at: datetime
    outcome_due_by: datetime
    outcome: str | None = None
    """None (waiting), "delivered", "failed", "failed-permanently" or "unconfirmed"."""
    failed_at: datetime | None = None
    first_attempt: int = 1


@dataclass(frozen=True, slots=True)
class ActionItem:
    status: ItemStatus = ItemStatus.NONE
    action_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None
    postmortem_severity: str = ""
    kind: Kind = Kind.TECHNICAL
    title: str = ""
    owner: str = ""
    owner_time_zone: str = "UTC"
    due_on: date | None = None
    due_at: datetime | None = None
    priority: Priority = Priority.MEDIUM
    tracker_url: str | None = None
    added_at: datetime | None = None
    added_by: str = ""
    completed_at: datetime | None = None
    declined_reason: str | None = None
    overdue_noticed: bool = False
    fired: tuple[str, ...] = ()
    """Reminder slots already fired, in order."""
    tracks: dict[tuple[str, str], Track] = field(default_factory=dict)
    last_changed_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.status is not ItemStatus.NONE

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def escalates(self) -> bool:
        return self.postmortem_severity in {s.value for s in HIGH_SEVERITIES}

    def overdue(self, now: datetime) -> bool:
        return self.active and self.due_at is not None and now > self.due_at


INITIAL = ActionItem()


def evolve(state: ActionItem, event: DomainEvent) -> ActionItem:
    match event:
        case ActionItemAdded():
            return replace(
                state,
                status=ItemStatus.OPEN,
                action_id=event.action_id,
                incident_id=event.incident_id,
                postmortem_severity=event.postmortem_severity,
                kind=event.kind,
                title=event.title,
                owner=event.owner,
                owner_time_zone=event.owner_time_zone,
                due_on=event.due_on,
                due_at=event.due_at,
                priority=event.priority,
                tracker_url=event.tracker_url,
                added_at=event.added_at,
                added_by=event.added_by,
                last_changed_at=event.added_at,
            )
        case ActionItemStarted():
            return replace(state, status=ItemStatus.IN_PROGRESS, last_changed_at=event.started_at)
        case ActionItemCompleted():
            return replace(
                state,
                status=ItemStatus.DONE,
                completed_at=event.completed_at,
                last_changed_at=event.completed_at,
            )
        case ActionItemDeclined():
            return replace(
                state,
                status=ItemStatus.WONT_DO,
                declined_reason=event.reason,
                completed_at=event.declined_at,
                last_changed_at=event.declined_at,
            )
        case ActionItemReopened():
            return replace(
                state,
                status=ItemStatus.OPEN,
                completed_at=None,
                declined_reason=None,
                last_changed_at=event.reopened_at,
            )
        case ActionItemReassigned():
            return replace(
                state,
                owner=event.owner,
                owner_time_zone=event.owner_time_zone,
                last_changed_at=event.reassigned_at,
            )
        case ActionItemRescheduled():
            # A new due date starts a new reminder schedule.
            return replace(
                state,
                due_on=event.due_on,
                due_at=event.due_at,
                fired=(),
                overdue_noticed=False,
                last_changed_at=event.rescheduled_at,
            )
        case ActionItemRetitled():
            return replace(state, title=event.title, last_changed_at=event.retitled_at)
        case ActionItemPriorityChanged():
            return replace(state, priority=event.priority, last_changed_at=event.changed_at)
        case ActionItemTrackerLinked():
            return replace(state, tracker_url=event.tracker_url, last_changed_at=event.linked_at)
        case ActionItemOverdue():
            return replace(state, overdue_noticed=True)
        case ReminderAttempted():
            key = (event.slot, event.target.key)
            previous = state.tracks.get(key)
            track = Track(
                event.target,
                event.attempt,
                event.attempted_at,
                event.outcome_due_by,
                first_attempt=previous.first_attempt if previous else event.attempt,
            )
            fired = state.fired if event.slot in state.fired else (*state.fired, event.slot)
            return replace(state, tracks={**state.tracks, key: track}, fired=fired)
        case ReminderDelivered() | ReminderFailed() | ReminderUnconfirmed():
            key = (event.slot, event.target_key)
            current = state.tracks.get(key)
            if current is None or current.attempt != event.attempt:
                return state
            if isinstance(event, ReminderDelivered):
                track = replace(current, outcome="delivered")
            elif isinstance(event, ReminderFailed):
                track = replace(
                    current,
                    outcome="failed-permanently" if event.permanent else "failed",
                    failed_at=event.failed_at,
                )
            else:
                track = replace(current, outcome="unconfirmed")
            return replace(state, tracks={**state.tracks, key: track})
    return state


def fold(events: Iterable[DomainEvent], state: ActionItem = INITIAL) -> ActionItem:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def _due_not_past(due_on: date, tz_name: str, now: datetime) -> None:
    today = now.astimezone(zone(tz_name)).date()
    if due_on < today:
        raise InvalidCommandError(
            "due_date", f"{due_on.isoformat()} is in the past (today is {today.isoformat()})"
        )


def _require_exists(state: ActionItem) -> None:
    if not state.exists:
        raise RefusedError("action_id", "no such action item")


def _require_active(state: ActionItem, field: str) -> None:
    _require_exists(state)
    if not state.active:
        raise RefusedError(field, f"the action item is {state.status.value}; reopen it first")


_DEFAULT_POLICY = ReminderPolicy()


def decide(
    command: ActionCommand, state: ActionItem, policy: ReminderPolicy = _DEFAULT_POLICY
) -> Sequence[DomainEvent]:
    match command:
        case AddActionItem():
            if state.exists:
                return []
            _due_not_past(command.due_on, command.owner_time_zone, command.at)
            return [
                ActionItemAdded(
                    action_id=command.action_id,
                    incident_id=command.incident_id,
                    postmortem_severity=command.postmortem_severity.value,
                    kind=command.kind,
                    title=command.title,
                    owner=command.owner,
                    owner_time_zone=command.owner_time_zone,
                    due_on=command.due_on,
                    due_at=end_of_day(command.due_on, command.owner_time_zone),
                    priority=command.priority,
                    tracker_url=str(command.tracker_url) if command.tracker_url else None,
                    added_by=command.by,
                    added_at=command.at,
                )
            ]
        case StartActionItem():
            _require_active(state, "status")
            if state.status is ItemStatus.IN_PROGRESS:
                return []
            return [ActionItemStarted(by=command.by, started_at=command.at)]
        case CompleteActionItem():
            _require_exists(state)
            if state.status is ItemStatus.DONE:
                return []
            _require_active(state, "status")
            return [ActionItemCompleted(by=command.by, completed_at=command.at)]
        case DeclineActionItem():
            _require_exists(state)
            if state.status is ItemStatus.WONT_DO:
                return []
            _require_active(state, "status")
            return [
                ActionItemDeclined(reason=command.reason, by=command.by, declined_at=command.at)
            ]
        case ReopenActionItem():
            _require_exists(state)
            if state.active:
                return []
            return [
                ActionItemReopened(reason=command.reason, by=command.by, reopened_at=command.at)
            ]
        case ReassignActionItem():
            _require_active(state, "owner")
            if command.owner == state.owner:
                return []
            return [
                ActionItemReassigned(
                    owner=command.owner,
                    owner_time_zone=command.owner_time_zone,
                    previous_owner=state.owner,
                    by=command.by,
                    reassigned_at=command.at,
                )
            ]
        case RescheduleActionItem():
            _require_active(state, "due_date")
            _due_not_past(command.due_on, state.owner_time_zone, command.at)
            if command.due_on == state.due_on:
                return []
            return [
                ActionItemRescheduled(
                    due_on=command.due_on,
                    due_at=end_of_day(command.due_on, state.owner_time_zone),
                    reason=command.reason,
                    by=command.by,
                    rescheduled_at=command.at,
                )
            ]
        case RetitleActionItem():
            _require_active(state, "title")
            if command.title == state.title:
                return []
            return [ActionItemRetitled(title=command.title, by=command.by, retitled_at=command.at)]
        case ChangePriority():
            _require_active(state, "priority")
            if command.priority == state.priority:
                return []
            return [
                ActionItemPriorityChanged(
                    priority=command.priority, by=command.by, changed_at=command.at
                )
            ]
        case LinkTracker():
            _require_exists(state)
            url = str(command.tracker_url)
            if url == state.tracker_url:
                return []
            return [ActionItemTrackerLinked(tracker_url=url, by=command.by, linked_at=command.at)]
        case SendReminder():
            return _send(command, state, policy)
        case RecordReminderOutcome():
            track = state.tracks.get((command.slot, command.target_key))
            if track is None or track.attempt != command.attempt or track.outcome is not None:
                return []  # late, duplicate or superseded report
            if command.unknown and not command.delivered:
                # It may have arrived: neither retried unlabelled nor given up. Left in
                # flight, so its deadline resends it as a possible repeat.
                return []
            if command.delivered:
                return [
                    ReminderDelivered(
                        slot=command.slot,
                        target_key=command.target_key,
                        attempt=command.attempt,
                        delivered_at=command.at,
                    )
                ]
            return [
                ReminderFailed(
                    slot=command.slot,
                    target_key=command.target_key,
                    attempt=command.attempt,
                    reason=command.reason or "failed",
                    permanent=command.permanent,
                    failed_at=command.at,
                )
            ]
        case RetryReminder():
            track = state.tracks.get((command.slot, command.target_key))
            if (
                not state.active
                or track is None
                or track.attempt != command.attempt
                or track.outcome != "failed"
                or track.attempt >= policy.max_attempts
            ):
                return []
            return [_attempt(command.slot, track.target, track.attempt + 1, command, None)]
        case TimeOutReminder():
            track = state.tracks.get((command.slot, command.target_key))
            if track is None or track.attempt != command.attempt or track.outcome is not None:
                return []
            unconfirmed = ReminderUnconfirmed(
                slot=command.slot,
                target_key=command.target_key,
                attempt=command.attempt,
                detected_at=command.at,
            )
            if not state.active:
                return [unconfirmed]
            # Unknown is not "failed": the message may have left. Send it again, said
            # to be a possible repeat of the first attempt (ADR 0011).
            return [
                unconfirmed,
                _attempt(
                    command.slot, track.target, track.attempt + 1, command, track.first_attempt
                ),
            ]
    raise TypeError(f"unknown command {type(command).__name__}")  # pragma: no cover


def _attempt(
    slot: str,
    target: Target,
    attempt: int,
    command: SendReminder | RetryReminder | TimeOutReminder,
    repeat_of: int | None,
) -> ReminderAttempted:
    return ReminderAttempted(
        slot=slot,
        target=target,
        attempt=attempt,
        attempted_at=command.at,
        outcome_due_by=command.at + command.outcome_timeout,
        repeat_of=repeat_of,
        sender=command.sender,
    )


def _send(command: SendReminder, state: ActionItem, policy: ReminderPolicy) -> list[DomainEvent]:
    if command.slot in state.fired:
        return []
    if command.slot == "escalation":
        due = escalation_due(state, policy)
        if due is None or command.at < due:
            return []
    elif current_slot(state, policy, command.at) != command.slot:
        return []  # not (or no longer) the slot due now
    events: list[DomainEvent] = []
    if command.slot.startswith("overdue-") and not state.overdue_noticed:
        assert state.due_at is not None
        events.append(ActionItemOverdue(due_at=state.due_at, noticed_at=command.at))
    seen: set[str] = set()
    for target in command.targets:
        if target.key in seen:
            continue
        seen.add(target.key)
        events.append(_attempt(command.slot, target, 1, command, None))
    if len(events) == (1 if events and isinstance(events[0], ActionItemOverdue) else 0):
        # Nobody to reach: still record the slot as fired, so it is not retried forever.
        events.append(
            ReminderAttempted(
                slot=command.slot,
                target=Target(user_id=state.owner, method_id="none", kind="none", address=""),
                attempt=1,
                attempted_at=command.at,
                outcome_due_by=command.at,
                repeat_of=None,
                sender=command.sender,
            )
        )
    return events
