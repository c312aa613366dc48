"""The command runner: the one load-decide-append loop every service's use cases call.

Owns, once for the platform:
- loading an aggregate (from its stream, or from a caught-up model of aggregate states);
- recognising a retried command by its idempotency key and returning the original
  result instead of deciding again (or, for a service whose keys name a slot that
  several commands compete for, deciding again and letting the log drop duplicates);
- deciding with the pure decider;
- deterministic event ids from the key (`appkit.ids`), random ones without a key;
- the events' metadata: actor, correlation (the caller's, else the decider's), causation,
  `occurred_at` (from a service-wide hook) and the API credential of the call being
  handled (appkit.acting), filled one way;
- appending with the version read, and on a concurrency conflict reloading and deciding
  again, at most `max_attempts` times, after which the ConcurrencyError surfaces
  (gRPC: ABORTED);
- one result type, `CommandResult`;
- `record`: events no state decides (a counter stream, appended at whatever version it
  is at), with the same metadata;
- units of work (`atomically`): several commands, over several streams, decided one
  after the other (each against the state the earlier ones left) and appended in ONE
  transaction with `EventStore.append_many`, each stream with the version it was loaded
  at (ADR 0024). On a backend without atomic multi-stream appends the commands run and
  append one by one, as outside a unit.

It must never know a framework (nameko, grpc), read the wall clock or catch a domain
error: refusals reach the adapter unchanged, with their field names.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, Self, TypeVar, runtime_checkable

from appkit.acting import current_credential
from appkit.decider import Decider, fold
from appkit.ids import EventIds
from contracts.domain import NotFoundError
from contracts.events import DomainEvent, EventRegistry
from eventlog import (
    ConcurrencyError,
    EventMetadata,
    EventStore,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamState,
)
from eventlog.model import AppendResult

MAX_ATTEMPTS = 5
"""Attempts per command when other writers keep moving the stream (ADR 0006)."""

C = TypeVar("C")
S = TypeVar("S")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CommandResult(Generic[S]):
    """What a command did. Services may subclass it to name what their callers need
    (`incident_service.app.CommandResult.reference`), never to add state."""

    stream: str
    version: int | None
    """The stream's version after the command (unchanged for a no-op; None: no stream)."""
    position: int
    """The log position of the command's last event (0 for a no-op)."""
    event_types: tuple[str, ...]
    state: S
    """The aggregate after the command (as it is now for a no-op or a replay)."""
    events: tuple[DomainEvent, ...] = ()
    """What this call decided and appended; empty for a no-op or a replay."""
    replayed: bool = False
    """True when the idempotency key matched a command already applied."""

    @property
    def appended(self) -> bool:
        return bool(self.events)

    @classmethod
    def of(cls, result: CommandResult[S]) -> Self:
        """The same result as the subclass `cls` (a service's named view of it)."""
        return cls(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)})


@dataclass(frozen=True, slots=True)
class Loaded(Generic[S]):
    """An aggregate as a source loaded it."""

    state: S
    version: int | None
    """The version of the stream's last event; None when it has none."""
    recorded: Sequence[RecordedEvent] | None = None
    """The stream's events when the source read them (a model source does not)."""

    @property
    def exists(self) -> bool:
        return self.version is not None


class StateSource(Protocol):
    """Where the runner loads aggregates from before deciding."""

    def load(self, stream: str, decider: Decider[Any, S]) -> Loaded[S]: ...

    def appended(self, stream: str) -> None:
        """Called after each append; a model source catches up here."""
        ...


@runtime_checkable
class StagingSource(Protocol):
    """A state source that also serves a unit of work's staged (not yet committed)
    events to readers other than the runner (ModelSource: the read model the service's
    policies read). The runner calls these around a unit; see `CommandRunner.atomically`."""

    def begin(self) -> None:
        """A unit starts: be caught up now; loads inside the unit need not catch up."""
        ...

    def stage(self, stream: str, events: Sequence[DomainEvent], version: int, state: Any) -> None:
        """Show `events` (the first at stream version `version`, leaving the stream in
        `state`) before they commit."""
        ...

    def committed(self, results: Sequence[AppendResult]) -> None:
        """The staged events are in the log at these positions: do not apply them twice."""
        ...

    def discard(self) -> None:
        """The unit failed or ended without a commit: forget everything staged."""
        ...


