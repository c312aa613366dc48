"""The ActionItem decider and its reminder schedule, driven by explicit instants."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.domain import InvalidCommandError
from postmortem_service import action as ac
from postmortem_service.common import build
from postmortem_service.postmortem import RefusedError

ITEM = uuid.UUID("7c1d3e2f-9a6b-4d4f-8e8c-2b3c4d5e6f70")
INCIDENT = uuid.UUID("5b0c2d1e-8f5a-4c3e-9d7b-1a2b3c4d5e6f")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DUE = date(2026, 12, 7)  # due at 17:00 UTC that Monday
DUE_AT = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
POLICY = ac.ReminderPolicy()
MAIL = ac.Target(user_id="alice", method_id="mail", kind="email", address="alice@example.com")


def add(**overrides: object) -> ac.AddActionItem:
    fields: dict[str, object] = {
        "at": MONDAY,
        "action_id": ITEM,
        "incident_id": INCIDENT,
        "postmortem_severity": "P1",
        "kind": "monitoring",
        "title": "Alert on pool saturation",
        "owner": "alice",
        "owner_time_zone": "UTC",
        "due_on": DUE,
        "priority": "high",
        "by": "alice",
    }
    fields.update(overrides)
    return build(ac.AddActionItem, **fields)


def given(*commands: ac.ActionCommand) -> ac.ActionItem:
    state = ac.INITIAL
    for command in commands:
        state = ac.fold(ac.decide(command, state, POLICY), state)
    return state


def remind(slot: str, at: datetime) -> ac.SendReminder:
    return ac.SendReminder(at=at, slot=slot, targets=(MAIL,), outcome_timeout=timedelta(minutes=2))


def test_a_due_date_in_the_past_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        ac.decide(add(due_on=date(2026, 11, 29)), ac.INITIAL)
    assert refused.value.field == "due_date"


def test_a_malformed_tracker_link_or_empty_title_is_refused() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        add(tracker_url="not a url")
    assert refused.value.field == "tracker_url"
    with pytest.raises(InvalidCommandError) as refused:
        add(title="   ")
    assert refused.value.field == "title"


def test_wont_do_needs_a_reason_and_every_change_is_an_event() -> None:
    state = given(add())
    with pytest.raises(InvalidCommandError) as refused:
        build(ac.DeclineActionItem, at=MONDAY, reason="", by="alice")
    assert refused.value.field == "reason"
    events = ac.decide(ac.DeclineActionItem(at=MONDAY, reason="superseded", by="bob"), state)
    declined = ac.fold(events, state)
    assert declined.status is ac.ItemStatus.WONT_DO
    assert declined.declined_reason == "superseded"
    with pytest.raises(RefusedError):
        ac.decide(ac.StartActionItem(at=MONDAY, by="alice"), declined)


def test_reminders_fire_before_on_and_weekly_after_the_due_date() -> None:
    state = given(add())
    assert ac.current_slot(state, POLICY, MONDAY) is None
    before = DUE_AT - timedelta(days=2)
    assert ac.current_slot(state, POLICY, before) == "before"
    state = given(add(), remind("before", before))
    assert ac.current_slot(state, POLICY, before + timedelta(hours=1)) is None
    assert ac.current_slot(state, POLICY, DUE_AT) == "due"
    state = given(add(), remind("before", before), remind("due", DUE_AT))
    week = DUE_AT + timedelta(days=7)
    assert ac.current_slot(state, POLICY, week - timedelta(seconds=1)) is None
    events = ac.decide(remind("overdue-1", week), state, POLICY)
    assert [type(e) for e in events] == [ac.ActionItemOverdue, ac.ReminderAttempted]


def test_each_reminder_slot_fires_exactly_once() -> None:
    before = DUE_AT - timedelta(days=2)
    state = given(add(), remind("before", before))
    assert ac.decide(remind("before", before + timedelta(minutes=1)), state, POLICY) == []


def test_a_slot_missed_while_nobody_ran_is_skipped_for_the_later_one() -> None:
    state = given(add())
    # Nothing ran between before and after the due date: only "due" is sent.
    assert ac.current_slot(state, POLICY, DUE_AT + timedelta(hours=1)) == "due"
    assert ac.decide(remind("before", DUE_AT + timedelta(hours=1)), state, POLICY) == []


def test_the_due_projection_input_names_the_next_slot() -> None:
    state = given(add())
    due = ac.next_due(state, POLICY)
    assert [(d.work, d.slot, d.due_at) for d in due] == [
        (ac.Work.SLOT, "before", DUE_AT - timedelta(days=2)),
        (ac.Work.ESCALATION, "escalation", DUE_AT + timedelta(days=7)),
    ]
    done = given(add(), ac.CompleteActionItem(at=MONDAY, by="alice"))
    assert ac.next_due(done, POLICY) == []


def test_overdue_items_of_p3_postmortems_do_not_escalate() -> None:
    state = given(add(postmortem_severity="P3"))
    assert ac.escalation_due(state, POLICY) is None


def test_an_unknown_outcome_is_sent_again_marked_as_a_possible_repeat() -> None:
    before = DUE_AT - timedelta(days=2)
    state = given(add(), remind("before", before))
    (overdue,) = [d for d in ac.next_due(state, POLICY) if d.work is ac.Work.OUTCOME_OVERDUE]
    assert overdue.due_at == before + timedelta(minutes=2)
    command = ac.TimeOutReminder(
        at=overdue.due_at,
        slot="before",
        target_key="alice/mail",
        attempt=1,
        outcome_timeout=timedelta(minutes=2),
    )
    events = ac.decide(command, state, POLICY)
    assert [type(e) for e in events] == [ac.ReminderUnconfirmed, ac.ReminderAttempted]
    again = events[1]
    assert isinstance(again, ac.ReminderAttempted)
    assert again.attempt == 2
    assert again.repeat_of == 1
    # A late outcome of the first attempt changes nothing any more.
    after = ac.fold(events, state)
    late = ac.RecordReminderOutcome(
        at=overdue.due_at, slot="before", target_key="alice/mail", attempt=1, delivered=True
    )
    assert ac.decide(late, after, POLICY) == []


def test_a_temporary_failure_is_retried_with_backoff_then_given_up() -> None:
    before = DUE_AT - timedelta(days=2)
    failed = ac.RecordReminderOutcome(
        at=before, slot="before", target_key="alice/mail", attempt=1, delivered=False,
        reason="451", permanent=False,
    )  # fmt: skip
    state = given(add(), remind("before", before), failed)
    (retry,) = [d for d in ac.next_due(state, POLICY) if d.work is ac.Work.RETRY]
    assert retry.due_at == before + POLICY.retry_base
    permanent = given(
        add(), remind("before", before), failed.model_copy(update={"permanent": True})
    )
    assert not [d for d in ac.next_due(permanent, POLICY) if d.work is ac.Work.RETRY]
