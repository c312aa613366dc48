"""Which resolved incidents get a postmortem, and what it copies from the incident.

Owns the `OpeningPolicy` (per severity, overridable per service: required, optional or
none) and `incident_facts`, a tolerant fold of the incident service's published events
(its contract) into the `IncidentFacts` a postmortem opens with.

Pure: no I/O, no clock; the application reads the incident's stream and passes it in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventlog import RecordedEvent

INCIDENT_CATEGORY = "incident"


class Requirement:
    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"


DEFAULT_REQUIREMENTS: dict[str, str] = {
    "P1": Requirement.REQUIRED,
    "P2": Requirement.REQUIRED,
    "P3": Requirement.OPTIONAL,
    "P4": Requirement.OPTIONAL,
}


@dataclass(frozen=True, slots=True)
class OpeningPolicy:
    """Which resolved incidents get a postmortem: per severity, overridable per service.
    "required" opens one with a due date; "optional" opens one that may stay a draft;
    "none" opens none."""

    default: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_REQUIREMENTS))
    services: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def requirement(self, severity: str, services: Sequence[str]) -> str:
        for service in services:
            rule = self.services.get(service, {}).get(severity)
            if rule is not None:
                return rule
        return self.default.get(severity, Requirement.OPTIONAL)


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """What the postmortem copies from the incident's own stream when it opens."""

    number: int
    title: str
    severity: str
    services: tuple[str, ...]
    commander: str | None
    declared_by: str
    declared_at: datetime | None
    resolved_at: datetime | None
    temporary_mitigations: tuple[str, ...]


def incident_facts(events: Iterable[RecordedEvent]) -> IncidentFacts:
    """A tolerant fold of the incident service's published events (its contract)."""
    facts: dict[str, Any] = {
        "number": 0,
        "title": "",
        "severity": "P4",
        "services": (),
        "commander": None,
        "declared_by": "",
        "declared_at": None,
        "resolved_at": None,
        "temporary_mitigations": (),
    }
    mitigations: list[str] = []
    for event in events:
        d = event.data
        if event.type == "IncidentDeclared":
            facts.update(
                number=int(d.get("number", 0)),
                title=str(d.get("title", "")),
                severity=str(d.get("severity", "P4")),
                services=tuple(d.get("services") or ()),
                declared_by=str(d.get("declared_by", "")),
                declared_at=datetime.fromisoformat(d["declared_at"])
                if "declared_at" in d
                else None,
            )
        elif event.type == "SeverityChanged":
            facts["severity"] = str(d.get("to_severity", facts["severity"]))
        elif event.type == "CommanderAssigned":
            facts["commander"] = d.get("commander")
        elif event.type == "MitigationApplied" and d.get("temporary"):
            mitigations.append(f"{d.get('kind')}: {d.get('description', '')}")
        elif event.type == "IncidentResolved" and "resolved_at" in d:
            facts["resolved_at"] = datetime.fromisoformat(d["resolved_at"])
    facts["temporary_mitigations"] = tuple(mitigations)
    return IncidentFacts(**facts)