@dataclass(frozen=True, slots=True)
class _Call:
    """One `execute` call's options, as the decision step needs them (see `execute`)."""

    actor: str
    key: str | None
    causation_id: str | None
    correlation_id: str | None
    not_found: str | None
    prepare: Callable[[Any], Any] | None
    ids: EventIds


@dataclass(slots=True)
class _Staged:
    """One stream's part of a unit of work."""

    expected: ExpectedVersion
    """The stream's version when the unit first loaded it: the append's expected version."""
    version: int
    """The version after the staged events."""
    state: Any
    events: list[NewEvent]


class UnitOfWork:
    """Commands staged for one transaction, per stream, in the order last touched."""

    def __init__(self) -> None:
        self.streams: dict[str, _Staged] = {}

    def appends(self) -> list[tuple[str, ExpectedVersion, list[NewEvent]]]:
        return [(name, staged.expected, staged.events) for name, staged in self.streams.items()]


class LogSource:
    """Reads the stream and folds it: always current, costs one read per command."""

    def __init__(self, store: EventStore, events: EventRegistry) -> None:
        self.store = store
        self.events = events

    def load(
        self,
        stream: str,
        decider: Decider[Any, S],
        *,
        until: datetime | None = None,
        to_position: int | None = None,
    ) -> Loaded[S]:
        recorded = self.store.read_stream(stream, until=until, to_position=to_position)
        if not recorded:
            return Loaded(decider.initial, None, recorded)
        state = fold(decider, (self.events.from_recorded(e) for e in recorded))
        return Loaded(state, recorded[-1].version, recorded)

    def appended(self, stream: str) -> None:
        """Nothing to refresh: the next load reads the log."""


def no_occurred_at(event: DomainEvent) -> datetime | None:
    return None


