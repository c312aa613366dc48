"""Read models of the runbooks service, folded from the log by appkit's runner.

- `RunbooksModel`: every runbook, incident record and action ledger's state
  (AggregateStates, the command runner's ModelSource), plus the runs still active
  (what the worker must look at) and the runs per incident.
- `IncidentFacts`: the incident service's published incidents and detection's alerts,
  read tolerantly (services share contracts, not code): number, title, severity,
  services, commander and source alerts of each incident; labels and annotations
  (`runbook_url`) of each alert key.

Pure folds: no clock, no store, no network; dropping and replaying rebuilds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from appkit import AggregateStates, Decider
from eventlog import EventFilter, RecordedEvent
from runbooks_service import run as rn
from runbooks_service.common import EVENTS

INCIDENT_CATEGORY = "incident"
ALERT_CATEGORY = "alert"


class RunbooksModel(AggregateStates):
    def __init__(self, deciders: Iterable[Decider[Any, Any]]) -> None:
        super().__init__("runbooks.model", EVENTS, deciders)
        self.active: dict[uuid.UUID, str] = {}
        """Run id -> its ledger stream, for runs the worker may have to act on."""
        self.runs_by_incident: dict[uuid.UUID, list[tuple[str, uuid.UUID]]] = {}
        self.refusals_by_incident: dict[uuid.UUID, list[dict[str, Any]]] = {}

    def apply(self, event: RecordedEvent) -> None:
        super().apply(event)
        if event.category != rn.STREAM_CATEGORY or event.type not in EVENTS:
            return
        run_id = uuid.UUID(str(event.data["run_id"]))
        if event.type == "ActionRunRefused":
            incident = uuid.UUID(str(event.data["incident_id"]))
            self.refusals_by_incident.setdefault(incident, []).append(dict(event.data))
            return
        ledger: rn.Ledger = self.state(event.stream)[0]
        run = ledger.runs.get(run_id)
        if run is None:
            return
        if event.type == "ActionRunRequested":
            self.runs_by_incident.setdefault(run.incident_id, []).append((event.stream, run_id))
        if run.status in rn.ACTIVE and run.status != rn.RunStatus.AWAITING_APPROVAL:
            self.active[run_id] = event.stream
        else:
            self.active.pop(run_id, None)

    def run(self, stream: str, run_id: uuid.UUID) -> rn.Run | None:
        ledger: rn.Ledger = self.state(stream)[0]
        return ledger.runs.get(run_id)

    def runs_of(self, incident_id: uuid.UUID) -> list[rn.Run]:
        found = (self.run(s, r) for s, r in self.runs_by_incident.get(incident_id, []))
        return [r for r in found if r is not None]


@dataclass
class Incident:
    incident_id: uuid.UUID
    number: int | None = None
    title: str = ""
    severity: str = "P4"
    services: tuple[str, ...] = ()
    commander: str | None = None
    source_alerts: tuple[str, ...] = ()

    @property
    def reference(self) -> str:
        return f"INC-{self.number}" if self.number else str(self.incident_id)


@dataclass
class Alert:
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


class IncidentFacts:
    name = "runbooks.incident-facts"
    filter: EventFilter | None = EventFilter.of(
        categories=[INCIDENT_CATEGORY, ALERT_CATEGORY],
        event_types=[
            "IncidentDeclared",
            "CommanderAssigned",
            "SeverityChanged",
            "AlertTriggered",
        ],
    )

    def __init__(self) -> None:
        self.incidents: dict[uuid.UUID, Incident] = {}
        self.by_number: dict[int, uuid.UUID] = {}
        self.alerts: dict[str, Alert] = {}

    def apply(self, event: RecordedEvent) -> None:
        data: dict[str, Any] = dict(event.data)
        if event.category == ALERT_CATEGORY:
            key = data.get("alert_key")
            if isinstance(key, str):
                self.alerts[key] = Alert(
                    _strings(data.get("labels")), _strings(data.get("annotations"))
                )
            return
        try:
            incident_id = uuid.UUID(event.stream.partition("-")[2])
        except ValueError:
            return
        if event.type == "IncidentDeclared":
            number = data.get("number")
            incident = Incident(
                incident_id,
                number if isinstance(number, int) else None,
                str(data.get("title", "")),
                str(data.get("severity", "P4")),
                tuple(str(s) for s in data.get("services") or ()),
                None,
                tuple(str(a) for a in data.get("source_alerts") or ()),
            )
            self.incidents[incident_id] = incident
            if incident.number:
                self.by_number[incident.number] = incident_id
            return
        known = self.incidents.get(incident_id)
        if known is None:
            return
        if event.type == "CommanderAssigned":
            known.commander = str(data.get("commander") or "") or None
        elif event.type == "SeverityChanged":
            known.severity = str(data.get("to_severity", known.severity))


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}
