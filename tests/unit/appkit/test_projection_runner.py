"""The projection runner: catch-up from the checkpoint, read-your-writes, rebuild in one
call; and the aggregate-state model the command runner can load from."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appkit import AggregateStates, CommandRunner, EventIds, ModelSource, ProjectionRunner
from eventlog import EventFilter, FakeClock, NewEvent, Ownership, RecordedEvent, StreamState
from eventlog import sqlite as sqlite_backend
from eventlog.sqlite import SQLiteEventStore
from tests.unit.appkit.tally import EVENTS, TALLY, Add, Close, stream_for
from tests.unit.appkit.test_command_runner import ConflictingStore

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
NAMESPACE = uuid.UUID("00000000-0000-5000-8000-00000000a11c")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SQLiteEventStore]:
    store = SQLiteEventStore(
        tmp_path / "log.db",
        writer="kit",
        ownership=Ownership({"kit": {"tally", "noise"}}),
        clock=clock,
    )
    yield store
    store.close()


class Totals:
    """Each tally's total, counting how often `apply` ran."""

    name = "tests.totals"
    filter = EventFilter.of(categories=["tally"])

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.applied = 0

    def apply(self, event: RecordedEvent) -> None:
        self.applied += 1
        if event.type == "TallyAdded":
            self.totals[event.stream] = int(event.data["total"])


def add(runner: CommandRunner, name: str, amount: int, clock: FakeClock) -> int:
    return runner.execute(TALLY, stream_for(name), Add(clock(), amount), actor="a").position


def noise(store: SQLiteEventStore) -> int:
    return store.append("noise-1", [NewEvent("NoiseMade", {})], StreamState.ANY).last_position


@pytest.fixture
def runner(store: SQLiteEventStore) -> CommandRunner:
    return CommandRunner(store, EVENTS, EventIds(NAMESPACE))


def test_catching_up_applies_only_what_was_committed_since_the_checkpoint(
    store: SQLiteEventStore, runner: CommandRunner, clock: FakeClock
) -> None:
    projections = ProjectionRunner(store, Totals)
    add(runner, "a", 2, clock)
    assert projections.catch_up() == 1
    add(runner, "a", 3, clock)
    last = add(runner, "b", 1, clock)
    assert projections.catch_up() == last
    assert projections.projection.applied == 3
    assert projections.catch_up() == last  # nothing new: nothing applied twice
    assert projections.projection.applied == 3
    assert projections.projection.totals == {stream_for("a"): 5, stream_for("b"): 1}


