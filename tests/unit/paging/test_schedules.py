"""Schedules over a real SQLite log: DST-correct rotations, layers, restrictions,
overrides, as-of answers and the iCalendar feed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from paging_service import escalation as esc
from paging_service.app import PagingApplication
from paging_service.schedule import Layer, Turn, TurnUnit

from .conftest import register

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def weekly(app: PagingApplication, start: datetime) -> None:
    register(app, "alice", "bob")
    app.create_schedule("primary", "Primary", "Europe/Berlin")
    app.add_layer(
        "primary", "weekly", "Weekly", ["alice", "bob"], start=start, turn={"unit": "weeks"}
    )


@pytest.mark.parametrize(
    ("first_handoff", "change_day", "spanning_hours"),
    [
        (datetime(2026, 3, 22, 9, 0), datetime(2026, 3, 29, 9, 0), 167),  # CET -> CEST
        (datetime(2026, 10, 18, 9, 0), datetime(2026, 10, 25, 9, 0), 169),  # CEST -> CET
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_weekly_rotation_hands_off_at_nine_local_on_both_sides_of_a_dst_change(
    store: SQLiteEventStore, first_handoff: datetime, change_day: datetime, spanning_hours: int
) -> None:
    # Configured in January: every answer below is about the future, so today's
    # configuration answers it.
    app = PagingApplication(store, FakeClock(datetime(2026, 1, 5, tzinfo=UTC)))
    weekly(app, first_handoff)

    shifts = app.list_shifts(
        "primary",
        first_handoff.replace(tzinfo=BERLIN),
        (change_day + timedelta(days=14)).replace(tzinfo=BERLIN),
    )

    starts = [s.start.astimezone(BERLIN) for s in shifts]
    assert [(t.date().isoformat(), t.hour, t.minute) for t in starts] == [
        ((first_handoff + timedelta(weeks=k)).date().isoformat(), 9, 0) for k in range(3)
    ]
    assert [s.user_id for s in shifts] == ["alice", "bob", "alice"]
    # The week that spans the change is an hour shorter (spring) or longer (autumn).
    assert shifts[0].end - shifts[0].start == timedelta(hours=spanning_hours)
    assert shifts[1].end - shifts[1].start == timedelta(weeks=1)
    handoff = change_day.replace(tzinfo=BERLIN)
    assert app.who_is_on_call("schedule:primary", handoff - timedelta(seconds=1)) == ["alice"]
    assert app.who_is_on_call("schedule:primary", handoff) == ["bob"]


def test_daily_rotations_hand_off_on_local_wall_time_and_hourly_ones_keep_the_clock() -> None:
    daily = Layer(
        layer_id="d",
        name="D",
        users=("a", "b"),
        turn=Turn(unit=TurnUnit.DAYS),
        start=datetime(2026, 3, 28, 9, 0),
        time_zone="Europe/Berlin",
    )
    assert daily.handoff(1) == berlin(2026, 3, 29, 9, 0)
    assert daily.handoff(1).astimezone(UTC).hour == 7  # type: ignore[union-attr]
    assert daily.handoff(0).astimezone(UTC).hour == 8  # type: ignore[union-attr]
    twelve = Layer(
        layer_id="h",
        name="H",
        users=("a", "b"),
        turn=Turn(unit=TurnUnit.HOURS, length=12),
        start=datetime(2026, 3, 28, 21, 0),
        time_zone="Europe/Berlin",
    )
    assert [twelve.handoff(k).astimezone(BERLIN).hour for k in range(3)] == [21, 9, 21]  # type: ignore[union-attr]


def test_a_custom_rrule_rotation_hands_off_at_its_occurrences() -> None:
    layer = Layer(
        layer_id="c",
        name="Split week",
        users=("a", "b"),
        turn=Turn(unit=TurnUnit.CUSTOM, rrule="FREQ=WEEKLY;BYDAY=MO,TH"),
        start=datetime(2026, 3, 23, 9, 0),
        time_zone="Europe/Berlin",
    )
    shifts = layer.shifts(berlin(2026, 3, 23, 9, 0), berlin(2026, 4, 2, 9, 0))
    assert [(s.user_id, s.start.astimezone(BERLIN).strftime("%a %d %H:%M")) for s in shifts] == [
        ("a", "Mon 23 09:00"),
        ("b", "Thu 26 09:00"),
        ("a", "Mon 30 09:00"),
    ]
    assert layer.turn_at(berlin(2026, 3, 31, 12, 0)) == 2


def test_a_higher_layer_overrides_a_lower_one_only_where_its_restrictions_put_someone(
    app: PagingApplication,
) -> None:
    register(app, "alice", "bob", "night")
    app.create_schedule("ops", "Ops", "Europe/Berlin")
    app.add_layer("ops", "base", "Base", ["night"], start=datetime(2026, 11, 1, 0, 0))
    app.add_layer(
        "ops",
        "day",
        "Business hours",
        ["alice", "bob"],
        start=datetime(2026, 11, 23, 9, 0),
        turn={"unit": "days"},
        restrictions=[
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
        ],
    )

    # Daily turns from Monday 23rd: alice, bob, alice, bob, alice (Friday 27th).
    assert app.who_is_on_call("schedule:ops", berlin(2026, 11, 27, 12, 0)) == ["alice"]
    assert app.who_is_on_call("schedule:ops", berlin(2026, 11, 27, 17, 0)) == ["night"]
    assert app.who_is_on_call("schedule:ops", berlin(2026, 11, 28, 12, 0)) == ["night"]  # Sat
    shifts = app.list_shifts("ops", berlin(2026, 11, 26, 0, 0), berlin(2026, 11, 27, 0, 0))
    assert [(s.user_id, s.start.astimezone(BERLIN).hour, s.source) for s in shifts] == [
        ("night", 0, "layer:base"),
        ("bob", 9, "layer:day"),
        ("night", 17, "layer:base"),
    ]


def test_past_answers_use_the_configuration_of_the_time_including_deleted_overrides(
    app: PagingApplication, clock: FakeClock
) -> None:
    weekly(app, datetime(2026, 11, 22, 9, 0))  # alice's week
    clock.advance(timedelta(hours=1))  # 11:00 UTC
    override = app.add_override(
        "primary",
        "bob",
        datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    )
    clock.set(datetime(2026, 11, 27, 13, 0, tzinfo=UTC))
    at_noon = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert app.who_is_on_call("schedule:primary", at_noon) == ["bob"]

    clock.set(datetime(2026, 11, 27, 14, 0, tzinfo=UTC))
    app.remove_override("primary", override)

    # Asked after the deletion: noon is in the past, so the override still counts then...
    assert app.who_is_on_call("schedule:primary", at_noon) == ["bob"]
    # ...but not in today's configuration, which answers for now and the future.
    assert app.who_is_on_call("schedule:primary") == ["alice"]
    assert app.who_is_on_call("schedule:primary", datetime(2026, 11, 27, 14, 30, tzinfo=UTC)) == [
        "alice"
    ]
    # Before the schedule existed, nobody could be on call for it.
    with pytest.raises(Exception, match="did not exist"):
        app.who_is_on_call("schedule:primary", datetime(2026, 11, 1, tzinfo=UTC))


def test_teams_page_their_schedule_or_every_member(app: PagingApplication) -> None:
    weekly(app, datetime(2026, 11, 22, 9, 0))
    register(app, "carol")
    app.create_team("sre", "SRE", ["alice", "bob"], schedule_id="primary")
    app.create_team("dba", "DBAs", ["carol", "bob"])
    assert app.who_is_on_call("team:sre") == ["alice"]
    assert app.who_is_on_call("team:dba") == ["carol", "bob"]
    assert app.who_is_on_call("user:carol") == ["carol"]


def test_the_ical_feed_parses_back_with_one_vevent_per_shift(app: PagingApplication) -> None:
    weekly(app, datetime(2026, 3, 22, 9, 0))
    start, end = berlin(2026, 3, 22, 0, 0), berlin(2026, 4, 12, 0, 0)

    feed = app.export_ical("primary", start, end)

    calendar = icalendar.Calendar.from_ical(feed)
    assert calendar["VERSION"] == "2.0"
    events = list(calendar.walk("VEVENT"))
    assert [str(e["SUMMARY"]) for e in events] == [
        "On call: Alice (Primary)",
        "On call: Bob (Primary)",
        "On call: Alice (Primary)",
    ]
    starts = [e.decoded("DTSTART") for e in events]
    assert starts == [
        berlin(2026, 3, 22, 9, 0),
        berlin(2026, 3, 29, 9, 0),
        berlin(2026, 4, 5, 9, 0),
    ]
    assert events[-1].decoded("DTEND") == end
    assert len({str(e["UID"]) for e in events}) == 3
    # Re-exporting gives the same UIDs, so calendars update rather than duplicate.
    again = icalendar.Calendar.from_ical(app.export_ical("primary", start, end))
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in events]


def test_a_crash_between_firing_and_paging_is_finished_on_recovery(
    app: PagingApplication, store: SQLiteEventStore, clock: FakeClock
) -> None:
    weekly(app, datetime(2026, 11, 22, 9, 0))
    app.create_policy("p", "P", [{"targets": ["schedule:primary"], "delay_minutes": 30}])
    incident = uuid.uuid4()
    app.start_escalation(incident, "P1", "p")
    # Fire the step by hand, as a worker that then died before creating the page.
    app._escalate(  # simulating the first half of a crashed tick
        incident,
        esc.FireStep(at=clock(), step=0, responders=("alice",)),
        key="fire/0",
        causation_id=None,
    )
    recovered = PagingApplication(store, clock)
    assert [d.user_id for d in recovered.tick()] == ["alice"]
    assert recovered.tick() == []
