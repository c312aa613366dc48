"""How the incident service reacts to the runbooks service's published events.

Owns the consumer-side reading of runbooks' contract (a tolerant reader) and one
policy: a runbook step marked done with a mitigation records that mitigation on the
incident (MitigationApplied, kind `runbook_step`), so a responder records both in one
action and the incident's metrics (time to mitigate) see it.

The command carries the input event's id as its idempotency key: a redelivered event
appends nothing. A step marked after the incident was resolved records nothing here
(the step, with its mitigation, stays in the timeline).
"""

from __future__ import annotations

import logging
import uuid

from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.domain import InvalidCommandError, PreconditionFailedError
from eventlog import RecordedEvent
from incident_service import domain_commands
from incident_service.app import CommandResult, IncidentApplication

log = logging.getLogger(__name__)

SOURCE_SERVICE = "runbooks"
EVENT_TYPES = ("StepMarked",)


class _Mitigation(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    description: str
    temporary: bool


class StepMarked(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    incident_id: uuid.UUID
    runbook_id: str
    step_id: str
    marked_by: str
    mitigation: _Mitigation | None = None


class RunbookStepReactions:
    def __init__(self, app: IncidentApplication) -> None:
        self.app = app

    def handle(self, event: RecordedEvent) -> CommandResult | None:
        """React to one runbooks event; None for events this policy ignores."""
        if event.type != "StepMarked":
            return None
        try:
            marked = StepMarked.model_validate(event.data)
        except ValidationError as error:
            raise InvalidCommandError.from_validation(error) from None
        if marked.mitigation is None:
            return None
        try:
            return self.app.execute(
                marked.incident_id,
                domain_commands.RecordMitigation,
                actor=marked.marked_by[:100] or SOURCE_SERVICE,
                idempotency_key=f"runbooks/{event.id}",
                causation_id=str(event.id),
                kind=domain_commands.MitigationKind.RUNBOOK_STEP,
                description=(
                    f"{marked.mitigation.description} "
                    f"(runbook {marked.runbook_id}, step {marked.step_id})"
                )[:10_000],
                temporary=marked.mitigation.temporary,
                applied_by=marked.marked_by[:100] or SOURCE_SERVICE,
            )
        except PreconditionFailedError as error:
            log.warning("incident: runbook step mitigation not recorded: %s", error)
            return None
