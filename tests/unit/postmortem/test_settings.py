"""The opening policy: which resolved incidents get a postmortem, per service."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from postmortem_service.app import OpeningPolicy, PostmortemApplication
from postmortem_service.settings import PostmortemSettings, SettingsError, parse_policy
from tests.unit.postmortem.conftest import World


def test_the_policy_file_overrides_severities_per_service() -> None:
    policy = parse_policy({"default": {"P4": "none"}, "services": {"payments": {"P3": "required"}}})
    assert policy.requirement("P1", ["checkout"]) == "required"
    assert policy.requirement("P3", ["checkout"]) == "optional"
    assert policy.requirement("P3", ["payments"]) == "required"
    assert policy.requirement("P4", ["checkout"]) == "none"


def test_a_wrong_policy_file_names_the_key() -> None:
    with pytest.raises(SettingsError, match=r"services\.payments\.P3"):
        parse_policy({"services": {"payments": {"P3": "sometimes"}}})


def test_a_severity_the_policy_exempts_opens_no_postmortem_until_asked(world: World) -> None:
    world.app = PostmortemApplication(
        world.app.store, world.clock, opening=OpeningPolicy({"P4": "none"})
    )
    incident_id = world.resolved_incident("P4")
    assert world.app.find_postmortem(incident_id) is None
    world.app.open_postmortem(incident_id, by="bob")
    opened = world.app.get_postmortem(incident_id)
    assert not opened.required
    assert opened.owner == "alice"


def test_a_follow_up_on_an_exempt_severity_opens_an_optional_postmortem(world: World) -> None:
    world.app = PostmortemApplication(
        world.app.store, world.clock, opening=OpeningPolicy({"P4": "none"})
    )
    incident_id = world.resolved_incident("P4")
    world.app.follow_up_required(
        incident_id, reason="temporary only", temporary_mitigations=["rollback"], causation_id="c"
    )
    opened = world.app.get_postmortem(incident_id)
    assert opened.follow_up_required
    assert not opened.required


def test_a_follow_up_overtaking_a_required_opening_waits_for_it(world: World) -> None:
    from contracts.domain import NotFoundError
    from incident_service import domain as inc

    declared = world.incidents.declare(
        title="x", severity="P1", services=["checkout"], declared_by="bob"
    )
    world.incidents.execute(
        declared.incident_id, inc.Resolve, actor="bob", summary="ok", resolved_by="bob"
    )
    with pytest.raises(NotFoundError):  # retried later by the reliable handler
        world.app.follow_up_required(
            declared.incident_id, reason="r", temporary_mitigations=[], causation_id="c"
        )


def test_the_due_business_days_setting_holds_for_every_process_and_on_reassignment(
    world: World, tmp_path: Path
) -> None:
    """FIREWATCH_POSTMORTEM_DUE_BUSINESS_DAYS=10: the worker's opening, a reassignment
    and the API's application (built from the same settings) all give ten days."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("default: {P4: none}\n", encoding="utf-8")
    settings = PostmortemSettings(postmortem_due_business_days=10, postmortem_policy_file=policy)
    world.app = settings.application(world.app.store, world.clock)
    assert world.app.due_business_days == 10
    assert world.app.opening.requirement("P4", ["checkout"]) == "none"
    incident_id = world.resolved_incident("P1")  # resolved Monday 2026-11-30
    assert world.app.get_postmortem(incident_id).due_on == date(2026, 12, 14)
    world.app.assign_owner(incident_id, "carol", by="bob")
    reassigned = world.app.get_postmortem(incident_id)
    assert reassigned.owner == "carol"
    assert reassigned.due_on == date(2026, 12, 14)  # ten business days, not five
    assert reassigned.due_at is not None
    assert reassigned.due_at.utcoffset() is not None
    assert reassigned.due_at.astimezone(ZoneInfo("America/New_York")).hour == 17
