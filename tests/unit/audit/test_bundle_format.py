"""The documented formats (docs/audit-bundle.md) match the code that writes them: the
standalone checker's event hash equals the log's, and the Merkle root is the one the
document describes."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

import pytest

from audit_service.bundle import event_record
from audit_service.seals import merkle_root
from eventlog import EventMetadata, RecordedEvent
from eventlog.chain import event_hash
from eventlog.validation import encode_json
from incidentctl import bundlecheck

AWKWARD = [
    ({"text": 'naïve café — 東京 "quoted" back\\slash\ttab\nnewline\u0001'}, EventMetadata()),
    (
        {"n": 1.5, "big": 10**20, "neg": -0.0, "nested": {"b": [1, {"a": None}], "a": True}},
        EventMetadata(
            correlation_id="c-1",
            causation_id="e\u00e9",
            actor="alice",
            occurred_at=datetime(2026, 1, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
    ),
]


@pytest.mark.parametrize(("data", "metadata"), AWKWARD)
def test_the_standalone_checker_hashes_events_exactly_as_the_log_does(
    data: dict[str, object], metadata: EventMetadata
) -> None:
    recorded_at = datetime(2026, 11, 27, 2, 17, 0, 123456, tzinfo=UTC)
    event_id = uuid.uuid4()
    digest = event_hash(
        event_id=str(event_id),
        stream="incident-1",
        event_type="Weird",
        schema_version=3,
        data_json=encode_json(data, "data"),
        metadata=metadata,
        recorded_at=recorded_at,
        prev_hash="a" * 64,
    )
    event = RecordedEvent(
        id=event_id,
        stream="incident-1",
        version=4,
        position=9,
        type="Weird",
        schema_version=3,
        data=data,
        metadata=metadata,
        recorded_at=recorded_at,
        prev_hash="a" * 64,
        hash=digest,
    )
    record = json.loads(json.dumps(event_record(event)))  # as a third party reads it

    assert bundlecheck.event_hash(record) == digest


def test_the_merkle_root_is_the_documented_one() -> None:
    heads = {"b": [1, "22" * 32], "a": [0, "11" * 32], "c": [5, "33" * 32]}

    def leaf(name: str) -> bytes:
        version, value = heads[name]
        text = json.dumps([name, version, value], separators=(",", ":")).encode()
        return hashlib.sha256(b"\x00" + text).digest()

    a, b, c = leaf("a"), leaf("b"), leaf("c")
    expected = hashlib.sha256(b"\x01" + hashlib.sha256(b"\x01" + a + b).digest() + c).hexdigest()

    assert merkle_root(heads) == expected
    assert merkle_root({}) == hashlib.sha256(b"").hexdigest()