def test_refresh_reads_the_log_only_when_the_watch_says_it_grew(
    store: SQLiteEventStore,
    runner: CommandRunner,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The fallback read pushed past the test: only an append's ring can explain a read.
    monkeypatch.setattr(sqlite_backend, "FALLBACK_POLL_SECONDS", 600.0)
    projections = ProjectionRunner(store, Totals)
    watch = store.watch_appends()
    add(runner, "a", 2, clock)
    assert projections.refresh(watch) == 1  # a watch's first answer is always yes
    reads = projections.reads
    assert projections.refresh(watch) == 1
    assert projections.reads == reads  # nothing appended since: the log was not read
    # An append through another handle on the file (as another process) rings it, so
    # the very next refresh reads it.
    other = SQLiteEventStore(
        store.path, writer="kit", ownership=Ownership({"kit": {"tally"}}), clock=clock
    )
    try:
        last = add(CommandRunner(other, EVENTS, EventIds(NAMESPACE)), "a", 3, clock)
    finally:
        other.close()
    assert projections.refresh(watch) == last
    assert projections.reads == reads + 1
    assert projections.projection.totals == {stream_for("a"): 5}


def test_a_projection_sees_only_the_events_it_declares(
    store: SQLiteEventStore, runner: CommandRunner, clock: FakeClock
) -> None:
    projections = ProjectionRunner(store, Totals)
    add(runner, "a", 2, clock)
    skipped = noise(store)
    assert projections.catch_up() == 1
    assert projections.projection.applied == 1
    # Read-your-writes holds for a position the filter skips, too.
    assert projections.wait_for(skipped)
    assert not projections.wait_for(skipped + 1)


def test_rebuild_drops_the_model_and_replays_the_log_into_an_equal_one(
    store: SQLiteEventStore, runner: CommandRunner, clock: FakeClock
) -> None:
    projections = ProjectionRunner(store, Totals)
    for amount in (1, 2, 3):
        add(runner, "a", amount, clock)
        projections.catch_up()
    before = projections.projection
    before.totals["corrupted"] = 99
    rebuilt = projections.rebuild()
    assert rebuilt is not before
    assert rebuilt.totals == {stream_for("a"): 6}
    assert (rebuilt.applied, projections.position) == (3, store.head_position())


def states(store: SQLiteEventStore) -> ProjectionRunner[AggregateStates]:
    return ProjectionRunner(store, lambda: AggregateStates("tests.states", EVENTS, [TALLY]))


def test_aggregate_states_hold_each_streams_state_and_version(
    store: SQLiteEventStore, runner: CommandRunner, clock: FakeClock
) -> None:
    add(runner, "a", 2, clock)
    add(runner, "a", 3, clock)
    runner.execute(TALLY, stream_for("b"), Close(clock()), actor="a")
    noise(store)
    model = states(store)
    model.catch_up()
    state, version = model.projection.state(stream_for("a"))
    assert (state.total, version) == (5, 1)
    assert model.projection.state(stream_for("never")) == (TALLY.initial, None)
    assert sorted(s.closed for s in model.projection.states("tally")) == [False, True]


@pytest.mark.parametrize("read_back", [True, False], ids=["read back", "no read back"])
def test_a_runner_loading_from_the_model_sees_other_writers_and_retries_a_stale_read(
    store: SQLiteEventStore, runner: CommandRunner, clock: FakeClock, read_back: bool
) -> None:
    model = states(store)
    add(runner, "a", 1, clock)
    racy = ConflictingStore(store, conflicts=1)
    from_model = CommandRunner(
        racy,  # type: ignore[arg-type]
        EVENTS,
        EventIds(NAMESPACE),
        source=ModelSource(model, read_back=read_back),
    )
    result = from_model.execute(TALLY, stream_for("a"), Add(clock(), 1), actor="m")
    assert (racy.attempts, result.version, result.state.total) == (2, 2, 1)
    if read_back:
        # The model caught up after the append: the next load needs no read of the stream.
        assert model.projection.state(stream_for("a"))[1] == 2
        assert model.position == store.head_position()


def test_without_read_back_a_command_leaves_its_append_to_the_next_catch_up(
    store: SQLiteEventStore, runner: CommandRunner, clock: FakeClock
) -> None:
    """ADR 0029: the append is not read back right after the command, yet nothing can
    decide or read without it: the next load catches up first."""
    model = states(store)
    lazy = CommandRunner(
        store, EVENTS, EventIds(NAMESPACE), source=ModelSource(model, read_back=False)
    )
    first = lazy.execute(TALLY, stream_for("a"), Add(clock(), 2), actor="m")
    assert model.position < first.position, "read back although read_back=False"
    # Another writer moves the same stream meanwhile: the next command still sees it.
    add(runner, "a", 3, clock)
    second = lazy.execute(TALLY, stream_for("a"), Add(clock(), 4), actor="m")
    assert (second.version, second.state.total) == (2, 9)
    assert model.catch_up() == store.head_position()
    assert model.projection.state(stream_for("a")) == (second.state, 2)


def counted(model: ProjectionRunner[AggregateStates]) -> list[int]:
    """Every catch-up of `model` from now on, as the checkpoint it returned."""
    calls: list[int] = []
    original = model.catch_up

    def catch_up() -> int:
        calls.append(original())
        return calls[-1]

    model.catch_up = catch_up  # type: ignore[method-assign]
    return calls


def test_a_load_right_after_a_catch_up_skips_the_read_but_a_stale_one_still_retries(
    store: SQLiteEventStore, runner: CommandRunner, clock: FakeClock
) -> None:
    """ADR 0029: inside `current()` the first load decides on the model as the caller
    just caught it up. An event appended after that catch-up is still seen: the append
    meets the moved stream and the retry reads the log."""
    model = states(store)
    source = ModelSource(model, read_back=False)
    lazy = CommandRunner(store, EVENTS, EventIds(NAMESPACE), source=source)
    add(runner, "a", 1, clock)
    model.catch_up()
    reads = counted(model)
    with source.current():
        add(runner, "a", 2, clock)  # another writer, after the caller's catch-up
        result = lazy.execute(TALLY, stream_for("a"), Add(clock(), 4), actor="m")
    assert (result.version, result.state.total) == (2, 7)
    assert len(reads) == 1, "only the retry after the conflict reads the log"


def test_only_the_first_load_inside_current_skips_the_read(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    model = states(store)
    source = ModelSource(model, read_back=False)
    lazy = CommandRunner(store, EVENTS, EventIds(NAMESPACE), source=source)
    model.catch_up()
    reads = counted(model)
    with source.current():
        first = lazy.execute(TALLY, stream_for("a"), Add(clock(), 1), actor="m")
        assert reads == []  # neither loaded nor read back
        # The second command must see the first one's append: its load reads the log.
        second = lazy.execute(TALLY, stream_for("a"), Add(clock(), 2), actor="m")
    assert (second.version, second.state.total) == (1, 3)
    assert reads == [first.position]
    with source.current():
        pass
    lazy.execute(TALLY, stream_for("a"), Add(clock(), 3), actor="m")
    assert len(reads) == 2, "the block ended: a load outside it reads the log again"
