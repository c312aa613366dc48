"""An incident's communications: its war room, its stakeholder channel and its updates.

Owns where an incident's channels open (`ChannelRouting`, deployment configuration),
tracking an incident (opening its channels and making the first promise) and recording
its changes for the war room, assigning its communications lead, finding an incident
by its reference, rendering stakeholder updates through the templates (with the
message checks of `checks.py` as advice) and posting them with their next promise,
and the report of promises kept and missed. A posted update is then mirrored to the
linked status-page incidents and queued for delivery by the other parts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appkit import CommandResult
from comms_service import room as rm
from comms_service import templates as tpl
from comms_service.cadence import CadencePolicy
from comms_service.checks import check_update
from comms_service.common import MAX_BODY, Severity, build, derived_id
from comms_service.outbox import Outbox
from comms_service.runtime import Runtime
from comms_service.scheduler import Scheduler
from comms_service.views import View
from contracts.domain import InvalidCommandError, NotFoundError


@dataclass(frozen=True, slots=True)
class ChannelRouting:
    """Where each incident's channels open (deployment configuration), per service."""

    war_room: tuple[rm.DestinationSpec, ...] = ()
    stakeholder: tuple[rm.DestinationSpec, ...] = ()
    per_service: Mapping[
        str, tuple[tuple[rm.DestinationSpec, ...], tuple[rm.DestinationSpec, ...]]
    ] = field(default_factory=dict)
    min_severity: Severity = Severity.P4
    """Open channels for this severity and more severe (P4: every incident)."""
    per_service_min: Mapping[str, Severity] = field(default_factory=dict)
    """The same threshold for a service (its incidents' first listed service)."""

    def for_service(
        self, services: Sequence[str]
    ) -> tuple[tuple[rm.DestinationSpec, ...], tuple[rm.DestinationSpec, ...], str | None]:
        for service in services:
            if service in self.per_service:
                war, stake = self.per_service[service]
                return war, stake, service
        return self.war_room, self.stakeholder, (services[0] if services else None)

    def opens(self, severity: Severity, service: str | None = None) -> bool:
        threshold = self.per_service_min.get(service or "", self.min_severity)
        return int(severity.value[1]) <= int(threshold.value[1])


@dataclass(frozen=True, slots=True)
class Preview:
    body: str
    next_update_by: datetime | None
    warnings: tuple[str, ...] = ()
    """Message checks (checks.py): advice, never a refusal."""


