"""Every audit event version ever published still loads (services/audit/fixtures), and
the records the audit code really writes are exactly what the contracts describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audit_service.app import AuditApplication
from audit_service.events import EVENTS, LogSealed, SealKeyAdopted
from audit_service.keys import SigningKey, generate_key, verify_signature
from audit_service.seals import SEAL_STREAM, SealBook
from contracts.events import EventLoadError
from contracts.fixtures import replay_fixtures
from eventlog import FakeClock, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore

FIXTURES = Path(__file__).resolve().parents[3] / "services" / "audit" / "fixtures"


def test_every_published_audit_event_version_replays() -> None:
    EVENTS.check_complete()
    replayed = replay_fixtures(EVENTS, FIXTURES)
    assert {r.event_type for r in replayed} == set(EVENTS.types)


def test_the_seal_fixtures_are_real_signed_records() -> None:
    """The examples are what SealBook writes: their signatures still verify."""
    by_type = {r.event_type: r.event for r in replay_fixtures(EVENTS, FIXTURES)}
    key = by_type["SealKeyAdopted"]
    assert isinstance(key, SealKeyAdopted)
    body = key.model_dump(mode="json", exclude={"endorsement", "self_signature"})
    assert verify_signature(key.public_key, body, key.self_signature)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[SigningKey, SigningKey]:
    return generate_key(tmp_path / "one.pem"), generate_key(tmp_path / "two.pem")


def test_seal_book_records_validate_and_dump_back_to_the_signed_dict(
    keys: tuple[SigningKey, SigningKey],
) -> None:
    one, two = keys
    book = SealBook([])
    written: list[dict[str, Any]] = [
        book.adopt_key(one, None, "2026-11-27T10:00:00.000000Z"),
        book.seal(one, 0, {}, "2026-11-27T10:01:00.000000Z"),
        book.seal(one, 7, {"policy-web": (2, "ab" * 32)}, "2026-11-27T10:02:00.000000Z"),
        book.adopt_key(two, one, "2026-11-27T11:00:00.000000Z"),
    ]

    for record in written:
        name = SealKeyAdopted.event_type() if record["kind"] == "key" else LogSealed.event_type()
        event = EVENTS.load(name, 1, record)
        # The contract describes the signed dict exactly: nothing added, dropped or
        # coerced, so the stored data and its signature stay what seals.py made.
        assert event.model_dump(mode="json") == record


def test_a_record_that_drifted_from_the_contract_is_refused(
    keys: tuple[SigningKey, SigningKey],
) -> None:
    record = SealBook([]).adopt_key(keys[0], None, "2026-11-27T10:00:00.000000Z")

    with pytest.raises(EventLoadError, match="key_id"):
        EVENTS.load("SealKeyAdopted", 1, record | {"key_id": "not-hex"})
    with pytest.raises(EventLoadError, match="extra"):
        EVENTS.load("SealKeyAdopted", 1, record | {"note": "added later"})


def test_what_the_audit_application_appends_validates_against_the_contracts(
    tmp_path: Path, keys: tuple[SigningKey, SigningKey]
) -> None:
    clock = FakeClock()
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="audit", ownership=Ownership.platform(), clock=clock
    )
    incident = SQLiteEventStore(
        tmp_path / "log.db", writer="incident", ownership=Ownership.platform(), clock=clock
    )
    incident.append("incident-1", [NewEvent("IncidentNoteAdded", {"n": 1})], StreamState.ANY)
    app = AuditApplication(store, clock, key=keys[0])

    app.record_access("audrey", "Replay", "incident-1")
    app.seal()
    app.rotate_key(keys[1])
    app.seal()

    written = [e for e in store.read_all() if e.category in ("auditaccess", "auditseal")]
    assert [e.type for e in written] == [
        "AuditRecordAccessed",
        "SealKeyAdopted",
        "LogSealed",
        "SealKeyAdopted",
        "LogSealed",
    ]
    for recorded in written:
        event = EVENTS.from_recorded(recorded)
        assert event.model_dump(mode="json") == recorded.data
    assert [e.stream for e in written[1:]] == [SEAL_STREAM] * 4
