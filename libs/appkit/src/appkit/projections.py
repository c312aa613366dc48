"""The projection runner: one way to keep a read model caught up with the log.

A projection declares the events it handles (`filter`: categories and/or event types)
and how each one changes its model (`apply`). `apply` is a fold step: it reads only the
event and the model, never the store, the clock or the network, so dropping the model
and replaying the log rebuilds it exactly.

`ProjectionRunner` owns everything around it: catching up from its checkpoint (the last
log position applied), read-your-writes (`wait_for`), and `rebuild()` in one call. The
checkpoint and the model live in memory today; the persistence the scale-out work
needs (model and checkpoint written in one transaction) belongs here, in one place.

`AggregateStates` is the projection a service decides against when it loads from memory
instead of the log (`ModelSource`): every stream's state and version for a set of
deciders.

It must never decide, append or talk to a broker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from appkit.commands import Loaded
from appkit.decider import Decider
from contracts.events import DomainEvent, EventRegistry
from eventlog import EventFilter, EventStore, RecordedEvent, category_of

S = TypeVar("S")


class Projection(Protocol):
    """A read model folded from the log."""

    @property
    def name(self) -> str: ...

    @property
    def filter(self) -> EventFilter | None:
        """The events it handles; None means every event."""
        ...

    def apply(self, event: RecordedEvent) -> None:
        """Fold one event in; no I/O, no clock."""
        ...


P = TypeVar("P", bound=Projection)


class ProjectionRunner(Generic[P]):
    """Feeds one projection from the log, on demand. Thread-safe.

    Callers (queries, the command runner's `ModelSource`) call `catch_up()` first: it
    applies everything committed since the last call, so they read their own writes,
    and nothing runs between calls (a background subscriber applying every event as it
    was appended measurably slowed the command path on two cores, ADR 0006)."""

    def __init__(self, store: EventStore, create: Callable[[], P]) -> None:
        self.store = store
        self._create = create
        self._lock = threading.Lock()
        self.projection: P = create()
        self.position = 0
        """The checkpoint: the last log position applied (0: nothing yet)."""

    def catch_up(self) -> int:
        """Apply everything committed so far; returns the checkpoint."""
        with self._lock:
            return self._catch_up()

    def wait_for(self, position: int) -> bool:
        """True once every event up to `position` is applied (read-your-writes)."""
        # Every event at or below the head read first is already visible (a backend
        # guarantee), so after catching up the projection has seen all of them, even
        # when its filter skipped the one at `position`.
        head = self.store.head_position()
        return self.catch_up() >= position or head >= position

    def rebuild(self) -> P:
        """Drop the model and replay the log into a fresh one; returns it."""
        with self._lock:
            self.projection = self._create()
            self.position = 0
            self._catch_up()
            return self.projection

    def _catch_up(self) -> int:
        projection = self.projection
        for event in self.store.read_all(from_position=self.position + 1, filter=projection.filter):
            projection.apply(event)
            self.position = event.position
        return self.position


class AggregateStates:
    """The state and version of every stream of some deciders' categories.

    Subclass it to keep indexes next to the states (override `applied`)."""

    def __init__(self, name: str, events: EventRegistry, deciders: Iterable[Decider[Any, Any]]):
        self.name = name
        self.events = events
        self.deciders: dict[str, Decider[Any, Any]] = {d.category: d for d in deciders}
        self.filter: EventFilter | None = EventFilter.of(categories=list(self.deciders))
        self._streams: dict[str, tuple[Any, int]] = {}
        # Streams by category, so "every open alert" does not scan every stream.
        self._by_category: dict[str, dict[str, Any]] = {}

    def apply(self, event: RecordedEvent) -> None:
        category = category_of(event.stream)
        decider = self.deciders.get(category)
        if decider is None or event.type not in self.events:
            return
        domain_event = self.events.from_recorded(event)
        found = self._streams.get(event.stream)
        state = decider.evolve(decider.initial if found is None else found[0], domain_event)
        self._streams[event.stream] = (state, event.version)
        self._by_category.setdefault(category, {})[event.stream] = state
        self.applied(domain_event)

    def applied(self, event: DomainEvent) -> None:
        """Hook for subclasses: runs after `event` changed its stream's state."""

    def state(self, stream: str) -> tuple[Any, int | None]:
        """(state, version) of a stream; (initial state, None) if it has no events."""
        found = self._streams.get(stream)
        if found is None:
            return self.deciders[category_of(stream)].initial, None
        return found

    def states(self, category: str) -> list[Any]:
        return list(self._by_category.get(category, {}).values())


class ModelSource:
    """Loads aggregates from a caught-up `AggregateStates` instead of the log: no read
    per command, at the cost of holding every state in memory. A stale model only
    costs a retry: appends still carry the version it had."""

    def __init__(self, runner: ProjectionRunner[Any]) -> None:
        self.runner = runner

    def load(self, stream: str, decider: Decider[Any, S]) -> Loaded[S]:
        self.runner.catch_up()
        model: AggregateStates = self.runner.projection
        state, version = model.state(stream)
        return Loaded(state, version)

    def appended(self, stream: str) -> None:
        self.runner.catch_up()
