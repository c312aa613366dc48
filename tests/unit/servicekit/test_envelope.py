"""The envelope carries every RecordedEvent field across the wire, both ways."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlog import EventMetadata, NewEvent, Ownership, RecordedEvent, StreamState
from eventlog.chain import recompute_hash
from eventlog.sqlite import SQLiteEventStore
from servicekit import envelope

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def _fields(event: RecordedEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "stream": event.stream,
        "version": event.version,
        "position": event.position,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "recorded_at": event.recorded_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@given(
    data=st.dictionaries(st.text(), json_values, max_size=5),
    correlation=st.none() | st.text(),
    actor=st.none() | st.text(),
    occurred=st.none() | instants,
    recorded=instants,
    version=st.integers(0, 10**6),
    position=st.integers(1, 10**12),
)
def test_round_trip_keeps_every_field(
    data: dict[str, object],
    correlation: str | None,
    actor: str | None,
    occurred: datetime | None,
    recorded: datetime,
    version: int,
    position: int,
) -> None:
    event = RecordedEvent(
        id=uuid.uuid4(),
        stream="incident-7",
        version=version,
        position=position,
        type="IncidentDeclared",
        schema_version=2,
        data=data,
        metadata=EventMetadata(correlation, str(uuid.uuid4()), actor, occurred),
        recorded_at=recorded,
        prev_hash="a" * 64,
        hash="b" * 64,
    )
    wire = envelope.encode(event)
    assert _fields(envelope.decode(wire.body)) == _fields(event)
    # Already-parsed JSON (what kombu hands a consumer) decodes the same way.
    assert _fields(envelope.decode(json.loads(wire.body))) == _fields(event)


@settings(max_examples=25)
@given(data=st.dictionaries(st.text(), json_values, max_size=5))
def test_a_decoded_event_still_matches_its_hash(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, object]
) -> None:
    # The strongest round-trip check: the consumer can re-verify the chain hash.
    path = Path(tmp_path_factory.mktemp("log")) / "log.db"
    store = SQLiteEventStore(path, writer="incident", ownership=Ownership.platform())
    store.append(
        "incident-1",
        [NewEvent("IncidentDeclared", data, metadata=EventMetadata("inc-1", "cmd-1", "ic@x"))],
        StreamState.ANY,
    )
    recorded = next(iter(store.read_all()))
    decoded = envelope.decode(envelope.encode(recorded).body)
    assert recompute_hash(decoded) == recorded.hash == decoded.hash
    store.close()


def test_amqp_properties() -> None:
    event_id = uuid.uuid4()
    event = RecordedEvent(
        id=event_id,
        stream="incident-7",
        version=3,
        position=42,
        type="SeverityChanged",
        schema_version=1,
        data={"severity": "P1"},
        metadata=EventMetadata(correlation_id="incident-7"),
        recorded_at=datetime(2024, 5, 1, 2, 10, tzinfo=UTC),
        prev_hash="0" * 64,
        hash="1" * 64,
    )
    platform = str(uuid.uuid4())
    wire = envelope.encode(event, platform)
    assert wire.properties() == {
        "message_id": str(event_id),
        "type": "SeverityChanged",
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "headers": {
            "x-stream": "incident-7",
            "x-position": 42,
            "x-correlation-id": "incident-7",
            "x-envelope": 1,
            "x-firewatch-platform": platform,
        },
    }
    body = json.loads(wire.body)
    assert body["metadata"] == {
        "correlation_id": "incident-7",
        "causation_id": None,
        "actor": None,
        "occurred_at": None,
    }
    assert body["recorded_at"] == "2024-05-01T02:10:00.000000Z"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "JSON object"),
        (b"{}", "'envelope' is missing"),
        (b'{"envelope": 99}', "newer than this consumer"),
        (b'{"envelope": 1, "metadata": {}, "id": "nope"}', "not a UUID"),
        (b'{"envelope": true}', "'envelope' must be int"),
    ],
)
def test_malformed_bodies_are_named(body: bytes, message: str) -> None:
    with pytest.raises(envelope.EnvelopeError, match=message):
        envelope.decode(body)
