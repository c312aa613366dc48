"""Units of work (`CommandRunner.atomically`, ADR 0024) over a real SQLite log: several
commands over several streams, each deciding against what the earlier ones staged, are
appended in one transaction or not at all, and the read model sees them exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appkit import AggregateStates, CommandRunner, EventIds, ModelSource, ProjectionRunner
from contracts.domain import InvalidCommandError
from eventlog import ConcurrencyError, FakeClock, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore
from tests.unit.appkit.tally import EVENTS, TALLY, Add, stream_for

T0 = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)
NAMESPACE = uuid.UUID("00000000-0000-5000-8000-00000000a11d")
VERSIONED = EventIds(NAMESPACE, "{stream}@{version}/{index}/{key}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteEventStore]:
    opened = SQLiteEventStore(
        tmp_path / "log.db",
        writer="kit",
        ownership=Ownership({"kit": {"tally"}}),
        clock=FakeClock(T0),
    )
    yield opened
    opened.close()


@pytest.fixture
def model(store: SQLiteEventStore) -> ProjectionRunner[AggregateStates]:
    return ProjectionRunner(store, lambda: AggregateStates("tests.unit", EVENTS, [TALLY]))


@pytest.fixture
def runner(store: SQLiteEventStore, model: ProjectionRunner[AggregateStates]) -> CommandRunner:
    return CommandRunner(store, EVENTS, VERSIONED, source=ModelSource(model))


def add(amount: int) -> Add:
    return Add(at=T0, amount=amount)


def test_a_unit_appends_every_stream_in_one_transaction_and_later_commands_see_earlier_ones(
    runner: CommandRunner, store: SQLiteEventStore, model: ProjectionRunner[AggregateStates]
) -> None:
    runner.execute(TALLY, stream_for("b"), add(1), actor="a", key="before")
    groups = store.commit_groups

    def body() -> list[int]:
        totals = []
        for stream, amount in (("a", 2), ("b", 3), ("a", 4)):
            result = runner.execute(TALLY, stream_for(stream), add(amount), actor="a", key="k")
            # Read by the service's policies mid-unit: the staged state, not the log's.
            totals.append(model.projection.state(stream_for(stream))[0].total)
            assert result.state.total == totals[-1]
        return totals

    assert runner.atomically(body) == [2, 4, 6]
    assert store.commit_groups == groups + 1  # one transaction for both streams
    assert [e.data["total"] for e in store.read_stream(stream_for("a"))] == [2, 6]
    assert [e.data["total"] for e in store.read_stream(stream_for("b"))] == [1, 4]
    # The staged events are not applied a second time by the next catch-up.
    model.catch_up()
    assert model.projection.state(stream_for("a"))[0].total == 6
    assert model.projection.state(stream_for("a"))[1] == 1
    assert model.position == store.head_position()
    rebuilt = ProjectionRunner(store, lambda: AggregateStates("x", EVENTS, [TALLY])).rebuild()
    assert rebuilt.state(stream_for("a")) == model.projection.state(stream_for("a"))
    assert store.verify(stream_for("a")).ok


def test_the_ids_a_unit_derives_are_the_ids_one_command_at_a_time_would_derive(
    runner: CommandRunner, store: SQLiteEventStore, tmp_path: Path
) -> None:
    runner.atomically(
        lambda: [
            runner.execute(TALLY, stream_for("a"), add(n), actor="a", key=f"k{n}")
            for n in (1, 2, 3)
        ]
    )
    other = SQLiteEventStore(
        tmp_path / "other.db", writer="kit", ownership=Ownership({"kit": {"tally"}})
    )
    one_by_one = CommandRunner(other, EVENTS, VERSIONED)
    for n in (1, 2, 3):
        one_by_one.execute(TALLY, stream_for("a"), add(n), actor="a", key=f"k{n}")
    assert [e.id for e in store.read_stream(stream_for("a"))] == [
        e.id for e in other.read_stream(stream_for("a"))
    ]
    other.close()


def test_a_refusal_inside_a_unit_appends_nothing_and_the_model_forgets_what_was_staged(
    runner: CommandRunner, store: SQLiteEventStore, model: ProjectionRunner[AggregateStates]
) -> None:
    runner.execute(TALLY, stream_for("a"), add(1), actor="a", key="before")
    head = store.head_position()

    def body() -> None:
        runner.execute(TALLY, stream_for("a"), add(2), actor="a", key="one")
        runner.execute(TALLY, stream_for("b"), add(5), actor="a", key="two")
        runner.execute(TALLY, stream_for("b"), add(-1), actor="a", key="bad")

    with pytest.raises(InvalidCommandError, match="amount"):
        runner.atomically(body)

    assert store.head_position() == head
    assert model.projection.state(stream_for("a"))[0].total == 1
    assert model.projection.state(stream_for("b"))[1] is None
    # The runner is usable afterwards and appends normally.
    assert runner.execute(TALLY, stream_for("a"), add(2), actor="a", key="after").version == 1


def test_a_conflict_at_commit_runs_the_unit_again_against_the_new_state(
    runner: CommandRunner, store: SQLiteEventStore, model: ProjectionRunner[AggregateStates]
) -> None:
    runner.execute(TALLY, stream_for("a"), add(1), actor="a", key="before")
    runs = 0

    def body() -> int:
        nonlocal runs
        runs += 1
        if runs == 1:
            # Another writer moves the stream after the unit loaded it.
            store.append(
                stream_for("a"),
                [NewEvent("TallyAdded", {"amount": 10, "total": 11, "added_at": T0.isoformat()})],
                0,
            )
        return int(runner.execute(TALLY, stream_for("a"), add(2), actor="a", key="k").state.total)

    assert runner.atomically(body) == 13
    assert runs == 2
    assert [e.data["total"] for e in store.read_stream(stream_for("a"))] == [1, 11, 13]
    assert model.catch_up() == store.head_position()
    assert model.projection.state(stream_for("a"))[0].total == 13


def test_conflicts_on_every_attempt_surface_after_max_attempts(
    store: SQLiteEventStore, model: ProjectionRunner[AggregateStates]
) -> None:
    runner = CommandRunner(store, EVENTS, VERSIONED, source=ModelSource(model), max_attempts=2)

    def body() -> None:
        runner.execute(TALLY, stream_for("a"), add(1), actor="a", key="k")
        store.append(
            stream_for("a"),
            [NewEvent("TallyAdded", {"amount": 1, "total": 1, "added_at": T0.isoformat()})],
            StreamState.ANY,
        )

    with pytest.raises(ConcurrencyError):
        runner.atomically(body)
    assert model.catch_up() == store.head_position()
    assert model.projection.state(stream_for("a"))[0].total == 1  # the foreign events only


class OneStreamAtATime(SQLiteEventStore):
    """A real SQLite log that declares, like EventStoreDB, no atomic multi-stream append."""

    atomic_append_many = False


def test_without_atomic_appends_a_unit_runs_its_commands_one_by_one(tmp_path: Path) -> None:
    store = OneStreamAtATime(
        tmp_path / "log.db", writer="kit", ownership=Ownership({"kit": {"tally"}})
    )
    model = ProjectionRunner(store, lambda: AggregateStates("tests.unit", EVENTS, [TALLY]))
    runner = CommandRunner(store, EVENTS, VERSIONED, source=ModelSource(model))

    def body() -> None:
        runner.execute(TALLY, stream_for("a"), add(1), actor="a", key="one")
        # Appended already: the degraded mode is today's behaviour, explicitly.
        assert [e.data["total"] for e in store.read_stream(stream_for("a"))] == [1]
        runner.execute(TALLY, stream_for("b"), add(-1), actor="a", key="bad")

    with pytest.raises(InvalidCommandError):
        runner.atomically(body)
    assert store.commit_groups == 1
    assert model.catch_up() == store.head_position()
    store.close()
