"""Event contracts: past-tense names, frozen models, upcasting, fixtures and export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from contracts.events import (
    ContractError,
    DomainEvent,
    EventLoadError,
    EventRegistry,
    UnknownEventTypeError,
    is_past_tense,
)
from contracts.export import export, main
from contracts.fixtures import replay_fixtures, write_current_fixture
from eventlog import EventMetadata, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore
from tests.unit.contracts.sample_contracts import REGISTRY, AccountOpened, MoneyDeposited

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_published_version_of_every_sample_event_still_loads() -> None:
    replayed = replay_fixtures(REGISTRY, FIXTURES)
    by_version = {(r.event_type, r.schema_version): r.event for r in replayed}
    assert by_version[("AccountOpened", 1)] == AccountOpened(
        given_name="Ada", family_name="Lovelace", currency="EUR"
    )
    assert by_version[("AccountOpened", 2)] == AccountOpened(
        given_name="Grace", family_name="Hopper", currency="EUR"
    )
    assert by_version[("AccountOpened", 3)].currency == "GBP"  # type: ignore[attr-defined]
    assert len(replayed) == 4


def test_a_missing_fixture_for_a_published_version_fails_the_replay(tmp_path: Path) -> None:
    (tmp_path / "AccountOpened").mkdir()
    (tmp_path / "AccountOpened" / "v1.json").write_text('{"data": {"name": "A B"}}')
    with pytest.raises(AssertionError, match=r"missing fixture .*AccountOpened/v2\.json"):
        replay_fixtures(REGISTRY, tmp_path)


def test_a_fixture_that_no_longer_validates_fails_the_replay(tmp_path: Path) -> None:
    for name, version, data in [
        ("AccountOpened", 1, {"name": "A B"}),
        ("AccountOpened", 2, {"given_name": "A"}),  # family_name missing
        ("AccountOpened", 3, {"given_name": "A", "family_name": "B", "currency": "X"}),
        ("MoneyDeposited", 1, {"amount_cents": 1}),
    ]:
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / f"v{version}.json").write_text(json.dumps({"data": data}))
    with pytest.raises(
        AssertionError, match=r"(?s)AccountOpened/v2\.json: EventLoadError.*family_name"
    ):
        replay_fixtures(REGISTRY, tmp_path)


def test_events_round_trip_through_a_real_log(tmp_path: Path) -> None:
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="bank", ownership=Ownership({"bank": {"account"}})
    )
    opened = AccountOpened(given_name="Ada", family_name="Lovelace", currency="EUR")
    new = REGISTRY.to_new_event(opened, metadata=EventMetadata(actor="ada"))
    store.append(
        "account-1",
        [new, REGISTRY.to_new_event(MoneyDeposited(amount_cents=5))],
        StreamState.NO_STREAM,
    )

    loaded = [REGISTRY.from_recorded(e) for e in store.read_stream("account-1")]

    assert loaded == [opened, MoneyDeposited(amount_cents=5)]
    assert new.schema_version == 3


def test_an_old_version_read_from_the_log_is_upcast(tmp_path: Path) -> None:
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="bank", ownership=Ownership({"bank": {"account"}})
    )
    store.append(
        "account-1",
        [NewEvent("AccountOpened", {"name": "Ada Lovelace"}, schema_version=1)],
        StreamState.NO_STREAM,
    )
    [recorded] = store.read_stream("account-1")
    assert REGISTRY.from_recorded(recorded) == AccountOpened(
        given_name="Ada", family_name="Lovelace", currency="EUR"
    )


def test_events_are_frozen() -> None:
    event = MoneyDeposited(amount_cents=1)
    with pytest.raises(ValidationError, match="frozen"):
        event.amount_cents = 2  # type: ignore[misc]


def test_unknown_fields_are_refused_rather_than_silently_dropped() -> None:
    with pytest.raises(EventLoadError, match="amount"):
        REGISTRY.load("MoneyDeposited", 1, {"amount_cents": 1, "amount": 2})


def test_an_event_newer_than_the_code_is_refused_with_advice() -> None:
    with pytest.raises(EventLoadError, match="newer than this code"):
        REGISTRY.load("MoneyDeposited", 2, {"amount_cents": 1})


def test_an_unknown_event_type_is_named() -> None:
    with pytest.raises(UnknownEventTypeError, match="'AccountClosed'"):
        REGISTRY.load("AccountClosed", 1, {})


@pytest.mark.parametrize(
    ("name", "past"),
    [
        ("IncidentDeclared", True),
        ("PageSent", True),
        ("UpdateOverdue", True),
        ("EscalationStepScheduled", True),
        ("DeclareIncident", False),
        ("IncidentResolve", False),
        ("lowercase", False),
    ],
)
def test_event_names_must_be_past_tense(name: str, past: bool) -> None:
    assert is_past_tense(name) is past


def test_registering_a_present_tense_event_is_refused() -> None:
    registry = EventRegistry("x")

    class DeclareIncident(DomainEvent):
        title: str

    with pytest.raises(ContractError, match="past tense"):
        registry.register(DeclareIncident)


def test_a_version_bump_without_an_upcaster_is_caught() -> None:
    registry = EventRegistry("x")

    @registry.register
    class ThingHappened(DomainEvent):
        schema_version = 2
        what: str

    with pytest.raises(ContractError, match="no upcaster from v1"):
        registry.check_complete()
    REGISTRY.check_complete()


def test_schemas_are_exported_per_owner_and_version(tmp_path: Path) -> None:
    paths = export([REGISTRY], tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == [
        "sample/AccountOpened.v3.json",
        "sample/MoneyDeposited.v1.json",
    ]
    schema = json.loads((tmp_path / "sample" / "AccountOpened.v3.json").read_text())
    assert schema["required"] == ["given_name", "family_name", "currency"]
    assert schema["x-schema-version"] == 3
    assert schema["additionalProperties"] is False


def test_the_export_command_writes_files_for_a_named_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path), "tests.unit.contracts.sample_contracts:REGISTRY"]) == 0
    assert "MoneyDeposited.v1.json" in capsys.readouterr().out


def test_the_export_command_explains_a_bad_reference() -> None:
    with pytest.raises(SystemExit, match="module:REGISTRY"):
        main(["no_colon_here"])


def test_fixtures_are_written_once_and_never_overwritten(tmp_path: Path) -> None:
    path = write_current_fixture(REGISTRY, MoneyDeposited(amount_cents=3), tmp_path)
    assert json.loads(path.read_text()) == {"data": {"amount_cents": 3}}
    with pytest.raises(FileExistsError, match="never rewritten"):
        write_current_fixture(REGISTRY, MoneyDeposited(amount_cents=4), tmp_path)
