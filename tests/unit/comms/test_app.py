"""The communications application over a real SQLite log with a fake clock: channels,
updates, promises, reminders and overdue escalation, exactly-once deliveries, unknown
outcomes resent labelled, and bad input appending nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from comms_service import dispatch as dsp
from comms_service.app import CommsApplication, Send
from contracts.domain import InvalidCommandError
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from notify import DeliveryOutcome
from tests.unit.comms.conftest import INCIDENT, ROUTING, T0, declare


def deliver_all(app: CommsApplication, sends: list[Send], ok: bool = True) -> None:
    by_dispatch: dict[uuid.UUID, list[tuple[str, int, DeliveryOutcome]]] = {}
    for s in sends:
        by_dispatch.setdefault(s.dispatch_id, []).append(
            (s.target.target_id, s.attempt, DeliveryOutcome(ok, False, ""))
        )
    for dispatch_id, outcomes in by_dispatch.items():
        app.record_outcomes(dispatch_id, outcomes)


def purposes(sends: list[Send]) -> list[tuple[str, str]]:
    return sorted((s.purpose, s.target.target_id) for s in sends)


def test_declaration_opens_both_channels_each_told_once(app: CommsApplication) -> None:
    app.start_sender()
    declare(app)
    sends = app.tick()
    assert purposes(sends) == [
        ("channel_opened", "stakeholder.execs"),
        ("channel_opened", "stakeholder.stake"),
        ("channel_opened", "war_room.war"),
    ]
    assert app.tick() == []  # in flight: never handed out twice


def test_war_room_gets_incident_changes_and_stakeholders_only_updates(
    app: CommsApplication,
) -> None:
    app.start_sender()
    declare(app)
    deliver_all(app, app.tick())
    app.record_change(
        INCIDENT, "status", "investigating -> identified", cause="ev-1", status="identified"
    )
    app.record_change(
        INCIDENT, "status", "investigating -> identified", cause="ev-1", status="identified"
    )
    assert purposes(app.tick()) == [("war_room", "war_room.war")]
    app.post_update(
        "INC-1",
        audience="executive",
        message="Checkout is failing for 20% of users.",
        posted_by="alice",
    )
    sends = app.tick()
    assert purposes(sends) == [
        ("stakeholder_update", "stakeholder.execs"),
        ("stakeholder_update", "stakeholder.stake"),
    ]
    assert "Checkout is failing" in sends[0].body
    assert "Next update by 10:30 UTC" in sends[0].body


def test_a_reminder_reaches_the_commander_before_due_and_a_missed_promise_escalates(
    app: CommsApplication, clock: FakeClock
) -> None:
    app.start_sender()
    declare(app)
    app.assign_comms_lead("INC-1", "carol", by="alice")
    deliver_all(app, app.tick())
    clock.advance(timedelta(minutes=23))
    assert app.tick() == []
    clock.advance(timedelta(minutes=1))  # 24 min: 6 minutes before the 30-minute promise
    reminder = app.tick()
    assert purposes(reminder) == [("reminder", "person.alice"), ("reminder", "war_room.war")]
    deliver_all(app, reminder)
    clock.advance(timedelta(minutes=6))
    overdue = app.tick()
    assert purposes(overdue) == [("overdue", "person.carol"), ("overdue", "war_room.war")]
    assert app.report()["incidents"]["INC-1"] == {"kept": 0, "missed": 1, "open": 0}
    deliver_all(app, overdue)
    clock.advance(timedelta(hours=1))
    assert app.tick() == []  # each timer fires once


def test_the_report_counts_promises_kept_and_missed_per_severity(
    app: CommsApplication, clock: FakeClock
) -> None:
    declare(app, "P2")
    clock.advance(timedelta(minutes=30))
    app.post_update("INC-1", audience="public", message="Still investigating.", posted_by="alice")
    clock.advance(timedelta(minutes=61))
    app.tick()
    report = app.report()
    assert report["severities"]["P2"] == {"kept": 1, "missed": 1, "open": 0}


def test_a_temporary_failure_is_delivered_later_never_twice(
    app: CommsApplication, clock: FakeClock
) -> None:
    app.start_sender()
    declare(app)
    sends = app.tick()
    war = next(s for s in sends if s.target.target_id == "war_room.war")
    app.record_outcomes(
        war.dispatch_id, [(war.target.target_id, 1, DeliveryOutcome(False, False, "HTTP 503"))]
    )
    assert app.tick() == []
    clock.advance(timedelta(seconds=10))
    again = app.tick()
    assert [(s.target.target_id, s.attempt, s.possible_repeat) for s in again] == [
        ("war_room.war", 2, False)
    ]


def test_a_stakeholder_channel_down_for_ten_minutes_still_gets_the_update_later(
    app: CommsApplication, clock: FakeClock
) -> None:
    # Was: 5 attempts over 6.7 minutes, then FAILED for good.
    app.start_sender()
    declare(app)
    sent = {s.target.target_id: s for s in app.tick()}
    stake = sent.pop("stakeholder.stake")
    for other in sent.values():
        app.record_outcomes(
            other.dispatch_id, [(other.target.target_id, 1, DeliveryOutcome(True, False, ""))]
        )
    down_until = T0 + timedelta(minutes=10)
    attempts = []
    send = stake
    while True:
        attempts.append((send.attempt, send.possible_repeat, clock() - T0))
        up = clock() >= down_until
        app.record_outcomes(
            send.dispatch_id,
            [(send.target.target_id, send.attempt, DeliveryOutcome(up, False, "SMTP 421"))],
        )
        if up:
            break
        due = app.dispatch(send.dispatch_id).targets["stakeholder.stake"].due_at
        assert due is not None, "given up while the channel was down"
        clock.advance(due - clock())
        (send,) = app.tick()
    assert [a for a, _, _ in attempts] == [1, 2, 3, 4, 5, 6]
    assert not any(repeat for _, repeat, _ in attempts)
    assert [int(at.total_seconds()) for _, _, at in attempts] == [0, 10, 40, 130, 400, 1000]
    target = app.dispatch(stake.dispatch_id).targets["stakeholder.stake"]
    assert target.status is dsp.TargetStatus.DELIVERED


def test_retries_back_off_to_the_cap_and_stop_at_the_horizon() -> None:
    policy = dsp.RetryPolicy()
    assert [int(policy.delay(n).total_seconds()) for n in (1, 2, 3, 4, 5, 6, 59)] == [
        10,
        30,
        90,
        270,
        600,
        600,
        600,
    ]
    # About 40 attempts in the default 6 hours, each at most 10 minutes after the last.
    at, attempt = T0, 1
    while (retry := policy.retry_at(attempt, at, T0)) is not None:
        at, attempt = retry, attempt + 1
    assert attempt == 40
    assert T0 + timedelta(hours=6) - timedelta(minutes=10) < at <= T0 + timedelta(hours=6)
    short = dsp.RetryPolicy(give_up_after=timedelta(minutes=5))
    assert short.retry_at(4, T0 + timedelta(seconds=130), T0) is None


def test_an_unknown_outcome_is_resent_labelled_with_the_first_key_never_failed(
    app: CommsApplication, clock: FakeClock
) -> None:
    # An HTTP answer that timed out, an SMTP connection lost after DATA: the receiver
    # may have it. Neither a failure to retry unlabelled nor one to give up.
    app.start_sender()
    declare(app)
    war = next(s for s in app.tick() if s.target.target_id == "war_room.war")
    unknown = (
        war.target.target_id,
        1,
        DeliveryOutcome(False, False, "read timed out", unknown=True),
    )
    app.record_outcomes(war.dispatch_id, [unknown])
    state = app.dispatch(war.dispatch_id).targets["war_room.war"]
    assert (state.status, state.repeat_of) == (dsp.TargetStatus.PENDING, 1)
    assert state.reason == "outcome unknown: read timed out"
    assert app.tick() == []
    clock.advance(timedelta(seconds=10))
    (second,) = app.tick()
    assert (second.attempt, second.possible_repeat) == (2, True)
    assert second.idempotency_key == war.idempotency_key
    # A known failure after it still leaves the first copy possibly delivered: the
    # next attempt stays labelled with the first key.
    app.record_outcomes(
        war.dispatch_id, [(war.target.target_id, 2, DeliveryOutcome(False, False, "HTTP 503"))]
    )
    clock.advance(timedelta(seconds=30))
    (third,) = app.tick()
    assert (third.attempt, third.possible_repeat) == (3, True)
    assert third.idempotency_key == war.idempotency_key


def test_unknown_outcomes_until_the_last_attempt_give_the_target_up_saying_so(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    app = CommsApplication(store, clock, routing=ROUTING, retry=dsp.RetryPolicy(max_attempts=2))
    app.start_sender()
    declare(app)
    war = next(s for s in app.tick() if s.target.target_id == "war_room.war")
    for attempt in (1, 2):
        app.record_outcomes(
            war.dispatch_id,
            [
                (
                    war.target.target_id,
                    attempt,
                    DeliveryOutcome(False, False, "timed out", unknown=True),
                )
            ],
        )
        clock.advance(timedelta(seconds=10))
        sends = [s for s in app.tick() if s.target.target_id == "war_room.war"]
        assert len(sends) == (1 if attempt == 1 else 0)
    state = app.dispatch(war.dispatch_id).targets["war_room.war"]
    assert state.status is dsp.TargetStatus.FAILED
    assert state.reason == "outcome unknown: timed out"


def test_a_crash_between_recording_and_sending_resends_labelled_with_the_first_key(
    store: SQLiteEventStore, clock: FakeClock, app: CommsApplication
) -> None:
    app.start_sender()
    declare(app)
    first = {s.target.target_id: s for s in app.tick()}  # recorded, then the process "dies"
    restarted = CommsApplication(store, clock, routing=app.routing, sender=app.sender)
    restarted.start_sender()
    again = {s.target.target_id: s for s in restarted.tick()}
    assert set(again) == set(first)
    for target_id, send in again.items():
        assert send.possible_repeat
        assert send.attempt == 2
        assert send.idempotency_key == first[target_id].idempotency_key
    # A late report from the dead instance changes nothing.
    deliver_all(app, list(first.values()))
    deliver_all(restarted, list(again.values()))
    for d in restarted.dispatches_for(INCIDENT):
        assert d.count(dsp.TargetStatus.DELIVERED) == len(d.targets)


def test_two_schedulers_racing_hand_each_attempt_to_one_of_them(
    store: SQLiteEventStore, clock: FakeClock, app: CommsApplication
) -> None:
    other = CommsApplication(store, clock, routing=app.routing, sender="comms-b")
    declare(app)
    a, b = app.tick(), other.tick()
    keys = [(s.dispatch_id, s.target.target_id) for s in a + b]
    assert len(keys) == len(set(keys)) == 3


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda app: app.post_update("INC-9", audience="public", message="x", posted_by="alice"),
            "incident",
        ),
        (
            lambda app: app.post_update(
                "INC-1", audience="everyone", message="x", posted_by="alice"
            ),
            "audience",
        ),
        (
            lambda app: app.post_update(
                "INC-1", audience="public", message="x", posted_by="alice", template="{{ nope }}"
            ),
            "template",
        ),
        (
            lambda app: app.post_update(
                "INC-1", audience="public", message="x", posted_by="alice", template="{% if %}"
            ),
            "template",
        ),
        (
            lambda app: app.post_update(
                "INC-1", audience="public", message="x" * 20_001, posted_by="alice"
            ),
            "message",
        ),
        (lambda app: app.subscribe_email("not an address"), "email"),
        (
            lambda app: app.subscribe_email("bob@example.com", ["no-such-component"]),
            "component_ids[0]",
        ),
        (lambda app: app.add_webhook_subscriber("javascript:alert(1)", by="admin"), "url"),
        (lambda app: app.set_component_status("nope", "major_outage", by="admin"), "component_id"),
        (
            lambda app: app.draft_status_incident(name="x", body="y", by="a", component_ids=["zz"]),
            "component_ids[0]",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_appends_nothing(
    app: CommsApplication, store: SQLiteEventStore, call: object, field: str
) -> None:
    declare(app)
    head = store.head_position()
    with pytest.raises(InvalidCommandError) as error:
        call(app)  # type: ignore[operator]
    assert error.value.field == field
    assert store.head_position() == head


def test_the_sandbox_refuses_templates_that_reach_for_internals(app: CommsApplication) -> None:
    declare(app)
    with pytest.raises(InvalidCommandError) as error:
        app.preview_update(
            "INC-1",
            audience="public",
            message="x",
            template="{{ message.__class__.__mro__[1].__subclasses__() }}",
        )
    assert error.value.field == "template"


def test_preview_renders_without_appending(app: CommsApplication, store: SQLiteEventStore) -> None:
    declare(app)
    head = store.head_position()
    preview = app.preview_update(
        "INC-1", audience="internal", message="DB failover done", status="monitoring"
    )
    assert "[INC-1 P1] MONITORING" in preview.body
    assert preview.next_update_by is not None
    assert store.head_position() == head


def test_subscriber_notices_reach_each_confirmed_follower_once(app: CommsApplication) -> None:
    app.add_component("api", "API", by="admin")
    app.add_component("web", "Website", by="admin")
    app.subscribe_email("bob@example.com", ["api"])
    app.subscribe_email("eve@example.com", ["web"])
    app.subscribe_email("unconfirmed@example.com")
    confirms = {s.target.address: s for s in app.tick() if s.purpose == "confirm_subscription"}
    assert set(confirms) == {"bob@example.com", "eve@example.com", "unconfirmed@example.com"}
    for address in ("bob@example.com", "eve@example.com"):
        send = confirms[address]
        token = send.body.split("token=")[1].split()[0]
        app.confirm_subscription(uuid.UUID(send.target.target_id), token)
    deliver_all(app, list(confirms.values()))
    result = app.draft_status_incident(
        name="API errors", body="Investigating", by="alice", component_ids=["api"]
    )
    status_id = result.state.drafted.status_incident_id
    assert app.tick() == []  # a draft notifies nobody
    app.publish(status_id, by="alice")
    notices = app.tick()
    assert [s.target.address for s in notices] == ["bob@example.com"]
    assert notices[0].target.unsubscribe_url
    bob = uuid.UUID(notices[0].target.target_id)
    deliver_all(app, notices)
    app.unsubscribe(bob, notices[0].target.unsubscribe_url.rsplit("/", 1)[1])
    app.post_status_update(status_id, status="resolved", body="Fixed", by="alice")
    assert app.tick() == []


def test_prometheus_metrics_give_the_same_figures_as_the_report(
    app: CommsApplication, clock: FakeClock
) -> None:
    from prometheus_client import generate_latest

    from comms_service.metrics import registry_for

    declare(app, "P2")
    app.post_update("INC-1", audience="public", message="Still investigating.", posted_by="alice")
    clock.advance(timedelta(minutes=61))
    app.tick()
    text = generate_latest(registry_for(app)).decode()
    assert 'firewatch_comms_promises{outcome="kept",severity="P2"} 1.0' in text
    assert 'firewatch_comms_promises{outcome="missed",severity="P2"} 1.0' in text
    assert 'firewatch_comms_deliveries{purpose="stakeholder_update",status="in_flight"} 2.0' in text


def test_a_notice_to_many_subscribers_is_split_into_buckets_each_subscriber_in_exactly_one(
    app: CommsApplication, store: SQLiteEventStore
) -> None:
    from comms_service import subscriber as sub
    from eventlog import NewEvent, StreamState

    addresses = [f"s{i}@example.com" for i in range(300)]
    for address in addresses:
        sub_id = sub.subscriber_id(sub.SubscriberKind.EMAIL, address)
        data = {
            "subscriber_id": str(sub_id),
            "kind": "email",
            "address": address,
            "component_ids": [],
            "confirm_token_sha256": None,
            "requested_at": T0.isoformat(),
        }
        store.append(
            sub.stream_for(sub_id), [NewEvent("SubscriptionRequested", data)], StreamState.NO_STREAM
        )
    status_id = app.draft_status_incident(
        name="x", body="y", by="alice"
    ).state.drafted.status_incident_id
    app.publish(status_id, by="alice")
    queued = [e for e in store.read_all() if e.type == "DispatchQueued"]
    assert len(queued) > 2
    assert max(len(e.data["targets"]) for e in queued) < 50
    sends = app.tick()
    assert sorted(s.target.address for s in sends) == sorted(addresses)
    app.queue_requested()  # a retried queueing creates nothing more
    assert len([e for e in store.read_all() if e.type == "DispatchQueued"]) == len(queued)


def test_a_published_maintenance_starts_and_completes_on_schedule_telling_subscribers(
    app: CommsApplication, clock: FakeClock
) -> None:
    app.add_component("db", "Database", by="admin")
    app.add_webhook_subscriber("https://hooks.example.com/status", ["db"], by="admin")
    status_id = app.draft_status_incident(
        name="DB upgrade",
        body="Planned upgrade",
        by="alice",
        kind="maintenance",
        component_ids=["db"],
        scheduled_for=clock() + timedelta(hours=2),
        scheduled_until=clock() + timedelta(hours=3),
    ).state.drafted.status_incident_id
    app.publish(status_id, by="alice")
    announced = app.tick()
    assert [s.purpose for s in announced] == ["subscriber_notice"]
    deliver_all(app, announced)
    clock.advance(timedelta(minutes=59))
    assert app.tick() == []
    clock.advance(timedelta(minutes=1))  # an hour before: a reminder, once
    soon = app.tick()
    assert [s.subject for s in soon] == ["[Status] Maintenance scheduled: DB upgrade"]
    assert "starts at" in soon[0].body
    deliver_all(app, soon)
    assert app.tick() == []
    clock.advance(timedelta(hours=1))
    started = app.tick()
    assert [s.subject for s in started] == ["[Status] Maintenance in progress: DB upgrade"]
    assert app.status_incident(status_id).status.value == "in_progress"
    deliver_all(app, started)
    clock.advance(timedelta(hours=1))
    completed = app.tick()
    assert [s.subject for s in completed] == ["[Status] Maintenance completed: DB upgrade"]
    deliver_all(app, completed)
    clock.advance(timedelta(hours=1))
    assert app.tick() == []


def test_the_scheduler_only_looks_at_dispatches_with_work_left(app: CommsApplication) -> None:
    declare(app)
    sends = app.tick()
    assert len(app.model.ix.open_dispatches) == 2  # the two channel openings
    deliver_all(app, sends)
    assert app.model.ix.open_dispatches == set()
    rebuilt = app.projections.rebuild()  # a fold over the log: the same after a replay
    assert rebuilt.ix.open_dispatches == set()


def test_a_public_update_also_lands_on_the_incidents_linked_status_page_incident(
    app: CommsApplication, clock: FakeClock
) -> None:
    declare(app)
    app.add_component("checkout", "Checkout", by="admin")
    status_id = app.draft_status_incident(
        name="Checkout errors",
        body="Investigating",
        by="alice",
        incident="INC-1",
        component_ids=["checkout"],
    ).state.drafted.status_incident_id
    clock.advance(timedelta(minutes=5))
    app.post_update("INC-1", audience="executive", message="Board-level detail", posted_by="alice")
    app.post_update(
        "INC-1",
        audience="public",
        message="A fix is rolling out.",
        posted_by="alice",
        status="identified",
    )
    app.tick()
    updates = app.status_incident(status_id).updates
    assert [(u.status.value, u.body.split(".")[0]) for u in updates] == [
        ("investigating", "Investigating"),
        ("identified", "A fix is rolling out"),
    ]
    assert not app.status_incident(status_id).public  # publishing stays explicit


def _component_statuses(app: CommsApplication, public: bool) -> dict[str, str]:
    from comms_service.views import View

    view = View(app.model, public=public, now=app.clock())
    return {c["id"]: c["status"] for c in view.components_json()}


def test_a_component_set_by_a_status_incident_is_set_back_directly_and_takes_effect(
    app: CommsApplication, store: SQLiteEventStore
) -> None:
    app.add_component("api", "API", by="admin")
    status_id = app.draft_status_incident(
        name="API errors", body="Investigating", by="alice", component_ids=["api"]
    ).state.drafted.status_incident_id
    app.publish(status_id, by="alice")
    app.post_status_update(
        status_id,
        status="identified",
        body="Bad deploy",
        by="alice",
        components={"api": "partial_outage"},
    )
    assert _component_statuses(app, public=True) == {"api": "partial_outage"}
    result = app.set_component_status("api", "operational", by="alice")
    changed = [e for e in result.events if e.event_type() == "ComponentStatusChanged"]
    assert [(e.old_status, e.new_status) for e in changed] == [("partial_outage", "operational")]
    assert _component_statuses(app, public=True) == {"api": "operational"}
    assert _component_statuses(app, public=False) == {"api": "operational"}
    head = store.head_position()
    app.set_component_status("api", "operational", by="alice")  # no change: nothing appended
    assert store.head_position() == head


def test_the_next_status_update_records_the_effective_old_status(app: CommsApplication) -> None:
    app.add_component("api", "API", by="admin")
    status_id = app.draft_status_incident(
        name="API errors", body="Investigating", by="alice", component_ids=["api"]
    ).state.drafted.status_incident_id
    app.post_status_update(
        status_id, status="identified", body="x", by="alice", components={"api": "partial_outage"}
    )
    app.post_status_update(
        status_id,
        status="monitoring",
        body="y",
        by="alice",
        components={"api": "degraded_performance"},
    )
    changes = [
        (c.old_status.value, c.new_status.value)
        for update in app.status_incident(status_id).updates
        for c in update.affected_components
    ]
    assert changes == [
        ("operational", "partial_outage"),
        ("partial_outage", "degraded_performance"),
    ]


def test_a_promise_that_is_not_due_today_names_its_day(
    app: CommsApplication, clock: FakeClock
) -> None:
    from datetime import UTC, datetime

    clock.set(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # Friday 16:00: P3 due Monday
    declare(app, "P3")
    preview = app.preview_update("INC-1", audience="public", message="Investigating.")
    assert preview.body.endswith("We will post another update by Mon 30 Nov 12:00 UTC.")
    posted = app.post_update(
        "INC-1", audience="executive", message="Investigating.", posted_by="alice"
    )
    assert "Next update by Mon 30 Nov 12:00 UTC." in posted.events[0].body
    clock.set(datetime(2026, 11, 29, 23, 0, tzinfo=UTC))  # the reminder, on Sunday
    reminders = [s for s in app.tick() if s.purpose == "reminder"]
    assert reminders
    assert {s.subject for s in reminders} == {
        "Stakeholder update due by Mon 30 Nov 12:00 UTC: INC-1 P3"
    }
