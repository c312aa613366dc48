"""The incident's runbooks (stream `rbincident-<incident id>`): which runbooks (and
which revision of each) the incident uses, external runbook links from its alerts, and
what responders did with each step.

- RunbooksAttached: recorded once when the incident is declared (or later, when a
  responder attaches another runbook), with the revision in force then. An incident
  keeps showing that revision even after the runbook is revised.
- StepMarked: a responder started, finished or skipped a step, with a note; a step's
  outcome may carry a mitigation, which the incident service records on the incident
  (MitigationApplied, kind runbook_step) in reaction: one action for the responder.

Every event carries the incident id as correlation id, so it is in the incident's
timeline. Pure: no I/O, no clock.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import Field

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from runbooks_service.common import EVENTS, Command, Note, Person, Severity, Value

STREAM_CATEGORY = "rbincident"


def stream_for(incident_id: uuid.UUID) -> str:
    return f"{STREAM_CATEGORY}-{incident_id}"


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    STARTED = "started"
    DONE = "done"
    SKIPPED = "skipped"


class AttachedRunbook(Value):
    runbook_id: str
    revision: int
    title: str
    specificity: int
    steps: tuple[str, ...] = ()
    """The step ids of that revision, in order."""


class Mitigation(Value):
    description: str = Field(min_length=1, max_length=2_000)
    temporary: bool


# ---------------------------------------------------------------------------- events


@EVENTS.register
class RunbooksAttached(DomainEvent):
    incident_id: uuid.UUID
    number: int | None = None
    severity: str
    services: tuple[str, ...]
    labels: dict[str, str] = Field(default_factory=dict)
    runbooks: tuple[AttachedRunbook, ...]
    """Most specific first."""
    external_links: tuple[str, ...] = ()
    """`runbook_url` annotations of the incident's alerts (Prometheus/Alertmanager)."""
    attached_by: str
    attached_at: datetime


@EVENTS.register
class StepMarked(DomainEvent):
    incident_id: uuid.UUID
    runbook_id: str
    revision: int
    step_id: str
    status: StepStatus
    note: str = ""
    mitigation: Mitigation | None = None
    marked_by: str
    marked_at: datetime


# -------------------------------------------------------------------------- commands


class Attach(Command):
    incident_id: uuid.UUID
    number: int | None = None
    severity: Severity
    services: tuple[str, ...]
    labels: dict[str, str] = Field(default_factory=dict)
    runbooks: tuple[AttachedRunbook, ...]
    external_links: tuple[str, ...] = ()
    by: Person


class MarkStep(Command):
    runbook_id: str
    step_id: str
    status: StepStatus
    note: Note = ""
    mitigation: Mitigation | None = None
    by: Person


IncidentRunbooksCommand = Attach | MarkStep


# ----------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class StepState:
    status: StepStatus = StepStatus.PENDING
    note: str = ""
    by: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IncidentRunbooks:
    incident_id: uuid.UUID | None = None
    number: int | None = None
    severity: str = ""
    services: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    runbooks: tuple[AttachedRunbook, ...] = ()
    external_links: tuple[str, ...] = ()
    steps: dict[tuple[str, str], StepState] = field(default_factory=dict)
    """(runbook id, step id) -> what responders did."""

    @property
    def exists(self) -> bool:
        return self.incident_id is not None

    def attached(self, runbook_id: str) -> AttachedRunbook | None:
        return next((r for r in self.runbooks if r.runbook_id == runbook_id), None)


INITIAL = IncidentRunbooks()

_NEXT: dict[StepStatus, frozenset[StepStatus]] = {
    StepStatus.PENDING: frozenset({StepStatus.STARTED, StepStatus.DONE, StepStatus.SKIPPED}),
    StepStatus.STARTED: frozenset({StepStatus.DONE, StepStatus.SKIPPED}),
    StepStatus.DONE: frozenset({StepStatus.STARTED}),
    StepStatus.SKIPPED: frozenset({StepStatus.STARTED, StepStatus.DONE}),
}
"""A finished step may be started again (a second attempt); nothing goes back to pending."""


def decide(command: IncidentRunbooksCommand, state: IncidentRunbooks) -> list[DomainEvent]:
    match command:
        case Attach():
            known = {r.runbook_id for r in state.runbooks}
            new = tuple(r for r in command.runbooks if r.runbook_id not in known)
            links = tuple(
                link for link in command.external_links if link not in state.external_links
            )
            if state.exists and not new and not links:
                return []
            return [
                RunbooksAttached(
                    incident_id=command.incident_id,
                    number=command.number,
                    severity=command.severity.value,
                    services=command.services,
                    labels=command.labels,
                    runbooks=new,
                    external_links=links,
                    attached_by=command.by,
                    attached_at=command.at,
                )
            ]
        case MarkStep():
            if state.incident_id is None:
                raise NotFoundError("no runbook is attached to this incident")
            attached = state.attached(command.runbook_id)
            if attached is None:
                raise NotFoundError(f"runbook {command.runbook_id} is not attached to the incident")
            if command.step_id not in attached.steps:
                raise InvalidCommandError(
                    "step",
                    f"runbook {command.runbook_id} rev {attached.revision} has no step "
                    f"{command.step_id!r} (steps: {', '.join(attached.steps)})",
                )
            current = state.steps.get((command.runbook_id, command.step_id), StepState()).status
            if command.status not in _NEXT[current]:
                if command.status == current:
                    return []  # marked so already: a retry records nothing
                raise PreconditionFailedError(
                    f"step {command.step_id} is {current.value}; it cannot become "
                    f"{command.status.value}"
                )
            if command.mitigation is not None and command.status != StepStatus.DONE:
                raise InvalidCommandError("mitigation", "only a step marked done records one")
            return [
                StepMarked(
                    incident_id=state.incident_id,
                    runbook_id=command.runbook_id,
                    revision=attached.revision,
                    step_id=command.step_id,
                    status=command.status,
                    note=command.note,
                    mitigation=command.mitigation,
                    marked_by=command.by,
                    marked_at=command.at,
                )
            ]


def evolve(state: IncidentRunbooks, event: DomainEvent) -> IncidentRunbooks:
    match event:
        case RunbooksAttached():
            return replace(
                state,
                incident_id=event.incident_id,
                number=event.number if event.number is not None else state.number,
                severity=event.severity,
                services=event.services,
                labels=dict(event.labels),
                runbooks=tuple(
                    sorted(
                        (*state.runbooks, *event.runbooks),
                        key=lambda r: (-r.specificity, r.runbook_id),
                    )
                ),
                external_links=(*state.external_links, *event.external_links),
            )
        case StepMarked():
            steps = dict(state.steps)
            steps[(event.runbook_id, event.step_id)] = StepState(
                event.status, event.note, event.marked_by, event.marked_at
            )
            return replace(state, steps=steps)
    return state
