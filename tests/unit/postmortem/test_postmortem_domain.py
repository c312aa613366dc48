"""The Postmortem decider, given events / when a command / then events."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.domain import InvalidCommandError
from postmortem_service import blameless
from postmortem_service import postmortem as pm
from postmortem_service.common import add_business_days, build, business_due

INCIDENT = uuid.UUID("5b0c2d1e-8f5a-4c3e-9d7b-1a2b3c4d5e6f")
FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday


def opened(**overrides: object) -> pm.OpenOnResolution:
    fields: dict[str, object] = {
        "at": FRIDAY,
        "incident_id": INCIDENT,
        "number": 1,
        "title": "Checkout 5xx",
        "severity": "P1",
        "services": ("checkout",),
        "required": True,
        "owner": "alice",
        "owner_time_zone": "Europe/Berlin",
        "resolved_at": FRIDAY,
        "temporary_mitigations": ("rollback: rolled back release 42",),
    }
    fields.update(overrides)
    return build(pm.OpenOnResolution, **fields)


def given(*commands: pm.PostmortemCommand) -> pm.Postmortem:
    state = pm.INITIAL
    for command in commands:
        state = pm.fold(pm.decide(command, state), state)
    return state


def root_cause(text: str = "The pool limit was lower than the worker count.") -> pm.RecordRootCause:
    return pm.RecordRootCause(at=FRIDAY, text=text, by="alice")


def publish(**overrides: object) -> pm.Publish:
    fields: dict[str, object] = {"at": FRIDAY, "by": "alice", "as_of_position": 10}
    fields.update(overrides)
    return build(pm.Publish, **fields)


def test_business_days_skip_the_weekend() -> None:
    assert add_business_days(date(2026, 11, 27), 5) == date(2026, 12, 4)
    assert add_business_days(date(2026, 11, 28), 1) == date(2026, 11, 30)


def test_due_date_is_five_business_days_in_the_owners_zone() -> None:
    # 23:30 UTC on Friday is already Saturday in Tokyo: five business days from there.
    late_friday = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    assert business_due(late_friday, 5, "UTC")[0] == date(2026, 12, 4)
    day, at = business_due(late_friday, 5, "Asia/Tokyo")
    assert day == date(2026, 12, 4)
    assert at == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # 17:00 in Tokyo


def test_resolution_opens_a_postmortem_owned_by_the_commander_due_in_five_business_days() -> None:
    events = pm.decide(opened(), pm.INITIAL)
    assert [type(e) for e in events] == [pm.PostmortemStarted]
    started = events[0]
    assert isinstance(started, pm.PostmortemStarted)
    assert started.owner == "alice"
    assert started.due_on == date(2026, 12, 4)
    assert started.due_at == datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # 17:00 Berlin


def test_reopened_and_resolved_again_updates_the_same_postmortem() -> None:
    state = given(opened())
    later = FRIDAY + timedelta(hours=3)
    events = pm.decide(opened(at=later, resolved_at=later, severity="P2"), state)
    assert [type(e) for e in events] == [pm.IncidentResolutionRecorded]
    after = pm.fold(events, state)
    assert after.resolutions == 2
    assert after.severity == "P2"
    # The same resolution delivered twice changes nothing.
    assert pm.decide(opened(at=later, resolved_at=later), after) == []


def test_a_restart_or_rollback_is_refused_as_a_root_cause() -> None:
    state = given(opened())
    for text in ("Rolled back the deploy", "restarted the pods", "rolled back release 42"):
        with pytest.raises(InvalidCommandError) as refused:
            pm.decide(root_cause(text), state)
        assert refused.value.field == "root_cause"
    assert pm.decide(root_cause(), state)


def test_publishing_without_a_root_cause_is_refused_naming_it() -> None:
    state = given(opened())
    with pytest.raises(pm.RefusedError) as refused:
        pm.decide(publish(), state)
    assert refused.value.field == "root_cause"


def test_blameful_language_blocks_publishing_until_overridden_with_a_reason() -> None:
    state = given(
        opened(),
        root_cause("Bob failed to check the pool limit; human error."),
    )
    with pytest.raises(pm.RefusedError) as refused:
        pm.decide(publish(people=("bob", "Bob Builder")), state)
    assert refused.value.field == "override_reason"
    assert "failed to" in str(refused.value)
    events = pm.decide(publish(people=("bob",), override_reason="quoted from the audit"), state)
    published = events[0]
    assert isinstance(published, pm.PostmortemPublished)
    assert {w.code for w in published.overridden_warnings} == {
        "person-named",
        "failed-to",
        "human-error",
    }
    assert published.override_reason == "quoted from the audit"


def test_blameless_check_suggests_a_systemic_rewording() -> None:
    warnings = blameless.check(
        {"lessons": "We should have tested it. The operator was careless."}, ["alice"]
    )
    assert [w.code for w in warnings] == ["counterfactual", "judgemental"]
    assert all(w.suggestion for w in warnings)
    assert blameless.check({"lessons": "The deploy tool accepted an invalid config."}) == []


def test_publishing_closes_the_root_cause_follow_up_and_freezes_the_postmortem() -> None:
    state = given(
        opened(),
        pm.NoteRootCauseFollowUp(at=FRIDAY, reason="temporary mitigations only"),
        root_cause(),
    )
    assert state.follow_up_required
    events = pm.decide(publish(), state)
    published = events[0]
    assert isinstance(published, pm.PostmortemPublished)
    assert published.closes_root_cause_follow_up
    after = pm.fold(events, state)
    assert after.published
    assert not after.follow_up_required
    edit = pm.EditSection(at=FRIDAY, section=pm.Section.SUMMARY, text="changed", by="alice")
    with pytest.raises(pm.RefusedError) as refused:
        pm.decide(edit, after)
    assert refused.value.field == "summary"
    amend = pm.Amend(at=FRIDAY, section="summary", text="changed", reason="typo fixed", by="bob")
    amended = pm.fold(pm.decide(amend, after), after)
    assert amended.amendments[0].by == "bob"


def test_requested_reviewers_must_sign_off_before_publishing() -> None:
    state = given(
        opened(),
        root_cause(),
        pm.RequestReview(at=FRIDAY, reviewers=("carol",), by="alice"),
    )
    with pytest.raises(pm.RefusedError) as refused:
        pm.decide(publish(), state)
    assert refused.value.field == "reviewers"
    with pytest.raises(pm.RefusedError):
        pm.decide(pm.SignOff(at=FRIDAY, reviewer="mallory"), state)
    signed = given(
        opened(),
        root_cause(),
        pm.RequestReview(at=FRIDAY, reviewers=("carol",), by="alice"),
        pm.SignOff(at=FRIDAY, reviewer="carol"),
    )
    assert pm.decide(publish(), signed)


def test_impact_start_after_the_resolution_is_refused() -> None:
    state = given(opened())
    with pytest.raises(InvalidCommandError) as refused:
        pm.decide(
            pm.SetImpactStart(at=FRIDAY, impact_started_at=FRIDAY + timedelta(1), by="alice"),
            state,
        )
    assert refused.value.field == "impact_started_at"


def test_oversized_or_malformed_text_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        build(pm.EditSection, at=FRIDAY, section="summary", text="x" * 20_001, by="alice")
    assert refused.value.field == "text"
    with pytest.raises(InvalidCommandError) as refused:
        build(pm.EditSection, at=FRIDAY, section="summary", text="a\x00b", by="alice")
    assert refused.value.field == "text"
    with pytest.raises(InvalidCommandError) as refused:
        build(pm.EditSection, at=FRIDAY, section="gossip", text="x", by="alice")
    assert refused.value.field == "section"
