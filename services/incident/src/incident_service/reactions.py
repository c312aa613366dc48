"""How the incident service reacts to detection's alert-group events.

Owns the consumer-side reading of detection's published contract (a tolerant reader:
unknown fields are ignored, the fields below are required) and the policy that turns
those events into incident commands:

    AlertGroupFiring        -> declare one incident per group (idempotently)
    AlertGroupAlertAdded    -> attach the alert to the group's incident timeline
    AlertGroupResolved      -> record that the source alerts resolved
    AlertGroupAcknowledged  -> record the acknowledgement at the source

Every command carries the input event's id as its idempotency key, so a redelivered
event finds its own output already in the log and appends nothing. An event about a
group whose incident is not declared yet (delivered out of order) raises NotFoundError,
and the reliable handler retries it later.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from contracts.domain import InvalidCommandError
from eventlog import RecordedEvent
from incident_service import domain_commands
from incident_service.app import CommandResult, IncidentApplication
from incident_service.domain_commands import Severity

SOURCE_SERVICE = "detection"
ACTOR = "detection"
EVENT_TYPES = (
    "AlertGroupFiring",
    "AlertGroupAlertAdded",
    "AlertGroupResolved",
    "AlertGroupAcknowledged",
)

_SERVICE_CHARS = re.compile(r"[^a-z0-9._-]+")


class _Inbound(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AlertGroupFiring(_Inbound):
    group_id: str
    group_key: str
    title: str
    labels: dict[str, str] = {}
    incident_severity: Severity
    services: list[str] = []
    alert_key: str
    summary: str
    fired_at: datetime


class AlertGroupAlertAdded(_Inbound):
    group_id: str
    alert_key: str
    summary: str
    labels: dict[str, str] = {}
    severity: str | None = None


class AlertGroupResolved(_Inbound):
    group_id: str
    resolved_at: datetime


class AlertGroupAcknowledged(_Inbound):
    group_id: str
    alert_key: str
    acknowledged_by: str
    acknowledged_at: datetime


def group_key(group_id: str) -> str:
    """The idempotency key of the declaration for an alert group."""
    return f"alertgroup:{group_id}"


def service_name(raw: str) -> str:
    # Label values are free text; incident service names are lowercase slugs.
    return _SERVICE_CHARS.sub("-", raw.strip().lower()).strip("-._")[:63] or "unknown"


class AlertReactions:
    def __init__(self, app: IncidentApplication) -> None:
        self.app = app

    def handle(self, event: RecordedEvent) -> CommandResult | None:
        """React to one detection event; None for event types this policy ignores."""
        try:
            if event.type == "AlertGroupFiring":
                return self._firing(event, AlertGroupFiring.model_validate(event.data))
            if event.type == "AlertGroupAlertAdded":
                added = AlertGroupAlertAdded.model_validate(event.data)
                return self._execute(
                    event,
                    added.group_id,
                    domain_commands.AttachAlert,
                    alert_key=added.alert_key,
                    summary=added.summary[:200],
                    labels=added.labels,
                    source_severity=added.severity,
                )
            if event.type == "AlertGroupResolved":
                resolved = AlertGroupResolved.model_validate(event.data)
                return self._execute(
                    event,
                    resolved.group_id,
                    domain_commands.RecordSourceResolved,
                    group_id=resolved.group_id,
                )
            if event.type == "AlertGroupAcknowledged":
                acked = AlertGroupAcknowledged.model_validate(event.data)
                return self._execute(
                    event,
                    acked.group_id,
                    domain_commands.RecordSourceAcknowledged,
                    alert_key=acked.alert_key,
                    acknowledged_by=acked.acknowledged_by[:100],
                )
        except ValidationError as error:
            raise InvalidCommandError.from_validation(error) from None
        return None

    def _firing(self, event: RecordedEvent, firing: AlertGroupFiring) -> CommandResult:
        services = list(dict.fromkeys(service_name(s) for s in firing.services)) or [
            service_name(firing.labels.get("service", "unknown"))
        ]
        return self.app.declare(
            title=(firing.title or firing.summary)[:200],
            severity=firing.incident_severity.value,
            services=services,
            source_alerts=[firing.alert_key],
            declared_by=ACTOR,
            idempotency_key=group_key(firing.group_id),
            causation_id=str(event.id),
        )

    def _execute(
        self,
        event: RecordedEvent,
        group: str,
        command: type[domain_commands.Command],
        **fields: object,
    ) -> CommandResult:
        incident_id: uuid.UUID = IncidentApplication.incident_id_for_key(group_key(group))
        return self.app.execute(
            incident_id,
            command,
            actor=ACTOR,
            idempotency_key=str(event.id),
            causation_id=str(event.id),
            **fields,
        )
