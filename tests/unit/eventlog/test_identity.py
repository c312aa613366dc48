"""The platform identity on a log that predates it, and identity records that are not one.

(Creation, agreement between handles and concurrent first starts are in the backend
conformance suite, tests/contract/eventlog.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventlog import EventMetadata, NewEvent, RecordedEvent, StreamState, open_store
from eventlog.identity import IDENTITY_STREAM, PlatformIdentityError, identity_from_event


def test_a_log_written_before_identities_existed_gets_one_on_its_first_start_after_upgrade(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    with open_store(url, writer="incident") as old:
        for n in range(3):
            old.append(f"incident-{n}", [NewEvent("IncidentDeclared", {})], StreamState.NO_STREAM)

    with open_store(url) as upgraded:
        identity = upgraded.platform_identity()
    assert identity.position == 4, "appended after the history it found, which is unchanged"
    with open_store(url) as later:
        assert later.platform_identity() == identity, "a restart must not mint a new platform"
        assert [e.stream for e in later.read_all()][:3] == [f"incident-{n}" for n in range(3)]
    assert len(identity.short_id) == 12
    assert identity.platform_id.hex.startswith(identity.short_id)


def _record(type_: str = "PlatformInitialized", schema: int = 1, **data: object) -> RecordedEvent:
    return RecordedEvent(
        id=uuid.uuid4(),
        stream=IDENTITY_STREAM,
        version=0,
        position=1,
        type=type_,
        schema_version=schema,
        data=data,
        metadata=EventMetadata(),
        recorded_at=datetime(2026, 11, 27, tzinfo=UTC),
        prev_hash="0" * 64,
        hash="0" * 64,
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_record(platform_id="not-a-uuid"), "field 'platform_id' is not a UUID: 'not-a-uuid'"),
        (_record(), "field 'platform_id' is not a UUID: None"),
        (_record(platform_id=42), "field 'platform_id' is not a UUID: 42"),
        (_record("SomethingElse", platform_id=str(uuid.uuid4())), "is not 'PlatformInitialized'"),
        (_record(schema=2, platform_id=str(uuid.uuid4())), "schema_version 2 is newer"),
    ],
)
def test_an_identity_record_that_is_not_one_is_refused_naming_the_field(
    record: RecordedEvent, message: str
) -> None:
    with pytest.raises(PlatformIdentityError, match=message.replace("(", r"\(")):
        identity_from_event(record)
