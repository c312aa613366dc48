"""The runbook aggregate: every revision of one runbook (stream `runbook-<id>`).

A revision is the whole validated definition (definition.py); publishing the same
content again is a no-op, so a retried submission appends nothing. Every revision is
kept in the stream for ever; an incident records the revision it used. Retiring stops
new incidents from matching it; publishing again brings it back.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.domain import PreconditionFailedError
from contracts.events import DomainEvent
from runbooks_service.common import EVENTS, Command, Note, Person
from runbooks_service.definition import Definition

STREAM_CATEGORY = "runbook"


def stream_for(runbook_id: str) -> str:
    return f"{STREAM_CATEGORY}-{runbook_id}"


# ---------------------------------------------------------------------------- events


@EVENTS.register
class RunbookPublished(DomainEvent):
    """A new revision of a runbook (1 for the first)."""

    runbook_id: str
    revision: int
    definition: dict[str, Any]
    published_by: str
    published_at: datetime


@EVENTS.register
class RunbookRetired(DomainEvent):
    runbook_id: str
    reason: str
    retired_by: str
    retired_at: datetime


# -------------------------------------------------------------------------- commands


class PublishRunbook(Command):
    definition: Definition
    by: Person


class RetireRunbook(Command):
    reason: Note
    by: Person


RunbookCommand = PublishRunbook | RetireRunbook


# ----------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Runbook:
    runbook_id: str | None = None
    revisions: tuple[Definition, ...] = ()
    retired: bool = False

    @property
    def exists(self) -> bool:
        return self.runbook_id is not None

    @property
    def revision(self) -> int:
        return len(self.revisions)

    @property
    def current(self) -> Definition | None:
        return self.revisions[-1] if self.revisions else None

    def at(self, revision: int) -> Definition | None:
        return self.revisions[revision - 1] if 1 <= revision <= len(self.revisions) else None


INITIAL = Runbook()


def decide(command: RunbookCommand, state: Runbook) -> list[DomainEvent]:
    match command:
        case PublishRunbook():
            document = command.definition.document()
            current = state.current
            if current is not None and current.document() == document and not state.retired:
                return []  # the same content again: nothing new to keep
            return [
                RunbookPublished(
                    runbook_id=command.definition.id,
                    revision=state.revision + 1,
                    definition=document,
                    published_by=command.by,
                    published_at=command.at,
                )
            ]
        case RetireRunbook():
            if state.retired:
                return []
            if state.runbook_id is None:
                raise PreconditionFailedError("the runbook does not exist")
            return [
                RunbookRetired(
                    runbook_id=state.runbook_id,
                    reason=command.reason,
                    retired_by=command.by,
                    retired_at=command.at,
                )
            ]


def evolve(state: Runbook, event: DomainEvent) -> Runbook:
    match event:
        case RunbookPublished():
            return replace(
                state,
                runbook_id=event.runbook_id,
                revisions=(*state.revisions, Definition.model_validate(event.definition)),
                retired=False,
            )
        case RunbookRetired():
            return replace(state, retired=True)
    return state
