"""The hash chain's canonical encoding is exactly the documented one."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlog import EventMetadata
from eventlog.chain import (
    canonical_encoding,
    event_hash,
    format_timestamp,
    format_us,
    sealing_hash,
)
from eventlog.errors import InvalidEventError
from eventlog.model import parse_timestamp
from eventlog.validation import encode_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.just(UTC),
)


@given(
    data=st.dictionaries(st.text(), json_values, max_size=5),
    actor=st.none() | st.text(),
    correlation=st.none() | st.text(),
    occurred=st.none() | instants,
    recorded=instants,
    stream=st.text(min_size=1),
    event_type=st.text(min_size=1),
    credential=st.none() | st.text(),
)
def test_the_hand_written_encoding_equals_canonical_json_of_the_whole_event(
    data: dict[str, object],
    actor: str | None,
    correlation: str | None,
    occurred: datetime | None,
    recorded: datetime,
    stream: str,
    event_type: str,
    credential: str | None,
) -> None:
    metadata = EventMetadata(
        correlation_id=correlation, actor=actor, occurred_at=occurred, credential=credential
    )
    encoded = canonical_encoding(
        event_id="7d3c2f0e-0000-4000-8000-000000000001",
        stream=stream,
        event_type=event_type,
        schema_version=2,
        data_json=encode_json(data, "data"),
        metadata=metadata,
        recorded_at=recorded,
        prev_hash="0" * 64,
    )
    whole = {
        "actor": actor,
        "causation_id": None,
        "correlation_id": correlation,
        "data": data,
        "id": "7d3c2f0e-0000-4000-8000-000000000001",
        "occurred_at": format_timestamp(occurred) if occurred else None,
        "prev_hash": "0" * 64,
        "recorded_at": format_timestamp(recorded),
        "schema_version": 2,
        "stream": stream,
        "type": event_type,
    }
    if credential is not None:
        # Only present when set, so events recorded before it existed keep their hash.
        whole["credential"] = credential
    assert encoded == encode_json(whole, "event").encode()
    assert json.loads(encoded) == json.loads(encode_json(whole, "event"))


def test_a_known_event_has_a_known_hash() -> None:
    # Pinned so that an accidental change to the encoding (which would make every stored
    # chain fail verification) cannot pass unnoticed.
    digest = event_hash(
        event_id="7d3c2f0e-0000-4000-8000-000000000001",
        stream="incident-42",
        event_type="IncidentDeclared",
        schema_version=1,
        data_json='{"severity":"P1","title":"checkout down"}',
        metadata=EventMetadata(actor="alice"),
        recorded_at=datetime(2026, 11, 27, 2, 17, tzinfo=UTC),
        prev_hash="0" * 64,
    )
    expected_bytes = (
        '{"actor":"alice","causation_id":null,"correlation_id":null,'
        '"data":{"severity":"P1","title":"checkout down"},'
        '"id":"7d3c2f0e-0000-4000-8000-000000000001","occurred_at":null,'
        '"prev_hash":"' + "0" * 64 + '","recorded_at":"2026-11-27T02:17:00.000000Z",'
        '"schema_version":1,"stream":"incident-42","type":"IncidentDeclared"}'
    ).encode()
    assert digest == hashlib.sha256(expected_bytes).hexdigest()


def test_timestamps_are_normalised_to_utc_with_microseconds() -> None:
    local = datetime(2026, 3, 29, 3, 30, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(local) == "2026-03-29T01:30:00.000005Z"
    assert parse_timestamp(format_timestamp(local)) == local


def test_the_credential_is_hashed_when_present_and_the_audit_checker_agrees() -> None:
    from incidentctl.bundlecheck import event_hash as checker_hash

    fields = {
        "event_id": "7d3c2f0e-0000-4000-8000-000000000001",
        "stream": "page-1",
        "event_type": "PageAcknowledged",
        "schema_version": 1,
        "data_json": "{}",
        "recorded_at": datetime(2026, 11, 27, 2, 17, tzinfo=UTC),
        "prev_hash": "0" * 64,
    }
    plain = event_hash(**fields, metadata=EventMetadata(actor="oncall"))  # type: ignore[arg-type]
    signed = event_hash(
        **fields,  # type: ignore[arg-type]
        metadata=EventMetadata(actor="oncall", credential="oncall-laptop"),
    )
    assert plain != signed
    record = {
        "id": fields["event_id"],
        "stream": "page-1",
        "type": "PageAcknowledged",
        "schema_version": 1,
        "data_json": "{}",
        "actor": "oncall",
        "causation_id": None,
        "correlation_id": None,
        "occurred_at": None,
        "recorded_at": "2026-11-27T02:17:00.000000Z",
        "prev_hash": "0" * 64,
    }
    assert checker_hash(record) == plain
    assert checker_hash({**record, "credential": "oncall-laptop"}) == signed


any_instants = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=7))]
    ),
)


def _microseconds(value: datetime) -> int:
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@given(
    data=st.dictionaries(st.text(), json_values, max_size=5),
    actor=st.none() | st.text(),
    causation=st.none() | st.text(),
    correlation=st.none() | st.text(),
    occurred=st.none() | any_instants,
    recorded=any_instants,
    stream=st.text(min_size=1),
    event_type=st.text(min_size=1),
    credential=st.none() | st.text(),
    prev_hash=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_the_append_paths_hash_is_event_hash(
    data: dict[str, object],
    actor: str | None,
    causation: str | None,
    correlation: str | None,
    occurred: datetime | None,
    recorded: datetime,
    stream: str,
    event_type: str,
    credential: str | None,
    prev_hash: str,
) -> None:
    # sealing_hash caches metadata parts and takes the time pre-formatted (docs/adr/0032);
    # it must hash exactly canonical_encoding()'s bytes, or stored chains would break.
    metadata = EventMetadata(
        correlation_id=correlation,
        causation_id=causation,
        actor=actor,
        occurred_at=occurred,
        credential=credential,
    )
    fields = {
        "event_id": "7d3c2f0e-0000-4000-8000-000000000001",
        "stream": stream,
        "event_type": event_type,
        "schema_version": 3,
        "data_json": encode_json(data, "data"),
        "metadata": metadata,
        "prev_hash": prev_hash,
    }
    recorded_text = format_us(_microseconds(recorded))
    assert recorded_text == format_timestamp(recorded)
    assert sealing_hash(**fields, recorded_text=recorded_text) == event_hash(
        **fields, recorded_at=recorded
    )


@given(value=json_values)
def test_encode_json_is_canonical_json(value: object) -> None:
    assert encode_json(value, "data") == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def test_encode_json_still_refuses_a_cycle_with_its_own_message() -> None:
    looped: dict[str, object] = {}
    looped["self"] = looped
    with pytest.raises(InvalidEventError, match="Circular reference detected"):
        encode_json({"a": [looped]}, "data")
