"""The incident service's application layer: its use cases, each a few lines over the
kit's command runner (appkit, ADR 0013).

Owns what every adapter (gRPC api, nameko worker, tests) calls: it turns raw input into
validated commands and hands them to the runner, which loads the incident from its
stream, asks the pure decider and appends with the version it read. It knows the store
port and the clock, nothing about gRPC, nameko or RabbitMQ.

Retries and idempotency (the runner's, ADR 0013):
- a concurrency conflict reloads and decides again, a bounded number of times;
- a command carrying an idempotency key gets event ids derived from it (uuid5 of the
  incident id, key and index), so a retried command finds its own events already in
  the stream and returns the original result without appending anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from appkit import Aggregate, CommandRunner, EventIds
from appkit import CommandResult as KitResult
from contracts.domain import InvalidCommandError, NotFoundError
from contracts.events import DomainEvent
from eventlog import EventStore, RecordedEvent
from eventlog.clock import Clock
from incident_service import domain
from incident_service.domain import EVENTS, Incident, IncidentNumberAllocated
from incident_service.domain_commands import Command, DeclareIncident, IncidentCommand

NUMBERS_STREAM = "incidentnumber-all"
"""One event per allocated number: the stream version + 1 is the incident number."""

ID_NAMESPACE = uuid.UUID("6f1c2b8e-3a5d-4e0f-9b7a-2d4c6e8f0a1b")
EVENT_IDS = EventIds(ID_NAMESPACE, "{id}/{key}/{index}")
"""Fixed forever (ADR 0013): uuid5 of "<incident id>/<key>/<index>"."""
MAX_ATTEMPTS = 5

INCIDENT: Aggregate[IncidentCommand, Incident] = Aggregate(
    domain.STREAM_CATEGORY, domain.INITIAL, domain.decide, domain.evolve, fold_events=domain.fold
)


class CommandResult(KitResult[Incident]):
    """The kit's result, named as incident callers need it."""

    __slots__ = ()

    @property
    def incident_id(self) -> uuid.UUID:
        assert self.state.incident_id is not None
        return self.state.incident_id

    @property
    def number(self) -> int:
        return self.state.number

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
        self.runner = CommandRunner(
            store, EVENTS, EVENT_IDS, occurred_at=_occurred_at, max_attempts=max_attempts
        )

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
        # Validated before a number is allocated (`prepare` runs only once the command
        # will be decided), so bad input and retries leave no trace in the log.
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
        return CommandResult.of(
            self.runner.execute(
                INCIDENT,
                domain.stream_for(incident_id),
                command,
                actor=declared_by,
                key=idempotency_key,
                causation_id=causation_id,
                prepare=lambda declare: declare.model_copy(
                    update={"number": self._allocate_number(incident_id, declared_by, causation_id)}
                ),
            )
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
        return CommandResult.of(
            self.runner.execute(
                INCIDENT,
                domain.stream_for(incident_id),
                _build(command_type, at=self.clock(), **fields),
                actor=actor,
                key=idempotency_key,
                causation_id=causation_id,
                not_found=f"incident {reference} does not exist",
            )
        )

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
        loaded = self.runner.read(
            INCIDENT, domain.stream_for(incident_id), to_position=as_of_position, until=as_of_time
        )
        if not loaded.recorded:
            when = "" if as_of_position is None and as_of_time is None else " at that point"
            raise NotFoundError(f"incident {reference} did not exist{when}")
        last = loaded.recorded[-1]
        return IncidentView(loaded.state, last.version, last.position, tuple(loaded.recorded))

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

    def _allocate_number(self, incident_id: uuid.UUID, actor: str, causation_id: str | None) -> int:
        # The numbering stream's version is the counter, so it is appended to without
        # being read: the store assigns the next version atomically, and the event id
        # derived from the incident makes a retried declaration get its original number
        # back. Its metadata is the declaration's, filled by the kit like every event's.
        appended = self.runner.record(
            NUMBERS_STREAM,
            [IncidentNumberAllocated(incident_id=incident_id)],
            actor=actor,
            event_ids=[uuid.uuid5(ID_NAMESPACE, f"number/{incident_id}")],
            causation_id=causation_id,
            correlation_id=str(incident_id),
        )
        return appended.current_version + 1


def _occurred_at(event: DomainEvent) -> datetime | None:
    # A mitigation applied at 02:10 but recorded at 02:25 says so in the log's metadata
    # too, so generic timeline readers can order by when things happened.
    if isinstance(event, domain.MitigationApplied) and event.applied_at != event.recorded_at:
        return event.applied_at
    return None


def _build(command_type: type[Command], **fields: Any) -> IncidentCommand:
    try:
        return command_type(**fields)  # type: ignore[return-value]
    except ValidationError as error:
        raise InvalidCommandError.from_validation(error) from None
