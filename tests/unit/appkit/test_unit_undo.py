"""A failed unit of work is undone in the read model in place (ADR 0024 amendment):
every stream state and journaled index the unit staged is put back exactly, without
replaying the log, and a model whose indexes cannot be undone is still rebuilt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appkit import AggregateStates, CommandRunner, EventIds, ModelSource, ProjectionRunner
from appkit.projections import JournaledDict, UndoJournal
from contracts.events import DomainEvent
from eventlog import AppendResult, BackendUnavailableError, FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from tests.unit.appkit.tally import EVENTS, TALLY, Add, TallyAdded, stream_for

T0 = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
NAMESPACE = uuid.UUID("00000000-0000-5000-8000-00000000a0d0")
IDS = EventIds(NAMESPACE, "{stream}@{version}/{index}/{key}")


class FailingStore(SQLiteEventStore):
    """A real SQLite log whose next multi-stream commit fails when told to, the way a
    full disk or a locked file fails it: after the unit has staged everything."""

    fail_next = False

    def append_many(self, appends: Sequence[Any]) -> list[AppendResult]:
        if self.fail_next:
            self.fail_next = False
            raise BackendUnavailableError("the disk is full (injected)")
        return super().append_many(appends)


class LargestAdd(AggregateStates):
    """A model with indexes: the largest single add and the number of adds, by amount mod 3."""

    undoable_indexes = True

    def __init__(self) -> None:
        super().__init__("tests.undo", EVENTS, [TALLY])
        self.largest: dict[str, int] = self.journaled()
        self.adds_by_stream: dict[str, int] = self.journaled()

    def applied(self, event: DomainEvent) -> None:
        # Commutative across streams: a unit folds its streams in the order it touched
        # them, the log holds them in the order it appends them (ADR 0024).
        if isinstance(event, TallyAdded):
            key = f"n{event.amount % 3}"
            self.largest[key] = max(self.largest.get(key, 0), event.amount)
            self.adds_by_stream.setdefault(key, 0)
            self.adds_by_stream[key] += 1


class PlainIndex(LargestAdd):
    """The same model, not declared undoable: a failed unit must rebuild it."""

    undoable_indexes = False


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FailingStore]:
    opened = FailingStore(
        tmp_path / "log.db",
        writer="kit",
        ownership=Ownership({"kit": {"tally"}}),
        clock=FakeClock(T0),
    )
    yield opened
    opened.close()


def snapshot(model: AggregateStates) -> dict[str, Any]:
    """Everything a model holds, comparable with ==."""
    return {
        "streams": dict(model._streams),
        "by_category": {c: dict(s) for c, s in model._by_category.items()},
        "largest": dict(getattr(model, "largest", {})),
        "adds_by_stream": dict(getattr(model, "adds_by_stream", {})),
    }


def rebuilt(store: SQLiteEventStore, create: Any) -> dict[str, Any]:
    return snapshot(ProjectionRunner(store, create).rebuild())


def unit(runner: CommandRunner, adds: list[tuple[str, int]], key: str) -> None:
    def body() -> None:
        for index, (name, amount) in enumerate(adds):
            runner.execute(
                TALLY, stream_for(name), Add(at=T0, amount=amount), actor="t", key=f"{key}.{index}"
            )

    runner.atomically(body)


def test_a_unit_that_fails_at_commit_is_undone_in_place_without_a_rebuild(
    store: FailingStore,
) -> None:
    projections = ProjectionRunner(store, LargestAdd)
    runner = CommandRunner(store, EVENTS, IDS, source=ModelSource(projections))
    unit(runner, [("a", 3), ("b", 4)], "first")
    model = projections.projection
    before = snapshot(model)

    store.fail_next = True
    with pytest.raises(BackendUnavailableError):
        unit(runner, [("a", 7), ("c", 5), ("a", 9)], "second")

    assert projections.projection is model  # not replaced by a rebuild
    assert snapshot(model) == before == rebuilt(store, LargestAdd)
    # The same unit then commits, and the model equals the log's fold.
    unit(runner, [("a", 7), ("c", 5), ("a", 9)], "second")
    projections.catch_up()
    assert snapshot(model) == rebuilt(store, LargestAdd)


def test_a_model_whose_indexes_are_not_undoable_is_rebuilt_instead(store: FailingStore) -> None:
    projections = ProjectionRunner(store, PlainIndex)
    runner = CommandRunner(store, EVENTS, IDS, source=ModelSource(projections))
    unit(runner, [("a", 3)], "first")
    model = projections.projection

    store.fail_next = True
    with pytest.raises(BackendUnavailableError):
        unit(runner, [("a", 7), ("b", 1)], "second")

    assert projections.projection is not model
    assert snapshot(projections.projection) == rebuilt(store, PlainIndex)


def test_a_model_that_folded_log_events_during_the_unit_is_rebuilt(store: FailingStore) -> None:
    projections = ProjectionRunner(store, LargestAdd)
    runner = CommandRunner(store, EVENTS, IDS, source=ModelSource(projections))
    other = CommandRunner(store, EVENTS, IDS)
    unit(runner, [("a", 3)], "first")
    model = projections.projection

    def body() -> None:
        runner.execute(TALLY, stream_for("a"), Add(at=T0, amount=2), actor="t", key="k")
        # Another writer's event folded in mid-unit: undoing entry by entry could not
        # tell it from the unit's own, so the model must be rebuilt.
        other.execute(TALLY, stream_for("z"), Add(at=T0, amount=6), actor="t", key="z")
        projections.catch_up()
        store.fail_next = True

    with pytest.raises(BackendUnavailableError):
        runner.atomically(body)

    assert projections.projection is not model
    assert snapshot(projections.projection) == rebuilt(store, LargestAdd)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.lists(
                st.tuples(st.sampled_from("abcd"), st.integers(1, 12)), min_size=1, max_size=5
            ),
            st.booleans(),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_mix_of_committed_and_failed_units_leaves_the_model_equal_to_the_log(
    tmp_path_factory: pytest.TempPathFactory, units: list[tuple[list[tuple[str, int]], bool]]
) -> None:
    folder = tmp_path_factory.mktemp("undo")
    store = FailingStore(
        folder / "log.db",
        writer="kit",
        ownership=Ownership({"kit": {"tally"}}),
        clock=FakeClock(T0),
    )
    try:
        projections = ProjectionRunner(store, LargestAdd)
        runner = CommandRunner(store, EVENTS, IDS, source=ModelSource(projections))
        model = projections.projection
        for number, (adds, fails) in enumerate(units):
            store.fail_next = fails
            try:
                unit(runner, adds, f"u{number}")
            except BackendUnavailableError:
                assert fails
            projections.catch_up()
            assert snapshot(model) == rebuilt(store, LargestAdd)
        assert projections.projection is model
    finally:
        store.close()


def test_journaled_dict_refuses_mutators_it_cannot_undo_while_recording() -> None:
    journal = UndoJournal()
    index = JournaledDict(journal)
    index.update({"x": 1})  # not recording: allowed
    journal.recording = True
    for mutate in (lambda: index.update({"y": 2}), index.clear, index.popitem):
        with pytest.raises(TypeError, match="cannot be undone"):
            mutate()
    index["y"] = 2
    del index["x"]
    journal.recording = False
    journal.undo()
    assert index == {"x": 1}