class Rooms:
    def __init__(
        self,
        runtime: Runtime,
        scheduler: Scheduler,
        outbox: Outbox,
        *,
        cadence: CadencePolicy,
        routing: ChannelRouting,
        templates: Mapping[str, str] | None = None,
    ) -> None:
        self.runtime = runtime
        self.scheduler = scheduler
        self.outbox = outbox
        self.cadence = cadence
        self.routing = routing
        self.templates: dict[str, str] = {a.value: t for a, t in tpl.DEFAULT_TEMPLATES.items()}
        for name, source in (templates or {}).items():
            tpl.check(source, field=f"templates.{name}")
            self.templates[name] = source

    def room(self, incident_id: uuid.UUID) -> rm.Room:
        state, _ = self.runtime.model.state(rm.stream_for(incident_id))
        if not state.tracked:
            raise NotFoundError(f"incident {incident_id} has no communications here")
        return state  # type: ignore[no-any-return]

    def tracked(self, incident_id: uuid.UUID) -> bool:
        state, _ = self.runtime.model.state(rm.stream_for(incident_id))
        return bool(state.tracked)

    def find_incident(self, reference: str) -> uuid.UUID:
        """An incident by its reference ("INC-1") or id."""
        text = reference.strip()
        for _, state in self.runtime.model.streams(rm.STREAM_CATEGORY):
            if state.reference.lower() == text.lower() or str(state.incident_id) == text:
                return state.incident_id  # type: ignore[no-any-return]
        raise InvalidCommandError(
            "incident", f"no incident {reference!r} is known to communications"
        )

    # ------------------------------------------------------------------ incidents

    def track_incident(
        self,
        incident_id: uuid.UUID,
        *,
        number: int | None,
        title: str,
        severity: str,
        services: Sequence[str] = (),
        commander: str | None = None,
        causation_id: str | None = None,
    ) -> CommandResult[Any] | None:
        """IncidentDeclared: open the war room and the stakeholder channel (if the
        severity calls for them) and make the first promise."""
        try:
            level = Severity(severity)
        except ValueError:
            raise InvalidCommandError("severity", "one of P1, P2, P3, P4") from None
        war, stake, service = self.routing.for_service(services)
        if not self.routing.opens(level, service):
            return None
        command = build(
            rm.TrackIncident,
            at=self.runtime.clock(),
            incident_id=incident_id,
            reference=f"INC-{number}" if number else f"incident {str(incident_id)[:8]}",
            title=title[:500],
            severity=severity,
            service=service,
            commander=commander,
            war_room=war,
            stakeholder=stake,
        )
        return self.runtime.run(
            rm.STREAM_CATEGORY,
            rm.stream_for(incident_id),
            command,
            actor="comms-worker",
            key=f"tracked/{causation_id or incident_id}",
            causation_id=causation_id,
        )

    def record_change(
        self,
        incident_id: uuid.UUID,
        change: str,
        text: str,
        *,
        cause: str,
        severity: str | None = None,
        status: str | None = None,
        commander: str | None = None,
    ) -> CommandResult[Any] | None:
        """An incident change for the war room; ignored for incidents not tracked here."""
        state, _ = self.runtime.model.state(rm.stream_for(incident_id))
        if not state.tracked:
            return None
        command = build(
            rm.RecordChange,
            at=self.runtime.clock(),
            message_id=derived_id("war-room", cause),
            change=change,
            text=text[:2000],
            severity=severity,
            status=status,
            commander=commander,
        )
        return self.runtime.run(
            rm.STREAM_CATEGORY,
            rm.stream_for(incident_id),
            command,
            actor="comms-worker",
            key=f"change/{cause}",
            causation_id=cause,
        )

    def assign_comms_lead(self, incident: str, comms_lead: str, *, by: str) -> CommandResult[Any]:
        incident_id = self.find_incident(incident)
        command = build(
            rm.AssignCommsLead, at=self.runtime.clock(), comms_lead=comms_lead, assigned_by=by
        )
        return self.runtime.run(rm.STREAM_CATEGORY, rm.stream_for(incident_id), command, actor=by)

    # ------------------------------------------------------------------ updates

    def preview_update(
        self,
        incident: str,
        *,
        audience: str,
        message: str,
        status: str = "investigating",
        template: str | None = None,
    ) -> Preview:
        incident_id = self.find_incident(incident)
        state = self.room(incident_id)
        preview = self._render(state, audience, message, status, template, self.runtime.clock())
        view = View(self.runtime.model, public=False, now=self.runtime.clock())
        statuses = [view.component_status(c).value for c in self.runtime.page().components]
        warnings = check_update(
            preview.body, audience=audience, status=status, component_statuses=statuses
        )
        return Preview(preview.body, preview.next_update_by, tuple(warnings))

    def _render(
        self,
        state: rm.Room,
        audience: str,
        message: str,
        status: str,
        template: str | None,
        at: datetime,
    ) -> Preview:
        try:
            chosen = tpl.Audience(audience)
        except ValueError:
            raise InvalidCommandError("audience", "one of internal, executive, public") from None
        try:
            rm.UpdateStatus(status)
        except ValueError:
            raise InvalidCommandError(
                "status", "one of investigating, identified, monitoring, resolved"
            ) from None
        if not message.strip():
            raise InvalidCommandError("message", "an update says something")
        if len(message) > MAX_BODY:
            raise InvalidCommandError("message", f"at most {MAX_BODY} characters")
        source = (
            self.templates[chosen.value]
            if template is None
            else self.templates.get(template, template)
        )
        next_due = None
        if status != rm.UpdateStatus.RESOLVED and state.severity is not None:
            next_due = self.cadence.next_due(state.severity, at, state.service)
        body = tpl.render(
            source,
            {
                "reference": state.reference,
                "title": state.title,
                "severity": state.severity.value if state.severity else "",
                "status": status,
                "commander": state.commander,
                "comms_lead": state.comms_lead,
                "message": message.strip(),
                "next_update_by": tpl.due_text(next_due, at) if next_due else "",
            },
            field="template",
        )
        return Preview(body, next_due)

    def post_update(
        self,
        incident: str,
        *,
        audience: str,
        message: str,
        posted_by: str,
        status: str = "investigating",
        template: str | None = None,
        privileged: bool = False,
        entered_by: str | None = None,
        key: str | None = None,
    ) -> CommandResult[Any]:
        """A stakeholder update: rendered, recorded with its promise, then delivered
        to every stakeholder destination exactly once (by the scheduler).

        `posted_by` is the author; `entered_by` an admin posting on their behalf (the
        events' actor then). Who may be either is the API's check (api.PostUpdate)."""
        incident_id = self.find_incident(incident)
        state = self.room(incident_id)
        at = self.runtime.clock()
        preview = self._render(state, audience, message, status, template, at)
        command = build(
            rm.PostUpdate,
            at=at,
            update_id=derived_id("update", incident_id, key) if key else uuid.uuid4(),
            audience=audience,
            status=status,
            body=preview.body,
            template=template or audience,
            posted_by=posted_by,
            privileged=privileged,
            entered_by=entered_by,
        )
        result = self.runtime.run(
            rm.STREAM_CATEGORY,
            rm.stream_for(incident_id),
            command,
            actor=entered_by or posted_by,
            key=key,
        )
        self.scheduler.mirror_public_updates()
        self.outbox.queue_requested()
        return result

    def report(self) -> dict[str, Any]:
        """Promises kept and missed, per incident and per severity."""
        per_incident: dict[str, dict[str, int]] = {}
        per_severity: dict[str, dict[str, int]] = {}
        for record in self.runtime.model.ix.promises.values():
            if record.outcome not in ("kept", "missed", "open"):
                continue
            for bucket, name in ((per_incident, record.reference), (per_severity, record.severity)):
                counts = bucket.setdefault(name, {"kept": 0, "missed": 0, "open": 0})
                counts[record.outcome] += 1
        return {"incidents": per_incident, "severities": per_severity}
