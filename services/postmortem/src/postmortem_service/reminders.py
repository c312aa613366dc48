"""The ActionItem's reminder schedule: the `ReminderPolicy`, the regular slots (one
before the due date, one on it, then one a week while overdue), the escalation to the
owner's team, and `next_due`, everything an item still has to do and when (the due
projection's input; the decider asks it whether a slot is due).

Pure: no I/O, no clock; the item's state, the policy and the time arrive as arguments.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from postmortem_service.action import ActionItem


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    remind_before: timedelta = timedelta(days=2)
    overdue_every: timedelta = timedelta(days=7)
    escalate_after: timedelta = timedelta(days=7)
    """After the due date, overdue items of P1/P2 postmortems go to the owner's team."""
    outcome_timeout: timedelta = timedelta(minutes=2)
    retry_base: timedelta = timedelta(minutes=5)
    max_attempts: int = 3


def slot_time(state: ActionItem, policy: ReminderPolicy, slot: str) -> datetime:
    """When a regular reminder slot falls due."""
    assert state.due_at is not None
    if slot == "before":
        return state.due_at - policy.remind_before
    if slot.startswith("overdue-"):
        return state.due_at + policy.overdue_every * int(slot.removeprefix("overdue-"))
    return state.due_at


def schedule(
    state: ActionItem, policy: ReminderPolicy, until: datetime
) -> list[tuple[str, datetime]]:
    """The item's regular reminder slots up to `until` and the first one after it."""
    if state.due_at is None or state.added_at is None:
        return []
    slots: list[tuple[str, datetime]] = []
    before = state.due_at - policy.remind_before
    if before > state.added_at:
        slots.append(("before", before))
    slots.append(("due", state.due_at))
    n = 1
    while slots[-1][1] <= until:
        slots.append((f"overdue-{n}", state.due_at + policy.overdue_every * n))
        n += 1
    return slots


def _last_fired(state: ActionItem, policy: ReminderPolicy) -> datetime | None:
    regular = [s for s in state.fired if s != "escalation"]
    return slot_time(state, policy, regular[-1]) if regular else None


def current_slot(state: ActionItem, policy: ReminderPolicy, now: datetime) -> str | None:
    """The regular reminder slot to fire at `now`, or None: the latest slot already
    due, unless it (or a later one) has fired."""
    if not state.active or state.due_at is None:
        return None
    due = [(slot, at) for slot, at in schedule(state, policy, now) if at <= now]
    if not due:
        return None
    slot, at = due[-1]
    last = _last_fired(state, policy)
    if last is not None and last >= at:
        return None
    return slot


def escalation_due(state: ActionItem, policy: ReminderPolicy) -> datetime | None:
    """When an overdue item of a P1/P2 postmortem goes to the owner's team."""
    if not state.escalates or not state.active or state.due_at is None:
        return None
    if "escalation" in state.fired:
        return None
    return state.due_at + policy.escalate_after


class Work(enum.IntEnum):
    OUTCOME_OVERDUE = 0
    RETRY = 1
    SLOT = 2
    ESCALATION = 3


@dataclass(frozen=True, slots=True)
class Due:
    work: Work
    due_at: datetime
    slot: str = ""
    target_key: str = ""
    attempt: int = 0


def next_due(state: ActionItem, policy: ReminderPolicy) -> list[Due]:
    """Everything this item still has to do, and when (the due projection's input)."""
    if not state.active or state.due_at is None:
        return []
    items: list[Due] = []
    for (slot, key), track in state.tracks.items():
        if track.outcome is None:
            items.append(Due(Work.OUTCOME_OVERDUE, track.outcome_due_by, slot, key, track.attempt))
        elif track.outcome == "failed" and track.attempt < policy.max_attempts:
            assert track.failed_at is not None
            backoff = policy.retry_base * (2 ** (track.attempt - 1))
            items.append(Due(Work.RETRY, track.failed_at + backoff, slot, key, track.attempt))
    last = _last_fired(state, policy)
    upcoming = schedule(state, policy, last if last is not None else state.due_at)
    following = [(slot, at) for slot, at in upcoming if last is None or at > last]
    if following:
        items.append(Due(Work.SLOT, following[0][1], following[0][0]))
    escalation = escalation_due(state, policy)
    if escalation is not None:
        items.append(Due(Work.ESCALATION, escalation, "escalation"))
    return items