class CommandRunner:
    """Runs commands for one service: its store, event registry and id formula."""

    def __init__(
        self,
        store: EventStore,
        events: EventRegistry,
        ids: EventIds,
        *,
        source: StateSource | None = None,
        occurred_at: Callable[[DomainEvent], datetime | None] = no_occurred_at,
        max_attempts: int = MAX_ATTEMPTS,
        replays: bool = True,
    ) -> None:
        """`replays`: a key names one command, so finding its events means the command
        was applied and its original result is the answer (incident's client keys).
        False: a key names a slot that different commands compete for (paging's
        `outcome/<method>/<attempt>`, settled by a report *or* a timeout): the
        command is decided again against the current state, and the log's idempotent
        append drops ids already stored."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.store = store
        self.events = events
        self.ids = ids
        self.log = LogSource(store, events)
        self.source: StateSource = source or self.log
        # Checked once: a runtime Protocol check costs tens of microseconds per call.
        self._staging = self.source if isinstance(self.source, StagingSource) else None
        self.occurred_at = occurred_at
        self.max_attempts = max_attempts
        self.replays = replays
        self._local = threading.local()
        """The unit of work of the thread running `atomically`, if any."""

    # ------------------------------------------------------------------ units of work

    def atomically(self, body: Callable[[], T]) -> T:
        """Run `body` as one unit of work: every `execute` inside it is decided at once
        (later commands load what earlier ones staged) and nothing is appended until
        `body` returns; then all of it is appended in one transaction, each stream
        with the version it had when the unit first loaded it. A concurrency conflict
        discards the unit and runs `body` again (at most `max_attempts` times); any
        other error discards it and propagates, so nothing of the unit is appended.

        Results returned inside the unit carry the staged version and position 0 (the
        positions exist only after the commit). `body` may run more than once, so it
        must have no effects but its commands. Nested calls join the outer unit. On a
        store without atomic multi-stream appends `body` runs once, its commands
        appending one by one as outside a unit (ADR 0024)."""
        if getattr(self._local, "unit", None) is not None or not self.store.atomic_append_many:
            return body()
        staging = self._staging
        for attempt in range(1, self.max_attempts + 1):
            unit = UnitOfWork()
            if staging is not None:
                staging.begin()
            self._local.unit = unit
            try:
                value = body()
                self._local.unit = None
                results = self.store.append_many(unit.appends()) if unit.streams else []
            except ConcurrencyError:
                if staging is not None:
                    staging.discard()
                if attempt == self.max_attempts:
                    raise
                continue
            except BaseException:
                if staging is not None:
                    staging.discard()
                raise
            finally:
                self._local.unit = None
            if staging is not None:
                staging.committed(results)
            else:
                for name in unit.streams:
                    self.source.appended(name)
            return value
        raise AssertionError("unreachable")  # pragma: no cover

    def _stage(
        self,
        unit: UnitOfWork,
        decider: Decider[C, S],
        stream: str,
        command: C,
        call: _Call,
    ) -> CommandResult[S]:
        """`execute` inside a unit: decide now against what the unit staged, append later."""
        staged = unit.streams.get(stream)
        loaded: Loaded[S] = (
            self.source.load(stream, decider)
            if staged is None
            else Loaded(staged.state, staged.version)
        )
        decision = self._decide(decider, stream, command, loaded, call, replayable=staged is None)
        if isinstance(decision, CommandResult):
            return decision
        events, state, new = decision
        first = 0 if loaded.version is None else loaded.version + 1
        version = first + len(events) - 1
        if staged is None:
            expected = StreamState.NO_STREAM if loaded.version is None else loaded.version
            staged = _Staged(expected, version, state, list(new))
        else:
            del unit.streams[stream]
            staged.version, staged.state = version, state
            staged.events.extend(new)
        # Streams are appended in the order of their LAST command: whatever a command
        # read from an earlier stream's final state lands before it in the log (an
        # alert's AlertTriggered before its group's AlertGroupAlertAdded).
        unit.streams[stream] = staged
        if self._staging is not None:
            self._staging.stage(stream, events, first, state)
        return CommandResult(
            stream, version, 0, tuple(event.event_type() for event in events), state, events
        )

    def _decide(
        self,
        decider: Decider[C, S],
        stream: str,
        command: C,
        loaded: Loaded[S],
        call: _Call,
        *,
        replayable: bool,
    ) -> CommandResult[S] | tuple[tuple[DomainEvent, ...], S, list[NewEvent]]:
        """The one decision step of `execute` and of a unit: the existence and replay
        checks, decide, fold, and the events to append. A CommandResult means there is
        nothing to append (a replay or no events); otherwise (events, state, new)."""
        if call.not_found is not None and not loaded.exists:
            raise NotFoundError(call.not_found)
        if call.key is not None and self.replays and replayable:
            replay = _replayed(stream, call.key, loaded, call.ids)
            if replay is not None:
                return replay
        prepare = call.prepare
        decided = decider.decide(prepare(command) if prepare else command, loaded.state)
        if not decided:
            return CommandResult(stream, loaded.version, 0, (), loaded.state)
        events = tuple(decided)
        state = fold(decider, events, loaded.state)
        return events, state, self._new_events(events, decider, stream, state, call, loaded.version)

    def _new_events(
        self,
        events: Sequence[DomainEvent],
        decider: Decider[Any, S],
        stream: str,
        state: S,
        call: _Call,
        version: int | None,
    ) -> list[NewEvent]:
        metadata = _metadata(
            call.actor,
            call.causation_id,
            call.correlation_id
            if call.correlation_id is not None
            else decider.correlation(stream, state),
        )
        return [
            self._new_event(event, metadata, call.ids, stream, call.key, version, index)
            for index, event in enumerate(events)
        ]

    def execute(
        self,
        decider: Decider[C, S],
        stream: str,
        command: C,
        *,
        actor: str,
        key: str | None = None,
        causation_id: str | None = None,
        correlation_id: str | None = None,
        not_found: str | None = None,
        prepare: Callable[[C], C] | None = None,
        ids: EventIds | None = None,
    ) -> CommandResult[S]:
        """Load, decide, append with the version read; retry on a conflict.

        - `key`: the idempotency key; event ids derive from it, and (unless the runner
          was built with `replays=False`) a command whose events are already in the
          stream returns its original result (`replayed`).
        - `not_found`: the NotFoundError message when the stream has no events.
        - `prepare(command)`: completes the command only once it will be decided
          (after the existence and replay checks), e.g. with an allocated number. It
          runs again on a retry, so it must be idempotent itself.
        - `ids`: another id formula for this call (the service's by default).
        """
        call = _Call(
            actor, key or None, causation_id, correlation_id, not_found, prepare, ids or self.ids
        )
        unit: UnitOfWork | None = getattr(self._local, "unit", None)
        if unit is not None:
            return self._stage(unit, decider, stream, command, call)
        for attempt in range(1, self.max_attempts + 1):
            loaded = self.source.load(stream, decider)
            decision = self._decide(decider, stream, command, loaded, call, replayable=True)
            if isinstance(decision, CommandResult):
                return decision
            events, state, new = decision
            expected = StreamState.NO_STREAM if loaded.version is None else loaded.version
            try:
                appended = self.store.append(stream, new, expected)
            except ConcurrencyError:
                if attempt == self.max_attempts:
                    raise
                continue
            self.source.appended(stream)
            # `replayed`: another process decided and appended the very same events
            # first (the same key, at the same version). This call appended nothing, so
            # its caller gets no events to act on as its own (e.g. perform an attempt).
            return CommandResult(
                stream,
                appended.current_version,
                appended.last_position,
                tuple(event.event_type() for event in events),
                state,
                () if appended.replayed else events,
                replayed=appended.replayed,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def record(
        self,
        stream: str,
        events: Sequence[DomainEvent],
        *,
        actor: str,
        event_ids: Sequence[uuid.UUID] | None = None,
        causation_id: str | None = None,
        correlation_id: str | None = None,
    ) -> AppendResult:
        """Append events that no state decides, at whatever version the stream is at
        (`StreamState.ANY`): a counter stream whose version is the value, like
        incident's numbering, which must not be read to be appended to. Metadata is
        filled exactly as `execute` fills it; nothing is loaded, decided or retried.

        - `event_ids`: one per event, from a formula the service kept from before the
          kit (a retry appends nothing and the answer is the original event's version:
          the log's idempotent append); random ids without.
        - Not part of a unit of work (`atomically`): it appends at once.
        """
        if event_ids is not None and len(event_ids) != len(events):
            raise ValueError(f"{len(event_ids)} event ids for {len(events)} events")
        metadata = _metadata(actor, causation_id, correlation_id)
        new = [
            self.events.to_new_event(
                event,
                event_id=None if event_ids is None else event_ids[index],
                metadata=_occurring(metadata, self.occurred_at(event)),
            )
            for index, event in enumerate(events)
        ]
        return self.store.append(stream, new, StreamState.ANY)

    def read(
        self,
        decider: Decider[Any, S],
        stream: str,
        *,
        until: datetime | None = None,
        to_position: int | None = None,
    ) -> Loaded[S]:
        """An aggregate from the log, optionally as it stood at a time or position."""
        return self.log.load(stream, decider, until=until, to_position=to_position)

    def _new_event(
        self,
        event: DomainEvent,
        metadata: EventMetadata,
        ids: EventIds,
        stream: str,
        key: str | None,
        version: int | None,
        index: int,
    ) -> NewEvent:
        return self.events.to_new_event(
            event,
            event_id=None if key is None else ids.derive(stream, key, version, index),
            metadata=_occurring(metadata, self.occurred_at(event)),
        )


def _metadata(actor: str, causation_id: str | None, correlation_id: str | None) -> EventMetadata:
    """The one way a command's events get their metadata (ADR 0013)."""
    return EventMetadata(
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=actor,
        credential=current_credential(),
    )


def _occurring(metadata: EventMetadata, occurred: datetime | None) -> EventMetadata:
    """An event's metadata, saying when it happened if the service's hook knows."""
    return metadata if occurred is None else dataclasses.replace(metadata, occurred_at=occurred)


def _replayed(stream: str, key: str, loaded: Loaded[S], ids: EventIds) -> CommandResult[S] | None:
    """The original result of a command whose key-derived events are already stored."""
    # Versioned ids depend on the version the original decided at, which is unknown
    # here; the log's idempotent append recognises those retries instead.
    if ids.versioned or not loaded.recorded:
        return None
    by_id = {event.id: event for event in loaded.recorded}
    batch: list[RecordedEvent] = []
    while (found := by_id.get(ids.derive(stream, key, None, len(batch)))) is not None:
        batch.append(found)
    if not batch:
        return None
    return CommandResult(
        stream,
        batch[-1].version,
        batch[-1].position,
        tuple(event.type for event in batch),
        loaded.state,
        replayed=True,
    )
