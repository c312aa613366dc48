"""verify_all's pass over stored rows (`ChainPass.feed_rows`, docs/adr/0030) reaches
exactly the verdict of the pass over events (`feed_events`, which recomputes each hash
with `recompute_hash`): the same streams suspect, the same last verified hash, version
and count per stream, for any log, honest or tampered, including names and ids that
need escaping, metadata the library did not store and values of the wrong type; and
it fails with the same error where the event pass fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlog import EventMetadata
from eventlog.chain import (
    ChainPass,
    _format_us,
    event_hash,
    metadata_to_json,
    recompute_hash,
)
from eventlog.model import GENESIS_HASH, RecordedEvent
from eventlog.validation import encode_json

_BASE_US = 1_780_000_000_000_000
_IDS = [
    "7d3c2f0e-0000-4000-8000-000000000001",
    "7D3C2F0E-0000-4000-8000-000000000002",  # not canonical: hashed as stored
    "0190f0a0-0000-7000-8000-00000000abcd",
]
_STREAMS = ["incident-1", "incident-2", 'odd-"name\\', "t\u00e9-\n"]
_TYPES = ["IncidentNoteAdded", "Typ\u00e9\t", 'Q"']
_METADATA = [
    EventMetadata(),
    EventMetadata(correlation_id="c-1", actor="alice"),
    EventMetadata(
        actor='bob "b"',
        occurred_at=datetime(2026, 12, 4, 1, 2, 3, 456789, tzinfo=UTC),
        credential="tok-1",
    ),
]


def _stored_metadata(metadata: EventMetadata) -> str:
    # As EventStore._prepare stores it.
    if metadata == EventMetadata():
        return "{}"
    return encode_json(metadata_to_json(metadata), "metadata")


@st.composite
def _honest_rows(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """A log of a few streams, each a valid chain, interleaved in commit order."""
    picks = draw(
        st.lists(
            st.tuples(
                st.sampled_from(_STREAMS),
                st.sampled_from(_TYPES),
                st.sampled_from(range(len(_METADATA))),
                st.sampled_from(_IDS),
                st.integers(0, 3),  # recorded_at offset in seconds
                st.text(max_size=8),
            ),
            max_size=25,
        )
    )
    heads: dict[str, tuple[int, str]] = {}
    rows: list[tuple[Any, ...]] = []
    for position, (stream, kind, meta, event_id, offset, text) in enumerate(picks, start=1):
        version, prev = heads.get(stream, (-1, GENESIS_HASH))
        data_json = encode_json({"n": position, "text": text}, "data")
        recorded_us = _BASE_US + offset * 1_000_000 + position
        metadata = _METADATA[meta]
        digest = event_hash(
            event_id=event_id,
            stream=stream,
            event_type=kind,
            schema_version=1,
            data_json=data_json,
            metadata=metadata,
            recorded_at=datetime.fromtimestamp(recorded_us / 1_000_000, UTC).replace(
                microsecond=recorded_us % 1_000_000
            ),
            prev_hash=prev,
        )
        row = (position, event_id, stream, version + 1, kind, 1, data_json)
        rows.append((*row, _stored_metadata(metadata), recorded_us, prev, digest))
        heads[stream] = (version + 1, digest)
    return rows


# What a tamperer (or a broken backend) can leave in a row: field index -> new values.
_EDITS: dict[int, list[Any]] = {
    1: ["7d3c2f0e-0000-4000-8000-000000000009", 'id"with\\quotes'],
    2: ["incident-1", "incident-3"],
    3: [0, 1, 7],
    4: ["IncidentNoteAdded", "Other"],
    5: [1, 2, "1", "x"],
    6: ['{"n":1,"text":""}', '{"n": 1}', "{}", None],
    7: ["{}", '{"actor":"mallory"}', '{"actor":1}', '{"extra":"key"}', "{", "[]", None],
    8: [_BASE_US, _BASE_US + 1],
    9: [GENESIS_HASH, "0" * 63 + "1", 'x"\\'],
    10: ["f" * 64],
}


@st.composite
def _logs(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    rows = draw(_honest_rows())
    if not rows:
        return rows
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["edit", "delete", "duplicate", "swap", "relink"]))
        index = draw(st.integers(0, len(rows) - 1))
        row = list(rows[index])
        if action == "edit":
            field = draw(st.sampled_from(sorted(_EDITS)))
            row[field] = draw(st.sampled_from(_EDITS[field]))
            rows[index] = tuple(row)
        elif action == "delete":
            del rows[index]
        elif action == "duplicate":
            rows.insert(index, tuple(row))
        elif action == "swap" and index + 1 < len(rows):
            rows[index], rows[index + 1] = rows[index + 1], rows[index]
        elif action == "relink":
            # Rewritten together with its hash: consistent content, broken link. A row
            # an earlier edit left unreadable has no hash to rewrite it with.
            try:
                row[10] = recompute_hash(RecordedEvent.from_tuple(tuple(row)))
            except (ValueError, TypeError):
                continue
            rows[index] = tuple(row)
        if not rows:
            break
    return rows


def _outcome(feed: Any) -> Any:
    checked = ChainPass()
    try:
        feed(checked)
    except Exception as error:  # the failure itself is compared
        return ("raised", type(error), str(error))
    return (
        {name: chain[:3] for name, chain in checked.chains.items()},
        checked.suspect,
    )


@settings(max_examples=500, deadline=None)
@given(_logs())
def test_the_row_pass_reaches_the_event_pass_verdict(rows: list[tuple[Any, ...]]) -> None:
    by_rows = _outcome(lambda checked: checked.feed_rows(rows))
    by_events = _outcome(
        lambda checked: checked.feed_events(RecordedEvent.from_tuple(row) for row in rows)
    )
    assert by_rows == by_events


@given(_honest_rows())
def test_an_honest_log_passes_whole(rows: list[tuple[Any, ...]]) -> None:
    checked = ChainPass()
    checked.feed_rows(rows)
    assert not checked.suspect
    assert sum(chain[2] for chain in checked.chains.values()) == len(rows)


def _single(rows: list[tuple[Any, ...]], index: int, field: int, value: Any) -> set[Any]:
    row = list(rows[index])
    row[field] = value
    changed = [*rows[:index], tuple(row), *rows[index + 1 :]]
    checked = ChainPass()
    checked.feed_rows(changed)
    return checked.suspect


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (1, "7d3c2f0e-0000-4000-8000-00000000000f"),  # id
        (4, "IncidentNoteRemoved"),  # type
        (5, 2),  # schema_version
        (6, '{"n":2,"text":"b"}'),  # data
        (7, '{"actor":"mallory"}'),  # metadata
        (8, _BASE_US + 2),  # recorded_at
        (9, "a" * 64),  # link
        (10, "b" * 64),  # hash
    ],
)
def test_every_hashed_field_is_checked(field: int, value: Any) -> None:
    # A mutation test of the written-out encoding: change any one field of the middle
    # event of an honest stream and the stream is suspect.
    rows = []
    prev = GENESIS_HASH
    for version in range(3):
        row = (
            version + 1,
            _IDS[0],
            "incident-1",
            version,
            "IncidentNoteAdded",
            1,
            f'{{"n":{version},"text":"a"}}',
            '{"actor":"alice"}',
            _BASE_US,
            prev,
            "",
        )
        prev = recompute_hash(RecordedEvent.from_tuple(row))
        rows.append((*row[:10], prev))
    assert _single(rows, 1, 0, 2) == set()  # the position is not hashed
    assert _single(rows, 1, field, value) == {"incident-1"}


def _format_us_plainly(microseconds: Any) -> str:
    """The definition: format_timestamp() of the instant the count stands for."""
    naive = datetime(1970, 1, 1) + timedelta(microseconds=microseconds)
    return naive.isoformat(timespec="microseconds") + "Z"


def _text_or_error(function: Any, value: Any) -> Any:
    try:
        return function(value)
    except Exception as error:  # the failure itself is compared
        return ("raised", type(error))


_MIN_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00
_MAX_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999


@given(
    st.integers(_MIN_US - 2_000_000, _MAX_US + 2_000_000)
    | st.sampled_from([_MIN_US, _MIN_US - 1, _MAX_US, _MAX_US + 1, 0, -1, 1])
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
    | st.booleans()
)
def test_a_stored_instant_is_formatted_as_the_definition_says(microseconds: Any) -> None:
    _format_us.cache_clear()
    assert _text_or_error(_format_us, microseconds) == _text_or_error(
        _format_us_plainly, microseconds
    )
