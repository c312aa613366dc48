"""The Postmortem aggregate (stream `postmortem-<incident id>`): one blameless analysis
per incident, from its resolution to its publication and later amendments.

Rules:
- it is opened when the incident is resolved (the application decides whether the
  incident's severity and service require one, allow one or need none); the owner
  defaults to the incident commander and the completion is due five business days
  after the resolution in the owner's time zone; an incident reopened and resolved
  again updates the *same* postmortem (one stream per incident);
- sections are free text; the generated timeline is never stored here (it is read
  from the log, so it cannot be retyped or edited), but its entries can be annotated
  by their event id, and people can add manual entries;
- the root cause is required to publish and must not merely restate a temporary
  mitigation (a rollback or a restart is a mitigation, not a cause);
- publishing runs the blameless check (`blameless.check`, with the directory's names
  passed in the command); an open warning needs an explicit override with a reason,
  recorded in PostmortemPublished and shown on the document;
- requested reviewers must all sign off before publishing;
- publishing freezes it: later changes are PostmortemAmended events, shown as
  amendments with who and when;
- a root-cause follow-up that comes back after publication (the incident was reopened
  and resolved on temporary mitigations again) is closed by amending the root cause:
  the amendment also records a PostmortemPublished with `reconfirms` and
  `closes_root_cause_follow_up`, the event the incident service consumes.

Its commands and sections live in `postmortem_commands`, its events in
`postmortem_events`, the root-cause check in `root_cause`; all are re-exported here.

Pure: no I/O, no clock; time arrives in commands.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from contracts.domain import InvalidCommandError, PreconditionFailedError
from contracts.events import DomainEvent
from postmortem_service import blameless
from postmortem_service.common import (
    Severity,
    business_due,
)
from postmortem_service.postmortem_commands import (
    DEFAULT_DUE_BUSINESS_DAYS,
    AddTimelineEntry,
    Amend,
    AnnotateTimelineEntry,
    AssignOwner,
    EditSection,
    NoteRootCauseFollowUp,
    OpenOnResolution,
    PostmortemCommand,
    Publish,
    RecordRootCause,
    RequestReview,
    Section,
    SetImpactStart,
    SignOff,
)
from postmortem_service.postmortem_events import (
    ImpactStartSet,
    IncidentResolutionRecorded,
    OverriddenWarning,
    PostmortemAmended,
    PostmortemOwnerAssigned,
    PostmortemPublished,
    PostmortemReviewApproved,
    PostmortemStarted,
    ReviewersRequested,
    RootCauseFollowUpNoted,
    RootCauseRecorded,
    SectionEdited,
    TimelineEntryAdded,
    TimelineEntryAnnotated,
)
from postmortem_service.root_cause import restates_mitigation

__all__ = [  # the public names, with those re-exported from the modules split off
    "DEFAULT_DUE_BUSINESS_DAYS", "INITIAL", "SECTION_TITLES", "STREAM_CATEGORY",
    "AddTimelineEntry", "Amend", "Amendment", "AnnotateTimelineEntry", "AssignOwner",
    "EditSection", "Entry", "ImpactStartSet", "IncidentResolutionRecorded", "Note",
    "NoteRootCauseFollowUp", "OpenOnResolution", "OverriddenWarning", "Postmortem",
    "PostmortemAmended", "PostmortemCommand", "PostmortemOwnerAssigned",
    "PostmortemPublished", "PostmortemReviewApproved", "PostmortemStarted", "Publish",
    "RecordRootCause", "RefusedError", "RequestReview", "ReviewersRequested",
    "RootCauseFollowUpNoted", "RootCauseRecorded", "Section", "SectionEdited",
    "SetImpactStart", "SignOff", "Status", "TimelineEntryAdded", "TimelineEntryAnnotated",
    "decide", "evolve", "fold", "open_warnings", "restates_mitigation", "stream_for",
]  # fmt: skip

STREAM_CATEGORY = "postmortem"


def stream_for(incident_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{incident_id}"


SECTION_TITLES: dict[str, str] = {
    "summary": "Summary",
    "impact": "Impact",
    "root_cause": "Root cause",
    "contributing_factors": "Contributing factors",
    "went_well": "What went well",
    "went_wrong": "What went wrong",
    "got_lucky": "Where we got lucky",
    "lessons": "Lessons",
}


class RefusedError(PreconditionFailedError):
    """A well-formed command the postmortem's state does not allow; names the field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


# ---------------------------------------------------------------------- state


