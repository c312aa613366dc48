"""The postmortem application over a real SQLite log, with the incident and paging
services writing their own events, and a fake clock driving reminders."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contracts.domain import InvalidCommandError, NotFoundError
from postmortem_service import action as ac
from postmortem_service import postmortem as pm
from tests.unit.postmortem.conftest import World


def test_a_resolved_p1_opens_a_required_postmortem_owned_by_the_commander(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    state = world.app.get_postmortem(incident_id)
    assert state.required
    assert state.owner == "alice"
    assert state.owner_time_zone == "Europe/Berlin"
    assert state.due_on == date(2026, 12, 7)  # five business days after Monday
    assert state.temporary_mitigations == ("rollback: rolled back release 42",)


def test_a_p4_opens_an_optional_postmortem_and_none_when_configured(world: World) -> None:
    incident_id = world.resolved_incident("P4")
    assert not world.app.get_postmortem(incident_id).required


def test_reopening_and_resolving_again_updates_the_same_postmortem(world: World) -> None:
    from incident_service import domain as inc

    incident_id = world.resolved_incident("P2")
    world.incidents.execute(
        incident_id, inc.Reopen, actor="alice", reason="errors are back", reopened_by="alice"
    )
    world.clock.advance(timedelta(minutes=30))
    world.incidents.execute(
        incident_id, inc.Resolve, actor="alice", summary="fixed", resolved_by="alice"
    )
    resolved = world.incidents.store.read_stream(inc.stream_for(incident_id))[-1]
    world.app.incident_resolved(incident_id, causation_id=str(resolved.id))
    world.app.incident_resolved(incident_id, causation_id=str(resolved.id))  # redelivered
    state = world.app.get_postmortem(incident_id)
    assert state.resolutions == 2
    assert len(world.app.list_postmortems()) == 1


def test_prefill_reads_the_timeline_responders_and_durations_from_the_log(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    filled = world.app.prefill(incident_id)
    types = [e.event_type for e in filled.entries]
    assert types[0] == "IncidentDeclared"
    assert "MitigationApplied" in types
    assert types[-2:] == ["IncidentResolved", "RootCauseFollowUpRequired"]
    assert {"alice", "bob"} <= set(filled.responders)
    d = filled.durations
    assert d.impact_start_source == "declared"
    assert d.time_to_mitigate == timedelta(minutes=5)
    assert d.time_to_resolve == timedelta(minutes=15)
    assert d.time_to_acknowledge is None  # nobody acknowledged: never the close time
    assert d.impact_started_at is not None
    earlier = d.impact_started_at - timedelta(minutes=20)
    world.app.set_impact_start(incident_id, earlier, by="alice")
    edited = world.app.prefill(incident_id).durations
    assert edited.impact_start_source == "edited"
    assert edited.time_to_resolve == timedelta(minutes=35)


def test_generated_entries_are_annotated_by_event_id_and_unknown_ones_refused(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    entry = world.app.prefill(incident_id).entries[0]
    world.app.annotate(incident_id, entry.entry_id, "Declared by the alert bot", by="bob")
    assert world.app.get_postmortem(incident_id).notes[0].entry_id == entry.entry_id
    position = world.app.store.head_position()
    with pytest.raises(InvalidCommandError) as refused:
        world.app.annotate(incident_id, "nope", "x", by="bob")
    assert refused.value.field == "entry_id"
    assert world.app.store.head_position() == position


def test_unknown_owner_or_past_due_date_is_refused_and_nothing_appended(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    position = world.app.store.head_position()
    with pytest.raises(InvalidCommandError) as refused:
        world.app.add_action_item(
            incident_id,
            kind="technical",
            title="Fix",
            owner="mallory",
            due_on="2026-12-31",
            by="bob",
        )
    assert refused.value.field == "owner"
    with pytest.raises(InvalidCommandError) as refused:
        world.app.add_action_item(
            incident_id, kind="technical", title="Fix", owner="alice", due_on="2026-11-01",
            by="bob",
        )  # fmt: skip
    assert refused.value.field == "due_date"
    with pytest.raises(InvalidCommandError) as refused:
        world.app.add_action_item(
            incident_id, kind="bogus", title="Fix", owner="alice", due_on="2026-12-31",
            by="bob",
        )  # fmt: skip
    assert refused.value.field == "kind"
    assert world.app.store.head_position() == position


def test_publishing_closes_the_follow_up_and_refuses_later_edits(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    world.app.follow_up_required(
        incident_id, reason="temporary only", temporary_mitigations=["rollback"], causation_id="c1"
    )
    with pytest.raises(pm.RefusedError) as refused:
        world.app.publish(incident_id, by="alice")
    assert refused.value.field == "root_cause"
    with pytest.raises(InvalidCommandError):
        world.app.record_root_cause(incident_id, "Rolled back release 42", by="alice")
    world.app.record_root_cause(
        incident_id, "The pool limit was lower than the new worker count.", by="alice"
    )
    world.app.edit_section(incident_id, "lessons", "Alice should have checked.", by="bob")
    with pytest.raises(pm.RefusedError) as refused:
        world.app.publish(incident_id, by="alice")
    assert refused.value.field == "override_reason"
    result = world.app.publish(incident_id, by="alice", override_reason="kept on purpose")
    published = result.events[0]
    assert isinstance(published, pm.PostmortemPublished)
    assert published.closes_root_cause_follow_up
    assert {w.code for w in published.overridden_warnings} >= {"counterfactual", "person-named"}
    with pytest.raises(pm.RefusedError) as refused:
        world.app.edit_section(incident_id, "summary", "new", by="alice")
    assert refused.value.field == "summary"


def test_reminders_fire_once_each_and_survive_a_new_process(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    item = world.app.add_action_item(
        incident_id,
        kind="monitoring",
        title="Alert on pool saturation",
        owner="alice",
        due_on="2026-12-07",
        by="bob",
    ).state
    assert item.due_at is not None
    assert world.app.tick() == []
    world.clock.advance(item.due_at - timedelta(days=2) - world.clock())
    (before,) = world.app.tick()
    assert before.slot == "before"
    assert before.target.address == "alice@example.com"
    assert not before.possible_repeat
    assert world.app.tick() == []
    world.app.record_reminder_outcome(
        before.action_id, before.slot, before.target.key, before.attempt, delivered=True
    )
    # A fresh process (after a restart) finds nothing left to send for that slot.
    restarted = world.new_app()
    assert restarted.tick() == []
    world.clock.advance(item.due_at - world.clock())
    (due,) = restarted.tick()
    assert due.slot == "due"
    # The process dies before reporting: after the outcome timeout the reminder goes
    # out again, marked as a possible repeat, with the first attempt's key.
    again = world.new_app()
    assert again.tick() == []
    world.clock.advance(timedelta(minutes=2))
    (repeat,) = again.tick()
    assert repeat.possible_repeat
    assert repeat.idempotency_key == due.idempotency_key
    assert repeat.attempt == 2


def test_a_reminder_handed_over_without_an_answer_is_resent_labelled_not_retried_plainly(
    world: World,
) -> None:
    # notify's unknown outcome (an HTTP answer that timed out, an SMTP connection lost
    # after DATA): the owner may have it. Not a temporary failure (a plain retry would
    # be an unlabelled duplicate with a new key), not a permanent one (silence).
    incident_id = world.resolved_incident("P1")
    item = world.app.add_action_item(
        incident_id, kind="monitoring", title="Alert", owner="alice", due_on="2026-12-07", by="bob"
    ).state
    assert item.due_at is not None
    world.clock.advance(item.due_at - timedelta(days=2) - world.clock())
    (before,) = world.app.tick()
    world.app.record_reminder_outcome(
        before.action_id,
        before.slot,
        before.target.key,
        before.attempt,
        delivered=False,
        reason="read timed out",
        unknown=True,
    )
    world.clock.advance(timedelta(minutes=1))
    assert world.app.tick() == []  # no plain retry with backoff
    world.clock.advance(timedelta(minutes=1))  # its outcome deadline
    (repeat,) = world.app.tick()
    assert (repeat.slot, repeat.attempt, repeat.possible_repeat) == ("before", 2, True)
    assert repeat.idempotency_key == before.idempotency_key


def test_overdue_items_of_p1_postmortems_escalate_to_the_owners_team(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    item = world.app.add_action_item(
        incident_id, kind="process", title="Update runbook", owner="alice", due_on="2026-12-07",
        by="bob",
    ).state  # fmt: skip
    assert item.due_at is not None
    world.clock.advance(item.due_at + timedelta(days=7) - world.clock())
    sent = world.app.tick()
    assert {(r.slot, r.target.user_id) for r in sent} == {
        ("overdue-1", "alice"),
        ("escalation", "carol"),
    }
    overdue = world.app.list_action_items(overdue=True, team="checkout-team")
    assert [i.title for i in overdue] == ["Update runbook"]
    assert world.app.get_action_item(item.action_id).overdue_noticed  # type: ignore[arg-type]


def test_completed_items_stop_reminding(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    item = world.app.add_action_item(
        incident_id, kind="technical", title="Raise pool limit", owner="alice",
        due_on="2026-12-07", by="bob",
    ).state  # fmt: skip
    assert item.action_id is not None
    world.app.change_action_item(item.action_id, "complete", by="alice")
    world.clock.advance(timedelta(days=30))
    assert world.app.tick() == []
    assert world.app.get_action_item(item.action_id).status is ac.ItemStatus.DONE


def test_unknown_action_item_is_not_found(world: World) -> None:
    import uuid

    with pytest.raises(NotFoundError):
        world.app.change_action_item(uuid.uuid4(), "complete", by="alice")


def test_the_published_timeline_is_frozen_at_publication(world: World) -> None:
    from incident_service import domain as inc

    incident_id = world.resolved_incident("P1")
    world.app.record_root_cause(
        incident_id, "The pool limit was lower than the new worker count.", by="alice"
    )
    world.app.publish(incident_id, by="alice")
    before = [e.entry_id for e in world.app.prefill(incident_id).entries]
    world.incidents.execute(incident_id, inc.AddNote, actor="bob", text="a late note", author="bob")
    assert world.incidents.store.read_stream(inc.stream_for(incident_id))[-1].type == (
        "TimelineNoteAdded"
    )
    assert [e.entry_id for e in world.app.prefill(incident_id).entries] == before


def test_a_follow_up_that_returns_after_publication_is_closed_by_a_root_cause_amendment(
    world: World,
) -> None:
    """Reopened and resolved on the same band-aid after publication: the incident asks
    for a root cause again; amending the published root cause closes it there too."""
    from incident_service import domain as inc
    from incident_service.followups import FollowUpReactions

    incidents = world.incidents
    reactions = FollowUpReactions(incidents)

    def follow_ups() -> None:
        """What the postmortem worker and the incident worker do with the new events."""
        for event in incidents.store.read_stream(inc.stream_for(incident_id)):
            if event.type == "IncidentResolved":
                world.app.incident_resolved(incident_id, causation_id=str(event.id))
            elif event.type == "RootCauseFollowUpRequired":
                world.app.follow_up_required(
                    incident_id, reason=event.data["reason"],
                    temporary_mitigations=event.data["temporary_mitigations"],
                    causation_id=str(event.id),
                )  # fmt: skip
        for event in world.app.store.read_stream(pm.stream_for(incident_id)):
            reactions.handle(event)

    incident_id = world.resolved_incident("P1")
    follow_ups()
    world.app.record_root_cause(
        incident_id, "The pool limit was lower than the new worker count.", by="alice"
    )
    world.app.publish(incident_id, by="alice")
    follow_ups()
    assert not incidents.get(incident_id).state.root_cause_pending

    incidents.execute(incident_id, inc.Reopen, actor="alice", reason="back", reopened_by="alice")
    world.clock.advance(timedelta(minutes=5))
    incidents.execute(
        incident_id, inc.Resolve, actor="alice", summary="rolled back again", resolved_by="alice"
    )
    follow_ups()
    assert incidents.get(incident_id).state.root_cause_pending
    assert world.app.get_postmortem(incident_id).follow_up_required
    with pytest.raises(pm.RefusedError) as refused:
        world.app.publish(incident_id, by="alice")
    assert "amend the root cause" in str(refused.value)

    head = world.app.store.head_position()
    with pytest.raises(InvalidCommandError) as invalid:
        world.app.amend(incident_id, "root_cause", "Rolled back", reason="again", by="alice")
    assert invalid.value.field == "text"
    assert world.app.store.head_position() == head

    published_at = world.app.get_postmortem(incident_id).published_at
    result = world.app.amend(
        incident_id, "root_cause",
        "The pool limit was lower than the worker count the autoscaler sets.",
        reason="reopened on the same rollback", by="alice",
    )  # fmt: skip
    amended, reconfirmed = result.events
    assert isinstance(amended, pm.PostmortemAmended)
    assert isinstance(reconfirmed, pm.PostmortemPublished)
    assert reconfirmed.reconfirms
    assert reconfirmed.closes_root_cause_follow_up
    state = world.app.get_postmortem(incident_id)
    assert not state.follow_up_required
    assert state.published_at == published_at  # still the first publication
    follow_ups()
    after = incidents.get(incident_id).state
    assert not after.root_cause_pending
    assert not after.follow_up_required
    # Amending again closes nothing more.
    again = world.app.amend(
        incident_id, "lessons", "Pin the pool size.", reason="later", by="alice"
    )
    assert [type(e) for e in again.events] == [pm.PostmortemAmended]


def test_change_webhooks_leave_out_reminder_bookkeeping_and_contact_addresses(
    world: World,
) -> None:
    incident_id = world.resolved_incident("P1")
    item = world.app.add_action_item(
        incident_id, kind="monitoring", title="Alert on pool saturation", owner="alice",
        due_on="2026-12-07", by="bob",
    ).state  # fmt: skip
    assert item.due_at is not None
    world.clock.advance(item.due_at - timedelta(days=2) - world.clock())
    (before,) = world.app.tick()  # ReminderAttempted, to alice@example.com
    world.app.record_reminder_outcome(
        before.action_id, before.slot, before.target.key, before.attempt, delivered=True
    )
    assert item.action_id is not None
    world.app.change_action_item(item.action_id, "start", by="alice")
    url = "https://tracker.example/hook"
    batch = world.app.next_webhook_batch(url)
    assert batch is not None
    types = [e.type for e in batch.events]
    assert types == ["PostmortemStarted", "ActionItemAdded", "ActionItemStarted"]
    assert "@example.com" not in repr([e.data for e in batch.events])
    world.app.webhook_delivered(url, batch.events[-1].position)
    assert world.app.next_webhook_batch(url) is None
