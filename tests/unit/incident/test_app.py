"""The incident application layer over a real SQLite log."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain
from incident_service.app import NUMBERS_STREAM, IncidentApplication
from incident_service.domain import (
    AddNote,
    AssignCommander,
    ChangeSeverity,
    RecordMitigation,
    Resolve,
    Severity,
    Status,
)

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> SQLiteEventStore:
    return SQLiteEventStore(
        tmp_path / "log.db", writer="incident", ownership=Ownership.platform(), clock=clock
    )


@pytest.fixture
def app(store: SQLiteEventStore, clock: FakeClock) -> IncidentApplication:
    return IncidentApplication(store, clock)


def declare(app: IncidentApplication, **overrides: object) -> uuid.UUID:
    fields: dict[str, object] = {
        "title": "checkout 5xx",
        "severity": "P1",
        "services": ["checkout"],
        "declared_by": "alice",
    }
    return app.declare(**{**fields, **overrides}).incident_id  # type: ignore[arg-type]


def test_a_numbers_metadata_is_the_declarations_with_its_cause(
    app: IncidentApplication, store: SQLiteEventStore
) -> None:
    # The number is allocated by the kit (appkit CommandRunner.record), so it carries
    # the same actor, correlation and causation as the declaration it numbers.
    declared = app.declare(
        title="a", severity="P1", services=["web"], declared_by="x", causation_id="alert-7"
    )
    number = store.read_stream(NUMBERS_STREAM)[0].metadata
    declaration = store.read_stream(domain.stream_for(declared.incident_id))[0].metadata
    assert (number.actor, number.correlation_id, number.causation_id) == (
        "x",
        str(declared.incident_id),
        "alert-7",
    )
    assert (number.actor, number.correlation_id, number.causation_id) == (
        declaration.actor,
        declaration.correlation_id,
        declaration.causation_id,
    )


def test_incidents_get_consecutive_human_numbers(app: IncidentApplication) -> None:
    first = app.declare(title="a", severity="P1", services=["web"], declared_by="x")
    second = app.declare(title="b", severity="P3", services=["db"], declared_by="x")
    assert (first.reference, second.reference) == ("INC-1", "INC-2")
    assert app.resolve_reference("inc-2") == second.incident_id
    assert app.get("INC-1").state.title == "a"


def test_an_unknown_reference_is_not_found_and_a_malformed_one_is_invalid(
    app: IncidentApplication,
) -> None:
    with pytest.raises(NotFoundError, match="INC-7"):
        app.get("INC-7")
    with pytest.raises(InvalidCommandError, match="incident"):
        app.get("INC-x")
    with pytest.raises(InvalidCommandError, match="neither an incident id"):
        app.get("banana")


def test_declaring_with_an_idempotency_key_twice_returns_the_same_incident(
    app: IncidentApplication, store: SQLiteEventStore
) -> None:
    first = app.declare(
        title="t", severity="P2", services=["web"], declared_by="x", idempotency_key="alert-group-9"
    )
    head = store.head_position()
    again = app.declare(
        title="t", severity="P2", services=["web"], declared_by="x", idempotency_key="alert-group-9"
    )
    assert (again.incident_id, again.number, again.replayed) == (
        first.incident_id,
        first.number,
        True,
    )
    assert store.head_position() == head


def test_a_retried_command_with_the_same_key_appends_nothing_new(
    app: IncidentApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    incident = declare(app)
    first = app.execute(
        incident,
        AddNote,
        actor="bob",
        idempotency_key="k1",
        text="db failover started",
        author="bob",
    )
    clock.advance(60)
    app.execute(incident, AddNote, actor="bob", text="another", author="bob")
    again = app.execute(
        incident,
        AddNote,
        actor="bob",
        idempotency_key="k1",
        text="db failover started",
        author="bob",
    )
    assert again.replayed
    assert (again.version, again.position) == (first.version, first.position)
    assert [e.type for e in store.read_stream(domain.stream_for(incident))].count(
        "TimelineNoteAdded"
    ) == 2


def test_bad_input_appends_nothing(app: IncidentApplication, store: SQLiteEventStore) -> None:
    with pytest.raises(InvalidCommandError) as info:
        app.declare(title="", severity="P1", services=["web"], declared_by="x")
    assert info.value.field == "title"
    with pytest.raises(InvalidCommandError, match="severity"):
        app.declare(title="t", severity="P9", services=["web"], declared_by="x")
    assert store.head_position() == 0
    assert store.read_stream(NUMBERS_STREAM) == []


def test_domain_refusals_surface_unchanged(app: IncidentApplication) -> None:
    incident = declare(app)
    app.execute(incident, Resolve, actor="c", summary="fine", resolved_by="c")
    with pytest.raises(PreconditionFailedError, match="reopen it before you record a mitigation"):
        app.execute(
            incident,
            RecordMitigation,
            actor="c",
            kind="restart",
            description="d",
            temporary=True,
            applied_by="c",
        )


def test_get_as_of_a_time_equals_replaying_the_stream_to_that_time(
    app: IncidentApplication, clock: FakeClock
) -> None:
    incident = declare(app)
    clock.advance(timedelta(minutes=5))
    app.execute(incident, AssignCommander, actor="a", commander="carol", assigned_by="alice")
    clock.advance(timedelta(minutes=12))
    app.execute(
        incident, ChangeSeverity, actor="c", severity="P2", reason="EU only", changed_by="carol"
    )

    at_0210 = app.get(incident, as_of_time=T0 + timedelta(minutes=10))
    assert (at_0210.state.commander, at_0210.state.severity) == ("carol", Severity.P1)
    by_position = app.get(incident, as_of_position=at_0210.position)
    assert by_position.state == at_0210.state
    assert app.get(incident).state.severity is Severity.P2
    with pytest.raises(NotFoundError, match="did not exist at that point"):
        app.get(incident, as_of_time=T0 - timedelta(seconds=1))


def test_two_concurrent_commander_assignments_leave_a_consistent_history(
    tmp_path: Path, clock: FakeClock
) -> None:
    writer = SQLiteEventStore(
        tmp_path / "log.db", writer="incident", ownership=Ownership.platform(), clock=clock
    )
    incident = declare(IncidentApplication(writer, clock))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def assign(name: str) -> None:
        handle = SQLiteEventStore(
            tmp_path / "log.db", writer="incident", ownership=Ownership.platform(), clock=clock
        )
        barrier.wait()
        try:
            IncidentApplication(handle, clock).execute(
                incident, AssignCommander, actor=name, commander=name, assigned_by=name
            )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=assign, args=(n,)) for n in ("carol", "dave")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    view = IncidentApplication(writer, clock).get(incident)
    assignments = [e.data for e in view.events if e.type == "CommanderAssigned"]
    assert len(assignments) == 2
    # The second writer saw the first one's assignment: no lost update.
    assert assignments[1]["previous_commander"] == assignments[0]["commander"]
    assert view.state.commander == assignments[1]["commander"]
    assert writer.verify(domain.stream_for(incident)).ok


def test_every_event_carries_the_incident_as_correlation_and_the_actor(
    app: IncidentApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    incident = declare(app)
    clock.advance(300)
    app.execute(
        incident,
        RecordMitigation,
        actor="bob",
        causation_id="page-7",
        kind="rollback",
        description="v1.4.1",
        temporary=True,
        applied_by="bob",
        applied_at=T0 + timedelta(minutes=2),
    )
    events = store.read_stream(domain.stream_for(incident))
    assert {e.metadata.correlation_id for e in events} == {str(incident)}
    mitigation = events[-1]
    assert (mitigation.metadata.actor, mitigation.metadata.causation_id) == ("bob", "page-7")
    assert mitigation.metadata.occurred_at == T0 + timedelta(minutes=2)
    assert app.get(incident).state.status is Status.INVESTIGATING
