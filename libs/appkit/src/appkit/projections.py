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

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
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


_ABSENT: Any = object()
"""A key that was not in its mapping before the unit changed it."""


class UndoJournal:
    """What a unit of work's staged folds changed in a read model, so that a failed
    unit is put back entry by entry instead of replaying the whole log (ADR 0024).

    It records only while `recording` (inside `AggregateStates.apply_staged`); events
    folded from the log are never recorded, because undoing them would leave the model
    behind its checkpoint."""

    def __init__(self) -> None:
        self.recording = False
        self._entries: list[tuple[dict[Any, Any], Any, Any]] = []

    def note(self, mapping: dict[Any, Any], key: Any) -> None:
        """`mapping[key]` is about to change: remember what it held."""
        if self.recording:
            self._entries.append((mapping, key, dict.get(mapping, key, _ABSENT)))

    def undo(self) -> None:
        """Put back every recorded entry, latest first, and forget them."""
        for mapping, key, before in reversed(self._entries):
            if before is _ABSENT:
                dict.pop(mapping, key, None)
            else:
                dict.__setitem__(mapping, key, before)
        self._entries.clear()

    def forget(self) -> None:
        self._entries.clear()


class JournaledDict(dict[Any, Any]):
    """A dict for an `AggregateStates` subclass's indexes whose changes during a staged
    fold can be undone. Item assignment, `del`, `pop` and `setdefault` are recorded;
    the other mutators would bypass the journal, so they refuse while it records."""

    __slots__ = ("_journal",)

    def __init__(self, journal: UndoJournal) -> None:
        super().__init__()
        self._journal = journal

    def __setitem__(self, key: Any, value: Any) -> None:
        self._journal.note(self, key)
        super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        self._journal.note(self, key)
        super().__delitem__(key)

    def pop(self, key: Any, *default: Any) -> Any:
        self._journal.note(self, key)
        return super().pop(key, *default)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self._journal.note(self, key)
        return super().setdefault(key, default)

    def _unjournaled(self, method: str) -> None:
        if self._journal.recording:
            raise TypeError(f"JournaledDict.{method} cannot be undone; assign items instead")

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._unjournaled("update")
        super().update(*args, **kwargs)

    def clear(self) -> None:
        self._unjournaled("clear")
        super().clear()

    def popitem(self) -> tuple[Any, Any]:
        self._unjournaled("popitem")
        return super().popitem()


class AggregateStates:
    """The state and version of every stream of some deciders' categories.

    Subclass it to keep indexes next to the states (override `applied`). A subclass
    whose `applied` changes only dicts made with `self.journaled()` sets
    `undoable_indexes = True`: a failed unit of work is then undone in place; any other
    subclass is rebuilt from the log when a unit fails (`ModelSource.discard`)."""

    undoable_indexes = False
    """True when `applied` changes nothing but `journaled()` dicts (see the class doc)."""

    def __init__(self, name: str, events: EventRegistry, deciders: Iterable[Decider[Any, Any]]):
        self.name = name
        self.events = events
        self.deciders: dict[str, Decider[Any, Any]] = {d.category: d for d in deciders}
        self.filter: EventFilter | None = EventFilter.of(categories=list(self.deciders))
        self._streams: dict[str, tuple[Any, int]] = {}
        # Streams by category, so "every open alert" does not scan every stream.
        self._by_category: dict[str, dict[str, Any]] = {}
        self._journal = UndoJournal()
        self._in_unit = False
        self._log_folded_in_unit = False

    def journaled(self) -> JournaledDict:
        """A dict for an index that a failed unit of work can undo (`undoable_indexes`)."""
        return JournaledDict(self._journal)

    @property
    def undoable(self) -> bool:
        """Whether a failed unit can be undone in place rather than rebuilt."""
        return type(self).applied is AggregateStates.applied or self.undoable_indexes

    def begin_unit(self) -> None:
        """A unit of work starts staging into this model."""
        self._journal.forget()
        self._in_unit, self._log_folded_in_unit = True, False

    def end_unit(self) -> None:
        """The unit committed: what it staged is now the log's."""
        self._journal.forget()
        self._in_unit = False

    def undo_unit(self) -> bool:
        """Put back what the failed unit staged; False when that cannot be done exactly
        (the subclass is not undoable, or events from the log were folded in meanwhile)
        and the caller must rebuild."""
        self._in_unit = False
        if not self.undoable or self._log_folded_in_unit:
            self._journal.forget()
            return False
        self._journal.undo()
        return True

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
        if self._in_unit:
            self._log_folded_in_unit = True
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
        journal = self._journal
        journal.recording = True
        try:
            journal.note(self._streams, stream)
            self._streams[stream] = (state, version + len(events) - 1)
            states = self._by_category.get(category)
            if states is None:
                journal.note(self._by_category, category)
                states = self._by_category[category] = {}
            journal.note(states, stream)
            states[stream] = state
            for event in events:
                self.applied(event)
        finally:
            journal.recording = False

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
    skipped by the next catch-up, and a failed unit is undone in the model entry by
    entry (`UndoJournal`), or, for a model whose indexes are not undoable, rebuilt from
    the log.
    Whoever stages must hold the service's lock that keeps other readers out meanwhile.
    """

    def __init__(self, runner: ProjectionRunner[Any], *, read_back: bool = True) -> None:
        """`read_back=False`: a command's own append is not read back into the model
        right after it (`appended` does nothing); the next catch-up reads it. Only for
        services whose every read of the model catches up first (ProjectionRunner's
        rule; `load` here does), so nobody can see the model without it: the command's
        caller gets its answer one log read sooner (ADR 0029)."""
        self.runner = runner
        self.read_back = read_back
        self._in_unit = False
        self._staged = False
        self._current = False

    @contextlib.contextmanager
    def current(self) -> Iterator[None]:
        """The caller has just caught the model up: inside the block, the next load
        decides on it without reading the log again. One load only: a retry after a
        conflict, or a second command (whose load must see the first one's append),
        catches up as always. A stale model still only costs a retry, since the
        append carries the version read (ADR 0029)."""
        self._current = True
        try:
            yield
        finally:
            self._current = False

    def load(self, stream: str, decider: Decider[Any, S]) -> Loaded[S]:
        if self._current:
            self._current = False
        elif not self._in_unit:
            self.runner.catch_up()
        model: AggregateStates = self.runner.projection
        state, version = model.state(stream)
        return Loaded(state, version)

    def appended(self, stream: str) -> None:
        if self.read_back and not self._in_unit:
            self.runner.catch_up()

    def begin(self) -> None:
        self.runner.catch_up()
        self._in_unit, self._staged = True, False
        model: AggregateStates = self.runner.projection
        model.begin_unit()

    def stage(self, stream: str, events: Sequence[DomainEvent], version: int, state: Any) -> None:
        model: AggregateStates = self.runner.projection
        self._staged = True
        model.apply_staged(stream, events, version, state)

    def committed(self, results: Sequence[AppendResult]) -> None:
        self._in_unit = False
        model: AggregateStates = self.runner.projection
        model.end_unit()
        self.runner.applied_ahead(p for result in results for p in result.positions)

    def discard(self) -> None:
        self._in_unit = False
        model: AggregateStates = self.runner.projection
        if model.undo_unit() or not self._staged:
            return
        # Not undoable in place (see AggregateStates): rebuild from the log, which
        # costs a replay of everything the model reads (ADR 0024).
        self.runner.rebuild()
