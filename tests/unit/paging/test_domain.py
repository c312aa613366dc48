"""Pure deciders: given events, when a command, then events (or a domain error)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.domain import InvalidCommandError, PreconditionFailedError
from contracts.events import DomainEvent
from paging_service import ack_token
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import schedule as sch
from paging_service.common import Severity, Urgency
from paging_service.policy import Level, PolicySnapshot, Target, TargetKind, UrgencyRules, plan
from paging_service.registry import EVENTS
from paging_service.user import ContactKind

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000001")


def snapshot(*delays: int, repeat: int = 0, un_ack: int | None = None) -> PolicySnapshot:
    levels = tuple(
        Level(targets=(Target(kind=TargetKind.USER, id=f"u{i}"),), delay_minutes=d)
        for i, d in enumerate(delays)
    )
    return PolicySnapshot(
        policy_id="p", revision=1, levels=levels, repeat=repeat, un_ack_timeout_minutes=un_ack
    )


def given(*commands: esc.EscalationCommand) -> esc.Escalation:
    state = esc.INITIAL
    for command in commands:
        state = esc.fold(esc.decide(command, state), state)
    return state


def start(urgency: Urgency = Urgency.HIGH, **kwargs: object) -> esc.StartEscalation:
    return esc.StartEscalation(
        at=T0,
        incident_id=INCIDENT,
        policy=snapshot(5, 10, **kwargs),  # type: ignore[arg-type]
        severity=Severity.P1 if urgency is Urgency.HIGH else Severity.P3,
        urgency=urgency,
    )


def types(events: list[DomainEvent] | tuple[DomainEvent, ...]) -> list[str]:
    return [e.event_type() for e in events]


def test_the_plan_repeats_every_level_for_each_pass() -> None:
    steps = plan(snapshot(5, 10, 15, repeat=2))
    assert [s.offset_minutes for s in steps] == [0, 5, 15, 30, 35, 45, 60, 65, 75]
    assert [(s.level, s.repeat) for s in steps[3:5]] == [(0, 1), (1, 1)]


def test_starting_schedules_the_first_step_now_and_starting_twice_is_a_no_op() -> None:
    events = esc.decide(start(), esc.INITIAL)
    assert types(list(events)) == ["EscalationStarted", "EscalationStepScheduled"]
    assert esc.decide(start(), esc.fold(events)) == []


def test_a_step_that_is_not_due_yet_does_not_fire() -> None:
    state = given(start(), esc.FireStep(at=T0, step=0, responders=("u0",)))
    early = esc.FireStep(at=T0 + timedelta(minutes=4), step=1, responders=("u1",))
    assert esc.decide(early, state) == []
    on_time = early.model_copy(update={"at": T0 + timedelta(minutes=5)})
    # The last step of the last pass schedules nothing after it.
    assert types(list(esc.decide(on_time, state))) == ["EscalationStepFired"]


def test_a_step_already_fired_never_fires_again() -> None:
    state = given(start(), esc.FireStep(at=T0, step=0, responders=("u0",)))
    assert esc.decide(esc.FireStep(at=T0, step=0, responders=("u0",)), state) == []


def test_an_ack_stops_the_escalation_and_schedules_the_un_ack_timeout() -> None:
    state = given(start(un_ack=30), esc.FireStep(at=T0, step=0, responders=("u0",)))
    events = esc.decide(esc.Acknowledge(at=T0 + timedelta(minutes=7), by="u0"), state)
    assert types(list(events)) == ["EscalationStopped", "UnacknowledgedTimeoutScheduled"]
    stopped = esc.fold(events, state)
    assert stopped.pending is None
    late = esc.FireStep(at=T0 + timedelta(minutes=5), step=1, responders=("u1",))
    assert esc.decide(late, stopped) == []


def test_a_person_who_was_not_paged_cannot_acknowledge_but_an_unbound_credential_can() -> None:
    state = given(start(), esc.FireStep(at=T0, step=0, responders=("u0",)))
    stranger = esc.Acknowledge(at=T0, by="u9", paged_only=True)
    with pytest.raises(PreconditionFailedError, match=r"u9 was not paged .*\(paged: u0\)"):
        esc.decide(stranger, state)
    assert types(list(esc.decide(stranger.model_copy(update={"by": "u0"}), state))) == [
        "EscalationStopped"
    ]
    # A script's or an admin's unbound token is recorded under its own name, unchecked.
    assert types(list(esc.decide(esc.Acknowledge(at=T0, by="ci-bot"), state))) == [
        "EscalationStopped"
    ]


def test_a_low_urgency_step_outside_business_hours_is_deferred_and_a_p1_brings_it_back() -> None:
    nine = T0 + timedelta(hours=7)
    state = given(start(Urgency.LOW))
    deferred = esc.decide(
        esc.FireStep(at=T0, step=0, responders=("u0",), business_open_at=nine), state
    )
    assert types(list(deferred)) == ["EscalationDeferred"]
    state = esc.fold(deferred, state)
    assert state.pending is not None
    assert state.pending.due_at == nine

    raised = esc.decide(
        esc.ChangeSeverity(
            at=T0 + timedelta(minutes=1), severity=Severity.P1, urgency=Urgency.HIGH
        ),
        state,
    )
    assert types(list(raised)) == ["EscalationSeverityChanged", "EscalationStepScheduled"]
    assert esc.fold(raised, state).pending.due_at == T0 + timedelta(minutes=1)  # type: ignore[union-attr]


def test_cancelling_before_the_start_wins() -> None:
    state = given(esc.Cancel(at=T0))
    assert esc.decide(start(), state) == []
    assert state.status is esc.Status.CANCELLED


def test_urgency_follows_severity_with_per_service_exceptions() -> None:
    rules = UrgencyRules(per_service={"payments": {Severity.P3: Urgency.HIGH}})
    assert rules.urgency(Severity.P2) is Urgency.HIGH
    assert rules.urgency(Severity.P3) is Urgency.LOW
    assert rules.urgency(Severity.P3, "payments") is Urgency.HIGH


def test_page_attempts_are_recorded_once_and_in_doubt_attempts_are_repeated_and_fail_over() -> None:
    plan_ = (
        pg.PlannedMethod(
            method_id="mail", kind=ContactKind.EMAIL, address="a@example.com", after_minutes=0
        ),
        pg.PlannedMethod(
            method_id="hook",
            kind=ContactKind.WEBHOOK,
            address="https://h.example/x",
            after_minutes=5,
        ),
    )
    page_id = uuid.uuid4()
    state = pg.fold(
        pg.decide(
            pg.CreatePage(
                at=T0, page_id=page_id, incident_id=INCIDENT, step=0, user_id="a", plan=plan_
            ),
            pg.INITIAL,
        )
    )
    attempt = pg.AttemptDelivery(at=T0, method_id="mail", attempt=1)
    state = pg.fold(pg.decide(attempt, state), state)
    assert pg.decide(attempt, state) == []  # recorded once

    timed_out = pg.decide(
        pg.TimeOutAttempt(at=T0 + timedelta(minutes=2), method_id="mail", attempt=1), state
    )
    # ADR 0011: the outcome is unknown, so the same method is tried again at once
    # (a possible repeat) and the next method is brought forward as well.
    assert types(list(timed_out)) == [
        "PageDeliveryUnconfirmed",
        "PageNotificationScheduled",
        "PageNotificationScheduled",
    ]
    assert [(e.method_id, e.attempt, e.reason) for e in timed_out[1:]] == [  # type: ignore[union-attr]
        ("mail", 2, "repeat"),
        ("hook", 1, "failover"),
    ]


def test_overrides_may_not_be_inverted_or_overlap() -> None:
    state = sch.fold(
        [
            sch.ScheduleCreated(schedule_id="s", name="S", time_zone="UTC", created_at=T0),
            sch.OverrideAdded(
                override=sch.Override(
                    override_id="o1", user_id="a", start=T0, end=T0 + timedelta(hours=2)
                ),
                added_at=T0,
            ),
        ]
    )
    with pytest.raises(InvalidCommandError) as inverted:
        sch.decide(
            sch.AddOverride(
                at=T0,
                override_id="o2",
                user_id="b",
                start=T0 + timedelta(hours=5),
                end=T0 + timedelta(hours=4),
            ),
            state,
        )
    assert inverted.value.field == "end"
    with pytest.raises(InvalidCommandError, match="overlaps override 'o1'"):
        sch.decide(
            sch.AddOverride(
                at=T0,
                override_id="o2",
                user_id="b",
                start=T0 + timedelta(hours=1),
                end=T0 + timedelta(hours=3),
            ),
            state,
        )
    adjacent = sch.AddOverride(
        at=T0,
        override_id="o2",
        user_id="b",
        start=T0 + timedelta(hours=2),
        end=T0 + timedelta(hours=3),
    )
    assert types(list(sch.decide(adjacent, state))) == ["OverrideAdded"]


def test_ack_tokens_verify_only_when_genuine_and_unexpired() -> None:
    secret = b"k" * 32
    page_id = uuid.uuid4()
    token = ack_token.issue(secret, page_id, "alice", T0 + timedelta(hours=1))
    claim = ack_token.verify(secret, token, T0)
    assert (claim.page_id, claim.user_id) == (page_id, "alice")
    with pytest.raises(ack_token.InvalidAckTokenError, match="expired"):
        ack_token.verify(secret, token, T0 + timedelta(hours=1))
    with pytest.raises(ack_token.InvalidAckTokenError, match="not genuine"):
        ack_token.verify(b"x" * 32, token, T0)
    payload, mac = token.split(".")
    with pytest.raises(ack_token.InvalidAckTokenError):
        ack_token.verify(secret, payload[:-2] + "AA." + mac, T0)
    with pytest.raises(ack_token.InvalidAckTokenError, match="malformed"):
        ack_token.verify(secret, "garbage", T0)


def test_every_event_round_trips_through_the_registry() -> None:
    EVENTS.check_complete()
    assert len(EVENTS.types) >= 30
    assert {"ResponderPaged", "EscalationStepFired", "PageDeliveryAttempted"} <= set(EVENTS.types)
