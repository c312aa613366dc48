"""Durable escalation timers over a real SQLite log, driven by a fake clock (no sleeps).

Given a policy with levels at 0, 5 and 15 minutes, when the clock advances and the
scheduler ticks, then each step pages exactly once, in its tick and not before.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from paging_service.app import Delivery, PagingApplication
from paging_service.escalation import Status

from .conftest import SECRET, register

INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000042")


@pytest.fixture
def three_levels(app: PagingApplication) -> PagingApplication:
    register(app, "alice", "bob", "carol")
    app.create_policy(
        "checkout",
        "Checkout",
        [
            {"targets": ["user:alice"], "delay_minutes": 5},
            {"targets": ["user:bob"], "delay_minutes": 10},
            {"targets": ["user:carol"], "delay_minutes": 15},
        ],
        repeat=2,
        un_ack_timeout_minutes=30,
    )
    return app


def deliver_all(app: PagingApplication, deliveries: list[Delivery]) -> None:
    for d in deliveries:
        app.record_delivery_outcome(d.page_id, d.method_id, d.attempt, delivered=True)


def run_minutes(app: PagingApplication, clock: FakeClock, minutes: range) -> dict[int, list[str]]:
    """Tick once per minute; which users were paged in which minute."""
    paged: dict[int, list[str]] = {}
    start = clock()
    for minute in minutes:
        clock.set(start + timedelta(minutes=minute - minutes.start))
        deliveries = app.tick()
        deliver_all(app, deliveries)
        if deliveries:
            paged[minute] = [d.user_id for d in deliveries]
    return paged


def test_each_step_of_three_passes_fires_in_its_tick_and_not_before(
    three_levels: PagingApplication, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout", title="checkout 5xx")

    paged = run_minutes(three_levels, clock, range(120))

    # Levels at 0/5/15; a pass lasts 5 + 10 + 15 = 30 minutes; 1 + repeat(2) passes.
    assert paged == {
        0: ["alice"],
        5: ["bob"],
        15: ["carol"],
        30: ["alice"],
        35: ["bob"],
        45: ["carol"],
        60: ["alice"],
        65: ["bob"],
        75: ["carol"],
    }
    assert three_levels.pending_timers() == []


def test_a_step_does_not_fire_one_second_early(
    three_levels: PagingApplication, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    deliver_all(three_levels, three_levels.tick())
    clock.advance(timedelta(minutes=5) - timedelta(seconds=1))
    assert three_levels.tick() == []
    clock.advance(1)
    assert [d.user_id for d in three_levels.tick()] == ["bob"]


def test_an_ack_at_minute_seven_stops_the_rest(
    three_levels: PagingApplication, clock: FakeClock
) -> None:
    app = PagingApplication(three_levels.store, clock)  # no un-ack timeout involved here
    app.revise_policy(
        "checkout",
        "Checkout",
        [
            {"targets": ["user:alice"], "delay_minutes": 5},
            {"targets": ["user:bob"], "delay_minutes": 10},
            {"targets": ["user:carol"], "delay_minutes": 15},
        ],
        repeat=2,
    )
    app.start_escalation(INCIDENT, "P1", "checkout")
    paged = run_minutes(app, clock, range(7))
    assert paged == {0: ["alice"], 5: ["bob"]}

    bobs_page = app.list_pages(INCIDENT)[1]
    assert bobs_page.page_id is not None
    state = app.acknowledge(by="bob", page_id=bobs_page.page_id, via="cli")

    assert state.status is Status.ACKNOWLEDGED
    assert run_minutes(app, clock, range(7, 200)) == {}
    assert app.pending_timers() == []
    assert [p.status.value for p in app.list_pages(INCIDENT)] == ["cancelled", "acknowledged"]


def test_the_unacknowledged_timeout_re_pages_while_the_incident_is_open(
    three_levels: PagingApplication, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    run_minutes(three_levels, clock, range(7))
    three_levels.acknowledge(by="alice", incident_id=INCIDENT)

    # Acked at minute 6; the policy's un-ack timeout is 30 minutes.
    paged = run_minutes(three_levels, clock, range(6, 45))

    assert paged == {36: ["alice"], 41: ["bob"]}
    assert three_levels.get_escalation(INCIDENT).round == 1


def test_resolving_the_incident_cancels_everything_pending(
    three_levels: PagingApplication, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    run_minutes(three_levels, clock, range(3))
    three_levels.acknowledge(by="alice", incident_id=INCIDENT)
    three_levels.incident_resolved(INCIDENT)

    assert run_minutes(three_levels, clock, range(3, 200)) == {}
    assert three_levels.pending_timers() == []
    assert three_levels.get_escalation(INCIDENT).status is Status.CANCELLED


def test_a_resolution_that_arrives_first_means_paging_never_starts(
    three_levels: PagingApplication,
) -> None:
    three_levels.incident_resolved(INCIDENT)
    state = three_levels.start_escalation(INCIDENT, "P1", "checkout")
    assert state.status is Status.CANCELLED
    assert three_levels.tick() == []


def test_ticking_twice_fires_once(three_levels: PagingApplication, clock: FakeClock) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    first = three_levels.tick()
    assert len(first) == 1
    assert three_levels.tick() == []
    # Reported, as a worker does: an unreported attempt would be repeated (ADR 0011).
    deliver_all(three_levels, first)
    clock.advance(timedelta(minutes=5))
    assert len(three_levels.tick()) == 1
    assert three_levels.tick() == []


def test_steps_that_fell_due_while_the_worker_was_down_fire_once_on_recovery(
    three_levels: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    # The worker dies before its first tick and comes back 20 minutes later.
    clock.advance(timedelta(minutes=20))
    recovered = PagingApplication(store, clock)

    deliveries = recovered.tick()

    assert [d.user_id for d in deliveries] == ["alice", "bob", "carol"]
    assert recovered.tick() == []
    assert PagingApplication(store, clock).tick() == []
    fired = [
        e for e in store.read_stream(f"escalation-{INCIDENT}") if e.type == "EscalationStepFired"
    ]
    assert [e.data["step"] for e in fired] == [0, 1, 2]


def test_a_crash_after_recording_an_attempt_sends_it_again_marked_as_a_possible_repeat(
    three_levels: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    lost = three_levels.tick()  # recorded, then the process dies before sending
    assert len(lost) == 1

    restarted = PagingApplication(store, clock)
    assert restarted.tick() == []
    clock.advance(timedelta(minutes=2))
    # The attempt's outcome never came: it may or may not have gone out, so it goes
    # out again through the same method, marked as such (ADR 0011); alice has no
    # other method, and silence is the one thing a page must never end in.
    [again] = restarted.tick()
    assert (again.user_id, again.method_id, again.attempt) == ("alice", "email", 2)
    assert again.possible_repeat
    assert again.idempotency_key == lost[0].attempt_event_id
    assert not restarted.get_page(lost[0].page_id).undeliverable
    attempts = [
        e for e in store.read_stream(f"page-{lost[0].page_id}") if e.type == "PageDeliveryAttempted"
    ]
    assert len(attempts) == 2


def test_a_racing_scheduler_never_gets_a_delivery_already_handed_out(
    three_levels: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    other = PagingApplication(store, clock)
    first = three_levels.tick()
    second = other.tick()
    assert len(first) + len(second) == 1


def test_deliveries_carry_a_signed_ack_link_that_acknowledges_the_page(
    three_levels: PagingApplication, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    (delivery,) = three_levels.tick()
    assert delivery.ack_token is not None
    assert delivery.ack_url == f"https://firewatch.test/ack/{delivery.ack_token}"

    clock.advance(timedelta(minutes=1))
    state = three_levels.acknowledge_with_token(delivery.ack_token)

    assert state.status is Status.ACKNOWLEDGED
    assert three_levels.get_page(delivery.page_id).acknowledged_by == "alice"
    assert SECRET  # the fixture's secret signed it


def test_a_running_escalation_follows_the_policy_as_it_was_when_it_started(
    three_levels: PagingApplication, clock: FakeClock
) -> None:
    three_levels.start_escalation(INCIDENT, "P1", "checkout")
    deliver_all(three_levels, three_levels.tick())
    three_levels.revise_policy(
        "checkout", "Checkout", [{"targets": ["user:carol"], "delay_minutes": 1}]
    )
    later = uuid.UUID("00000000-0000-4000-8000-000000000043")
    three_levels.start_escalation(later, "P1", "checkout")

    clock.advance(timedelta(minutes=5))
    paged = sorted((d.incident_id == INCIDENT, d.user_id) for d in three_levels.tick())

    # The old incident goes on to bob (its level 2); the new one pages carol only.
    assert paged == [(False, "carol"), (True, "bob")]
    assert three_levels.get_escalation(INCIDENT).policy.revision == 1  # type: ignore[union-attr]
    assert three_levels.get_escalation(later).policy.revision == 2  # type: ignore[union-attr]


def test_a_low_urgency_incident_at_two_in_the_night_waits_for_nine_local(
    app: PagingApplication, store: SQLiteEventStore
) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))  # Friday 02:00 in Berlin
    night = PagingApplication(store, clock)
    register(night, "alice")
    night.create_policy("batch", "Batch jobs", [{"targets": ["user:alice"], "delay_minutes": 30}])
    night.start_escalation(INCIDENT, "P3", "batch")

    assert night.tick() == []
    assert night.get_escalation(INCIDENT).pending.due_at == datetime(  # type: ignore[union-attr]
        2026, 11, 27, 8, 0, tzinfo=UTC
    )
    clock.set(datetime(2026, 11, 27, 7, 59, 59, tzinfo=UTC))
    assert night.tick() == []
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))  # 09:00 in Berlin
    assert [d.user_id for d in night.tick()] == ["alice"]


def test_raising_a_deferred_incident_to_p1_pages_at_once(store: SQLiteEventStore) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    night = PagingApplication(store, clock)
    register(night, "alice")
    night.create_policy("batch", "Batch jobs", [{"targets": ["user:alice"], "delay_minutes": 30}])
    night.start_escalation(INCIDENT, "P3", "batch")
    assert night.tick() == []

    clock.advance(timedelta(minutes=10))
    night.raise_severity(INCIDENT, "P1")

    assert [d.user_id for d in night.tick()] == ["alice"]


def test_a_temporary_failure_retries_with_backoff_and_a_permanent_one_fails_over(
    app: PagingApplication, clock: FakeClock
) -> None:
    app.register_user(
        "dave",
        "Dave",
        "UTC",
        contact_methods=[
            {"method_id": "mail", "kind": "email", "address": "dave@example.com"},
            {"method_id": "chat", "kind": "slack", "address": "https://hooks.example.com/T1/B2"},
        ],
        notification_rules=[
            {"method_id": "mail", "after_minutes": 0},
            {"method_id": "chat", "after_minutes": 10},
        ],
    )
    app.create_policy("p", "P", [{"targets": ["user:dave"], "delay_minutes": 60}])
    app.start_escalation(INCIDENT, "P1", "p")

    (first,) = app.tick()
    app.record_delivery_outcome(
        first.page_id, "mail", 1, delivered=False, reason="421 try later", permanent=False
    )
    assert app.tick() == []  # backoff: 30 s
    clock.advance(30)
    (retry,) = app.tick()
    assert (retry.method_id, retry.attempt) == ("mail", 2)

    app.record_delivery_outcome(
        retry.page_id, "mail", 2, delivered=False, reason="550 no such user", permanent=True
    )
    (failover,) = app.tick()  # the chat rule would wait until minute 10; failover is now
    assert (failover.method_id, failover.kind.value, failover.attempt) == ("chat", "slack", 1)
    app.record_delivery_outcome(failover.page_id, "chat", 1, delivered=True)
    # A repeated outcome report is harmless.
    app.record_delivery_outcome(failover.page_id, "chat", 1, delivered=True)
    assert app.get_page(failover.page_id).delivered
