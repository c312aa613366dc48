"""The Postmortem aggregate's events (stream `postmortem-<incident id>`), with their
versions and upcasters. The rules that emit them are in `postmortem`, which re-exports
every name here."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from contracts.events import DomainEvent
from postmortem_service.common import EVENTS, Severity, Value
from postmortem_service.postmortem_commands import Section


class OverriddenWarning(Value):
    section: str
    code: str
    phrase: str
    suggestion: str


# ---------------------------------------------------------------------- events


@EVENTS.register
class PostmortemStarted(DomainEvent):
    incident_id: uuid.UUID
    number: int
    title: str
    severity: Severity
    services: tuple[str, ...]
    required: bool
    owner: str
    owner_time_zone: str
    due_on: date
    due_at: datetime
    incident_declared_at: datetime | None
    incident_resolved_at: datetime
    temporary_mitigations: tuple[str, ...]
    started_at: datetime


@EVENTS.register
class IncidentResolutionRecorded(DomainEvent):
    """The incident was reopened and resolved again: the same postmortem covers it."""

    resolved_at: datetime
    severity: Severity
    temporary_mitigations: tuple[str, ...]
    recorded_at: datetime


@EVENTS.register
class RootCauseFollowUpNoted(DomainEvent):
    """The incident was resolved on temporary mitigations only; publishing closes it."""

    reason: str
    temporary_mitigations: tuple[str, ...]
    noted_at: datetime


@EVENTS.register
class PostmortemOwnerAssigned(DomainEvent):
    owner: str
    owner_time_zone: str
    previous_owner: str
    due_on: date
    due_at: datetime
    assigned_by: str
    assigned_at: datetime


@EVENTS.register
class SectionEdited(DomainEvent):
    section: Section
    text: str
    edited_by: str
    edited_at: datetime


@EVENTS.register
class RootCauseRecorded(DomainEvent):
    text: str
    recorded_by: str
    recorded_at: datetime


@EVENTS.register
class ImpactStartSet(DomainEvent):
    """When the impact really began: every duration is measured from it."""

    impact_started_at: datetime
    set_by: str
    set_at: datetime


@EVENTS.register
class TimelineEntryAdded(DomainEvent):
    entry_id: str
    occurred_at: datetime
    text: str
    added_by: str
    added_at: datetime


@EVENTS.register
class TimelineEntryAnnotated(DomainEvent):
    """A note on a timeline entry: a generated one (its log event id) or a manual one."""

    entry_id: str
    text: str
    annotated_by: str
    annotated_at: datetime


@EVENTS.register
class ReviewersRequested(DomainEvent):
    reviewers: tuple[str, ...]
    requested_by: str
    requested_at: datetime


@EVENTS.register
class PostmortemReviewApproved(DomainEvent):
    reviewer: str
    signed_off_at: datetime


@EVENTS.register
class PostmortemPublished(DomainEvent):
    schema_version: ClassVar[int] = 2

    published_by: str
    published_at: datetime
    root_cause: str
    overridden_warnings: tuple[OverriddenWarning, ...]
    override_reason: str | None
    closes_root_cause_follow_up: bool
    """True when the incident was resolved on temporary mitigations only: this event
    is the one the incident service consumes to close its root-cause follow-up."""
    as_of_position: int
    """The log position the generated timeline is frozen at."""
    reconfirms: bool = False
    """(v2) Not a new publication: a root-cause amendment of a postmortem already
    published, made after the incident's root-cause follow-up came back (it was
    reopened and resolved on temporary mitigations again). It carries the amended root
    cause and `closes_root_cause_follow_up` for the incident service; the document's
    publication, frozen timeline and overrides stay as first published."""


@EVENTS.upcaster("PostmortemPublished", 1)
def _published_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 events were all first publications.
    return {**payload, "reconfirms": False}


@EVENTS.register
class PostmortemAmended(DomainEvent):
    section: str
    text: str
    reason: str
    amended_by: str
    amended_at: datetime
