"""A page is never lost (ADR 0011): an attempt whose outcome is unknown is sent again,
and a page that reaches nobody moves the escalation on, ending at the operators.

Deciders first (given events, when a command, then events), then the application over
a real SQLite log with a fake clock: a "crashed" worker is an application object that
recorded an attempt and was dropped without reporting its outcome.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from contracts.domain import InvalidCommandError
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service.app import Delivery, PagingApplication
from paging_service.due import DueItems
from paging_service.user import ContactKind

from .conftest import T0, register

INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000016")
MAIL = pg.PlannedMethod(
    method_id="mail", kind=ContactKind.EMAIL, address="a@example.com", after_minutes=0
)
HOOK = pg.PlannedMethod(
    method_id="hook", kind=ContactKind.WEBHOOK, address="https://h.example/x", after_minutes=10
)
OPERATORS = (
    pg.PlannedMethod(
        method_id="fallback-0", kind=ContactKind.EMAIL, address="ops@example.com", after_minutes=0
    ),
)


def types(events: object) -> list[str]:
    return [e.event_type() for e in events]  # type: ignore[attr-defined]


def page_with(*plan: pg.PlannedMethod) -> pg.Page:
    created = pg.CreatePage(
        at=T0, page_id=uuid.uuid4(), incident_id=INCIDENT, step=0, user_id="a", plan=plan
    )
    return pg.fold(pg.decide(created, pg.INITIAL))


def attempted(state: pg.Page, attempt: int = 1, instance: str = "a", at: datetime = T0) -> pg.Page:
    command = pg.AttemptDelivery(
        at=at, method_id="mail", attempt=attempt, sender="w1", sender_instance=instance
    )
    events = pg.decide(command, state)
    assert events, "the attempt was not due"
    return pg.fold(events, state)


def then(state: pg.Page, events: object) -> pg.Page:
    return pg.fold(events, state)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the page decider


def test_an_attempt_whose_sender_was_replaced_is_repeated_at_once_through_the_same_method() -> None:
    state = attempted(page_with(MAIL))
    stale = pg.SenderReplaced(at=T0, method_id="mail", attempt=1, sender_instance="other")
    assert pg.decide(stale, state) == []  # not the instance that recorded it

    replaced = pg.SenderReplaced(at=T0, method_id="mail", attempt=1, sender_instance="a")
    events = pg.decide(replaced, state)
    # Before the deadline: a replaced sender will never report, so there is no wait.
    assert types(events) == ["PageDeliveryUnconfirmed", "PageNotificationScheduled"]
    repeat = events[1]
    assert isinstance(repeat, pg.PageNotificationScheduled)
    assert (repeat.method_id, repeat.attempt, repeat.due_at, repeat.reason) == (
        "mail",
        2,
        T0,
        "repeat",
    )

    state = then(state, events)
    again = pg.decide(
        pg.AttemptDelivery(at=T0, method_id="mail", attempt=2, sender="w1", sender_instance="b"),
        state,
    )
    assert isinstance(again[0], pg.PageDeliveryAttempted)
    assert again[0].repeat_of == 1
    assert again[0].sender_instance == "b"


def test_an_unknown_outcome_is_not_declared_before_the_deadline_by_a_timeout() -> None:
    state = attempted(page_with(MAIL))
    early = pg.TimeOutAttempt(at=T0 + timedelta(seconds=119), method_id="mail", attempt=1)
    assert pg.decide(early, state) == []
    late = pg.TimeOutAttempt(at=T0 + timedelta(seconds=120), method_id="mail", attempt=1)
    assert types(pg.decide(late, state))[0] == "PageDeliveryUnconfirmed"


def test_a_method_that_never_confirms_is_given_up_after_max_attempts_and_the_page_exhausted() -> (
    None
):
    retry = pg.RetryPolicy(max_attempts=2)
    state = attempted(page_with(MAIL))
    first = pg.decide(
        pg.TimeOutAttempt(at=T0 + timedelta(minutes=2), method_id="mail", attempt=1), state, retry
    )
    state = attempted(then(state, first), attempt=2, at=T0 + timedelta(minutes=2))
    second = pg.decide(
        pg.TimeOutAttempt(at=T0 + timedelta(minutes=5), method_id="mail", attempt=2), state, retry
    )
    assert types(second) == ["PageDeliveryUnconfirmed", "PageFailed", "PageDeliveryExhausted"]


def test_an_unknown_outcome_after_the_page_was_acknowledged_sends_nothing_again() -> None:
    state = attempted(page_with(MAIL, HOOK))
    state = then(state, pg.decide(pg.AcknowledgePage(at=T0, by="a"), state))
    events = pg.decide(
        pg.SenderReplaced(at=T0, method_id="mail", attempt=1, sender_instance="a"), state
    )
    assert types(events) == ["PageDeliveryUnconfirmed"]


# ------------------------------------------------------------------ the escalation decider


def escalation(*delays: int) -> esc.Escalation:
    from paging_service.policy import Level, PolicySnapshot, Target, TargetKind

    levels = tuple(
        Level(targets=(Target(kind=TargetKind.USER, id=f"u{i}"),), delay_minutes=d)
        for i, d in enumerate(delays)
    )
    snapshot = PolicySnapshot(
        policy_id="p", revision=1, levels=levels, repeat=0, un_ack_timeout_minutes=None
    )
    start = esc.StartEscalation(
        at=T0, incident_id=INCIDENT, policy=snapshot, severity="P1", urgency="high"
    )
    state = esc.fold(esc.decide(start, esc.INITIAL))
    fire = esc.FireStep(at=T0, step=0, responders=("u0",))
    return esc.fold(esc.decide(fire, state), state)


def undeliverable(page: uuid.UUID, *, fallback: bool = True) -> esc.PageUndeliverable:
    return esc.PageUndeliverable(
        at=T0 + timedelta(minutes=1), page_id=page, reason="nope", fallback_configured=fallback
    )


def test_a_page_that_reached_nobody_brings_the_next_level_forward_to_now() -> None:
    state = escalation(5, 5)
    assert state.pending is not None
    assert state.pending.due_at == T0 + timedelta(minutes=5)
    events = esc.decide(undeliverable(esc.page_id_for(INCIDENT, 0, "u0")), state)
    assert types(events) == ["EscalationAdvanced", "EscalationStepScheduled"]
    assert esc.fold(events, state).pending.due_at == T0 + timedelta(minutes=1)  # type: ignore[union-attr]


def test_with_no_level_left_the_round_is_exhausted_once_and_the_operators_are_paged() -> None:
    state = escalation(5)
    page = esc.page_id_for(INCIDENT, 0, "u0")
    events = esc.decide(undeliverable(page), state)
    assert types(events) == ["EscalationExhausted"]
    exhausted = events[0]
    assert isinstance(exhausted, esc.EscalationExhausted)
    assert exhausted.fallback_page_id == esc.fallback_page_id_for(INCIDENT, 0)
    state = esc.fold(events, state)
    assert exhausted.fallback_page_id in state.page_ids  # closed on ack or resolution
    assert esc.decide(undeliverable(page), state) == []
    # The operators' own page reaching nobody ends there instead of looping.
    assert esc.decide(undeliverable(exhausted.fallback_page_id), state) == []  # type: ignore[arg-type]


def test_without_a_fallback_route_exhaustion_is_still_recorded() -> None:
    state = escalation(5)
    events = esc.decide(undeliverable(esc.page_id_for(INCIDENT, 0, "u0"), fallback=False), state)
    assert isinstance(events[0], esc.EscalationExhausted)
    assert events[0].fallback_page_id is None


def test_an_undeliverable_page_of_an_older_step_or_an_acknowledged_escalation_changes_nothing() -> (
    None
):
    state = escalation(5, 5)
    fire = esc.FireStep(at=T0 + timedelta(minutes=5), step=1, responders=("u1",))
    moved_on = esc.fold(esc.decide(fire, state), state)
    assert esc.decide(undeliverable(esc.page_id_for(INCIDENT, 0, "u0")), moved_on) == []
    ack = esc.Acknowledge(at=T0, by="u0")
    acked = esc.fold(esc.decide(ack, state), state)
    assert esc.decide(undeliverable(esc.page_id_for(INCIDENT, 0, "u0")), acked) == []


# ------------------------------------------------------------------ the application


@pytest.fixture
def one_level(app: PagingApplication) -> PagingApplication:
    register(app, "alice", "bob")
    app.create_policy("solo", "Solo", [{"targets": ["user:alice"], "delay_minutes": 5}])
    app.create_policy(
        "two",
        "Two",
        [
            {"targets": ["user:alice"], "delay_minutes": 30},
            {"targets": ["user:bob"], "delay_minutes": 30},
        ],
    )
    return app


def worker(
    store: SQLiteEventStore,
    clock: FakeClock,
    *,
    sender: str = "w1",
    fallback: tuple[pg.PlannedMethod, ...] = (),
) -> PagingApplication:
    """What a paging worker process does at start: a fresh instance of its slot."""
    app = PagingApplication(store, clock, sender=sender, fallback=fallback)
    app.start_sender()
    return app


def test_a_restarted_sender_resends_its_predecessors_unanswered_attempt_at_once_as_a_repeat(
    one_level: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    crashed = worker(store, clock)
    crashed.start_escalation(INCIDENT, "P1", "solo")
    [first] = crashed.tick()  # recorded; the process dies before sending or reporting
    assert not first.possible_repeat
    assert crashed.tick() == []

    restarted = worker(store, clock)  # the same slot, a new instance, no time passed
    [again] = restarted.tick()
    assert (again.page_id, again.method_id, again.attempt) == (first.page_id, "email", 2)
    assert again.possible_repeat
    # Receivers that deduplicate see the same key as the first send.
    assert again.idempotency_key == first.attempt_event_id
    assert restarted.tick() == []
    restarted.record_delivery_outcome(again.page_id, "email", 2, delivered=True)
    assert restarted.get_page(first.page_id).delivered


def test_another_slots_start_does_not_orphan_attempts_but_their_deadline_does(
    one_level: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    alive = worker(store, clock, sender="w1")
    alive.start_escalation(INCIDENT, "P1", "solo")
    [first] = alive.tick()
    other = worker(store, clock, sender="w2")
    assert other.tick() == []  # w1 may still be sending
    clock.advance(119)
    assert other.tick() == []
    clock.advance(1)  # the outcome deadline (2 minutes): unknown, sent again
    [again] = other.tick()
    assert again.possible_repeat
    assert again.idempotency_key == first.attempt_event_id


def test_a_late_outcome_from_the_replaced_instance_does_not_stop_the_repeat(
    one_level: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    crashed = worker(store, clock)
    crashed.start_escalation(INCIDENT, "P1", "solo")
    [first] = crashed.tick()
    restarted = worker(store, clock)
    [again] = restarted.tick()
    # The old process was not dead after all and reports late: recorded as nothing,
    # because the attempt's outcome is already settled as unknown.
    result = crashed.record_delivery_outcome(first.page_id, "email", 1, delivered=True)
    assert result.event_types == ()
    assert again.possible_repeat


def pages_to(deliveries: list[Delivery]) -> list[tuple[str, str]]:
    return [(d.user_id, d.address) for d in deliveries]


def test_a_responder_nobody_could_reach_moves_the_escalation_to_the_next_level_at_once(
    one_level: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    app = worker(store, clock)
    app.start_escalation(INCIDENT, "P1", "two")
    [alice] = app.tick()
    clock.advance(1)
    app.record_delivery_outcome(
        alice.page_id, "email", 1, delivered=False, reason="550 no such user", permanent=True
    )
    # Bob's level was due in 30 minutes; alice cannot be reached, so it is due now.
    assert pages_to(app.tick()) == [("bob", "bob@example.com")]
    advanced = [e for e in store.read_all() if e.type == "EscalationAdvanced"]
    assert len(advanced) == 1


def test_when_every_level_reached_nobody_the_operators_fallback_route_is_paged_once(
    one_level: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    app = worker(store, clock, fallback=OPERATORS)
    app.start_escalation(INCIDENT, "P1", "solo")
    [alice] = app.tick()
    app.record_delivery_outcome(
        alice.page_id, "email", 1, delivered=False, reason="550", permanent=True
    )
    [operators] = app.tick()
    assert operators.to_operators
    assert pages_to([operators]) == [("platform-operators", "ops@example.com")]
    assert app.tick() == []
    # The operators' page failing too is the end: recorded, logged, no loop.
    app.record_delivery_outcome(
        operators.page_id, "fallback-0", 1, delivered=False, reason="550", permanent=True
    )
    assert app.tick() == []
    recorded = [e.type for e in store.read_all()]
    assert recorded.count("EscalationExhausted") == 1
    assert recorded.count("PageDeliveryExhausted") == 2
    # Resolving the incident closes the operators' page like any other.
    app.incident_resolved(INCIDENT)
    assert app.get_page(operators.page_id).status is pg.Status.CANCELLED


def test_the_due_projection_orphans_attempts_of_a_replaced_instance_and_survives_a_rebuild(
    one_level: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    crashed = worker(store, clock)
    crashed.start_escalation(INCIDENT, "P1", "solo")
    crashed.tick()
    worker(store, clock)
    rebuilt = DueItems()
    rebuilt.apply_all(store.read_all())
    [orphan] = [i for i in rebuilt.due(clock()) if i.orphaned]
    assert orphan.sender == "w1"
    assert orphan.sender_instance == crashed.instance


# ------------------------------------------- outcomes reported as unknown by the channel


def test_a_reported_unknown_outcome_repeats_the_method_at_once_and_brings_the_next_forward() -> (
    None
):
    # notify's unknown: an HTTP answer that never came, an SMTP connection lost after
    # DATA. Not a failure to retry unlabelled, not one to fail over from and forget.
    state = attempted(page_with(MAIL, HOOK))
    unknown = pg.RecordOutcome(
        at=T0, method_id="mail", attempt=1, delivered=False, reason="timed out", unknown=True
    )
    events = pg.decide(unknown, state)
    assert types(events) == [
        "PageDeliveryUnconfirmed",
        "PageNotificationScheduled",
        "PageNotificationScheduled",
    ]
    repeat, failover = events[1], events[2]
    assert isinstance(repeat, pg.PageNotificationScheduled)
    assert (repeat.method_id, repeat.attempt, repeat.due_at, repeat.reason) == (
        "mail",
        2,
        T0,
        "repeat",
    )
    assert isinstance(failover, pg.PageNotificationScheduled)
    assert (failover.method_id, failover.reason) == ("hook", "failover")
    state = then(state, events)
    again = pg.decide(
        pg.AttemptDelivery(at=T0, method_id="mail", attempt=2, sender="w1", sender_instance="a"),
        state,
    )
    assert isinstance(again[0], pg.PageDeliveryAttempted)
    assert again[0].repeat_of == 1


def test_an_unknown_outcome_cannot_also_be_permanent() -> None:
    state = attempted(page_with(MAIL))
    both = pg.RecordOutcome(
        at=T0, method_id="mail", attempt=1, delivered=False, permanent=True, unknown=True
    )
    with pytest.raises(InvalidCommandError):
        pg.decide(both, state)
