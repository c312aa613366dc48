"""Read models of the incident service, rebuilt from the log and kept live.

Owns the incident list (for List queries with filters and paging) and the
correlation index (which log positions carry an incident's id, from any service) that
the timeline reads. Both are pure folds over recorded events (`apply`), so dropping
them and replaying the log rebuilds them exactly; the kit's `ProjectionRunner` feeds
them from the log when a query needs them (`ProjectionRunner(store, IncidentReadModel)`).
It never reads the store or a clock while applying.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from contracts.domain import InvalidCommandError
from eventlog import EventFilter, EventStore, RecordedEvent
from incident_service import domain
from incident_service.domain import EVENTS, Incident
from incident_service.domain_commands import Severity, Status

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class IncidentListFilter:
    statuses: frozenset[Status] = frozenset()
    severities: frozenset[Severity] = frozenset()
    service: str | None = None
    declared_after: datetime | None = None
    declared_before: datetime | None = None

    def matches(self, incident: Incident) -> bool:
        if self.statuses and incident.status not in self.statuses:
            return False
        if self.severities and incident.severity not in self.severities:
            return False
        if self.service and self.service not in incident.services:
            return False
        declared = incident.declared_at
        if self.declared_after and (declared is None or declared < self.declared_after):
            return False
        return not (self.declared_before and (declared is None or declared >= self.declared_before))


@dataclass(frozen=True, slots=True)
class Listed:
    incident: Incident
    version: int
    position: int
    paging_alert: str = ""
    """Why paging reached nobody (paging's EscalationExhausted), or empty."""


PAGING_EXHAUSTED = "EscalationExhausted"
"""Paging's published event for an escalation that reached nobody; read from the log
(any service may read any category) so the list can flag the incident."""


class IncidentReadModel:
    """Every incident's current state plus the correlation index. Thread-safe."""

    name = "incident.read-model"
    filter: EventFilter | None = None
    """Every event: the correlation index spans all services."""

    def __init__(self) -> None:
        self._incidents: dict[uuid.UUID, Listed] = {}
        self._correlated: dict[str, list[RecordedEvent]] = {}
        self._paging_alerts: dict[str, str] = {}
        self._lock = threading.Lock()

    def apply(self, event: RecordedEvent) -> None:
        with self._lock:
            correlation = event.metadata.correlation_id
            # The numbering stream is bookkeeping, not part of what happened.
            if correlation and event.category != "incidentnumber":
                self._correlated.setdefault(correlation, []).append(event)
            if correlation and event.type == PAGING_EXHAUSTED and event.category == "escalation":
                self._paging_alerts[correlation] = str(event.data.get("reason", "nobody reached"))
            if event.category == domain.STREAM_CATEGORY and event.type in EVENTS:
                incident_id = uuid.UUID(event.stream.split("-", 1)[1])
                previous = self._incidents.get(incident_id)
                state = domain.evolve(
                    previous.incident if previous else domain.INITIAL, EVENTS.from_recorded(event)
                )
                self._incidents[incident_id] = Listed(state, event.version, event.position)

    def correlated(self, incident_id: uuid.UUID) -> list[RecordedEvent]:
        """Every event, from any service, that carries the incident as correlation id.
        Kept whole (not as positions), so a timeline needs no read per event."""
        with self._lock:
            return list(self._correlated.get(str(incident_id), ()))

    def list(
        self, query: IncidentListFilter, *, page_size: int = 0, page_token: str = ""
    ) -> tuple[list[Listed], str]:
        """Newest first (by number). The page token is opaque to callers."""
        size = page_size or DEFAULT_PAGE_SIZE
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidCommandError("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
        before_number = _decode_token(page_token)
        with self._lock:
            candidates = [
                replace(item, paging_alert=self._paging_alerts.get(str(key), ""))
                for key, item in self._incidents.items()
            ]
        candidates.sort(key=lambda item: -item.incident.number)
        page: list[Listed] = []
        for item in candidates:
            if before_number is not None and item.incident.number >= before_number:
                continue
            if not query.matches(item.incident):
                continue
            if len(page) == size:
                return page, _encode_token(page[-1].incident.number)
            page.append(item)
        return page, ""


def _encode_token(number: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": number}).encode()).decode()


def _decode_token(token: str) -> int | None:
    if not token:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))["before"]
    except (ValueError, KeyError, TypeError):
        value = None
    if not isinstance(value, int) or value < 1:
        raise InvalidCommandError("page_token", "is not a token this server issued")
    return value


def timeline(
    store: EventStore,
    model: IncidentReadModel,
    incident_id: uuid.UUID,
    *,
    to_position: int | None = None,
    until: datetime | None = None,
) -> Sequence[RecordedEvent]:
    """The incident's authoritative timeline: its own events and every other service's
    events correlated to it, in log order, optionally as of a position or instant."""
    own = store.read_stream(domain.stream_for(incident_id), to_position=to_position, until=until)
    seen = {event.position for event in own}
    limit = to_position
    if until is not None:
        at_time = store.position_at(until)
        limit = at_time if limit is None else min(limit, at_time)
    others = [
        event
        for event in model.correlated(incident_id)
        if event.position not in seen and (limit is None or event.position <= limit)
    ]
    return sorted([*own, *others], key=lambda event: event.position)
