"""The incident's bulk fold (one draft for a whole run, used by commands and by audit's
as-of replay) must give exactly what `evolve` gives event by event, for any sequence of
any events, and must never change a state it was handed."""

from __future__ import annotations

import uuid
from dataclasses import astuple
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import DomainEvent
from incident_service import domain as d

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def _at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


class Unrelated(DomainEvent):
    """An event the incident does not know: it must leave the state alone."""

    note: str = "x"


EXAMPLES: list[DomainEvent] = [
    d.IncidentDeclared(
        incident_id=uuid.UUID(int=1), number=7, title="Checkout 5xx", severity=d.Severity.P2,
        services=("checkout",), source_alerts=("a1",), declared_by="alice", declared_at=_at(0),
    ),
    d.CommanderAssigned(
        commander="bob", previous_commander=None, assigned_by="alice", assigned_at=_at(1)
    ),
    d.SeverityChanged(
        from_severity=d.Severity.P2, to_severity=d.Severity.P1, reason="spreading",
        changed_by="bob", changed_at=_at(2),
    ),
    d.StatusChanged(
        from_status=d.Status.INVESTIGATING, to_status=d.Status.IDENTIFIED, changed_by="bob",
        changed_at=_at(3),
    ),
    d.TimelineNoteAdded(text="rolled back", author="bob", added_at=_at(4)),
    d.MitigationApplied(
        kind=d.MitigationKind.ROLLBACK, description="v41", temporary=True, applied_by="bob",
        applied_at=_at(5), recorded_at=_at(6),
    ),
    d.IncidentResolved(
        summary="ok", resolved_by="bob", resolved_at=_at(7), root_cause_pending=True
    ),
    d.RootCauseFollowUpRequired(
        reason="temp fix", temporary_mitigations=("v41",), required_at=_at(8)
    ),
    d.RootCauseFollowUpClosed(
        root_cause="bad deploy", closed_by="carol", postmortem="PM-1", closed_at=_at(9)
    ),
    d.AlertAttached(alert_key="a2", summary="latency", attached_at=_at(10)),
    d.SourceAlertsResolved(group_id="g1", resolved_at=_at(11)),
    d.IncidentReopened(reason="again", reopened_by="dave", reopened_at=_at(12)),
    Unrelated(),
]  # fmt: skip


def _one_by_one(events: list[DomainEvent], state: d.Incident) -> d.Incident:
    for event in events:
        state = d.evolve(state, event)
    return state


def test_every_event_type_has_an_example() -> None:
    # A new event type added to the domain without an example here would go untested.
    handled = {type(e) for e in EXAMPLES} - {Unrelated}
    assert handled == set(d._INCIDENT_EVENTS)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.integers(0, len(EXAMPLES) - 1), max_size=40),
    st.lists(st.integers(0, len(EXAMPLES) - 1), max_size=5),
)
def test_fold_equals_evolve_one_event_at_a_time(picks: list[int], before: list[int]) -> None:
    start = _one_by_one([EXAMPLES[i] for i in before], d.INITIAL)
    snapshot = astuple(start)
    events = [EXAMPLES[i] for i in picks]
    assert astuple(d.fold(events, start)) == astuple(_one_by_one(events, start))
    assert astuple(start) == snapshot, "fold changed the state it was given"
    assert astuple(d.INITIAL) == astuple(d.Incident()), "fold changed INITIAL"


class _SpecialNote(d.TimelineNoteAdded):
    """A subclass of an incident event: applied as its base is (isinstance matching)."""


class _Both(Unrelated, d.CommanderAssigned):
    """Unrelated first in its bases: still a CommanderAssigned to the incident."""


def test_events_are_applied_by_class_as_isinstance_would_choose() -> None:
    note = EXAMPLES[4]
    assert isinstance(note, d.TimelineNoteAdded)
    special = _SpecialNote(**note.model_dump())
    start = d.evolve(d.INITIAL, EXAMPLES[0])
    assert astuple(d.evolve(start, special)) == astuple(d.evolve(start, note))
    assert astuple(d.fold([special, special], start)) == astuple(d.fold([note, note], start))
    both = _Both(commander="erin", previous_commander=None, assigned_by="x", assigned_at=_at(3))
    assert d.evolve(start, both).commander == "erin"
    assert d.fold([both], start).commander == "erin"
    # An event the incident does not know changes nothing and copies nothing.
    assert d.evolve(start, Unrelated()) is start
    assert d.fold([Unrelated(), Unrelated()], start) is start
