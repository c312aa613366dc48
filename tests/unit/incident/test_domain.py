"""Incident decider: given events, when a command, then events (or a domain error)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from incident_service.domain import (
    ALLOWED_TRANSITIONS,
    AddNote,
    AssignCommander,
    ChangeSeverity,
    CommanderAssigned,
    DeclareIncident,
    IncidentCommand,
    IncidentDeclared,
    IncidentReopened,
    IncidentResolved,
    MitigationApplied,
    MitigationKind,
    RecordMitigation,
    Reopen,
    Resolve,
    RootCauseFollowUpRequired,
    Severity,
    SeverityChanged,
    Status,
    StatusChanged,
    TimelineNoteAdded,
    UpdateStatus,
    decide,
    fold,
)

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000042")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def declared(**overrides: Any) -> IncidentDeclared:
    fields: dict[str, Any] = {
        "incident_id": INCIDENT,
        "number": 42,
        "title": "checkout 5xx above 1%",
        "severity": Severity.P1,
        "services": ("checkout",),
        "declared_by": "alice",
        "declared_at": T0,
    }
    return IncidentDeclared(**{**fields, **overrides})


def mitigated(kind: MitigationKind, temporary: bool, minute: float = 5) -> MitigationApplied:
    return MitigationApplied(
        kind=kind,
        description=f"{kind.value} web",
        temporary=temporary,
        applied_by="bob",
        applied_at=at(minute),
        recorded_at=at(minute),
    )


def given_when(given: Sequence[DomainEvent], command: IncidentCommand) -> Sequence[DomainEvent]:
    return decide(command, fold(given))


# ---------------------------------------------------------------- declare


def test_declaring_records_the_incident_with_number_severity_and_services() -> None:
    events = given_when(
        [],
        DeclareIncident(
            at=T0,
            incident_id=INCIDENT,
            number=42,
            title="checkout 5xx above 1%",
            severity="P1",
            services=("checkout", "payments", "checkout"),
            source_alerts=("alert-abc",),
            declared_by="alice",
        ),
    )
    assert events == [declared(services=("checkout", "payments"), source_alerts=("alert-abc",))]
    state = fold(events)
    assert (state.reference, state.status, state.commander) == (
        "INC-42",
        Status.INVESTIGATING,
        None,
    )


def test_declaring_twice_is_refused() -> None:
    with pytest.raises(PreconditionFailedError, match="already declared as INC-42"):
        given_when(
            [declared()],
            DeclareIncident(
                at=T0,
                incident_id=INCIDENT,
                number=43,
                title="x",
                severity="P2",
                services=("a",),
                declared_by="a",
            ),
        )


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"severity": "P5"}, "severity"),
        ({"severity": "critical"}, "severity"),
        ({"services": ()}, "services"),
        ({"services": ("Bad Name",)}, "services.0"),
        ({"declared_by": ""}, "declared_by"),
        ({"number": 0}, "number"),
        ({"at": datetime(2026, 1, 1)}, "at"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_a_malformed_declaration_names_the_field(fields: dict[str, Any], bad_field: str) -> None:
    base: dict[str, Any] = {
        "at": T0,
        "incident_id": INCIDENT,
        "number": 1,
        "title": "t",
        "severity": "P1",
        "services": ("web",),
        "declared_by": "alice",
    }
    with pytest.raises(ValidationError) as info:
        DeclareIncident(**{**base, **fields})
    assert InvalidCommandError.from_validation(info.value).field == bad_field


def test_commands_on_an_undeclared_incident_are_not_found() -> None:
    with pytest.raises(NotFoundError):
        given_when([], AddNote(at=T0, text="hello", author="alice"))


# ---------------------------------------------------------------- commander


def test_assigning_a_commander_then_handing_over_records_who_had_it() -> None:
    first = given_when(
        [declared()], AssignCommander(at=at(1), commander="carol", assigned_by="alice")
    )
    handover = given_when(
        [declared(), *first], AssignCommander(at=at(2), commander="dave", assigned_by="carol")
    )
    assert first == [
        CommanderAssigned(
            commander="carol", previous_commander=None, assigned_by="alice", assigned_at=at(1)
        )
    ]
    assert handover == [
        CommanderAssigned(
            commander="dave", previous_commander="carol", assigned_by="carol", assigned_at=at(2)
        )
    ]
    assert fold([declared(), *first, *handover]).commander == "dave"


def test_assigning_the_current_commander_again_changes_nothing() -> None:
    history = [
        declared(),
        CommanderAssigned(
            commander="carol", previous_commander=None, assigned_by="a", assigned_at=at(1)
        ),
    ]
    assert given_when(history, AssignCommander(at=at(2), commander="carol", assigned_by="a")) == []


# ---------------------------------------------------------------- severity


def test_changing_severity_records_from_to_and_reason() -> None:
    events = given_when(
        [declared()],
        ChangeSeverity(at=at(3), severity="P2", reason="only EU affected", changed_by="carol"),
    )
    assert events == [
        SeverityChanged(
            from_severity=Severity.P1,
            to_severity=Severity.P2,
            reason="only EU affected",
            changed_by="carol",
            changed_at=at(3),
        )
    ]


def test_changing_severity_requires_a_reason() -> None:
    with pytest.raises(ValidationError, match="reason"):
        ChangeSeverity(at=at(3), severity="P2", reason=" ", changed_by="carol")


def test_a_resolved_incident_can_still_be_regraded() -> None:
    history = [
        declared(),
        IncidentResolved(summary="s", resolved_by="a", resolved_at=at(9), root_cause_pending=True),
    ]
    events = given_when(
        history,
        ChangeSeverity(at=at(60), severity="P3", reason="postmortem: minor", changed_by="pm"),
    )
    assert [type(e) for e in events] == [SeverityChanged]


# ---------------------------------------------------------------- status


def test_status_moves_forward_through_identified_and_monitoring() -> None:
    identified = given_when(
        [declared()], UpdateStatus(at=at(4), status="identified", changed_by="carol")
    )
    monitoring = given_when(
        [declared(), *identified],
        UpdateStatus(at=at(8), status="monitoring", changed_by="carol", note="rolled back"),
    )
    assert identified == [
        StatusChanged(
            from_status=Status.INVESTIGATING,
            to_status=Status.IDENTIFIED,
            changed_by="carol",
            changed_at=at(4),
        )
    ]
    assert monitoring[0].to_status is Status.MONITORING  # type: ignore[attr-defined]
    assert monitoring[0].note == "rolled back"  # type: ignore[attr-defined]


def test_a_fix_that_did_not_hold_sends_monitoring_back_to_investigating() -> None:
    history = [
        declared(),
        StatusChanged(
            from_status=Status.INVESTIGATING,
            to_status=Status.MONITORING,
            changed_by="c",
            changed_at=at(5),
        ),
    ]
    events = given_when(history, UpdateStatus(at=at(9), status="investigating", changed_by="c"))
    assert fold([*history, *events]).status is Status.INVESTIGATING


def test_resolving_through_a_status_update_is_refused_with_advice() -> None:
    with pytest.raises(PreconditionFailedError, match="use Resolve"):
        given_when([declared()], UpdateStatus(at=at(4), status="resolved", changed_by="carol"))


def test_a_resolved_incident_refuses_status_updates_and_says_what_is_allowed() -> None:
    history = [
        declared(),
        IncidentResolved(summary="s", resolved_by="a", resolved_at=at(9), root_cause_pending=True),
    ]
    with pytest.raises(
        PreconditionFailedError,
        match=r"cannot go from resolved to monitoring; allowed from resolved: none \(reopen",
    ):
        given_when(history, UpdateStatus(at=at(10), status="monitoring", changed_by="a"))


@pytest.mark.parametrize("current", [Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING])
@pytest.mark.parametrize("target", [Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING])
def test_working_states_follow_the_transition_table(current: Status, target: Status) -> None:
    history: list[DomainEvent] = [declared()]
    if current is not Status.INVESTIGATING:
        history.append(
            StatusChanged(
                from_status=Status.INVESTIGATING,
                to_status=current,
                changed_by="c",
                changed_at=at(1),
            )
        )
    events = given_when(history, UpdateStatus(at=at(2), status=target, changed_by="c"))
    if target is current:
        assert events == []
    else:
        assert target in ALLOWED_TRANSITIONS[current]
        assert fold([*history, *events]).status is target


def test_setting_the_current_status_changes_nothing() -> None:
    assert (
        given_when([declared()], UpdateStatus(at=at(1), status="investigating", changed_by="a"))
        == []
    )


# ---------------------------------------------------------------- notes and mitigations


def test_notes_are_added_to_the_timeline_even_after_resolution() -> None:
    history = [
        declared(),
        IncidentResolved(summary="s", resolved_by="a", resolved_at=at(9), root_cause_pending=False),
    ]
    assert given_when(
        history, AddNote(at=at(30), text="customer emails answered", author="eve")
    ) == [TimelineNoteAdded(text="customer emails answered", author="eve", added_at=at(30))]


def test_a_mitigation_applied_earlier_than_recorded_keeps_both_times() -> None:
    events = given_when(
        [declared()],
        RecordMitigation(
            at=at(25),
            kind="rollback",
            description="rolled back 1.4.2",
            temporary=True,
            applied_by="bob",
            applied_at=at(10),
        ),
    )
    assert events == [
        MitigationApplied(
            kind=MitigationKind.ROLLBACK,
            description="rolled back 1.4.2",
            temporary=True,
            applied_by="bob",
            applied_at=at(10),
            recorded_at=at(25),
        )
    ]


def test_a_mitigation_cannot_be_applied_in_the_future() -> None:
    with pytest.raises(
        InvalidCommandError, match="applied_at: a mitigation cannot be applied in the future"
    ):
        given_when(
            [declared()],
            RecordMitigation(
                at=at(5),
                kind="restart",
                description="d",
                temporary=True,
                applied_by="b",
                applied_at=at(6),
            ),
        )


def test_an_unknown_mitigation_kind_is_refused() -> None:
    with pytest.raises(ValidationError, match="kind"):
        RecordMitigation(at=at(5), kind="prayer", description="d", temporary=True, applied_by="b")


def test_mitigations_need_a_reopened_incident_once_resolved() -> None:
    history = [
        declared(),
        IncidentResolved(summary="s", resolved_by="a", resolved_at=at(9), root_cause_pending=False),
    ]
    with pytest.raises(PreconditionFailedError, match="reopen it before you record a mitigation"):
        given_when(
            history,
            RecordMitigation(
                at=at(10), kind="restart", description="d", temporary=True, applied_by="b"
            ),
        )


# ---------------------------------------------------------------- resolution


def test_resolving_after_only_temporary_mitigations_leaves_the_root_cause_pending() -> None:
    history = [
        declared(),
        mitigated(MitigationKind.RESTART, True),
        mitigated(MitigationKind.ROLLBACK, True, 7),
    ]
    events = given_when(
        history, Resolve(at=at(20), summary="errors back to baseline", resolved_by="carol")
    )
    assert events == [
        IncidentResolved(
            summary="errors back to baseline",
            resolved_by="carol",
            resolved_at=at(20),
            root_cause_pending=True,
        ),
        RootCauseFollowUpRequired(
            reason="resolved with only temporary mitigations; the root cause is still unknown",
            temporary_mitigations=("restart: restart web", "rollback: rollback web"),
            required_at=at(20),
        ),
    ]
    state = fold([*history, *events])
    assert (state.status, state.root_cause_pending, state.follow_up_required) == (
        Status.RESOLVED,
        True,
        True,
    )


def test_resolving_with_no_mitigation_at_all_also_leaves_the_root_cause_pending() -> None:
    events = given_when(
        [declared()], Resolve(at=at(20), summary="recovered by itself", resolved_by="carol")
    )
    assert [type(e) for e in events] == [IncidentResolved, RootCauseFollowUpRequired]


def test_a_permanent_fix_resolves_with_the_root_cause_known() -> None:
    history = [
        declared(),
        mitigated(MitigationKind.RESTART, True),
        mitigated(MitigationKind.FEATURE_FLAG, False, 9),
    ]
    events = given_when(
        history, Resolve(at=at(20), summary="bad flag removed", resolved_by="carol")
    )
    assert events == [
        IncidentResolved(
            summary="bad flag removed",
            resolved_by="carol",
            resolved_at=at(20),
            root_cause_pending=False,
        )
    ]


def test_resolving_needs_a_summary() -> None:
    with pytest.raises(ValidationError, match="summary"):
        Resolve(at=at(20), summary="", resolved_by="carol")


def test_resolving_twice_is_refused() -> None:
    history = [
        declared(),
        IncidentResolved(summary="s", resolved_by="a", resolved_at=at(9), root_cause_pending=False),
    ]
    with pytest.raises(PreconditionFailedError, match="already resolved"):
        given_when(history, Resolve(at=at(10), summary="again", resolved_by="a"))


def test_reopening_returns_a_resolved_incident_to_investigating() -> None:
    history = [
        declared(),
        IncidentResolved(summary="s", resolved_by="a", resolved_at=at(9), root_cause_pending=False),
    ]
    events = given_when(history, Reopen(at=at(40), reason="errors are back", reopened_by="carol"))
    assert events == [
        IncidentReopened(reason="errors are back", reopened_by="carol", reopened_at=at(40))
    ]
    state = fold([*history, *events])
    assert (state.status, state.reopen_count, state.resolved_at) == (Status.INVESTIGATING, 1, None)


def test_only_a_resolved_incident_can_be_reopened() -> None:
    with pytest.raises(PreconditionFailedError, match="only a resolved incident can be reopened"):
        given_when([declared()], Reopen(at=at(40), reason="r", reopened_by="c"))


def test_the_state_at_any_instant_is_the_fold_of_the_events_before_it() -> None:
    timeline: list[DomainEvent] = [
        declared(),
        CommanderAssigned(
            commander="carol", previous_commander=None, assigned_by="a", assigned_at=at(2)
        ),
        SeverityChanged(
            from_severity=Severity.P1,
            to_severity=Severity.P2,
            reason="r",
            changed_by="c",
            changed_at=at(10),
        ),
        IncidentResolved(summary="s", resolved_by="c", resolved_at=at(30), root_cause_pending=True),
    ]
    at_0217 = fold(timeline[:3])
    assert (at_0217.severity, at_0217.commander, at_0217.status) == (
        Severity.P2,
        "carol",
        Status.INVESTIGATING,
    )
