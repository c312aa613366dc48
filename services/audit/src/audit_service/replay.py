"""As-of replay, diffs and incident timelines over the one logical log.

Owns how the audit service turns a stream's events (cut at an instant or position)
into a state an auditor reads. Incidents are folded with the incident service's own
`evolve` and rendered as its public API's `Incident` message, so a replay shows exactly
what `GetIncident` answered at that instant. Other streams are shown as a generic fold:
every field any event of the stream set, the latest value winning, with the events
themselves beside it. It never appends and never reads a service's private projections.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf.json_format import MessageToDict

from contracts.domain import InvalidCommandError, NotFoundError
from eventlog import EventStore, RecordedEvent, category_of
from eventlog.clock import system_clock
from eventlog.validation import validate_stream_name
from incident_service import domain as incident_domain
from incident_service.api import to_incident
from incident_service.app import IncidentApplication


@dataclass(frozen=True)
class AsOf:
    """A point in the log: a position, an instant, both (the earlier wins) or now."""

    position: int | None = None
    time: datetime | None = None

    @property
    def is_now(self) -> bool:
        return self.position is None and self.time is None


@dataclass(frozen=True)
class Replayed:
    stream: str
    kind: str
    state: Mapping[str, Any]
    version: int
    position: int
    events: Sequence[RecordedEvent]


def generic_state(events: Iterable[RecordedEvent]) -> dict[str, Any]:
    """Every top-level field any event set, the latest value winning."""
    fields: dict[str, Any] = {}
    last_type = None
    for event in events:
        fields.update(event.data)
        last_type = event.type
    return {"fields": fields, "last_event_type": last_type}


def is_incident_reference(target: str) -> bool:
    text = target.strip()
    if text.upper().startswith("INC-"):
        return True
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def incident_id_of(store: EventStore, reference: str) -> uuid.UUID:
    return IncidentApplication(store, system_clock).resolve_reference(reference)


def replay(store: EventStore, target: str, as_of: AsOf, *, use_cache: bool = True) -> Replayed:
    """`target` is an incident reference (INC-42 or its uuid) or any stream name."""
    if not target.strip():
        raise InvalidCommandError("target", "is required: a stream name or INC-N")
    if is_incident_reference(target):
        stream = incident_domain.stream_for(incident_id_of(store, target))
    else:
        try:
            stream = validate_stream_name(target)
        except Exception as error:  # noqa: BLE001 - re-raised naming our field
            raise InvalidCommandError("target", str(error)) from None
    events = store.read_stream(stream, to_position=as_of.position, until=as_of.time)
    if not events:
        when = "" if as_of.is_now else " at that point"
        raise NotFoundError(f"{target} did not exist{when}")
    return Replayed(
        stream,
        category_of(stream),
        render_state(stream, events, SNAPSHOTS if use_cache else None),
        events[-1].version,
        events[-1].position,
        events,
    )


SNAPSHOT_EVERY = 500
"""Keep a folded incident state every this many events (see SnapshotCache)."""


class SnapshotCache:
    """Folded incident states at every SNAPSHOT_EVERY-th event, keyed by the hash of the
    last event folded into them. Events are immutable and hash-chained, so a snapshot
    is reused only when the stored event at its version still has that exact hash: an
    edited or rewritten log never serves a stale state. Bounded (least recently used
    streams are dropped)."""

    def __init__(self, max_streams: int = 256) -> None:
        self._by_stream: dict[str, dict[int, tuple[str, Any]]] = {}
        self._max = max_streams
        self._lock = threading.Lock()

    def fold(self, stream: str, events: Sequence[RecordedEvent]) -> Any:
        with self._lock:
            known = self._by_stream.pop(stream, {})
            self._by_stream[stream] = known  # most recently used last
            while len(self._by_stream) > self._max:
                self._by_stream.pop(next(iter(self._by_stream)))
        start, state = 0, incident_domain.INITIAL
        for version in sorted(known, reverse=True):
            digest, snapshot = known[version]
            if version < len(events) and events[version].hash == digest:
                start, state = version + 1, snapshot
                break
        for index in range(start, len(events)):
            state = _evolve_incident(state, events[index])
            if (index + 1) % SNAPSHOT_EVERY == 0 and index not in known:
                with self._lock:
                    known[index] = (events[index].hash, state)
        return state


def _evolve_incident(state: Any, event: RecordedEvent) -> Any:
    return incident_domain.evolve(state, incident_domain.EVENTS.from_recorded(event))


def fold_incident(events: Sequence[RecordedEvent]) -> Any:
    """incident_domain.fold over recorded events."""
    state = incident_domain.INITIAL
    for event in events:
        state = _evolve_incident(state, event)
    return state


SNAPSHOTS = SnapshotCache()


def render_state(
    stream: str, events: Sequence[RecordedEvent], cache: SnapshotCache | None = None
) -> dict[str, Any]:
    if category_of(stream) == incident_domain.STREAM_CATEGORY:
        state = fold_incident(events) if cache is None else cache.fold(stream, events)
        message = to_incident(state, events[-1].version, events[-1].position)
        return dict(MessageToDict(message, preserving_proto_field_name=True))
    rendered = _render_with_owner(category_of(stream), events)
    return rendered if rendered is not None else generic_state(events)


def _render_with_owner(category: str, events: Sequence[RecordedEvent]) -> dict[str, Any] | None:
    """Paging's and detection's own fold and public-API message for their aggregates, so
    a replay shows what GetSchedule/GetPolicy/ListPages/GetAlert answered then. These
    renderers live in the owning services' API modules; if one is not importable (a
    service refactored it away), the generic fold is shown instead."""
    try:
        from detection_service import alert as detection_alert
        from detection_service.api_messages import to_alert
        from detection_service.registry import EVENTS as DETECTION_EVENTS
        from paging_service import api as paging_api
        from paging_service import escalation as esc
        from paging_service import page as pg
        from paging_service import policy as pol
        from paging_service import schedule as sch
        from paging_service.common import EVENTS as PAGING_EVENTS
    except ImportError:  # pragma: no cover - depends on other services' layout
        return None
    paging: dict[str, tuple[Any, Any]] = {
        "schedule": (sch.fold, paging_api._schedule),
        "policy": (pol.fold, paging_api._policy),
        "escalation": (esc.fold, paging_api._escalation),
        "page": (pg.fold, paging_api._page),
    }
    if category in paging:
        fold, render = paging[category]
        state = fold(PAGING_EVENTS.from_recorded(e) for e in events)
        message = render(state)
    elif category == "alert":
        state = detection_alert.fold(DETECTION_EVENTS.from_recorded(e) for e in events)
        message = to_alert(state)
    else:
        return None
    return dict(MessageToDict(message, preserving_proto_field_name=True))


@dataclass(frozen=True)
class Diff:
    stream: str
    events: Sequence[RecordedEvent]
    changes: Sequence[tuple[str, Any, Any]]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def diff(store: EventStore, stream: str, start: AsOf, end: AsOf) -> Diff:
    """The events of `stream` after `start` up to `end`, and the fields they changed."""
    target = validate_target_stream(store, stream)
    everything = store.read_stream(target, to_position=end.position, until=end.time)
    before = (
        []
        if start.position == 0
        else store.read_stream(target, to_position=start.position, until=start.time)
    )
    cut = len(before)
    if len(everything) < cut:
        raise InvalidCommandError("from", "is later than 'to'")
    old = flatten(render_state(target, before)) if before else {}
    new = flatten(render_state(target, everything)) if everything else {}
    changes = [
        (name, old.get(name), new.get(name))
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    ]
    return Diff(target, everything[cut:], changes)


def validate_target_stream(store: EventStore, target: str) -> str:
    if is_incident_reference(target):
        return incident_domain.stream_for(incident_id_of(store, target))
    try:
        return validate_stream_name(target)
    except Exception as error:  # noqa: BLE001 - re-raised naming our field
        raise InvalidCommandError("stream", str(error)) from None


def correlated_events(
    store: EventStore, incident_id: uuid.UUID, as_of: AsOf | None = None
) -> list[RecordedEvent]:
    """The incident's own stream and every event any service correlated with it."""
    key = str(incident_id)
    cut = as_of or AsOf()
    own = incident_domain.stream_for(incident_id)
    return [
        event
        for event in store.read_all(to_position=cut.position, until=cut.time)
        if event.stream == own
        or (event.metadata.correlation_id == key and event.category != "incidentnumber")
    ]


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
