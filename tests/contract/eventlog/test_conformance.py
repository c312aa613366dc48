"""The event-log conformance suite: written once, run against every backend.

Every test names the behaviour it proves. Tests never assume an empty log (a real
EventStoreDB may be shared): they use private categories and positions relative to the
head they found.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventlog import (
    GENESIS_HASH,
    MAX_EVENT_BYTES,
    ConcurrencyError,
    DuplicateEventIdError,
    EventFilter,
    EventMetadata,
    InvalidEventError,
    NewEvent,
    Ownership,
    RecordedEvent,
    StreamPermissionError,
    StreamState,
    Tampering,
)
from eventlog.chain import event_hash, format_timestamp
from eventlog.identity import IDENTITY_STREAM
from eventlog.port import READ_BATCH
from tests.contract.eventlog.conftest import LogUnderTest
from tests.contract.eventlog.harness import ForgedEvent


def opened(n: int = 0, **extra: Any) -> NewEvent:
    return NewEvent("AccountOpened", {"n": n, **extra})


def deposited(n: int) -> NewEvent:
    return NewEvent("MoneyDeposited", {"n": n})


def mine(log: LogUnderTest, events: list[RecordedEvent]) -> list[RecordedEvent]:
    return [e for e in events if e.category in (log.category, log.other_category)]


# ---------------------------------------------------------------- appending and reading


def test_first_append_creates_the_stream_at_version_zero(log: LogUnderTest) -> None:
    result = log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)

    assert result.versions == (0,)
    assert result.positions[0] > log.start_position
    assert log.store.current_version(log.stream()) == 0
    [event] = log.store.read_stream(log.stream())
    assert (event.stream, event.version, event.position) == (log.stream(), 0, result.positions[0])
    assert event.type == "AccountOpened"
    assert event.data == {"n": 0}
    assert event.schema_version == 1


def test_versions_have_no_gaps_and_positions_strictly_increase(log: LogUnderTest) -> None:
    store = log.store
    store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    store.append(log.stream(), [deposited(1), deposited(2), deposited(3)], 0)
    store.append(log.stream("2"), [opened()], StreamState.NO_STREAM)
    store.append(log.stream(), [deposited(4)], 3)

    events = store.read_stream(log.stream())
    assert [e.version for e in events] == [0, 1, 2, 3, 4]
    assert [e.data["n"] for e in events] == [0, 1, 2, 3, 4]
    positions = [
        e.position for e in mine(log, list(store.read_all(from_position=log.start_position + 1)))
    ]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions) == 6


def test_a_batch_is_appended_atomically_with_consecutive_versions(log: LogUnderTest) -> None:
    result = log.store.append(
        log.stream(), [opened(), deposited(1), deposited(2)], StreamState.NO_STREAM
    )
    assert result.versions == (0, 1, 2)
    assert list(result.positions) == sorted(result.positions)


def test_read_stream_forwards_backwards_from_a_version_with_a_limit(log: LogUnderTest) -> None:
    log.store.append(
        log.stream(), [opened(0)] + [deposited(n) for n in range(1, 6)], StreamState.NO_STREAM
    )

    def ns(events: list[RecordedEvent]) -> list[int]:
        return [e.version for e in events]

    assert ns(log.store.read_stream(log.stream(), from_version=2)) == [2, 3, 4, 5]
    assert ns(log.store.read_stream(log.stream(), from_version=2, limit=2)) == [2, 3]
    assert ns(log.store.read_stream(log.stream(), backwards=True)) == [5, 4, 3, 2, 1, 0]
    assert ns(log.store.read_stream(log.stream(), backwards=True, from_version=3, limit=2)) == [
        3,
        2,
    ]
    assert ns(log.store.read_stream(log.stream(), backwards=True, limit=1)) == [5]
    assert log.store.read_stream(log.stream("missing")) == []
    assert log.store.current_version(log.stream("missing")) is None


def test_read_all_returns_commit_order_and_filters_by_category_and_type(log: LogUnderTest) -> None:
    other_writer = log.open("someone_else")
    log.store.append(log.stream("a"), [opened(1)], StreamState.NO_STREAM)
    other_writer.append(f"{log.other_category}-x", [opened(2)], StreamState.NO_STREAM)
    log.store.append(log.stream("a"), [deposited(3)], 0)
    log.store.append(log.stream("b"), [opened(4)], StreamState.NO_STREAM)

    everything = mine(log, list(log.store.read_all(from_position=log.start_position + 1)))
    assert [e.data["n"] for e in everything] == [1, 2, 3, 4]

    by_category = list(
        log.store.read_all(
            from_position=log.start_position + 1, filter=EventFilter.of(categories=[log.category])
        )
    )
    assert [e.data["n"] for e in by_category] == [1, 3, 4]

    by_type = mine(
        log,
        list(
            log.store.read_all(
                from_position=log.start_position + 1,
                filter=EventFilter.of(event_types=["MoneyDeposited"]),
            )
        ),
    )
    assert [e.data["n"] for e in by_type] == [3]

    from_second = list(
        log.store.read_all(
            from_position=everything[1].position, filter=EventFilter.of(categories=[log.category])
        )
    )
    assert [e.data["n"] for e in from_second] == [3, 4], "from_position is inclusive"
    limited = mine(log, list(log.store.read_all(from_position=log.start_position + 1, limit=2)))
    assert len(limited) <= 2


def test_read_all_pages_through_more_events_than_one_batch(log: LogUnderTest) -> None:
    total = READ_BATCH + 250
    for start in range(0, total, 500):
        expected = StreamState.NO_STREAM if start == 0 else start - 1
        log.store.append(
            log.stream(), [deposited(n) for n in range(start, min(start + 500, total))], expected
        )
    seen = list(
        log.store.read_all(
            from_position=log.start_position + 1, filter=EventFilter.of(categories=[log.category])
        )
    )
    assert [e.data["n"] for e in seen] == list(range(total))
    assert len(log.store.read_stream(log.stream())) == total


def test_data_and_metadata_round_trip_exactly(log: LogUnderTest) -> None:
    occurred = datetime(2026, 11, 27, 2, 10, 0, 123456, tzinfo=UTC)
    data = {"title": "Überlastung 🔥", "nested": {"list": [1, 2.5, None, True]}, "big": 2**53 + 1}
    metadata = EventMetadata(
        correlation_id="incident-42",
        causation_id=str(uuid.uuid4()),
        actor="alice",
        occurred_at=occurred,
        credential="alice-laptop",
    )
    event_id = uuid.uuid4()
    log.store.append(
        log.stream(),
        [NewEvent("AccountOpened", data, id=event_id, schema_version=3, metadata=metadata)],
        StreamState.NO_STREAM,
    )
    [event] = log.store.read_stream(log.stream())
    assert event.id == event_id
    assert event.data == data
    assert event.metadata == metadata
    assert event.schema_version == 3
    assert log.store.verify(log.stream()).ok


def test_recorded_at_comes_from_the_injected_clock(log: LogUnderTest) -> None:
    log.clock.set(datetime(2030, 5, 6, 7, 8, 9, 101112, tzinfo=UTC))
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    [event] = log.store.read_stream(log.stream())
    assert event.recorded_at == datetime(2030, 5, 6, 7, 8, 9, 101112, tzinfo=UTC)


# ---------------------------------------------------------------- expected versions


def test_a_stale_expected_version_raises_a_concurrency_error_naming_both_versions(
    log: LogUnderTest,
) -> None:
    log.store.append(log.stream(), [opened(), deposited(1)], StreamState.NO_STREAM)

    with pytest.raises(
        ConcurrencyError, match=r"expected version 0, but the stream is at version 1"
    ) as info:
        log.store.append(log.stream(), [deposited(2)], 0)

    assert (info.value.expected, info.value.actual) == (0, 1)
    assert log.store.current_version(log.stream()) == 1


def test_expecting_a_version_of_a_missing_stream_fails(log: LogUnderTest) -> None:
    with pytest.raises(ConcurrencyError, match="no stream"):
        log.store.append(log.stream(), [opened()], 0)
    assert log.store.read_stream(log.stream()) == []


def test_no_stream_refuses_an_existing_stream(log: LogUnderTest) -> None:
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    with pytest.raises(ConcurrencyError):
        log.store.append(log.stream(), [opened(1)], StreamState.NO_STREAM)


def test_exists_requires_an_existing_stream(log: LogUnderTest) -> None:
    with pytest.raises(ConcurrencyError):
        log.store.append(log.stream(), [opened()], StreamState.EXISTS)
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    assert log.store.append(log.stream(), [deposited(1)], StreamState.EXISTS).versions == (1,)


def test_any_appends_at_whatever_version_the_stream_has(log: LogUnderTest) -> None:
    assert log.store.append(log.stream(), [opened()], StreamState.ANY).versions == (0,)
    assert log.store.append(log.stream(), [deposited(1)], StreamState.ANY).versions == (1,)


# ---------------------------------------------------------------- idempotency


def test_retrying_the_same_batch_returns_the_original_positions_and_writes_nothing(
    log: LogUnderTest,
) -> None:
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    batch = [deposited(1), deposited(2)]
    first = log.store.append(log.stream(), batch, 0)
    log.store.append(log.stream(), [deposited(3)], 2)

    again_with_stale_version = log.store.append(log.stream(), batch, 0)
    again_with_any = log.store.append(log.stream(), batch, StreamState.ANY)

    assert again_with_stale_version == first
    assert again_with_any == first
    assert [e.data["n"] for e in log.store.read_stream(log.stream())] == [0, 1, 2, 3]


def test_retrying_a_stream_creation_is_idempotent(log: LogUnderTest) -> None:
    batch = [opened()]
    first = log.store.append(log.stream(), batch, StreamState.NO_STREAM)
    assert log.store.append(log.stream(), batch, StreamState.NO_STREAM) == first
    assert len(log.store.read_stream(log.stream())) == 1


def test_a_batch_that_only_partly_repeats_earlier_ids_is_refused(log: LogUnderTest) -> None:
    repeated = opened()
    log.store.append(log.stream(), [repeated], StreamState.NO_STREAM)
    with pytest.raises(DuplicateEventIdError, match="exactly the original batch"):
        log.store.append(log.stream(), [repeated, deposited(1)], StreamState.ANY)
    assert len(log.store.read_stream(log.stream())) == 1


# ---------------------------------------------------------------- concurrency


def test_ten_racing_writers_get_exactly_one_winner_per_version(log: LogUnderTest) -> None:
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    writers, rounds = 10, 5
    barrier = threading.Barrier(writers)
    wins: Counter[int] = Counter()
    conflicts: Counter[int] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def race(index: int) -> None:
        handle = log.open("writer")
        try:
            for round_ in range(rounds):
                barrier.wait(timeout=30)
                try:
                    handle.append(log.stream(), [deposited(index)], round_)
                    with lock:
                        wins[round_] += 1
                except ConcurrencyError:
                    with lock:
                        conflicts[round_] += 1
                barrier.wait(timeout=30)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert all(wins[r] == 1 for r in range(rounds)), wins
    assert all(conflicts[r] == writers - 1 for r in range(rounds)), conflicts
    assert [e.version for e in log.store.read_stream(log.stream())] == list(range(rounds + 1))
    assert log.store.verify(log.stream()).ok


def test_concurrent_any_appends_keep_one_unbroken_chain(log: LogUnderTest) -> None:
    writers, each = 8, 15
    errors: list[BaseException] = []

    def write(index: int) -> None:
        handle = log.open("writer")
        try:
            for n in range(each):
                handle.append(log.stream(), [deposited(index * 1000 + n)], StreamState.ANY)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    events = log.store.read_stream(log.stream())
    assert [e.version for e in events] == list(range(writers * each))
    assert log.store.verify(log.stream()).ok


# ---------------------------------------------------------------- as-of reads


def test_as_of_reads_rebuild_the_log_as_it_stood_at_a_time_or_position(log: LogUnderTest) -> None:
    log.clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    log.clock.advance(timedelta(minutes=10))
    second = log.store.append(log.stream(), [deposited(1)], 0)
    log.clock.advance(timedelta(minutes=10))
    log.store.append(log.stream(), [deposited(2)], 1)

    at_0215 = datetime(2026, 11, 27, 2, 15, tzinfo=UTC)
    as_of_time = log.store.read_stream(log.stream(), until=at_0215)
    as_of_position = log.store.read_stream(log.stream(), to_position=second.last_position)
    assert [e.version for e in as_of_time] == [0, 1]
    assert as_of_position == as_of_time
    assert log.store.position_at(at_0215) == second.last_position
    assert (
        log.store.read_stream(log.stream(), until=datetime(2026, 11, 27, 1, 59, tzinfo=UTC)) == []
    )

    whole_log_then = mine(
        log, list(log.store.read_all(from_position=log.start_position + 1, until=at_0215))
    )
    assert [e.version for e in whole_log_then] == [0, 1]


def test_recorded_time_never_goes_backwards_even_if_the_clock_does(log: LogUnderTest) -> None:
    log.clock.set(datetime(2026, 11, 27, 3, 0, tzinfo=UTC))
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    behind = log.open("writer")
    behind.clock = lambda: datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    behind.append(log.stream(), [deposited(1)], 0)
    first, second = log.store.read_stream(log.stream())
    assert second.recorded_at >= first.recorded_at


# ---------------------------------------------------------------- subscriptions


def test_subscription_catches_up_then_delivers_live_events(log: LogUnderTest) -> None:
    log.store.append(log.stream(), [opened(0), deposited(1)], StreamState.NO_STREAM)
    subscription = log.store.subscribe(
        from_position=log.start_position + 1, filter=EventFilter.of(categories=[log.category])
    )
    try:
        caught_up = [subscription.next_event(timeout=10) for _ in range(2)]
        assert [e.data["n"] for e in caught_up if e] == [0, 1]
        assert subscription.next_event(timeout=0.05) is None

        log.store.append(log.stream(), [deposited(2)], 1)
        live = subscription.next_event(timeout=10)
        assert live is not None
        assert live.data["n"] == 2
        assert subscription.position == live.position
    finally:
        subscription.close()


def test_appends_inside_deferred_wake_ups_are_committed_and_delivered_at_once(
    log: LogUnderTest,
) -> None:
    """Deferring wake-ups (ADR 0029) defers a hint only: inside the block an append is
    committed, readable by another handle and delivered to a live subscriber."""
    other = log.open(None)
    subscription = other.subscribe(
        from_position=log.start_position + 1, filter=EventFilter.of(categories=[log.category])
    )
    try:
        with log.store.wakeups_deferred():
            result = log.store.append(log.stream(), [opened(0)], StreamState.NO_STREAM)
            assert [e.position for e in other.read_stream(log.stream())] == [result.last_position]
            live = subscription.next_event(timeout=10)
            assert live is not None
            assert live.position == result.last_position
    finally:
        subscription.close()
        other.close()


def test_subscription_resumes_after_a_checkpoint_without_repeats(log: LogUnderTest) -> None:
    log.store.append(log.stream(), [opened(0), deposited(1), deposited(2)], StreamState.NO_STREAM)
    only_mine = EventFilter.of(categories=[log.category])
    first = log.store.subscribe(from_position=log.start_position + 1, filter=only_mine)
    got = first.next_event(timeout=10)
    first.close()
    assert got is not None
    resumed = log.store.subscribe(from_position=first.position + 1, filter=only_mine)
    try:
        rest = [resumed.next_event(timeout=10) for _ in range(2)]
        assert [e.data["n"] for e in rest if e] == [1, 2]
    finally:
        resumed.close()


def test_live_subscription_with_concurrent_writers_never_skips_or_duplicates(
    log: LogUnderTest,
) -> None:
    writers, each = 8, 40
    total = writers * sum(1 + n % 3 for n in range(each))
    only_mine = EventFilter.of(categories=[log.category])
    subscription = log.store.subscribe(
        from_position=log.start_position + 1, filter=only_mine, poll_interval=0.2
    )
    errors: list[BaseException] = []

    def write(index: int) -> None:
        handle = log.open("writer")
        try:
            for n in range(each):
                # Mixed batch sizes and streams make transactions of different lengths.
                handle.append(
                    log.stream(f"w{index}"),
                    [deposited(index * 10_000 + n * 10 + k) for k in range(1 + n % 3)],
                    StreamState.ANY,
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    delivered: list[RecordedEvent] = []
    try:
        while len(delivered) < total:
            event = subscription.next_event(timeout=30)
            assert event is not None, f"subscription stalled after {len(delivered)} events"
            delivered.append(event)
        assert subscription.next_event(timeout=0.2) is None, "delivered more than was written"
    finally:
        subscription.close()
        for thread in threads:
            thread.join(timeout=60)

    assert not errors, errors
    positions = [e.position for e in delivered]
    assert positions == sorted(positions), "delivered out of commit order"
    assert len({e.id for e in delivered}) == total, "an event was delivered twice"
    stored = list(log.store.read_all(from_position=log.start_position + 1, filter=only_mine))
    assert [e.id for e in stored] == [e.id for e in delivered], "an event was skipped"


def test_a_subscription_ends_when_closed_from_another_thread(log: LogUnderTest) -> None:
    subscription = log.store.subscribe(
        from_position=log.store.head_position() + 1, poll_interval=0.05
    )
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.extend(iter(subscription)))
    reader.start()
    subscription.close()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert mine(log, result) == []  # type: ignore[arg-type]


# ---------------------------------------------------------------- hash chain and tampering


def _stream_of_five(log: LogUnderTest) -> list[RecordedEvent]:
    log.store.append(
        log.stream(), [opened(0)] + [deposited(n) for n in range(1, 5)], StreamState.NO_STREAM
    )
    return log.store.read_stream(log.stream())


def test_events_form_a_sha256_chain_that_verifies(log: LogUnderTest) -> None:
    events = _stream_of_five(log)
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert all(len(e.hash) == 64 for e in events)
    report = log.store.verify(log.stream())
    assert report.ok, report.findings
    assert report.events_checked == 5


def test_verify_names_an_edited_event(log: LogUnderTest) -> None:
    events = _stream_of_five(log)
    log.harness.tamper_edit_data(log.stream(), 2, {"n": 2000})

    findings = log.store.verify(log.stream()).findings
    assert [(f.kind, f.version, f.event_id) for f in findings] == [
        (Tampering.EDITED, 2, str(events[2].id))
    ]


def test_verify_names_an_event_whose_metadata_gained_a_field_no_hash_covers(
    log: LogUnderTest,
) -> None:
    events = _stream_of_five(log)
    log.harness.tamper_add_metadata_field(log.stream(), 3, "approved_by", "mallory")

    for report in (log.store.verify(log.stream()), log.store.verify_all()):
        assert [(f.kind, f.version, f.event_id) for f in report.findings] == [
            (Tampering.EDITED, 3, str(events[3].id))
        ]
        assert "approved_by" in report.findings[0].detail


def test_read_verified_returns_the_events_it_verified_from_one_read(log: LogUnderTest) -> None:
    events = _stream_of_five(log)
    read, report = log.store.read_verified(log.stream())
    assert ([e.id for e in read], report.ok, report.events_checked) == (
        [e.id for e in events],
        True,
        5,
    )
    log.harness.tamper_edit_data(log.stream(), 2, {"n": 2000})
    read, report = log.store.read_verified(log.stream())
    assert read[2].data == {"n": 2000}, "the events returned are the ones verified"
    assert report.findings == log.store.verify(log.stream()).findings
    assert [(f.kind, f.version) for f in report.findings] == [(Tampering.EDITED, 2)]


def test_verify_names_a_deleted_event(log: LogUnderTest) -> None:
    _stream_of_five(log)
    log.harness.tamper_delete(log.stream(), 2)

    findings = log.store.verify(log.stream()).findings
    assert [(f.kind, f.version) for f in findings] == [(Tampering.DELETED, 2)]


def test_verify_names_a_deleted_last_event(log: LogUnderTest) -> None:
    _stream_of_five(log)
    log.harness.tamper_delete(log.stream(), 4)

    findings = log.store.verify(log.stream()).findings
    assert [(f.kind, f.version) for f in findings] == [(Tampering.DELETED, 4)]


def test_verify_names_reordered_events(log: LogUnderTest) -> None:
    events = _stream_of_five(log)
    log.harness.tamper_swap_versions(log.stream(), 1, 3)

    findings = log.store.verify(log.stream()).findings
    kinds = {f.kind for f in findings}
    assert kinds == {Tampering.REORDERED}
    assert str(events[3].id) in {f.event_id for f in findings}


def test_verify_names_an_inserted_event(log: LogUnderTest) -> None:
    events = _stream_of_five(log)
    forged_id = str(uuid.uuid4())
    recorded_at = events[2].recorded_at
    data_json = json.dumps({"n": 999}, separators=(",", ":"))
    forged_hash = event_hash(
        event_id=forged_id,
        stream=log.stream(),
        event_type="MoneyDeposited",
        schema_version=1,
        data_json=data_json,
        metadata=EventMetadata(),
        recorded_at=recorded_at,
        prev_hash=events[1].hash,
    )
    log.harness.tamper_insert(
        log.stream(),
        2,
        ForgedEvent(
            forged_id,
            "MoneyDeposited",
            1,
            data_json,
            "{}",
            recorded_at,
            events[1].hash,
            forged_hash,
        ),
    )

    findings = log.store.verify(log.stream()).findings
    inserted = [f for f in findings if f.kind is Tampering.INSERTED]
    assert [(f.version, f.event_id) for f in inserted] == [(2, forged_id)]
    assert not [f for f in findings if f.kind in (Tampering.EDITED, Tampering.DELETED)]


def test_verify_all_checks_every_stream_and_reports_progress(log: LogUnderTest) -> None:
    _stream_of_five(log)
    log.store.append(log.stream("clean"), [opened()], StreamState.NO_STREAM)
    log.harness.tamper_edit_data(log.stream(), 1, {"n": -1})
    progress: list[tuple[int, int]] = []

    report = log.store.verify_all(progress=lambda done, total: progress.append((done, total)))

    ours = [f for f in report.findings if f.stream.startswith(log.category)]
    assert [(f.stream, f.kind, f.version) for f in ours] == [(log.stream(), Tampering.EDITED, 1)]
    assert report.streams_checked >= 2
    assert progress[-1][0] == progress[-1][1] == report.streams_checked


def _tamper(log: LogUnderTest, kind: str, events: list[RecordedEvent]) -> None:
    if kind == "edited":
        log.harness.tamper_edit_data(log.stream(), 2, {"n": 2000})
    elif kind == "deleted":
        log.harness.tamper_delete(log.stream(), 2)
    elif kind == "deleted-last":
        log.harness.tamper_delete(log.stream(), 4)
    elif kind == "reordered":
        log.harness.tamper_swap_versions(log.stream(), 1, 3)
    else:
        forged_id = str(uuid.uuid4())
        data_json = json.dumps({"n": 999}, separators=(",", ":"))
        forged_hash = event_hash(
            event_id=forged_id,
            stream=log.stream(),
            event_type="MoneyDeposited",
            schema_version=1,
            data_json=data_json,
            metadata=EventMetadata(),
            recorded_at=events[2].recorded_at,
            prev_hash=events[1].hash,
        )
        log.harness.tamper_insert(
            log.stream(),
            2,
            ForgedEvent(
                forged_id,
                "MoneyDeposited",
                1,
                data_json,
                "{}",
                events[2].recorded_at,
                events[1].hash,
                forged_hash,
            ),
        )


@pytest.mark.parametrize("kind", ["edited", "deleted", "deleted-last", "reordered", "inserted"])
def test_verify_all_names_exactly_what_verify_of_the_stream_names(
    log: LogUnderTest, kind: str
) -> None:
    # verify_all checks intact streams in one pass and re-reads the others for the
    # full analysis (docs/adr/0025): its findings must be the full analysis's.
    events = _stream_of_five(log)
    log.store.append(log.stream("clean"), [opened(), deposited(1)], StreamState.NO_STREAM)
    _tamper(log, kind, events)

    alone = [str(f) for f in log.store.verify(log.stream()).findings]
    everything = log.store.verify_all()

    assert alone, kind
    assert [str(f) for f in everything.findings if f.stream == log.stream()] == alone
    assert not [f for f in everything.findings if f.stream == log.stream("clean")]
    assert log.store.verify(log.stream("clean")).events_checked == 2


# ---------------------------------------------------------------- ownership


def test_a_writer_cannot_append_to_a_category_it_does_not_own(log: LogUnderTest) -> None:
    foreign = f"{log.other_category}-1"
    with pytest.raises(StreamPermissionError, match=r"writer 'writer' may not append"):
        log.store.append(foreign, [opened()], StreamState.ANY)
    assert log.store.read_stream(foreign) == []
    assert log.store.head_position() == log.start_position


def test_a_read_only_handle_cannot_append(log: LogUnderTest) -> None:
    reader = log.open(None)
    with pytest.raises(StreamPermissionError, match="read-only"):
        reader.append(log.stream(), [opened()], StreamState.ANY)
    assert reader.read_stream(log.stream()) == []


def test_an_unknown_writer_is_refused_when_the_handle_is_opened(log: LogUnderTest) -> None:
    with pytest.raises(InvalidEventError, match="writer"):
        log.open("nobody")


# ---------------------------------------------------------------- platform identity


def test_a_log_has_one_platform_identity_that_every_handle_agrees_on(log: LogUnderTest) -> None:
    # Read-only handles create it too: the first process of a platform may be a reader.
    identity = log.open(None).platform_identity()
    assert identity == log.store.platform_identity() == log.open(None).platform_identity()
    recorded = log.store.read_stream(IDENTITY_STREAM)
    assert [(e.type, e.version) for e in recorded] == [("PlatformInitialized", 0)]
    assert recorded[0].data == {"platform_id": str(identity.platform_id)}
    assert identity.position == recorded[0].position
    assert log.store.verify(IDENTITY_STREAM).ok


def test_processes_starting_together_agree_on_one_platform_identity(log: LogUnderTest) -> None:
    starters = 8
    barrier = threading.Barrier(starters)
    seen: list[uuid.UUID] = []
    errors: list[BaseException] = []

    def start() -> None:
        handle = log.open(None)  # each "process" has its own handle and connection
        try:
            barrier.wait(timeout=30)
            seen.append(handle.platform_identity().platform_id)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(seen) == starters
    assert len(set(seen)) == 1, f"starters disagreed on the platform: {set(seen)}"
    assert len(log.store.read_stream(IDENTITY_STREAM)) == 1, "more than one identity event"


def test_no_writer_may_append_to_the_identity_stream(log: LogUnderTest) -> None:
    identity = log.store.platform_identity()
    forged = NewEvent("PlatformInitialized", {"platform_id": str(uuid.uuid4())})
    with pytest.raises(StreamPermissionError, match="may not append"):
        log.store.append(IDENTITY_STREAM, [forged], StreamState.ANY)
    with pytest.raises(InvalidEventError, match="belongs to no writer"):
        Ownership({"intruder": {"platform"}})
    assert log.open(None).platform_identity() == identity


# ---------------------------------------------------------------- bad input


class NotJSON:
    pass


BAD_APPENDS: list[Any] = [
    pytest.param("", [opened()], StreamState.ANY, "stream", id="empty-stream"),
    pytest.param("nohyphen", [opened()], StreamState.ANY, "stream", id="stream-without-id"),
    pytest.param("{cat}-", [opened()], StreamState.ANY, "stream", id="stream-with-empty-id"),
    pytest.param("{cat}-a b", [opened()], StreamState.ANY, "stream", id="stream-with-space"),
    pytest.param("${cat}-1", [opened()], StreamState.ANY, "stream", id="system-stream"),
    pytest.param("{cat}-" + "x" * 300, [opened()], StreamState.ANY, "stream", id="stream-too-long"),
    pytest.param(42, [opened()], StreamState.ANY, "stream", id="stream-not-a-string"),
    pytest.param("{cat}-1", [], StreamState.ANY, "events", id="no-events"),
    pytest.param("{cat}-1", opened(), StreamState.ANY, "events", id="single-event-not-list"),
    pytest.param("{cat}-1", [{"type": "X"}], StreamState.ANY, "events[0]", id="dict-not-event"),
    pytest.param(
        "{cat}-1",
        [NewEvent("X", {"o": NotJSON()})],
        StreamState.ANY,
        "events[0].data",
        id="object-in-data",
    ),
    pytest.param(
        "{cat}-1",
        [NewEvent("X", {"s": {1, 2}})],
        StreamState.ANY,
        "events[0].data",
        id="set-in-data",
    ),
    pytest.param(
        "{cat}-1",
        [NewEvent("X", {"f": float("nan")})],
        StreamState.ANY,
        "events[0].data",
        id="nan-in-data",
    ),
    pytest.param(
        "{cat}-1", [NewEvent("X", {1: "int key"})], StreamState.ANY, "events[0].data", id="int-key"
    ),
    pytest.param(
        "{cat}-1",
        [NewEvent("X", ["not", "an", "object"])],
        StreamState.ANY,
        "events[0].data",
        id="list-data",
    ),  # type: ignore[arg-type]
    pytest.param(
        "{cat}-1",
        [NewEvent("X", {"big": "x" * MAX_EVENT_BYTES})],
        StreamState.ANY,
        "events[0]",
        id="over-1MiB",
    ),
    pytest.param("{cat}-1", [NewEvent("", {})], StreamState.ANY, "events[0].type", id="empty-type"),
    pytest.param(
        "{cat}-1", [NewEvent("has space", {})], StreamState.ANY, "events[0].type", id="bad-type"
    ),
    pytest.param(
        "{cat}-1",
        [NewEvent("X", {}, schema_version=0)],
        StreamState.ANY,
        "events[0].schema_version",
        id="schema-version-0",
    ),
    pytest.param(
        "{cat}-1",
        [NewEvent("X", {}, metadata=EventMetadata(occurred_at=datetime(2026, 1, 1)))],
        StreamState.ANY,
        "events[0].metadata.occurred_at",
        id="naive-occurred-at",
    ),
    pytest.param(
        "{cat}-1",
        [NewEvent("X", {}, metadata=EventMetadata(actor=7))],
        StreamState.ANY,
        "events[0].metadata.actor",
        id="actor-not-string",
    ),  # type: ignore[arg-type]
    pytest.param("{cat}-1", [opened()], "any", "expected_version", id="expected-version-string"),
    pytest.param("{cat}-1", [opened()], 1.0, "expected_version", id="expected-version-float"),
    pytest.param("{cat}-1", [opened()], True, "expected_version", id="expected-version-bool"),
    pytest.param("{cat}-1", [opened()], -1, "expected_version", id="expected-version-negative"),
    pytest.param("{cat}-1", [opened()], None, "expected_version", id="expected-version-none"),
]


@pytest.mark.parametrize(("stream", "events", "expected", "field"), BAD_APPENDS)
def test_bad_input_is_refused_with_the_field_named_and_nothing_appended(
    log: LogUnderTest, stream: Any, events: Any, expected: Any, field: str
) -> None:
    if isinstance(stream, str):
        stream = stream.replace("{cat}", log.category)
    with pytest.raises(InvalidEventError) as info:
        log.store.append(stream, events, expected)
    assert info.value.field == field, str(info.value)
    assert str(info.value).startswith(field)
    assert log.store.head_position() == log.start_position


def test_duplicate_ids_within_one_batch_are_refused(log: LogUnderTest) -> None:
    event = opened()
    with pytest.raises(InvalidEventError, match=r"events\[1\]\.id"):
        log.store.append(log.stream(), [event, event], StreamState.NO_STREAM)
    assert log.store.head_position() == log.start_position


def test_a_bad_event_anywhere_in_a_batch_appends_none_of_it(log: LogUnderTest) -> None:
    with pytest.raises(InvalidEventError, match=r"events\[2\]\.data"):
        log.store.append(
            log.stream(),
            [opened(), deposited(1), NewEvent("X", {"o": NotJSON()})],
            StreamState.NO_STREAM,
        )
    assert log.store.read_stream(log.stream()) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"from_version": -1}, "from_version"),
        ({"limit": -5}, "limit"),
        ({"to_position": "3"}, "to_position"),
        ({"until": datetime(2026, 1, 1)}, "until"),
    ],
)
def test_bad_read_arguments_name_the_field(
    log: LogUnderTest, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEventError) as info:
        log.store.read_stream(log.stream(), **kwargs)
    assert info.value.field == field


def test_timestamps_in_the_chain_use_one_format(log: LogUnderTest) -> None:
    log.clock.set(datetime(2026, 11, 27, 2, 17, tzinfo=UTC))
    log.store.append(log.stream(), [opened()], StreamState.NO_STREAM)
    [event] = log.store.read_stream(log.stream())
    assert format_timestamp(event.recorded_at) == "2026-11-27T02:17:00.000000Z"