class Status(enum.StrEnum):
    NONE = "none"
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    occurred_at: datetime
    text: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class Note:
    entry_id: str
    text: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Amendment:
    section: str
    text: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Postmortem:
    status: Status = Status.NONE
    incident_id: uuid.UUID | None = None
    number: int = 0
    title: str = ""
    severity: Severity = Severity.P4
    services: tuple[str, ...] = ()
    required: bool = False
    owner: str = ""
    owner_time_zone: str = "UTC"
    due_on: date | None = None
    due_at: datetime | None = None
    started_at: datetime | None = None
    declared_at: datetime | None = None
    resolved_at: datetime | None = None
    resolutions: int = 0
    temporary_mitigations: tuple[str, ...] = ()
    follow_up_required: bool = False
    follow_up_reason: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    root_cause: str | None = None
    impact_started_at: datetime | None = None
    entries: tuple[Entry, ...] = ()
    notes: tuple[Note, ...] = ()
    reviewers: tuple[str, ...] = ()
    signed_off: frozenset[str] = frozenset()
    published_at: datetime | None = None
    published_by: str | None = None
    overridden: tuple[OverriddenWarning, ...] = ()
    override_reason: str | None = None
    as_of_position: int | None = None
    amendments: tuple[Amendment, ...] = ()
    last_changed_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.status is not Status.NONE

    @property
    def published(self) -> bool:
        return self.status is Status.PUBLISHED

    def narrative(self) -> dict[str, str]:
        """The cause and narrative sections the blameless check reads (amended text
        included), in document order."""
        texts: dict[str, str] = {}
        if self.root_cause:
            texts["root_cause"] = self.root_cause
        for section in Section:
            if section.value in self.sections:
                texts[section.value] = self.sections[section.value]
        for amendment in self.amendments:
            texts[amendment.section] = amendment.text
        return texts


INITIAL = Postmortem()


def evolve(state: Postmortem, event: DomainEvent) -> Postmortem:
    match event:
        case PostmortemStarted():
            return replace(
                state,
                status=Status.DRAFT,
                incident_id=event.incident_id,
                number=event.number,
                title=event.title,
                severity=event.severity,
                services=event.services,
                required=event.required,
                owner=event.owner,
                owner_time_zone=event.owner_time_zone,
                due_on=event.due_on,
                due_at=event.due_at,
                started_at=event.started_at,
                declared_at=event.incident_declared_at,
                resolved_at=event.incident_resolved_at,
                resolutions=1,
                temporary_mitigations=event.temporary_mitigations,
                last_changed_at=event.started_at,
            )
        case IncidentResolutionRecorded():
            return replace(
                state,
                resolved_at=event.resolved_at,
                resolutions=state.resolutions + 1,
                severity=event.severity,
                temporary_mitigations=tuple(
                    dict.fromkeys((*state.temporary_mitigations, *event.temporary_mitigations))
                ),
                last_changed_at=event.recorded_at,
            )
        case RootCauseFollowUpNoted():
            return replace(
                state,
                follow_up_required=True,
                follow_up_reason=event.reason,
                temporary_mitigations=tuple(
                    dict.fromkeys((*state.temporary_mitigations, *event.temporary_mitigations))
                ),
            )
        case PostmortemOwnerAssigned():
            return replace(
                state,
                owner=event.owner,
                owner_time_zone=event.owner_time_zone,
                due_on=event.due_on,
                due_at=event.due_at,
                last_changed_at=event.assigned_at,
            )
        case SectionEdited():
            return replace(
                state,
                sections={**state.sections, event.section.value: event.text},
                last_changed_at=event.edited_at,
            )
        case RootCauseRecorded():
            return replace(state, root_cause=event.text, last_changed_at=event.recorded_at)
        case ImpactStartSet():
            return replace(
                state, impact_started_at=event.impact_started_at, last_changed_at=event.set_at
            )
        case TimelineEntryAdded():
            entry = Entry(
                event.entry_id, event.occurred_at, event.text, event.added_by, event.added_at
            )
            return replace(state, entries=(*state.entries, entry), last_changed_at=event.added_at)
        case TimelineEntryAnnotated():
            note = Note(event.entry_id, event.text, event.annotated_by, event.annotated_at)
            return replace(state, notes=(*state.notes, note), last_changed_at=event.annotated_at)
        case ReviewersRequested():
            return replace(
                state,
                status=Status.IN_REVIEW,
                reviewers=tuple(dict.fromkeys((*state.reviewers, *event.reviewers))),
                last_changed_at=event.requested_at,
            )
        case PostmortemReviewApproved():
            return replace(
                state,
                signed_off=state.signed_off | {event.reviewer},
                last_changed_at=event.signed_off_at,
            )
        case PostmortemPublished() if event.reconfirms:
            return replace(
                state,
                follow_up_required=False
                if event.closes_root_cause_follow_up
                else state.follow_up_required,
                last_changed_at=event.published_at,
            )
        case PostmortemPublished():
            return replace(
                state,
                status=Status.PUBLISHED,
                published_at=event.published_at,
                published_by=event.published_by,
                overridden=event.overridden_warnings,
                override_reason=event.override_reason,
                as_of_position=event.as_of_position,
                follow_up_required=False
                if event.closes_root_cause_follow_up
                else state.follow_up_required,
                last_changed_at=event.published_at,
            )
        case PostmortemAmended():
            amendment = Amendment(
                event.section, event.text, event.reason, event.amended_by, event.amended_at
            )
            return replace(
                state, amendments=(*state.amendments, amendment), last_changed_at=event.amended_at
            )
    return state


