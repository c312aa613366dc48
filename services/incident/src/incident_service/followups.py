"""How the incident service reacts to the postmortem service's published events.

Owns the consumer-side reading of postmortem's contract (a tolerant reader) and one
policy: a published postmortem that `closes_root_cause_follow_up` closes the
incident's root-cause follow-up (RootCauseFollowUpClosed), so the incident stops
showing "root cause pending" once the cause is written down.

The command carries the input event's id as its idempotency key: a redelivered event
appends nothing, and a postmortem republished after an amendment finds nothing owed.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.domain import InvalidCommandError
from eventlog import RecordedEvent
from incident_service import domain_commands
from incident_service.app import CommandResult, IncidentApplication

SOURCE_SERVICE = "postmortem"
EVENT_TYPES = ("PostmortemPublished",)
POSTMORTEM_CATEGORY = "postmortem"
"""Postmortem's published layout: one `postmortem-<incident id>` stream per incident."""


class PostmortemPublished(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    published_by: str
    root_cause: str
    closes_root_cause_follow_up: bool


class FollowUpReactions:
    def __init__(self, app: IncidentApplication) -> None:
        self.app = app

    def handle(self, event: RecordedEvent) -> CommandResult | None:
        """React to one postmortem event; None for events this policy ignores."""
        if event.type != "PostmortemPublished" or event.category != POSTMORTEM_CATEGORY:
            return None
        try:
            published = PostmortemPublished.model_validate(event.data)
        except ValidationError as error:
            raise InvalidCommandError.from_validation(error) from None
        if not published.closes_root_cause_follow_up:
            return None
        try:
            incident_id = uuid.UUID(event.stream.split("-", 1)[1])
        except ValueError:
            raise InvalidCommandError(
                "stream", f"{event.stream!r} does not name an incident"
            ) from None
        return self.app.execute(
            incident_id,
            domain_commands.CloseRootCauseFollowUp,
            actor=published.published_by[:100] or SOURCE_SERVICE,
            idempotency_key=f"postmortem/{event.id}",
            causation_id=str(event.id),
            root_cause=published.root_cause[:5000],
            closed_by=published.published_by[:100] or SOURCE_SERVICE,
            postmortem=event.stream,
        )
