"""Conformance for `append_many`: several streams in one transaction (ADR 0024).

Run against every backend like test_conformance.py. Backends that can commit several
streams at once (`atomic_append_many`) must give each stream exactly what `append`
would, all or nothing; the others must refuse a multi-stream call clearly and append
nothing, while a one-stream call stays an ordinary append everywhere.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

import pytest

from eventlog import (
    AtomicAppendUnsupportedError,
    ConcurrencyError,
    DuplicateEventIdError,
    InvalidEventError,
    NewEvent,
    StreamAppend,
    StreamPermissionError,
    StreamState,
)
from tests.contract.eventlog.conftest import LogUnderTest


def opened(n: int = 0) -> NewEvent:
    return NewEvent("AccountOpened", {"n": n})


def deposited(n: int) -> NewEvent:
    return NewEvent("MoneyDeposited", {"n": n})


INT_KEYS: dict[Any, Any] = {1: "x"}
"""JSON keys must be strings: the port refuses this data."""


def atomic(log: LogUnderTest) -> bool:
    """True on a backend that commits several streams in one transaction. On the others
    (the EventStoreDB fake, ADR 0024) it checks the promise they make instead: a
    multi-stream call is refused clearly and appends nothing; the caller's atomic
    expectations then do not apply, so it returns without a skip."""
    if log.store.atomic_append_many:
        return True
    head = log.store.head_position()
    with pytest.raises(AtomicAppendUnsupportedError, match="one transaction"):
        log.store.append_many(
            [
                (log.stream("a"), StreamState.NO_STREAM, [opened()]),
                (log.stream("b"), StreamState.NO_STREAM, [opened()]),
            ]
        )
    assert log.store.head_position() == head
    return False


def numbers(log: LogUnderTest, stream: str) -> list[int]:
    return [event.data["n"] for event in log.store.read_stream(stream)]


def test_every_stream_is_appended_in_the_order_given_with_its_own_version(
    log: LogUnderTest,
) -> None:
    if not atomic(log):
        return
    first, second, third = log.stream("a"), log.stream("b"), log.stream("c")
    log.store.append(second, [opened(10)], StreamState.NO_STREAM)

    results = log.store.append_many(
        [
            StreamAppend(first, StreamState.NO_STREAM, [opened(0), deposited(1)]),
            (second, 0, [deposited(11)]),
            (third, StreamState.ANY, [opened(20)]),
        ]
    )

    assert [r.stream for r in results] == [first, second, third]
    assert [r.versions for r in results] == [(0, 1), (1,), (0,)]
    positions = [p for r in results for p in r.positions]
    assert positions == sorted(positions)
    assert len(set(positions)) == 4
    assert numbers(log, first) == [0, 1]
    assert numbers(log, second) == [10, 11]
    assert numbers(log, third) == [20]
    everything = list(log.store.read_all(from_position=positions[0]))
    assert [e.position for e in everything if e.category == log.category] == positions
    for stream in (first, second, third):
        report = log.store.verify(stream)
        assert report.ok, report.findings
    # The chain continues across an ordinary append afterwards.
    log.store.append(second, [deposited(12)], 1)
    assert log.store.verify(second).ok


def test_one_wrong_expected_version_appends_nothing_to_any_stream(log: LogUnderTest) -> None:
    if not atomic(log):
        return
    good, stale = log.stream("good"), log.stream("stale")
    log.store.append(stale, [opened(), deposited(1)], StreamState.NO_STREAM)
    head = log.store.head_position()

    with pytest.raises(ConcurrencyError, match="expected version 0") as info:
        log.store.append_many(
            [(good, StreamState.NO_STREAM, [opened()]), (stale, 0, [deposited(2)])]
        )

    assert info.value.stream == stale
    assert log.store.read_stream(good) == []
    assert numbers(log, stale) == [0, 1]
    assert log.store.head_position() == head
    # The same call with the right version then succeeds, and the chains verify.
    log.store.append_many([(good, StreamState.NO_STREAM, [opened()]), (stale, 1, [deposited(2)])])
    assert log.store.verify(good).ok
    assert log.store.verify(stale).ok


def test_a_retry_returns_the_original_positions_and_writes_nothing(log: LogUnderTest) -> None:
    if not atomic(log):
        return
    appends = [
        (log.stream("a"), StreamState.NO_STREAM, [opened(), deposited(1)]),
        (log.stream("b"), StreamState.NO_STREAM, [opened(5)]),
    ]
    first = log.store.append_many(appends)
    head = log.store.head_position()

    again = log.store.append_many(appends)  # expected versions are stale now

    assert again == first
    assert log.store.head_position() == head
    assert numbers(log, log.stream("a")) == [0, 1]


def test_a_stream_already_holding_its_batch_answers_from_the_log_while_the_others_append(
    log: LogUnderTest,
) -> None:
    if not atomic(log):
        return
    done_batch = [opened(1)]
    done = log.store.append(log.stream("done"), done_batch, StreamState.NO_STREAM)

    results = log.store.append_many(
        [
            (log.stream("new"), StreamState.NO_STREAM, [opened(2)]),
            (log.stream("done"), StreamState.NO_STREAM, done_batch),
        ]
    )

    assert results[1] == done
    assert results[0].versions == (0,)
    assert numbers(log, log.stream("done")) == [1]
    assert numbers(log, log.stream("new")) == [2]


def test_a_partial_repeat_of_stored_ids_fails_the_whole_call(log: LogUnderTest) -> None:
    if not atomic(log):
        return
    repeated = opened()
    log.store.append(log.stream("a"), [repeated], StreamState.NO_STREAM)
    head = log.store.head_position()

    with pytest.raises(DuplicateEventIdError):
        log.store.append_many(
            [
                (log.stream("b"), StreamState.NO_STREAM, [opened(1)]),
                (log.stream("a"), StreamState.ANY, [repeated, deposited(1)]),
            ]
        )

    assert log.store.head_position() == head
    assert log.store.read_stream(log.stream("b")) == []


@pytest.mark.parametrize(
    ("appends", "field"),
    [
        ([], "appends"),
        ("x", "appends"),
        ([("x",)], "appends[0]"),
        ([("{s}-a", StreamState.NO_STREAM, [opened()]), ("{s}-a", 0, [opened(1)])], "appends[1]"),
        (
            [("{s}-a", StreamState.NO_STREAM, [opened()]), ("{s}-b", "soon", [opened(1)])],
            "appends[1].expected_version",
        ),
        (
            [
                ("{s}-a", StreamState.NO_STREAM, [opened()]),
                ("{s}-b", StreamState.NO_STREAM, [NewEvent("AccountOpened", INT_KEYS)]),
            ],
            "appends[1].events[0].data",
        ),
    ],
    ids=["empty", "not-a-list", "not-a-triple", "stream-twice", "bad-version", "bad-data"],
)
def test_bad_input_names_the_field_and_appends_nothing(
    log: LogUnderTest, appends: object, field: str
) -> None:
    if isinstance(appends, list):
        appends = [
            tuple(part.format(s=log.category) if isinstance(part, str) else part for part in item)
            for item in appends
        ]
    head = log.store.head_position()
    with pytest.raises(InvalidEventError) as info:
        log.store.append_many(appends)  # type: ignore[arg-type]
    assert info.value.field.startswith(field), info.value.field
    assert log.store.head_position() == head


def test_the_same_event_id_in_two_streams_is_refused(log: LogUnderTest) -> None:
    shared = opened()
    with pytest.raises(InvalidEventError, match="also in appends") as info:
        log.store.append_many(
            [
                (log.stream("a"), StreamState.NO_STREAM, [shared]),
                (log.stream("b"), StreamState.NO_STREAM, [shared]),
            ]
        )
    assert info.value.field == "appends[1].events[0].id"
    assert log.store.read_stream(log.stream("a")) == []


def test_a_stream_the_writer_does_not_own_fails_the_whole_call(log: LogUnderTest) -> None:
    head = log.store.head_position()
    with pytest.raises(StreamPermissionError):
        log.store.append_many(
            [
                (log.stream("a"), StreamState.NO_STREAM, [opened()]),
                (f"{log.other_category}-1", StreamState.NO_STREAM, [opened()]),
            ]
        )
    assert log.store.head_position() == head


def test_one_stream_is_an_ordinary_append_on_every_backend(log: LogUnderTest) -> None:
    [result] = log.store.append_many([(log.stream(), StreamState.NO_STREAM, [opened()])])
    assert result.versions == (0,)
    assert log.store.verify(log.stream()).ok


def test_several_streams_commit_together_or_are_refused_and_append_nothing(
    log: LogUnderTest,
) -> None:
    # Each backend keeps one of the two promises; `atomic` checks the refusal.
    if not atomic(log):
        return
    results = log.store.append_many(
        [
            (log.stream("a"), StreamState.NO_STREAM, [opened()]),
            (log.stream("b"), StreamState.NO_STREAM, [opened()]),
        ]
    )
    assert [r.versions for r in results] == [(0,), (0,)]


def test_racing_multi_stream_writers_never_interleave_a_partial_call(log: LogUnderTest) -> None:
    """Each writer moves two shared streams together; whatever the interleaving, both
    streams end with the same history and unbroken chains."""
    if not atomic(log):
        return
    left, right = log.stream("left"), log.stream("right")
    log.store.append_many(
        [(left, StreamState.NO_STREAM, [opened()]), (right, StreamState.NO_STREAM, [opened()])]
    )
    writers, rounds = 4, 5
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        store = log.open("writer")
        try:
            start.wait()
            for turn in range(rounds):
                while True:
                    version = store.current_version(left)
                    assert version is not None
                    tag = number * 100 + turn
                    try:
                        store.append_many(
                            [(left, version, [deposited(tag)]), (right, version, [deposited(tag)])]
                        )
                        break
                    except ConcurrencyError:
                        continue
        except BaseException as exc:
            failures.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert numbers(log, left) == numbers(log, right)
    assert len(numbers(log, left)) == 1 + writers * rounds
    for stream in (left, right):
        events = log.store.read_stream(stream)
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
        assert log.store.verify(stream).ok
