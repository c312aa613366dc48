"""The read path's shortcuts (docs/adr/0025) give exactly the answers of the plain code.

- `RecordedEvent.data` decodes stored text with the C scanner: same value and same
  error as `json.loads` for any text, canonical or not.
- `recompute_hash` builds the canonical encoding from the stored metadata text: same
  hash as `event_hash` over the decoded metadata, for every metadata the library stores,
  and the slow path (with its errors) for texts it did not store.
- `verify_stream_events` answers an intact stream from one pass: same report as the
  full analysis on intact and on tampered streams.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlog import EventMetadata
from eventlog.chain import (
    StreamHead,
    _is_intact,
    event_hash,
    metadata_to_json,
    recompute_hash,
    verify_stream_events,
)
from eventlog.model import GENESIS_HASH, RecordedEvent
from eventlog.validation import encode_json

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID = "7d3c2f0e-0000-4000-8000-000000000001"


def _row_event(
    data_json: str | None,
    metadata_json: str = "{}",
    *,
    version: int = 0,
    position: int = 1,
    prev_hash: str = GENESIS_HASH,
    hash: str = "1" * 64,
    event_id: str = _ID,
    recorded_at_us: int = 1_780_000_000_000_000,
) -> RecordedEvent:
    return RecordedEvent.from_tuple(
        (
            position,
            event_id,
            "incident-1",
            version,
            "IncidentNoteAdded",
            1,
            data_json,
            metadata_json,
            recorded_at_us,
            prev_hash,
            hash,
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1}',
        ' {"a":1}',
        '{"a":1} ',
        '{"a":1}x',
        "\ufeff{}",
        '{"a":',
        '{"a":1,}',
        "",
        "[1,2]",
        '"x"',
        "NaN",
        '{"big":123456789012345678901234567890,"f":1.5e400}',
    ],
)
def test_data_decodes_like_json_loads_with_the_same_errors(text: str) -> None:
    event = _row_event(text)
    try:
        expected: object = ("value", json.loads(text or "{}"))
    except json.JSONDecodeError as error:
        expected = ("error", str(error))
    try:
        got: object = ("value", event.data)
    except json.JSONDecodeError as error:
        got = ("error", str(error))
    assert repr(got) == repr(expected)


texts = st.none() | st.text()


@given(
    actor=texts,
    causation=texts,
    correlation=texts,
    credential=texts,
    occurred=st.none() | st.datetimes(timezones=st.just(UTC)),
    prev_hash=st.sampled_from([GENESIS_HASH, "ab" * 32, "", 'x"\\\n']),
    stream_type=st.sampled_from([("incident-1", "IncidentNoteAdded"), ('a-"b', "t\u00e9\n")]),
)
def test_the_stored_text_hash_equals_the_canonical_hash(
    actor: str | None,
    causation: str | None,
    correlation: str | None,
    credential: str | None,
    occurred: datetime | None,
    prev_hash: str,
    stream_type: tuple[str, str],
) -> None:
    metadata = EventMetadata(
        correlation_id=correlation,
        causation_id=causation,
        actor=actor,
        occurred_at=occurred,
        credential=credential,
    )
    # As EventStore._prepare stores it.
    metadata_json = (
        "{}" if metadata == EventMetadata() else encode_json(metadata_to_json(metadata), "m")
    )
    data_json = encode_json({"n": 1, "text": "é"}, "data")
    stream, event_type = stream_type
    recorded_us = 1_780_000_000_123_456
    event = RecordedEvent.from_tuple(
        (1, _ID, stream, 0, event_type, 1, data_json, metadata_json, recorded_us, prev_hash, "")
    )
    assert recompute_hash(event) == event_hash(
        event_id=_ID,
        stream=stream,
        event_type=event_type,
        schema_version=1,
        data_json=data_json,
        metadata=metadata,
        recorded_at=_EPOCH + timedelta(microseconds=recorded_us),
        prev_hash=prev_hash,
    )


def test_metadata_with_a_field_the_library_never_writes_matches_no_hash() -> None:
    # EventMetadata drops the unknown field, so hashing the decoded metadata would match
    # the recorded hash and hide that someone added it behind the log's back.
    event = _row_event("{}", '{"actor":"a","approved_by":"mallory"}')
    computed = recompute_hash(event)
    assert "approved_by" in computed
    assert len(computed) != 64


@pytest.mark.parametrize(
    "metadata_json",
    [
        '{"occurred_at":"2026-01-01T00:00:00.5Z"}',
        '{"occurred_at":""}',
        '{"actor":""}',
    ],
)
def test_metadata_the_library_did_not_store_hashes_as_the_decoded_metadata_does(
    metadata_json: str,
) -> None:
    event = _row_event("{}", metadata_json)
    assert recompute_hash(event) == event_hash(
        event_id=_ID,
        stream=event.stream,
        event_type=event.type,
        schema_version=1,
        data_json="{}",
        metadata=event.metadata,
        recorded_at=event.recorded_at,
        prev_hash=event.prev_hash,
    )


def _hash_via_decoded_metadata(event: RecordedEvent) -> str:
    return event_hash(
        event_id=_ID,
        stream=event.stream,
        event_type=event.type,
        schema_version=1,
        data_json="{}",
        metadata=event.metadata,
        recorded_at=event.recorded_at,
        prev_hash=event.prev_hash,
    )


@pytest.mark.parametrize(
    ("metadata_json", "error"),
    [
        ('{"actor":5}', TypeError),
        ('{"occurred_at":"yesterday"}', ValueError),
        ("[1]", AttributeError),
    ],
)
def test_unreadable_metadata_fails_as_the_slow_path_does(
    metadata_json: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        _hash_via_decoded_metadata(_row_event("{}", metadata_json))
    with pytest.raises(error):
        recompute_hash(_row_event("{}", metadata_json))


def _chain(count: int) -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    prev = GENESIS_HASH
    for version in range(count):
        draft = _row_event(
            f'{{"n":{version}}}', version=version, position=10 + version, prev_hash=prev
        )
        digest = recompute_hash(draft)
        events.append(
            _row_event(
                f'{{"n":{version}}}',
                version=version,
                position=10 + version,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return events


def _full_analysis(events: list[RecordedEvent], head: StreamHead | None) -> list[str]:
    """The report with the one-pass shortcut disabled."""
    import eventlog.chain as chain

    original = chain._is_intact
    chain._is_intact = lambda events, head: False
    try:
        return [str(f) for f in verify_stream_events("incident-1", events, head).findings]
    finally:
        chain._is_intact = original


def test_an_intact_stream_takes_the_shortcut_and_reports_what_the_full_analysis_does() -> None:
    events = _chain(5)
    head = StreamHead(4, events[-1].hash)
    assert _is_intact(events, head)
    report = verify_stream_events("incident-1", events, head)
    assert report.ok
    assert report.events_checked == 5
    assert _full_analysis(events, head) == []


def _tampered() -> dict[str, tuple[list[RecordedEvent], StreamHead | None]]:
    events = _chain(5)
    edited = list(events)
    e = events[2]
    edited[2] = _row_event(
        '{"n":99}', version=2, position=e.position, prev_hash=e.prev_hash, hash=e.hash
    )
    swapped = list(events)
    a, b = events[1], events[2]
    swapped[1] = _row_event(
        '{"n":1}', version=1, position=b.position, prev_hash=a.prev_hash, hash=a.hash
    )
    swapped[2] = _row_event(
        '{"n":2}', version=2, position=a.position, prev_hash=b.prev_hash, hash=b.hash
    )
    head = StreamHead(4, events[-1].hash)
    return {
        "edited": (edited, head),
        "deleted-middle": ([*events[:2], *events[3:]], head),
        "truncated": (events[:4], head),
        "positions-swapped": (swapped, head),
        "duplicated": (
            [
                *events,
                _row_event(
                    '{"n":4}', version=5, position=20, prev_hash=events[3].hash, hash=events[4].hash
                ),
            ],
            None,
        ),
        "head-elsewhere": (events, StreamHead(4, "f" * 64)),
        "empty-with-head": ([], head),
    }


@pytest.mark.parametrize("case", list(_tampered()))
def test_a_tampered_stream_gets_the_full_analysis(case: str) -> None:
    events, head = _tampered()[case]
    assert not _is_intact(events, head)
    findings = [str(f) for f in verify_stream_events("incident-1", events, head).findings]
    assert findings, case
    assert findings == _full_analysis(events, head)


def test_a_stream_row_builds_the_same_event_as_a_full_row() -> None:
    full = (7, _ID, "incident-1", 3, "T", 2, '{"a":1}', '{"actor":"x"}', 5, "p" * 64, "h" * 64)
    stream_row = full[:2] + full[3:]
    a = RecordedEvent.from_tuple(full)
    b = RecordedEvent.from_stream_tuple("incident-1", stream_row)
    fields = ("position", "id", "stream", "version", "type", "schema_version", "data")
    assert [getattr(b, f) for f in fields] == [getattr(a, f) for f in fields]
    assert (b.data_json, b.metadata, b.recorded_at) == (a.data_json, a.metadata, a.recorded_at)
    assert (b.prev_hash, b.hash) == (a.prev_hash, a.hash)
    assert recompute_hash(b) == recompute_hash(a)


def test_metadata_read_from_a_row_is_what_was_appended_and_errors_repeat() -> None:
    metadata = EventMetadata(
        correlation_id="c-1",
        causation_id="k",
        actor="alice",
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        credential="laptop",
    )
    text = encode_json(metadata_to_json(metadata), "metadata")
    first, second = _row_event("{}", text), _row_event("{}", str(text))
    assert first.metadata == second.metadata == metadata
    assert _row_event("{}", "{}").metadata == EventMetadata()
    for _ in range(2):  # a failure is not cached as a value
        with pytest.raises(ValueError, match="does not match format"):
            _ = _row_event("{}", '{"occurred_at":"yesterday"}').metadata
