"""A step marked done with a mitigation becomes the incident's MitigationApplied (kind
runbook_step) through the incident service's reaction, exactly once per event."""

from __future__ import annotations

from incident_service import domain as inc
from incident_service.runbook_steps import RunbookStepReactions

from .conftest import World, rollback_runbook


def test_a_step_done_with_a_mitigation_is_recorded_on_the_incident_once(world: World) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    incident_id = world.declare()
    world.app.mark_step(
        "INC-1", "checkout-5xx", "dashboard", "done", mitigation="drained node 3",
        temporary=True, by="alice",
    )  # fmt: skip
    marked = world.app.store.read_stream(f"rbincident-{incident_id}")[-1]
    reactions = RunbookStepReactions(world.incidents)
    first = reactions.handle(marked)
    again = reactions.handle(marked)  # a redelivery
    assert first is not None
    assert again is not None
    assert again.replayed
    applied = [
        e for e in world.incidents.store.read_stream(inc.stream_for(incident_id))
        if e.type == "MitigationApplied"
    ]  # fmt: skip
    assert len(applied) == 1
    assert applied[0].data["kind"] == "runbook_step"
    assert applied[0].data["temporary"] is True
    assert applied[0].data["description"].startswith("drained node 3")


def test_a_step_without_a_mitigation_records_nothing_on_the_incident(world: World) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    incident_id = world.declare()
    world.app.mark_step("INC-1", "checkout-5xx", "dashboard", "skipped", by="alice")
    marked = world.app.store.read_stream(f"rbincident-{incident_id}")[-1]
    assert RunbookStepReactions(world.incidents).handle(marked) is None
