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
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from appkit.commands import Loaded
from appkit.decider import Decider
from contracts.events import DomainEvent, EventRegistry
from eventlog import AppendResult, AppendWatch, EventFilter, EventStore, RecordedEvent, category_of

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
        self._ahead: set[int] = set()
        """Positions above the checkpoint whose events the projection already holds
        (a unit of work's, staged before commit; ADR 0024): catching up skips them."""
        self.reads = 0
        """Catch-ups that read the log (for tests and metrics)."""

    def catch_up(self) -> int:
        """Apply everything committed so far; returns the checkpoint."""
        with self._lock:
            return self._catch_up()

    def refresh(self, watch: AppendWatch) -> int:
        """Catch up only if `watch` says something may have been appended since it last
        said so; returns the checkpoint. For a reader that would otherwise read the log
        on every request (ADR 0031): the watch is asked and the log read under one lock,
        so a caller told "nothing new" never overtakes another caller's read of an
        append whose ring that caller drained."""
        with self._lock:
            if watch.appended():
                return self._catch_up()
            return self.position

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
            self._ahead.clear()
            self._catch_up()
            return self.projection

    def applied_ahead(self, positions: Iterable[int]) -> int:
        """The events at `positions` were applied before they were committed (a unit of
        work staged them): move the checkpoint past them without applying them again.
        Any at or below the checkpoint cannot have been applied twice by design; if one
        is, the model is rebuilt."""
        with self._lock:
            ahead = set(positions)
            if not ahead:
                return self.position
            if min(ahead) == self.position + 1 and max(ahead) == self.position + len(ahead):
                # Contiguous and right after the checkpoint: nothing else was committed
                # in between, so there is nothing to read back.
                self.position = max(ahead)
                return self.position
            if min(ahead) <= self.position:
                # An idempotent retry answered with events applied long ago: the staged
                # copy is a second application. Never expected; rebuilding is correct.
                self.projection = self._create()
                self.position = 0
                self._ahead.clear()
            else:
                self._ahead |= ahead
            return self._catch_up()

    def _catch_up(self) -> int:
        self.reads += 1
        projection = self.projection
        ahead = self._ahead
        for event in self.store.read_all(from_position=self.position + 1, filter=projection.filter):
            if ahead and event.position in ahead:
                ahead.discard(event.position)
            else:
                projection.apply(event)
            self.position = event.position
        if ahead and min(ahead) <= self.position:
            # Filtered out by the projection's own filter: nothing to skip any more.
            self._ahead = {position for position in ahead if position > self.position}
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
        if event.type not in self.events or category_of(event.stream) not in self.deciders:
            return
        self.apply_domain(event.stream, self.events.from_recorded(event), event.version)

    def apply_domain(self, stream: str, event: DomainEvent, version: int) -> None:
        """Fold one event of `stream` at `version` in (a recorded one, or one a unit of
        work staged before commit)."""
        category = category_of(stream)
        decider = self.deciders.get(category)
        if decider is None:
            return
        found = self._streams.get(stream)
        state = decider.evolve(decider.initial if found is None else found[0], event)
        self._streams[stream] = (state, version)
        self._by_category.setdefault(category, {})[stream] = state
        self.applied(event)

    def apply_staged(
        self, stream: str, events: Sequence[DomainEvent], version: int, state: Any
    ) -> None:
        """A unit of work's events for `stream` (the first at `version`), whose fold the
        command runner already computed (`state`): set it rather than evolve twice.
        The `applied` hook then runs once per event, seeing the state after all of them."""
        category = category_of(stream)
        if category not in self.deciders:
            return
        self._streams[stream] = (state, version + len(events) - 1)
        self._by_category.setdefault(category, {})[stream] = state
        for event in events:
            self.applied(event)

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
    costs a retry: appends still carry the version it had.

    In a unit of work (`CommandRunner.atomically`, ADR 0024) it is a `StagingSource`:
    staged events are folded into the model at once, so the service's policies, which
    read the model, see what the unit decided so far; the commit's positions are then
    skipped by the next catch-up, and a failed unit rebuilds the model from the log.
    Whoever stages must hold the service's lock that keeps other readers out meanwhile.
    """

    def __init__(self, runner: ProjectionRunner[Any]) -> None:
        self.runner = runner
        self._in_unit = False
        self._staged = False

    def load(self, stream: str, decider: Decider[Any, S]) -> Loaded[S]:
        if not self._in_unit:
            self.runner.catch_up()
        model: AggregateStates = self.runner.projection
        state, version = model.state(stream)
        return Loaded(state, version)

    def appended(self, stream: str) -> None:
        if not self._in_unit:
            self.runner.catch_up()

    def begin(self) -> None:
        self.runner.catch_up()
        self._in_unit, self._staged = True, False

    def stage(self, stream: str, events: Sequence[DomainEvent], version: int, state: Any) -> None:
        model: AggregateStates = self.runner.projection
        self._staged = True
        model.apply_staged(stream, events, version, state)

    def committed(self, results: Sequence[AppendResult]) -> None:
        self._in_unit = False
        self.runner.applied_ahead(p for result in results for p in result.positions)

    def discard(self) -> None:
        self._in_unit = False
        if self._staged:
            # Undoing staged folds would need every projection to be reversible; a
            # failed unit is rare (bad input is refused before, conflicts need a
            # second writer), so the model is rebuilt from the log instead (ADR 0024).
            self.runner.rebuild()
