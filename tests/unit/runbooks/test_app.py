"""The runbooks application over a real SQLite log on a fake clock: attaching runbooks
to declared incidents (revision kept), step tracking, guard rails, and the attempt /
result / lost-attempt rules for automated actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.domain import InvalidCommandError, PreconditionFailedError
from runbooks_service import run as rn
from runbooks_service.app import Result

from .conftest import World, rollback_runbook

OK = Result(True, 200, 12, response_excerpt='{"job": 7}')


def test_a_declared_incident_gets_the_matching_runbook_at_its_current_revision(
    world: World,
) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    incident_id = world.declare()
    document = rollback_runbook(automatic=False)
    document["text"] = "Revised after the incident was declared."
    world.app.publish(document, by="alice")
    view = world.app.view("INC-1")
    assert view.incident.incident_id == incident_id
    assert [(r.runbook_id, r.revision) for r in view.record.runbooks] == [("checkout-5xx", 1)]
    assert view.definitions["checkout-5xx"].text.startswith("# Checkout errors")  # rev 1


def test_other_services_get_no_runbook(world: World) -> None:
    world.app.publish(rollback_runbook(), by="alice")
    world.declare(services=("payments",))
    assert world.app.view("INC-1").record.runbooks == ()


def test_steps_are_marked_with_notes_and_a_done_step_can_carry_a_mitigation(
    world: World,
) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    world.declare()
    world.app.mark_step("INC-1", "checkout-5xx", "dashboard", "started", by="alice")
    state = world.app.mark_step(
        "INC-1", "checkout-5xx", "dashboard", "done", note="5xx from pods on node 3",
        mitigation="drained node 3", temporary=True, by="alice",
    )  # fmt: skip
    step = state.steps[("checkout-5xx", "dashboard")]
    assert (step.status, step.note) == ("done", "5xx from pods on node 3")
    marked = world.app.store.read_stream(f"rbincident-{state.incident_id}")[-1]
    assert marked.data["mitigation"] == {"description": "drained node 3", "temporary": True}
    assert marked.metadata.correlation_id == str(state.incident_id)  # in its timeline
    with pytest.raises(InvalidCommandError) as error:
        world.app.mark_step("INC-1", "checkout-5xx", "nope", "done", by="alice")
    assert error.value.field == "step"


def test_an_automatic_step_is_requested_on_declaration_and_attempted_once(world: World) -> None:
    world.app.publish(rollback_runbook(), by="alice")
    world.declare()
    [job] = world.app.claim()
    assert job.request["url"] == "http://127.0.0.1:9/rollback/checkout"
    assert job.request["body"] == '{"incident": "INC-1", "service": "checkout"}'
    assert job.idempotency_key == str(job.run_id)
    assert world.app.claim() == []  # in flight: never claimed twice
    world.app.record_result(job, OK)
    [run] = world.app.view("INC-1").runs
    assert run.status == rn.RunStatus.SUCCEEDED


def test_the_same_action_never_runs_twice_at_once_for_the_same_target(world: World) -> None:
    world.app.publish(rollback_runbook(), by="alice")
    world.declare()
    world.declare()  # INC-2, same service, while INC-1's rollback is in flight
    refusals = world.app.view("INC-2").refusals
    assert [r["reason"].split(" (")[0] for r in refusals] == ["already running for checkout"]


def test_the_severity_floor_and_the_rate_limit_refuse_runs(world: World) -> None:
    world.app.publish(
        rollback_runbook(guards={"severity_floor": "P2", "max_runs": 1, "per_minutes": 60}),
        by="alice",
    )
    world.declare(severity="P3")
    assert "below the step's floor P2" in world.app.view("INC-1").refusals[0]["reason"]
    world.declare(severity="P1")
    world.app.record_result(world.app.claim()[0], OK)
    world.clock.advance(timedelta(minutes=10))
    world.declare(severity="P1")
    assert world.app.view("INC-3").refusals[0]["reason"].startswith("limit reached")
    world.clock.advance(timedelta(minutes=51))
    world.declare(severity="P1")
    assert len(world.app.claim()) == 1


def test_a_dry_run_records_the_request_and_sends_nothing(world: World) -> None:
    world.app.publish(rollback_runbook(guards={"dry_run": True}), by="alice")
    world.declare()
    assert world.app.claim() == []
    [run] = world.app.view("INC-1").runs
    assert run.status == rn.RunStatus.DRY_RUN


def test_an_action_needing_approval_waits_for_the_incident_commander(world: World) -> None:
    world.app.publish(rollback_runbook(guards={"needs_approval": True}), by="alice")
    incident_id = world.declare()
    assert world.app.claim() == []
    [run] = world.app.view("INC-1").runs
    world.commander(incident_id, "carol")
    with pytest.raises(PreconditionFailedError, match="carol"):
        world.app.approve("INC-1", run.run_id, by="dave")
    world.app.approve("INC-1", run.run_id, by="carol")
    assert len(world.app.claim()) == 1


def test_a_responder_starts_a_manual_run_of_an_automated_step(world: World) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    world.declare()
    world.app.start_action("INC-1", "checkout-5xx", "rollback", by="alice", idempotency_key="k1")
    world.app.start_action("INC-1", "checkout-5xx", "rollback", by="alice", idempotency_key="k1")
    assert len(world.app.view("INC-1").runs) == 1  # a retried start is one run
    with pytest.raises(InvalidCommandError):
        world.app.start_action("INC-1", "checkout-5xx", "dashboard", by="alice")


def test_a_lost_idempotent_attempt_is_resent_with_the_same_key_by_the_restarted_slot(
    world: World,
) -> None:
    world.app.publish(rollback_runbook(), by="alice")
    world.declare()
    [first] = world.app.claim()  # ... and the process dies
    restarted = world.new_app(sender=world.app.sender)
    [again] = restarted.claim()
    assert (again.attempt, again.repeat_of, again.idempotency_key) == (
        2, 1, first.idempotency_key,
    )  # fmt: skip
    world.app.record_result(first, OK)  # a late report of the lost attempt is ignored
    restarted.record_result(again, OK)
    [run] = restarted.view("INC-1").runs
    assert (run.status, len(run.attempts)) == (rn.RunStatus.SUCCEEDED, 2)


def test_a_lost_non_idempotent_attempt_is_never_resent_and_shows_outcome_unknown(
    world: World,
) -> None:
    world.app.publish(rollback_runbook(idempotent=False), by="alice")
    world.declare()
    world.app.claim()
    restarted = world.new_app(sender=world.app.sender)
    assert restarted.claim() == []
    [run] = restarted.view("INC-1").runs
    assert run.status == rn.RunStatus.UNKNOWN


def test_a_timeout_is_a_result_retried_only_when_idempotent(world: World) -> None:
    timeout = Result(False, None, 10_000, error="no answer", timed_out=True, ambiguous=True)
    world.app.publish(rollback_runbook(idempotent=False), by="alice")
    world.declare()
    world.app.record_result(world.app.claim()[0], timeout)
    [run] = world.app.view("INC-1").runs
    assert run.status == rn.RunStatus.UNKNOWN
    assert run.last_result is not None
    assert run.last_result["timed_out"] is True


def test_an_idempotent_failure_is_retried_with_backoff(world: World) -> None:
    world.app.publish(rollback_runbook(), by="alice")
    world.declare()
    world.app.record_result(world.app.claim()[0], Result(False, 503, 5, error="HTTP 503"))
    assert world.app.claim() == []  # not before the backoff
    world.clock.advance(timedelta(seconds=2))
    [retry] = world.app.claim()
    assert (retry.attempt, retry.repeat_of) == (2, None)


def test_the_worker_records_request_and_first_attempt_in_one_append_then_attaches(
    world: World,
) -> None:
    world.app.publish(rollback_runbook(), by="alice")
    declared = world.incidents.declare(
        title="Checkout 5xx", severity="P1", services=["checkout"], declared_by="bob"
    )
    event = world.incidents.store.read_stream(f"incident-{declared.incident_id}")[0]
    [job] = world.app.incident_declared(
        declared.incident_id, causation_id=str(event.id), perform=True
    )
    assert world.app.claim() == []  # already in flight
    ledger = world.app.store.read_stream(job.stream)
    assert [e.type for e in ledger] == ["ActionRunRequested", "ActionAttempted"]
    assert ledger[0].position + 1 == ledger[1].position  # one append, before the call
    assert [r.runbook_id for r in world.app.view("INC-1").record.runbooks] == ["checkout-5xx"]