def fold(events: Iterable[DomainEvent], state: Postmortem = INITIAL) -> Postmortem:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def _refuse_if_published(state: Postmortem, field: str) -> None:
    if state.published:
        raise RefusedError(
            field,
            "the postmortem is published and frozen; record the change as an amendment "
            "(with a reason) instead",
        )


def _require_exists(state: Postmortem) -> None:
    if not state.exists:
        raise RefusedError("incident_id", "this incident has no postmortem")


def open_warnings(state: Postmortem, people: Iterable[str]) -> list[blameless.Warning]:
    return blameless.check(state.narrative(), people)


def decide(command: PostmortemCommand, state: Postmortem) -> Sequence[DomainEvent]:
    match command:
        case OpenOnResolution():
            if not state.exists:
                due_on, due_at = business_due(
                    command.resolved_at, command.due_business_days, command.owner_time_zone
                )
                return [
                    PostmortemStarted(
                        incident_id=command.incident_id,
                        number=command.number,
                        title=command.title,
                        severity=command.severity,
                        services=command.services,
                        required=command.required,
                        owner=command.owner,
                        owner_time_zone=command.owner_time_zone,
                        due_on=due_on,
                        due_at=due_at,
                        incident_declared_at=command.incident_declared_at,
                        incident_resolved_at=command.resolved_at,
                        temporary_mitigations=command.temporary_mitigations,
                        started_at=command.at,
                    )
                ]
            if state.resolved_at is not None and command.resolved_at <= state.resolved_at:
                return []  # the same resolution delivered again
            return [
                IncidentResolutionRecorded(
                    resolved_at=command.resolved_at,
                    severity=command.severity,
                    temporary_mitigations=command.temporary_mitigations,
                    recorded_at=command.at,
                )
            ]
        case NoteRootCauseFollowUp():
            _require_exists(state)
            if state.published and not state.follow_up_required:
                # Resolved on band-aids again after publication: the obligation returns.
                pass
            elif state.follow_up_required and set(command.temporary_mitigations) <= set(
                state.temporary_mitigations
            ):
                return []
            return [
                RootCauseFollowUpNoted(
                    reason=command.reason,
                    temporary_mitigations=command.temporary_mitigations,
                    noted_at=command.at,
                )
            ]
        case AssignOwner():
            _require_exists(state)
            _refuse_if_published(state, "owner")
            if command.owner == state.owner:
                return []
            assert state.resolved_at is not None
            due_on, due_at = business_due(
                state.resolved_at, command.due_business_days, command.owner_time_zone
            )
            return [
                PostmortemOwnerAssigned(
                    owner=command.owner,
                    owner_time_zone=command.owner_time_zone,
                    previous_owner=state.owner,
                    due_on=due_on,
                    due_at=due_at,
                    assigned_by=command.by,
                    assigned_at=command.at,
                )
            ]
        case EditSection():
            _require_exists(state)
            _refuse_if_published(state, command.section.value)
            if state.sections.get(command.section.value) == command.text:
                return []
            return [
                SectionEdited(
                    section=command.section,
                    text=command.text,
                    edited_by=command.by,
                    edited_at=command.at,
                )
            ]
        case RecordRootCause():
            _require_exists(state)
            _refuse_if_published(state, "root_cause")
            problem = restates_mitigation(command.text, state.temporary_mitigations)
            if problem is not None:
                raise InvalidCommandError("root_cause", problem)
            if state.root_cause == command.text:
                return []
            return [
                RootCauseRecorded(text=command.text, recorded_by=command.by, recorded_at=command.at)
            ]
        case SetImpactStart():
            _require_exists(state)
            _refuse_if_published(state, "impact_started_at")
            if state.resolved_at is not None and command.impact_started_at > state.resolved_at:
                raise InvalidCommandError("impact_started_at", "is after the incident was resolved")
            if state.impact_started_at == command.impact_started_at:
                return []
            return [
                ImpactStartSet(
                    impact_started_at=command.impact_started_at,
                    set_by=command.by,
                    set_at=command.at,
                )
            ]
        case AddTimelineEntry():
            _require_exists(state)
            _refuse_if_published(state, "timeline")
            if any(e.entry_id == command.entry_id for e in state.entries):
                return []
            return [
                TimelineEntryAdded(
                    entry_id=command.entry_id,
                    occurred_at=command.occurred_at,
                    text=command.text,
                    added_by=command.by,
                    added_at=command.at,
                )
            ]
        case AnnotateTimelineEntry():
            _require_exists(state)
            _refuse_if_published(state, "timeline")
            return [
                TimelineEntryAnnotated(
                    entry_id=command.entry_id,
                    text=command.text,
                    annotated_by=command.by,
                    annotated_at=command.at,
                )
            ]
        case RequestReview():
            _require_exists(state)
            _refuse_if_published(state, "reviewers")
            new = tuple(r for r in dict.fromkeys(command.reviewers) if r not in state.reviewers)
            if not new:
                return []
            return [
                ReviewersRequested(reviewers=new, requested_by=command.by, requested_at=command.at)
            ]
        case SignOff():
            _require_exists(state)
            _refuse_if_published(state, "reviewer")
            if command.reviewer not in state.reviewers:
                raise RefusedError("reviewer", f"{command.reviewer!r} was not asked to review")
            if command.reviewer in state.signed_off:
                return []
            return [PostmortemReviewApproved(reviewer=command.reviewer, signed_off_at=command.at)]
        case Publish():
            return _publish(command, state)
        case Amend():
            _require_exists(state)
            if not state.published:
                raise RefusedError(
                    "section", "only a published postmortem is amended; edit it instead"
                )
            if command.section not in SECTION_TITLES:
                raise InvalidCommandError("section", f"must be one of {', '.join(SECTION_TITLES)}")
            if command.section == "root_cause":
                problem = restates_mitigation(command.text, state.temporary_mitigations)
                if problem is not None:
                    raise InvalidCommandError("text", problem)
            amended = PostmortemAmended(
                section=command.section,
                text=command.text,
                reason=command.reason,
                amended_by=command.by,
                amended_at=command.at,
            )
            if command.section != "root_cause" or not state.follow_up_required:
                return [amended]
            # The follow-up came back after publication (the incident was reopened and
            # resolved on band-aids again): the amended root cause closes it, through
            # the event the incident service consumes.
            assert state.as_of_position is not None
            return [
                amended,
                PostmortemPublished(
                    published_by=command.by,
                    published_at=command.at,
                    root_cause=command.text,
                    overridden_warnings=(),
                    override_reason=None,
                    closes_root_cause_follow_up=True,
                    as_of_position=state.as_of_position,
                    reconfirms=True,
                ),
            ]
    raise TypeError(f"unknown command {type(command).__name__}")  # pragma: no cover


