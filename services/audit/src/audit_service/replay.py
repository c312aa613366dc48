"""As-of replay, diffs and incident timelines over the one logical log.

Owns how the audit service turns a stream's events (cut at an instant or position)
into a state an auditor reads. Incidents are folded with the incident service's own
`evolve` and rendered as its public API's `Incident` message, so a replay shows exactly
what `GetIncident` answered at that instant. Every other category is rendered by the
renderer its owning service registers (appkit.rendering, the `firewatch.renderers`
entry points): the owner's own message builders over its streams cut at the same
point. A category no service renders is shown as a generic fold: every field any event
of the stream set, the latest value winning, with the events themselves beside it.
Each replay names the renderer used. It never appends and never imports a service's
private code.
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

from appkit.rendering import AsOfLog, RendererRegistry, installed_renderers
from contracts.domain import InvalidCommandError, NotFoundError
from contracts.events import EventLoadError, UnknownEventTypeError
from eventlog import EventStore, RecordedEvent, category_of
from eventlog.clock import Clock, system_clock
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
    renderer: str
    """What rendered `state`: the owner's `module:function`, or GENERIC (followed by the
    reason when the owner's renderer could not read the stream's events)."""


GENERIC = "generic"
"""The renderer name of the generic field fold (no owner renders the category)."""
INCIDENT_RENDERER = "incident_service.api:to_incident"


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


def replay(
    store: EventStore,
    target: str,
    as_of: AsOf,
    *,
    use_cache: bool = True,
    clock: Clock = system_clock,
) -> Replayed:
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
    state, renderer = render_state(
        stream, events, log_as_of(store, as_of, clock), SNAPSHOTS if use_cache else None
    )
    return Replayed(
        stream,
        category_of(stream),
        state,
        events[-1].version,
        events[-1].position,
        events,
        renderer,
    )


def log_as_of(store: EventStore, as_of: AsOf, clock: Clock = system_clock) -> AsOfLog:
    """The log cut where `as_of` says, and the instant that cut stands for: the time
    asked for; for a position, when the event at that position was recorded (the log
    stood so from then until the next append); with both, the earlier; now for now."""
    instants = [as_of.time] if as_of.time is not None else []
    if as_of.position is not None:
        written = next(
            iter(store.read_all(from_position=as_of.position, to_position=as_of.position)), None
        )
        if written is None:  # a gap in positions: the last event before it
            before = list(store.read_all(to_position=as_of.position))
            written = before[-1] if before else None
        if written is not None:
            instants.append(written.recorded_at)
    at = min(instants) if instants else clock()
    return AsOfLog(store, at, to_position=as_of.position, until=as_of.time)


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
        # Fold the run up to each snapshot point at once (one draft per run, not a copy
        # per event); `fold` never changes the state it is given, so a kept snapshot
        # stays as it was.
        while start < len(events):
            end = min(len(events), (start // SNAPSHOT_EVERY + 1) * SNAPSHOT_EVERY)
            state = fold_incident(events[start:end], state)
            if end % SNAPSHOT_EVERY == 0 and end - 1 not in known:
                with self._lock:
                    known[end - 1] = (events[end - 1].hash, state)
            start = end
        return state


def fold_incident(events: Sequence[RecordedEvent], state: Any = incident_domain.INITIAL) -> Any:
    """The incident as its recorded events describe it, from `state` (the domain's own
    fold, over the contracts' bulk decoding: docs/adr/0030)."""
    return incident_domain.fold(incident_domain.EVENTS.decode_all(events), state)


SNAPSHOTS = SnapshotCache()


_REGISTRY: RendererRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def renderers() -> RendererRegistry:
    """The installed services' renderers, loaded once (a duplicate category is an
    error naming both owners, raised here)."""
    global _REGISTRY  # noqa: PLW0603 - a process-wide cache of installed entry points
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            _REGISTRY = installed_renderers()
        return _REGISTRY


def render_state(
    stream: str,
    events: Sequence[RecordedEvent],
    log: AsOfLog,
    cache: SnapshotCache | None = None,
    registry: RendererRegistry | None = None,
) -> tuple[dict[str, Any], str]:
    """The state as the owner's live API showed it, and which renderer produced it."""
    category = category_of(stream)
    if category == incident_domain.STREAM_CATEGORY:
        # Built in, with a snapshot cache: incidents are the long streams auditors
        # replay at many instants (ADR 0014, performance).
        state = fold_incident(events) if cache is None else cache.fold(stream, events)
        message = to_incident(state, events[-1].version, events[-1].position)
        return dict(MessageToDict(message, preserving_proto_field_name=True)), INCIDENT_RENDERER
    registered = (registry or renderers()).get(category)
    if registered is None:
        return generic_state(events), GENERIC
    try:
        rendered = registered.render(stream, events, log)
    except (EventLoadError, UnknownEventTypeError) as error:
        # An event the owner's contracts cannot read (forged, or newer than this code):
        # the auditor still gets the stream, with the reason its owner could not show it.
        return generic_state(events), f"{GENERIC} ({registered.name} could not read it: {error})"
    if rendered is None:
        return generic_state(events), GENERIC
    return dict(MessageToDict(rendered, preserving_proto_field_name=True)), registered.name


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


def diff(
    store: EventStore, stream: str, start: AsOf, end: AsOf, *, clock: Clock = system_clock
) -> Diff:
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
    old = flatten(render_state(target, before, log_as_of(store, start, clock))[0]) if before else {}
    new = (
        flatten(render_state(target, everything, log_as_of(store, end, clock))[0])
        if everything
        else {}
    )
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
