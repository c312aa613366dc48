"""The incident's vocabulary and the commands it accepts, validated on construction.

Pure, like `incident_service.domain` (which decides them and re-exports every name
here): no I/O, no clock, no framework. A command carries `at`, the time the platform
received it; a bad field raises pydantic's error naming it, which adapters turn into
`InvalidCommandError`.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


class Severity(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Status(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class MitigationKind(enum.StrEnum):
    ROLLBACK = "rollback"
    RESTART = "restart"
    FAILOVER = "failover"
    TRAFFIC_SHIFT = "traffic_shift"
    FEATURE_FLAG = "feature_flag"
    RUNBOOK_STEP = "runbook_step"
    OTHER = "other"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be a timezone-aware timestamp")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ServiceName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
]
AlertRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Instant = Annotated[datetime, AfterValidator(_aware)]


class Command(BaseModel):
    """Commands are validated on construction; a bad field raises pydantic's error,
    which adapters turn into InvalidCommandError naming the field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: Instant
    """When the platform received the command (from the injected clock)."""


class DeclareIncident(Command):
    incident_id: uuid.UUID
    number: int = Field(ge=1)
    title: Text
    severity: Severity
    services: tuple[ServiceName, ...] = Field(min_length=1, max_length=50)
    source_alerts: tuple[AlertRef, ...] = Field(default=(), max_length=500)
    declared_by: Person


class AssignCommander(Command):
    commander: Person
    assigned_by: Person


class ChangeSeverity(Command):
    severity: Severity
    reason: LongText
    changed_by: Person


class UpdateStatus(Command):
    status: Status
    changed_by: Person
    note: LongText | None = None


class AddNote(Command):
    text: LongText
    author: Person


class RecordMitigation(Command):
    kind: MitigationKind
    description: LongText
    temporary: bool
    applied_by: Person
    applied_at: Instant | None = None
    """Defaults to `at`; may be earlier, never later."""


class Resolve(Command):
    summary: LongText
    resolved_by: Person


class Reopen(Command):
    reason: LongText
    reopened_by: Person


class AttachAlert(Command):
    alert_key: AlertRef
    summary: Text
    labels: dict[str, str] = Field(default_factory=dict)
    source_severity: str | None = None


class RecordSourceResolved(Command):
    group_id: AlertRef


class RecordSourceAcknowledged(Command):
    alert_key: AlertRef
    acknowledged_by: Person


class CloseRootCauseFollowUp(Command):
    root_cause: str = Field(min_length=1, max_length=5000)
    closed_by: Person
    postmortem: str = Field(min_length=1, max_length=200)


IncidentCommand = (
    DeclareIncident
    | AssignCommander
    | ChangeSeverity
    | UpdateStatus
    | AddNote
    | RecordMitigation
    | Resolve
    | Reopen
    | AttachAlert
    | RecordSourceResolved
    | RecordSourceAcknowledged
    | CloseRootCauseFollowUp
)