def _publish(command: Publish, state: Postmortem) -> Sequence[DomainEvent]:
    _require_exists(state)
    if state.published:
        if state.follow_up_required:
            raise RefusedError(
                "status",
                "the postmortem is already published; the root-cause follow-up came back "
                "after publication: amend the root cause (with a reason) to close it",
            )
        raise RefusedError("status", "the postmortem is already published")
    if not state.root_cause:
        raise RefusedError("root_cause", "is required to publish (record it first)")
    problem = restates_mitigation(state.root_cause, state.temporary_mitigations)
    if problem is not None:
        raise InvalidCommandError("root_cause", problem)
    pending = [r for r in state.reviewers if r not in state.signed_off]
    if pending:
        raise RefusedError("reviewers", f"waiting for sign-off from {', '.join(pending)}")
    warnings = open_warnings(state, command.people)
    if warnings and command.override_reason is None:
        listed = "; ".join(f"{w.section}: {w.phrase!r} ({w.code})" for w in warnings[:10])
        raise RefusedError(
            "override_reason",
            f"{len(warnings)} blameless-language warning(s) are open ({listed}); reword "
            "them, or publish with an override and its reason",
        )
    return [
        PostmortemPublished(
            published_by=command.by,
            published_at=command.at,
            root_cause=state.root_cause,
            overridden_warnings=tuple(
                OverriddenWarning(
                    section=w.section, code=w.code, phrase=w.phrase, suggestion=w.suggestion
                )
                for w in warnings
            ),
            override_reason=command.override_reason if warnings else None,
            closes_root_cause_follow_up=state.follow_up_required,
            as_of_position=command.as_of_position,
        )
    ]
