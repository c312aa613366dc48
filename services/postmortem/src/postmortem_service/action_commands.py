"""The ActionItem decider's commands (`ActionCommand`) and the values they carry: an
item's kind and priority, and a reminder's contact `Target` (copied into events too).

Pure values: no I/O, no clock. Re-exported by `action`, where callers import them.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, timedelta

from pydantic import AnyHttpUrl, Field

from postmortem_service.common import Command, Person, Reason, Severity, Title, Value


class Kind(enum.StrEnum):
    TECHNICAL = "technical"
    PROCESS = "process"
    MONITORING = "monitoring"


class Priority(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Target(Value):
    """One contact method of one person, copied from the directory at attempt time."""

    user_id: str
    method_id: str
    kind: str
    address: str

    @property
    def key(self) -> str:
        return f"{self.user_id}/{self.method_id}"


class AddActionItem(Command):
    action_id: uuid.UUID
    incident_id: uuid.UUID
    postmortem_severity: Severity
    kind: Kind
    title: Title
    owner: Person
    owner_time_zone: str
    due_on: date
    priority: Priority = Priority.MEDIUM
    tracker_url: AnyHttpUrl | None = None
    by: Person


class StartActionItem(Command):
    by: Person


class CompleteActionItem(Command):
    by: Person


class DeclineActionItem(Command):
    reason: Reason
    by: Person


class ReopenActionItem(Command):
    reason: Reason
    by: Person


class ReassignActionItem(Command):
    owner: Person
    owner_time_zone: str
    by: Person


class RescheduleActionItem(Command):
    due_on: date
    reason: Reason
    by: Person


class RetitleActionItem(Command):
    title: Title
    by: Person


class ChangePriority(Command):
    priority: Priority
    by: Person


class LinkTracker(Command):
    tracker_url: AnyHttpUrl
    by: Person


class SendReminder(Command):
    """Fire the reminder slot due now, to these contact methods."""

    slot: str
    targets: tuple[Target, ...] = Field(max_length=200)
    outcome_timeout: timedelta
    sender: str | None = None


class RecordReminderOutcome(Command):
    slot: str
    target_key: str
    attempt: int = Field(ge=1)
    delivered: bool
    reason: str = Field(default="", max_length=2000)
    permanent: bool = False
    unknown: bool = False
    """Handed over without an answer (notify's unknown outcome): not a failure. The
    attempt stays in flight; at its outcome deadline it is sent again, labelled as a
    possible repeat with the first attempt's key (TimeOutReminder, ADR 0011)."""


class RetryReminder(Command):
    slot: str
    target_key: str
    attempt: int = Field(ge=1)
    """The attempt that failed temporarily."""
    outcome_timeout: timedelta
    sender: str | None = None


class TimeOutReminder(Command):
    slot: str
    target_key: str
    attempt: int = Field(ge=1)
    outcome_timeout: timedelta
    sender: str | None = None


ActionCommand = (
    AddActionItem
    | StartActionItem
    | CompleteActionItem
    | DeclineActionItem
    | ReopenActionItem
    | ReassignActionItem
    | RescheduleActionItem
    | RetitleActionItem
    | ChangePriority
    | LinkTracker
    | SendReminder
    | RecordReminderOutcome
    | RetryReminder
    | TimeOutReminder
)
