"""Given events, when a command, then events: the communications deciders, no store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service import subscriber as sub
from comms_service.cadence import CadencePolicy, Interval
from comms_service.common import Severity
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday
INCIDENT = uuid.UUID("00000000-0000-4000-8000-000000000001")
decide_room = rm.make_decide(CadencePolicy())
WAR = rm.DestinationSpec(channel_id="war", kind="slack", address="https://chat.example.com/war")
STAKE = rm.DestinationSpec(channel_id="stake", kind="email", address="execs@example.com")


def track(severity: str = "P1", **overrides: object) -> rm.TrackIncident:
    fields: dict[str, object] = {
        "at": T0,
        "incident_id": INCIDENT,
        "reference": "INC-1",
        "title": "checkout 5xx",
        "severity": severity,
        "commander": "alice",
        "war_room": (WAR,),
        "stakeholder": (STAKE,),
    }
    fields.update(overrides)
    return rm.TrackIncident(**fields)  # type: ignore[arg-type]


def given(*events: DomainEvent) -> rm.Room:
    return rm.fold(list(events))


def tracked(severity: str = "P1") -> list[DomainEvent]:
    return list(decide_room(track(severity), rm.INITIAL))


# ------------------------------------------------------------------ channels


def test_declaring_opens_a_war_room_and_a_separate_stakeholder_channel_and_promises_an_update() -> (
    None
):
    events = tracked("P1")
    assert [type(e).__name__ for e in events] == [
        "IncidentTracked",
        "ChannelOpened",
        "ChannelOpened",
        "UpdatePromised",
    ]
    roles = {e.role for e in events if isinstance(e, rm.ChannelOpened)}
    assert roles == {rm.Role.WAR_ROOM, rm.Role.STAKEHOLDER}
    promise = events[-1]
    assert isinstance(promise, rm.UpdatePromised)
    assert promise.due_by == T0 + timedelta(minutes=30)
    assert T0 < promise.remind_at < promise.due_by


def test_the_stakeholder_channel_is_never_the_war_room() -> None:
    same = rm.DestinationSpec(channel_id="stake", kind="slack", address=WAR.address)
    with pytest.raises(InvalidCommandError) as error:
        decide_room(track(stakeholder=(same,)), rm.INITIAL)
    assert error.value.field == "stakeholder"


@pytest.mark.parametrize(
    ("war", "stakeholder"),
    [
        (("email", "team@example.com"), ("email", "Team@Example.COM")),
        (("slack", "https://chat.example.com/war"), ("slack", "HTTPS://Chat.Example.com/war/")),
        (("webhook", "https://hooks.example.com/x/"), ("slack", "https://hooks.example.com/x")),
    ],
)
def test_the_same_destination_spelled_differently_is_still_the_war_room(
    war: tuple[str, str], stakeholder: tuple[str, str]
) -> None:
    war_spec = rm.DestinationSpec(channel_id="war", kind=war[0], address=war[1])  # type: ignore[arg-type]
    stake_spec = rm.DestinationSpec(channel_id="stake", kind=stakeholder[0], address=stakeholder[1])  # type: ignore[arg-type]
    with pytest.raises(InvalidCommandError) as error:
        decide_room(track(war_room=(war_spec,), stakeholder=(stake_spec,)), rm.INITIAL)
    assert error.value.field == "stakeholder"


def test_a_different_path_is_a_different_destination() -> None:
    other = rm.DestinationSpec(channel_id="stake", kind="slack", address=WAR.address + "/execs")
    assert decide_room(track(stakeholder=(other,)), rm.INITIAL)


@pytest.mark.parametrize(
    ("kind", "address", "field"),
    [
        ("email", "not-an-address", "war_room[0].address"),
        ("webhook", "ftp://x", "war_room[0].address"),
    ],
)
def test_bad_destination_addresses_are_refused_with_the_field(
    kind: str, address: str, field: str
) -> None:
    bad = rm.DestinationSpec(channel_id="war", kind=kind, address=address)  # type: ignore[arg-type]
    with pytest.raises(InvalidCommandError) as error:
        decide_room(track(war_room=(bad,)), rm.INITIAL)
    assert error.value.field == field


def test_a_redelivered_declaration_opens_nothing_twice() -> None:
    state = given(*tracked())
    assert decide_room(track(), state) == []


def test_p4_gets_channels_but_no_promise() -> None:
    assert not any(isinstance(e, rm.UpdatePromised) for e in tracked("P4"))


# ------------------------------------------------------------------ updates and promises


def post(at: datetime, by: str = "alice", status: str = "investigating") -> rm.PostUpdate:
    return rm.PostUpdate(
        at=at,
        update_id=uuid.uuid4(),
        audience="public",
        status=status,
        body="still investigating",
        template="public",
        posted_by=by,
    )


def test_an_update_before_the_promise_keeps_it_and_makes_the_next_one() -> None:
    state = given(*tracked("P2"))
    events = decide_room(post(T0 + timedelta(minutes=50)), state)
    posted, promised = events
    assert isinstance(posted, rm.StakeholderUpdatePosted)
    assert posted.promise_kept is True
    assert isinstance(promised, rm.UpdatePromised)
    assert promised.due_by == T0 + timedelta(minutes=110)
    assert promised.seq == 2


def test_a_late_update_records_the_promise_as_missed() -> None:
    state = given(*tracked("P1"))
    posted = decide_room(post(T0 + timedelta(minutes=31)), state)[0]
    assert isinstance(posted, rm.StakeholderUpdatePosted)
    assert posted.promise_kept is False


def test_a_resolution_update_promises_nothing_more() -> None:
    state = given(*tracked())
    events = decide_room(post(T0 + timedelta(minutes=5), status="resolved"), state)
    assert [type(e).__name__ for e in events] == ["StakeholderUpdatePosted"]


def test_only_the_commander_or_the_comms_lead_writes_updates() -> None:
    state = given(*tracked())
    with pytest.raises(PreconditionFailedError):
        decide_room(post(T0, by="mallory"), state)
    lead = rm.CommsLeadAssigned(comms_lead="carol", assigned_by="alice", assigned_at=T0)
    assert decide_room(post(T0, by="carol"), rm.evolve(state, lead))


def test_any_writer_may_post_until_a_commander_is_assigned_then_only_the_commander() -> None:
    state = given(*decide_room(track(commander=None), rm.INITIAL))
    posted = decide_room(post(T0, by="bob"), state)[0]
    assert isinstance(posted, rm.StakeholderUpdatePosted)
    assert posted.posted_by == "bob"
    assigned = rm.WarRoomPosted(
        message_id=uuid.uuid4(),
        change="commander",
        text="Incident commander: alice",
        commander="alice",
        posted_at=T0,
    )
    state = rm.evolve(state, assigned)
    with pytest.raises(PreconditionFailedError):
        decide_room(post(T0, by="bob"), state)
    assert decide_room(post(T0, by="alice"), state)


def test_the_reminder_fires_once_before_the_promise_falls_due() -> None:
    events = tracked()
    state = given(*events)
    promise = state.promise
    assert promise is not None
    assert (
        decide_room(rm.FireReminder(at=promise.remind_at - timedelta(seconds=1), seq=1), state)
        == []
    )
    due = decide_room(rm.FireReminder(at=promise.remind_at, seq=1), state)
    assert [type(e).__name__ for e in due] == ["UpdateDue"]
    assert decide_room(rm.FireReminder(at=promise.remind_at, seq=1), rm.evolve(state, due[0])) == []


def test_a_missed_promise_is_recorded_overdue_once_and_escalates_to_the_comms_lead() -> None:
    state = given(
        *tracked(), rm.CommsLeadAssigned(comms_lead="carol", assigned_by="alice", assigned_at=T0)
    )
    assert decide_room(rm.MarkOverdue(at=T0 + timedelta(minutes=29), seq=1), state) == []
    overdue = decide_room(rm.MarkOverdue(at=T0 + timedelta(minutes=30), seq=1), state)
    assert isinstance(overdue[0], rm.UpdateOverdue)
    assert overdue[0].escalated_to == "carol"
    assert (
        decide_room(rm.MarkOverdue(at=T0 + timedelta(hours=1), seq=1), rm.evolve(state, overdue[0]))
        == []
    )


def test_an_update_cancels_the_pending_reminder_of_the_promise_it_answers() -> None:
    state = given(*tracked())
    state = rm.fold(decide_room(post(T0 + timedelta(minutes=10)), state), state)
    assert decide_room(rm.FireReminder(at=T0 + timedelta(minutes=25), seq=1), state) == []
    assert decide_room(rm.MarkOverdue(at=T0 + timedelta(minutes=31), seq=1), state) == []


def test_raising_the_severity_shortens_the_promise() -> None:
    state = given(*tracked("P3"))
    change = rm.RecordChange(
        at=T0 + timedelta(minutes=5),
        message_id=uuid.uuid4(),
        change="severity",
        text="P3 -> P1",
        severity="P1",
    )
    events = decide_room(change, state)
    promised = [e for e in events if isinstance(e, rm.UpdatePromised)]
    assert promised
    assert promised[0].due_by == T0 + timedelta(minutes=35)


def test_commands_for_an_unknown_incident_are_refused() -> None:
    with pytest.raises(NotFoundError):
        decide_room(post(T0), rm.INITIAL)


# ------------------------------------------------------------------ cadence


def test_p3_counts_four_hours_within_business_hours() -> None:
    policy = CadencePolicy()
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    # one hour on Friday, three on Monday from 09:00
    assert policy.next_due(Severity.P3, friday_4pm) == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert policy.next_due(Severity.P3, saturday) == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


def test_the_cadence_is_configurable_per_service() -> None:
    policy = CadencePolicy(per_service={"payments": {Severity.P1: Interval(timedelta(minutes=15))}})
    assert policy.next_due(Severity.P1, T0, "payments") == T0 + timedelta(minutes=15)
    assert policy.next_due(Severity.P1, T0, "search") == T0 + timedelta(minutes=30)
    assert policy.next_due(Severity.P4, T0) is None


# ------------------------------------------------------------------ dispatch

RETRY = dsp.RetryPolicy(max_attempts=3)
decide_dsp = dsp.make_decide(RETRY)
evolve_dsp = dsp.make_evolve(RETRY)


def queued(*targets: str) -> dsp.Dispatch:
    event = decide_dsp(
        dsp.QueueDispatch(
            at=T0,
            dispatch_id=uuid.uuid4(),
            purpose="stakeholder_update",
            subject="s",
            body="b",
            targets=tuple(
                dsp.Target(target_id=t, kind="email", address=f"{t}@example.com") for t in targets
            ),
        ),
        dsp.INITIAL,
    )[0]
    return evolve_dsp(dsp.INITIAL, event)


def apply(state: dsp.Dispatch, events: list[DomainEvent]) -> dsp.Dispatch:
    for event in events:
        state = evolve_dsp(state, event)
    return state


def attempt(state: dsp.Dispatch, at: datetime, instance: str = "i1") -> list[DomainEvent]:
    return list(decide_dsp(dsp.AttemptDue(at=at, sender="w", sender_instance=instance), state))


def test_attempts_are_recorded_once_before_sending() -> None:
    state = queued("a", "b")
    events = attempt(state, T0)
    assert isinstance(events[0], dsp.DeliveriesAttempted)
    assert [a.target_id for a in events[0].attempts] == ["a", "b"]
    assert attempt(apply(state, events), T0) == []  # in flight: nothing handed out twice


def test_a_temporary_failure_is_retried_later_a_delivered_target_never_again() -> None:
    state = apply(queued("a", "b"), attempt(queued("a", "b"), T0))
    outcomes = dsp.RecordOutcomes(
        at=T0,
        outcomes=(
            dsp.Outcome(target_id="a", attempt=1, delivered=True),
            dsp.Outcome(target_id="b", attempt=1, delivered=False, reason="503"),
        ),
    )
    state = apply(state, list(decide_dsp(outcomes, state)))
    assert attempt(state, T0 + timedelta(seconds=5)) == []
    retry = attempt(state, T0 + RETRY.delay(1))
    assert [(a.target_id, a.attempt, a.repeat_of) for a in retry[0].attempts] == [("b", 2, None)]


def test_an_unknown_outcome_is_sent_again_labelled_as_a_possible_repeat() -> None:
    state = queued("a")
    state = apply(state, attempt(state, T0, instance="dead"))
    expired = decide_dsp(dsp.ExpireAttempts(at=T0, current_instances={"w": "alive"}), state)
    assert isinstance(expired[0], dsp.DeliveriesUnconfirmed)
    state = apply(state, list(expired))
    again = attempt(state, T0, instance="alive")
    assert [(a.attempt, a.repeat_of) for a in again[0].attempts] == [(2, 1)]


def test_an_attempt_without_outcome_expires_at_its_deadline_only() -> None:
    state = queued("a")
    state = apply(state, attempt(state, T0))
    live = {"w": "i1"}
    assert (
        decide_dsp(dsp.ExpireAttempts(at=T0 + timedelta(seconds=10), current_instances=live), state)
        == []
    )
    assert decide_dsp(
        dsp.ExpireAttempts(at=T0 + RETRY.outcome_timeout, current_instances=live), state
    )


def test_a_late_outcome_of_an_expired_attempt_is_ignored() -> None:
    state = queued("a")
    state = apply(state, attempt(state, T0, instance="dead"))
    state = apply(
        state, list(decide_dsp(dsp.ExpireAttempts(at=T0, current_instances={"w": "x"}), state))
    )
    late = dsp.RecordOutcomes(
        at=T0, outcomes=(dsp.Outcome(target_id="a", attempt=1, delivered=True),)
    )
    assert decide_dsp(late, state) == []


def _fail_temporarily(
    policy: dsp.RetryPolicy, state: dsp.Dispatch, at: datetime, times: int
) -> tuple[dsp.Dispatch, datetime]:
    decide, evolve = dsp.make_decide(policy), dsp.make_evolve(policy)
    for n in range(1, times + 1):
        for event in decide(dsp.AttemptDue(at=at, sender="w", sender_instance="i1"), state):
            state = evolve(state, event)
        failed = dsp.Outcome(target_id="a", attempt=n, delivered=False, reason="503")
        for event in decide(dsp.RecordOutcomes(at=at, outcomes=(failed,)), state):
            state = evolve(state, event)
        due = state.targets["a"].due_at
        assert due is not None
        at = due
    return state, at


def test_a_crash_after_a_long_outage_is_still_resent_the_give_up_is_in_the_event() -> None:
    # Six temporary failures (a ten-minute outage), then the sender dies mid-attempt:
    # the unknown attempt is the 7th but the first unknown one, so it goes again.
    policy = dsp.RetryPolicy()
    decide, evolve = dsp.make_decide(policy), dsp.make_evolve(policy)
    state, at = _fail_temporarily(policy, queued("a"), T0, 6)
    for event in decide(dsp.AttemptDue(at=at, sender="w", sender_instance="dead"), state):
        state = evolve(state, event)
    (unconfirmed,) = decide(dsp.ExpireAttempts(at=at, current_instances={"w": "alive"}), state)
    assert isinstance(unconfirmed, dsp.DeliveriesUnconfirmed)
    assert unconfirmed.given_up == ()
    after = evolve(state, unconfirmed)
    assert (after.targets["a"].status, after.targets["a"].repeat_of) == (
        dsp.TargetStatus.PENDING,
        7,
    )
    # An event recorded before `given_up` existed replays as it was decided then (it
    # gave up at attempt 5), whatever today's policy says.
    legacy = unconfirmed.model_copy(update={"given_up": None})
    assert evolve(state, legacy).targets["a"].status is dsp.TargetStatus.FAILED


def test_unknown_outcomes_are_bounded_known_failures_between_them_are_not_counted() -> None:
    policy = dsp.RetryPolicy(max_unknown=3)
    decide, evolve = dsp.make_decide(policy), dsp.make_evolve(policy)
    state, at = _fail_temporarily(policy, queued("a"), T0, 2)
    # attempts 3..9: unknown, then five known failures (an outage), then unknown twice
    script = ["unknown", "503", "503", "503", "503", "503", "unknown", "unknown"]
    for n, outcome in enumerate(script, start=3):
        for event in decide(dsp.AttemptDue(at=at, sender="w", sender_instance="i1"), state):
            state = evolve(state, event)
        report = dsp.Outcome(
            target_id="a",
            attempt=n,
            delivered=False,
            reason=outcome,
            unknown=outcome == "unknown",
        )
        for event in decide(dsp.RecordOutcomes(at=at, outcomes=(report,)), state):
            state = evolve(state, event)
        target = state.targets["a"]
        assert target.repeat_of == 3
        if n < 10:
            assert target.status is dsp.TargetStatus.PENDING, (n, target)
            assert target.due_at is not None
            at = target.due_at
    assert state.targets["a"].unknown == 3
    assert state.targets["a"].status is dsp.TargetStatus.FAILED
    assert state.targets["a"].reason.startswith("outcome unknown")


# ------------------------------------------------------------------ status page


def page_with(*commands: sp.PageCommand) -> sp.Page:
    state = sp.INITIAL
    for command in commands:
        for event in sp.decide(command, state):
            state = sp.evolve(state, event)
    return state


def test_components_belong_to_known_groups_and_change_status() -> None:
    state = page_with(
        sp.AddGroup(at=T0, group_id="web", name="Web"),
        sp.AddComponent(at=T0, component_id="api", name="API", group_id="web"),
    )
    with pytest.raises(InvalidCommandError) as error:
        sp.decide(sp.AddComponent(at=T0, component_id="db", name="DB", group_id="nope"), state)
    assert error.value.field == "group_id"
    changed = sp.decide(
        sp.SetComponentStatus(at=T0, component_id="api", status="major_outage", changed_by="a"),
        state,
    )
    assert isinstance(changed[0], sp.ComponentStatusChanged)
    assert changed[0].old_status == "operational"
    with pytest.raises(InvalidCommandError) as error:
        sp.decide(
            sp.SetComponentStatus(
                at=T0, component_id="nope", status="major_outage", changed_by="a"
            ),
            state,
        )
    assert error.value.field == "component_id"


def draft(**overrides: object) -> si.DraftIncident:
    fields: dict[str, object] = {
        "at": T0,
        "status_incident_id": uuid.uuid4(),
        "name": "API errors",
        "drafted_by": "alice",
        "body": "Investigating",
    }
    fields.update(overrides)
    return si.DraftIncident(**fields)  # type: ignore[arg-type]


def test_a_status_incident_starts_as_a_draft_and_is_published_explicitly() -> None:
    events = si.decide(draft(), si.INITIAL)
    state = si.INITIAL
    for event in events:
        state = si.evolve(state, event)
    assert not state.public
    published = si.decide(si.Publish(at=T0, published_by="alice"), state)
    assert isinstance(published[0], si.StatusIncidentPublished)


def test_an_internal_only_incident_can_never_be_published() -> None:
    state = si.INITIAL
    for event in si.decide(draft(internal_only=True), si.INITIAL):
        state = si.evolve(state, event)
    with pytest.raises(PreconditionFailedError):
        si.decide(si.Publish(at=T0, published_by="alice"), state)


def test_maintenance_needs_its_window_and_maintenance_statuses() -> None:
    with pytest.raises(InvalidCommandError) as error:
        si.decide(draft(kind="maintenance"), si.INITIAL)
    assert error.value.field == "scheduled_for"
    with pytest.raises(InvalidCommandError) as error:
        si.decide(
            draft(
                kind="maintenance",
                status="investigating",
                scheduled_for=T0,
                scheduled_until=T0 + timedelta(hours=1),
            ),
            si.INITIAL,
        )
    assert error.value.field == "status"


# ------------------------------------------------------------------ subscribers


def test_email_subscriptions_need_double_opt_in_and_unsubscribe_in_one_click() -> None:
    request = sub.RequestSubscription(
        at=T0, kind="email", address="bob@example.com", confirm_token="t0ken"
    )
    state = sub.INITIAL
    for event in sub.decide(request, state):
        state = sub.evolve(state, event)
    assert state.status is sub.Status.PENDING
    with pytest.raises(InvalidCommandError) as error:
        sub.decide(sub.ConfirmSubscription(at=T0, token="wrong"), state)
    assert error.value.field == "token"
    for event in sub.decide(sub.ConfirmSubscription(at=T0, token="t0ken"), state):
        state = sub.evolve(state, event)
    assert state.status is sub.Status.CONFIRMED
    for event in sub.decide(sub.Unsubscribe(at=T0), state):
        state = sub.evolve(state, event)
    assert state.status is sub.Status.UNSUBSCRIBED


def test_a_bad_subscriber_address_is_refused_with_the_field() -> None:
    with pytest.raises(InvalidCommandError) as error:
        sub.decide(
            sub.RequestSubscription(at=T0, kind="email", address="<script>", confirm_token="t"),
            sub.INITIAL,
        )
    assert error.value.field == "address"


def test_reopening_after_the_final_update_owes_stakeholders_a_new_update() -> None:
    state = given(*tracked("P2"))
    state = rm.fold(decide_room(post(T0 + timedelta(minutes=5), status="resolved"), state), state)
    assert state.promise is None
    reopened = rm.RecordChange(
        at=T0 + timedelta(hours=1), message_id=uuid.uuid4(), change="reopened", text="again"
    )
    promised = [e for e in decide_room(reopened, state) if isinstance(e, rm.UpdatePromised)]
    assert promised[0].due_by == T0 + timedelta(hours=2)
    assert promised[0].reason == "reopened"
