"""The command runner over a real SQLite log: idempotency by key, bounded retry on a
conflict, metadata filled one way, and refusals surfacing unchanged."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appkit import Aggregate, CommandRunner, EventIds, acting_with, uncorrelated
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from eventlog import (
    AppendResult,
    ConcurrencyError,
    EventStore,
    ExpectedVersion,
    FakeClock,
    NewEvent,
    Ownership,
    StreamState,
)
from eventlog.sqlite import SQLiteEventStore
from tests.unit.appkit.tally import EVENTS, TALLY, Add, Close, TallyAdded, stream_for

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
NAMESPACE = uuid.UUID("00000000-0000-5000-8000-00000000a11c")
STREAM = stream_for("t1")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SQLiteEventStore]:
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="kit", ownership=Ownership({"kit": {"tally"}}), clock=clock
    )
    yield store
    store.close()


@pytest.fixture
def runner(store: SQLiteEventStore) -> CommandRunner:
    return CommandRunner(store, EVENTS, EventIds(NAMESPACE))


def add(clock: FakeClock, amount: int) -> Add:
    return Add(at=clock(), amount=amount)


def test_a_command_appends_what_the_decider_decided_and_returns_the_state_after(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    first = runner.execute(TALLY, STREAM, add(clock, 2), actor="alice")
    second = runner.execute(TALLY, STREAM, add(clock, 3), actor="alice")
    assert (second.version, second.event_types, second.state.total) == (1, ("TallyAdded",), 5)
    assert second.position == store.head_position() > first.position
    assert second.appended
    assert isinstance(second.events[0], TallyAdded)
    assert not second.replayed


def test_a_decision_of_nothing_appends_nothing_and_reports_position_zero(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    runner.execute(TALLY, STREAM, add(clock, 2), actor="a")
    head = store.head_position()
    result = runner.execute(TALLY, STREAM, add(clock, 0), actor="a")
    assert (result.version, result.position, result.event_types) == (0, 0, ())
    assert not result.appended
    assert result.state.total == 2
    assert store.head_position() == head


def test_the_same_key_twice_returns_the_original_result_and_appends_nothing(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    first = runner.execute(TALLY, STREAM, add(clock, 2), actor="a", key="k1")
    runner.execute(TALLY, STREAM, add(clock, 5), actor="a")
    head = store.head_position()
    again = runner.execute(TALLY, STREAM, add(clock, 2), actor="a", key="k1")
    assert again.replayed
    assert (again.version, again.position, again.event_types) == (
        first.version,
        first.position,
        ("TallyAdded",),
    )
    assert again.state.total == 7  # the aggregate as it is now
    assert store.head_position() == head


def test_event_ids_derive_from_the_key_by_the_service_formula(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    ids = EventIds(NAMESPACE, "{id}/{key}/{index}")
    runner = CommandRunner(store, EVENTS, ids)
    runner.execute(TALLY, STREAM, add(clock, 1), actor="a", key="k1")
    runner.execute(TALLY, STREAM, add(clock, 1), actor="a")
    recorded = store.read_stream(STREAM)
    assert recorded[0].id == uuid.uuid5(NAMESPACE, "t1/k1/0")
    assert recorded[1].id != uuid.uuid5(NAMESPACE, "t1/None/0")  # no key: a fresh id


def test_without_replays_a_key_names_a_slot_and_the_command_is_decided_again(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    runner = CommandRunner(store, EVENTS, EventIds(NAMESPACE), replays=False)
    runner.execute(TALLY, STREAM, Close(at=clock()), actor="timer", key="settle")
    # A different command competing for the same slot is decided against what is now
    # recorded: here the decider refuses, where a replay would have answered "done".
    with pytest.raises(PreconditionFailedError):
        runner.execute(TALLY, STREAM, add(clock, 1), actor="late", key="settle")
    assert len(store.read_stream(STREAM)) == 1


def test_a_different_key_is_a_different_command(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    runner.execute(TALLY, STREAM, add(clock, 2), actor="a", key="k1")
    other = runner.execute(TALLY, STREAM, add(clock, 2), actor="a", key="k2")
    assert not other.replayed
    assert other.state.total == 4


def test_versioned_ids_let_the_same_cause_decide_again_later_but_collapse_a_race(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    ids = EventIds(NAMESPACE, "{stream}@{version}/{index}/{key}")
    runner = CommandRunner(store, EVENTS, ids)
    runner.execute(TALLY, STREAM, add(clock, 1), actor="a", key="tick")
    later = runner.execute(TALLY, STREAM, add(clock, 1), actor="a", key="tick")
    assert (later.replayed, later.state.total) == (False, 2)
    # Two writers that decided the same thing at the same version write one copy.
    new = EVENTS.to_new_event(
        TallyAdded(amount=1, total=3, added_at=clock()),
        event_id=ids.derive(STREAM, "tick", 1, 0),
    )
    store.append(STREAM, [new], 1)
    store.append(STREAM, [new], 1)  # the racing twin: same id, dropped by the log
    assert [e.data["total"] for e in store.read_stream(STREAM)] == [1, 2, 3]


class ConflictingStore:
    """A store in which another writer appends just before each of our first
    `conflicts` appends, so each of them meets a moved stream."""

    def __init__(self, store: EventStore, conflicts: int) -> None:
        self.store = store
        self.conflicts = conflicts
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def append(
        self, stream: str, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> AppendResult:
        self.attempts += 1
        if self.conflicts:
            self.conflicts -= 1
            rival = TallyAdded(amount=10, total=0, added_at=T0)
            self.store.append(stream, [EVENTS.to_new_event(rival)], StreamState.ANY)
        return self.store.append(stream, events, expected_version)


@pytest.fixture
def seeded(store: SQLiteEventStore, clock: FakeClock) -> SQLiteEventStore:
    CommandRunner(store, EVENTS, EventIds(NAMESPACE)).execute(
        TALLY, STREAM, add(clock, 1), actor="seed"
    )
    return store


def test_a_conflict_reloads_and_decides_again(seeded: SQLiteEventStore, clock: FakeClock) -> None:
    racy = ConflictingStore(seeded, conflicts=2)
    runner = CommandRunner(racy, EVENTS, EventIds(NAMESPACE))  # type: ignore[arg-type]
    result = runner.execute(TALLY, STREAM, add(clock, 1), actor="a")
    assert racy.attempts == 3
    assert result.version == 3  # seed, two rivals, ours: decided against the rivals' state
    assert result.state.adds == 4


def test_retries_are_bounded_and_the_conflict_then_surfaces(
    seeded: SQLiteEventStore, clock: FakeClock
) -> None:
    racy = ConflictingStore(seeded, conflicts=100)
    runner = CommandRunner(racy, EVENTS, EventIds(NAMESPACE), max_attempts=3)  # type: ignore[arg-type]
    with pytest.raises(ConcurrencyError):
        runner.execute(TALLY, STREAM, add(clock, 1), actor="a")
    assert racy.attempts == 3
    assert [e.metadata.actor for e in seeded.read_stream(STREAM)].count("a") == 0


def test_metadata_names_actor_causation_and_the_stream_as_correlation(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    runner.execute(TALLY, STREAM, add(clock, 1), actor="alice", causation_id="cmd-7")
    runner.execute(TALLY, STREAM, add(clock, 1), actor="bob", correlation_id="incident-9")
    first, second = (e.metadata for e in store.read_stream(STREAM))
    assert (first.actor, first.causation_id, first.correlation_id) == ("alice", "cmd-7", "t1")
    assert (second.actor, second.causation_id, second.correlation_id) == (
        "bob",
        None,
        "incident-9",
    )
    assert first.occurred_at is None


def test_an_aggregate_may_correlate_by_its_state_after_the_command_or_not_at_all(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    by_total = replace(TALLY, correlation=lambda stream, state: f"total-{state.total}")
    runner = CommandRunner(store, EVENTS, EventIds(NAMESPACE))
    runner.execute(by_total, STREAM, add(clock, 4), actor="a")
    runner.execute(replace(TALLY, correlation=uncorrelated), STREAM, add(clock, 1), actor="a")
    assert [e.metadata.correlation_id for e in store.read_stream(STREAM)] == ["total-4", None]


def test_the_service_hook_says_when_an_event_happened_if_not_when_recorded(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    earlier = T0 - timedelta(minutes=15)
    runner = CommandRunner(
        store,
        EVENTS,
        EventIds(NAMESPACE),
        occurred_at=lambda event: earlier if isinstance(event, TallyAdded) else None,
    )
    runner.execute(TALLY, STREAM, add(clock, 1), actor="a")
    runner.execute(TALLY, STREAM, Close(at=clock()), actor="a")
    assert [e.metadata.occurred_at for e in store.read_stream(STREAM)] == [earlier, None]


def test_record_appends_at_any_version_with_the_metadata_execute_would_give(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    # A counter stream (incident numbers): appended to without being read, its events
    # get the same metadata as a command's, credential included.
    runner.execute(TALLY, STREAM, add(clock, 1), actor="setup")
    event = TallyAdded(amount=1, total=0, added_at=clock())
    counter = uuid.uuid5(NAMESPACE, "counted/1")
    with acting_with("ops-token"):
        first = runner.record(
            STREAM,
            [event],
            actor="alice",
            event_ids=[counter],
            causation_id="cmd-7",
            correlation_id="incident-9",
        )
        again = runner.record(STREAM, [event], actor="alice", event_ids=[counter])
    recorded = store.read_stream(STREAM)[-1]
    assert (first.current_version, recorded.id) == (1, counter)
    metadata = recorded.metadata
    assert (metadata.actor, metadata.causation_id, metadata.correlation_id) == (
        "alice",
        "cmd-7",
        "incident-9",
    )
    assert metadata.credential == "ops-token"
    # The same id again appends nothing and answers with the original version.
    assert (again.replayed, again.current_version) == (True, 1)
    assert len(store.read_stream(STREAM)) == 2
    with pytest.raises(ValueError, match="2 event ids for 1 events"):
        runner.record(STREAM, [event], actor="a", event_ids=[counter, counter])


def test_refusals_surface_unchanged_and_append_nothing(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    with pytest.raises(InvalidCommandError) as invalid:
        runner.execute(TALLY, STREAM, add(clock, -1), actor="a")
    assert invalid.value.field == "amount"
    runner.execute(TALLY, STREAM, Close(at=clock()), actor="a")
    with pytest.raises(PreconditionFailedError, match="closed"):
        runner.execute(TALLY, STREAM, add(clock, 1), actor="a")
    assert len(store.read_stream(STREAM)) == 1


def test_a_missing_stream_is_not_found_when_the_caller_says_it_must_exist(
    runner: CommandRunner, store: SQLiteEventStore, clock: FakeClock
) -> None:
    with pytest.raises(NotFoundError, match="no tally t1"):
        runner.execute(TALLY, STREAM, add(clock, 1), actor="a", not_found="no tally t1")
    assert store.head_position() == 0


def test_prepare_completes_the_command_only_when_it_will_be_decided(
    runner: CommandRunner, clock: FakeClock
) -> None:
    prepared: list[int] = []

    def prepare(command: Add) -> Add:
        prepared.append(command.amount)
        return replace(command, amount=command.amount * 10)

    with pytest.raises(NotFoundError):
        runner.execute(TALLY, STREAM, add(clock, 1), actor="a", not_found="x", prepare=prepare)
    first = runner.execute(TALLY, STREAM, add(clock, 1), actor="a", key="k", prepare=prepare)
    again = runner.execute(TALLY, STREAM, add(clock, 1), actor="a", key="k", prepare=prepare)
    assert (first.state.total, again.replayed, prepared) == (10, True, [1])


def test_read_rebuilds_an_aggregate_as_it_stood_at_a_time(
    runner: CommandRunner, clock: FakeClock
) -> None:
    runner.execute(TALLY, STREAM, add(clock, 1), actor="a")
    clock.advance(60)
    runner.execute(TALLY, STREAM, add(clock, 1), actor="a")
    then = runner.read(TALLY, STREAM, until=T0 + timedelta(seconds=30))
    assert (then.state.total, then.version) == (1, 0)
    assert runner.read(TALLY, stream_for("nobody")).exists is False


def test_an_id_template_that_could_repeat_an_id_is_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        EventIds(NAMESPACE, "{stream}/{index}")
    with pytest.raises(ValueError, match="stream"):
        EventIds(NAMESPACE, "{key}/{index}")
    single = EventIds(NAMESPACE, "{stream}/{key}")
    assert single.derive(STREAM, "k", None, 0) == uuid.uuid5(NAMESPACE, f"{STREAM}/k")
    with pytest.raises(ValueError, match="no \\{index\\}"):
        single.derive(STREAM, "k", None, 1)
    with pytest.raises(ValueError, match="unknown"):
        EventIds(NAMESPACE, "{stream}/{key}/{index}/{when}")
    assert EventIds(NAMESPACE, "{stream}@{version}/{index}/{key}").versioned


def test_an_aggregate_is_a_plain_value_of_the_domain_functions() -> None:
    assert isinstance(TALLY, Aggregate)
    assert TALLY.decide(Close(at=T0), TALLY.initial)[0].event_type() == "TallyClosed"


class _LoadedBefore:
    """A state source that hands out what it loaded before another process appended:
    the moment two workers both decided the same command, before either committed."""

    def __init__(self, store: SQLiteEventStore) -> None:
        self.log = CommandRunner(store, EVENTS, EventIds(NAMESPACE)).log
        self.loaded: dict[str, Any] = {}

    def snapshot(self, stream: str) -> None:
        self.loaded[stream] = self.log.load(stream, TALLY)

    def load(self, stream: str, decider: Any) -> Any:
        return self.loaded[stream]

    def appended(self, stream: str) -> None:
        pass


def test_the_same_command_decided_twice_at_one_version_is_appended_once_and_the_second_is_told(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    # Versioned ids (as runbooks derives its attempts): both deciders derive the same
    # ids, the log stores the first batch, and answers the second as its retry.
    ids = EventIds(NAMESPACE, "{stream}@{version}/{index}/{key}")
    stale = _LoadedBefore(store)
    first = CommandRunner(store, EVENTS, ids)
    second = CommandRunner(store, EVENTS, ids, source=stale)
    first.execute(TALLY, stream_for("a"), add(clock, 1), actor="a", key="setup")
    stale.snapshot(stream_for("a"))
    command = add(clock, 5)

    won = first.execute(TALLY, stream_for("a"), command, actor="a", key="request")
    lost = second.execute(TALLY, stream_for("a"), command, actor="b", key="request")

    assert won.appended
    assert not won.replayed
    # Nothing of it is this call's own: a caller acting on `events` acts once in all.
    assert lost.replayed
    assert lost.events == ()
    assert (lost.version, lost.position) == (won.version, won.position)
    assert [e.data["total"] for e in store.read_stream(stream_for("a"))] == [1, 6]
