"""The Postmortem decider's commands (`PostmortemCommand`) and the values they carry:
the editable `Section`s and the default completion window.

Pure values: no I/O, no clock. Re-exported by `postmortem`, where callers import them.
"""

from __future__ import annotations

import enum
import uuid

from pydantic import Field

from postmortem_service.common import Command, Instant, Person, Reason, Severity, Text

DEFAULT_DUE_BUSINESS_DAYS = 5


class Section(enum.StrEnum):
    SUMMARY = "summary"
    IMPACT = "impact"
    CONTRIBUTING_FACTORS = "contributing_factors"
    WENT_WELL = "went_well"
    WENT_WRONG = "went_wrong"
    GOT_LUCKY = "got_lucky"
    LESSONS = "lessons"


class OpenOnResolution(Command):
    """The incident was resolved (first time or again)."""

    incident_id: uuid.UUID
    number: int = Field(ge=0)
    title: str = Field(max_length=500)
    severity: Severity
    services: tuple[str, ...] = ()
    required: bool
    owner: Person
    owner_time_zone: str
    incident_declared_at: Instant | None = None
    resolved_at: Instant
    temporary_mitigations: tuple[str, ...] = ()
    due_business_days: int = Field(default=DEFAULT_DUE_BUSINESS_DAYS, ge=1, le=60)


class NoteRootCauseFollowUp(Command):
    reason: str = Field(max_length=2000)
    temporary_mitigations: tuple[str, ...] = ()


class AssignOwner(Command):
    owner: Person
    owner_time_zone: str
    by: Person
    due_business_days: int = Field(default=DEFAULT_DUE_BUSINESS_DAYS, ge=1, le=60)
    """The service's setting: the due date is recomputed in the new owner's zone."""


class EditSection(Command):
    section: Section
    text: Text
    by: Person


class RecordRootCause(Command):
    text: Text
    by: Person


class SetImpactStart(Command):
    impact_started_at: Instant
    by: Person


class AddTimelineEntry(Command):
    entry_id: str = Field(min_length=1, max_length=100)
    occurred_at: Instant
    text: Text
    by: Person


class AnnotateTimelineEntry(Command):
    entry_id: str = Field(min_length=1, max_length=100)
    text: Text
    by: Person


class RequestReview(Command):
    reviewers: tuple[Person, ...] = Field(min_length=1, max_length=20)
    by: Person


class SignOff(Command):
    reviewer: Person


class Publish(Command):
    by: Person
    people: tuple[str, ...] = ()
    """Names and ids from the user directory, for the blameless check."""
    override_reason: Reason | None = None
    as_of_position: int = Field(ge=0)


class Amend(Command):
    section: str
    text: Text
    reason: Reason
    by: Person


PostmortemCommand = (
    OpenOnResolution
    | NoteRootCauseFollowUp
    | AssignOwner
    | EditSection
    | RecordRootCause
    | SetImpactStart
    | AddTimelineEntry
    | AnnotateTimelineEntry
    | RequestReview
    | SignOff
    | Publish
    | Amend
)
