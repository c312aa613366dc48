"""The incident service's application layer: load, decide, append.

Owns the use cases every adapter (gRPC api, nameko worker, tests) calls: it turns raw
input into validated commands, rebuilds the aggregate from its stream, asks the pure
decider, and appends the result with the version it read. It knows the store port and
the clock, nothing about gRPC, nameko or RabbitMQ.

Retries and idempotency:
- a concurrency conflict reloads and decides again, a bounded number of times;
- a command carrying an idempotency key gets event ids derived from it (uuid5), so a
  retried command finds its own events already in the stream and returns the original
  result without appending anything.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts.domain import InvalidCommandError, NotFoundError
from contracts.events import DomainEvent
from eventlog import (
    ConcurrencyError,
    EventMetadata,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamState,
)
from eventlog.clock import Clock
from incident_service import domain
from incident_service.domain import (
    EVENTS,
    Command,
    DeclareIncident,
    Incident,
    IncidentCommand,
    IncidentNumberAllocated,
)

NUMBERS_STREAM = "incidentnumber-all"
"""One event per allocated number: the stream version + 1 is the incident number."""

ID_NAMESPACE = uuid.UUID("6f1c2b8e-3a5d-4e0f-9b7a-2d4c6e8f0a1b")
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class CommandResult:
    incident_id: uuid.UUID
    number: int
    version: int
    """The incident stream's version after the command (unchanged for a no-op)."""
    position: int
    """The log position of the command's last event (0 for a no-op)."""
    event_types: tuple[str, ...]
    replayed: bool = False
    """True when an idempotency key matched a command already applied."""
    state: Incident | None = field(default=None, compare=False, repr=False)
    """The incident after the command, when the application had it at hand."""

    @property
    def reference(self) -> str:
        return f"INC-{self.number}"


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident as rebuilt from its stream, with where in the log it was read."""

    state: Incident
    version: int
    position: int
    events: tuple[RecordedEvent, ...]


class IncidentApplication:
    def __init__(
        self, store: EventStore, clock: Clock, *, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts

    # ------------------------------------------------------------------ commands

    def declare(
        self,
        *,
        title: str,
        severity: str,
        services: Sequence[str],
        declared_by: str,
        source_alerts: Sequence[str] = (),
        idempotency_key: str | None = None,
        causation_id: str | None = None,
    ) -> CommandResult:
        """Declare a new incident; with a key, retrying returns the same incident."""
        incident_id = self.incident_id_for_key(idempotency_key) if idempotency_key else uuid.uuid4()
        # Validate before allocating a number, so bad input leaves no trace in the log.
        command = _build(
            DeclareIncident,
            at=self.clock(),
            incident_id=incident_id,
            number=1,
            title=title,
            severity=severity,
            services=tuple(services),
            source_alerts=tuple(source_alerts),
            declared_by=declared_by,
        )
        stream = domain.stream_for(incident_id)
        if idempotency_key is not None:
            existing = self.store.read_stream(stream)
            if existing:
                state = _fold(existing)
                return CommandResult(
                    incident_id,
                    state.number,
                    existing[0].version,
                    existing[0].position,
                    (existing[0].type,),
                    replayed=True,
                    state=state,
                )
        number = self._allocate_number(incident_id, declared_by)
        command = command.model_copy(update={"number": number})
        events = domain.decide(command, domain.INITIAL)
        result = self.store.append(
            stream,
            self._to_new_events(events, incident_id, idempotency_key, declared_by, causation_id),
            StreamState.NO_STREAM,
        )
        return CommandResult(
            incident_id,
            number,
            result.current_version,
            result.last_position,
            tuple(e.event_type() for e in events),
            state=domain.fold(events),
        )

    def execute(
        self,
        reference: str | uuid.UUID,
        command_type: type[Command],
        *,
        actor: str,
        idempotency_key: str | None = None,
        causation_id: str | None = None,
        **fields: Any,
    ) -> CommandResult:
        """Run any command other than Declare against an existing incident."""
        incident_id = self.resolve_reference(reference)
        stream = domain.stream_for(incident_id)
        for attempt in range(1, self.max_attempts + 1):
            recorded = self.store.read_stream(stream)
            if not recorded:
                raise NotFoundError(f"incident {reference} does not exist")
            state = _fold(recorded)
            if idempotency_key is not None:
                replay = _replayed(
                    recorded,
                    functools.partial(self._event_id, incident_id, idempotency_key),
                    state,
                )
                if replay is not None:
                    return replay
            command = _build(command_type, at=self.clock(), **fields)
            events = domain.decide(command, state)
            if not events:
                return CommandResult(incident_id, state.number, recorded[-1].version, 0, ())
            try:
                result = self.store.append(
                    stream,
                    self._to_new_events(events, incident_id, idempotency_key, actor, causation_id),
                    recorded[-1].version,
                )
            except ConcurrencyError:
                if attempt == self.max_attempts:
                    raise
                continue
            return CommandResult(
                incident_id,
                state.number,
                result.current_version,
                result.last_position,
                tuple(e.event_type() for e in events),
                state=domain.fold(events, state),
            )
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def incident_id_for_key(idempotency_key: str) -> uuid.UUID:
        """The id a declaration with this idempotency key gets (or got)."""
        return uuid.uuid5(ID_NAMESPACE, f"declare/{idempotency_key}")

    # ------------------------------------------------------------------ queries

    def get(
        self,
        reference: str | uuid.UUID,
        *,
        as_of_position: int | None = None,
        as_of_time: datetime | None = None,
    ) -> IncidentView:
        """The incident as it stood at a log position or instant (now by default)."""
        incident_id = self.resolve_reference(reference)
        recorded = self.store.read_stream(
            domain.stream_for(incident_id), to_position=as_of_position, until=as_of_time
        )
        if not recorded:
            when = "" if as_of_position is None and as_of_time is None else " at that point"
            raise NotFoundError(f"incident {reference} did not exist{when}")
        return IncidentView(
            _fold(recorded), recorded[-1].version, recorded[-1].position, tuple(recorded)
        )

    def resolve_reference(self, reference: str | uuid.UUID) -> uuid.UUID:
        """Accept a uuid or a human reference like INC-42 (case-insensitive)."""
        if isinstance(reference, uuid.UUID):
            return reference
        text = reference.strip()
        if text.upper().startswith("INC-"):
            digits = text[4:]
            if not digits.isdigit() or int(digits) < 1:
                raise InvalidCommandError(
                    "incident", f"{reference!r} is not a reference like INC-42"
                )
            found = self.store.read_stream(NUMBERS_STREAM, from_version=int(digits) - 1, limit=1)
            if not found or found[0].version != int(digits) - 1:
                raise NotFoundError(f"incident {text.upper()} does not exist")
            return uuid.UUID(str(found[0].data["incident_id"]))
        try:
            return uuid.UUID(text)
        except ValueError:
            raise InvalidCommandError(
                "incident",
                f"{reference!r} is neither an incident id (uuid) nor a reference like INC-42",
            ) from None

    # ------------------------------------------------------------------ internals

    def _allocate_number(self, incident_id: uuid.UUID, actor: str) -> int:
        # The numbering stream's version is the counter. Appending with ANY is safe:
        # the store assigns the next version atomically, and the event id derived from
        # the incident makes a retried declaration get its original number back.
        event = EVENTS.to_new_event(
            IncidentNumberAllocated(incident_id=incident_id),
            event_id=uuid.uuid5(ID_NAMESPACE, f"number/{incident_id}"),
            metadata=EventMetadata(correlation_id=str(incident_id), actor=actor),
        )
        return self.store.append(NUMBERS_STREAM, [event], StreamState.ANY).current_version + 1

    def _event_id(self, incident_id: uuid.UUID, key: str, index: int) -> uuid.UUID:
        return uuid.uuid5(ID_NAMESPACE, f"{incident_id}/{key}/{index}")

    def _to_new_events(
        self,
        events: Sequence[DomainEvent],
        incident_id: uuid.UUID,
        idempotency_key: str | None,
        actor: str,
        causation_id: str | None,
    ) -> list[NewEvent]:
        metadata = EventMetadata(
            correlation_id=str(incident_id), causation_id=causation_id, actor=actor
        )
        return [
            EVENTS.to_new_event(
                event,
                event_id=self._event_id(incident_id, idempotency_key, index)
                if idempotency_key
                else None,
                metadata=_with_occurred_at(metadata, event),
            )
            for index, event in enumerate(events)
        ]


def _with_occurred_at(metadata: EventMetadata, event: DomainEvent) -> EventMetadata:
    # A mitigation applied at 02:10 but recorded at 02:25 says so in the log's metadata
    # too, so generic timeline readers can order by when things happened.
    if isinstance(event, domain.MitigationApplied) and event.applied_at != event.recorded_at:
        return EventMetadata(
            correlation_id=metadata.correlation_id,
            causation_id=metadata.causation_id,
            actor=metadata.actor,
            occurred_at=event.applied_at,
        )
    return metadata


def _build(command_type: type[Command], **fields: Any) -> IncidentCommand:
    try:
        return command_type(**fields)  # type: ignore[return-value]
    except ValidationError as error:
        raise InvalidCommandError.from_validation(error) from None


def _fold(recorded: Sequence[RecordedEvent]) -> Incident:
    return domain.fold(EVENTS.from_recorded(e) for e in recorded)


def _replayed(
    recorded: Sequence[RecordedEvent], event_id_at: Callable[[int], uuid.UUID], state: Incident
) -> CommandResult | None:
    """The original result of a command whose derived event ids are already stored."""
    by_id = {event.id: event for event in recorded}
    batch: list[RecordedEvent] = []
    while (event := by_id.get(event_id_at(len(batch)))) is not None:
        batch.append(event)
    if not batch:
        return None
    assert state.incident_id is not None
    return CommandResult(
        state.incident_id,
        state.number,
        batch[-1].version,
        batch[-1].position,
        tuple(e.type for e in batch),
        replayed=True,
    )
