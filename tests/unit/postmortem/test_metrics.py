"""Incident metrics recomputed from the log under definition v1 (docs/metrics.md)."""

from __future__ import annotations

from datetime import timedelta

from incident_service import domain as inc
from postmortem_service import metrics
from tests.unit.postmortem.alerting import declared_from_an_occurrence
from tests.unit.postmortem.conftest import World


def report(world: World) -> metrics.Report:
    store = world.app.store
    return metrics.compute(store.read_all(filter=metrics.FILTER), world.clock())


def test_an_incident_nobody_acknowledged_has_no_tta_not_its_close_time(world: World) -> None:
    world.resolved_incident("P1")
    figures = report(world)
    assert figures.definition == "1"
    assert figures.summaries["MTTA"].count == 0  # the Opsgenie trap would say 15 minutes
    assert figures.never_acknowledged == 1
    assert figures.summaries["MTTR"].mean_seconds == 15 * 60
    assert figures.summaries["MTTM"].mean_seconds == 5 * 60
    assert figures.summaries["MTTR"].definition == "1"


def test_an_acknowledged_incident_counts_from_trigger_to_first_acknowledgement(
    world: World,
) -> None:
    declared = world.incidents.declare(
        title="Disk full", severity="P2", services=("db",), declared_by="bob"
    )
    world.clock.advance(timedelta(minutes=3))
    world.incidents.execute(
        declared.incident_id, inc.RecordSourceAcknowledged, actor="alice",
        alert_key="disk", acknowledged_by="alice",
    )  # fmt: skip
    figures = report(world)
    assert figures.summaries["MTTA"].mean_seconds == 180
    assert figures.unresolved == 1
    assert figures.by_severity == {"P2": 1}
    assert figures.by_service == {"db": 1}


def test_an_edited_impact_start_and_a_reopen_recompute_history(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    declared_at = world.incidents.get(incident_id).state.declared_at
    assert declared_at is not None
    world.app.set_impact_start(incident_id, declared_at - timedelta(minutes=10), by="alice")
    assert report(world).summaries["MTTR"].mean_seconds == 25 * 60
    world.incidents.execute(
        incident_id, inc.Reopen, actor="alice", reason="back", reopened_by="alice"
    )
    after = report(world)
    assert after.summaries["MTTR"].count == 0
    assert after.reopened == 1


def test_action_item_completion_and_overdue_rates(world: World) -> None:
    incident_id = world.resolved_incident("P1")
    done = world.app.add_action_item(
        incident_id, kind="technical", title="A", owner="alice", due_on="2026-12-07", by="bob"
    ).state
    world.app.add_action_item(
        incident_id, kind="process", title="B", owner="alice", due_on="2026-12-07", by="bob"
    )
    assert done.action_id is not None
    world.app.change_action_item(done.action_id, "complete", by="alice")
    world.clock.advance(timedelta(days=10))
    figures = report(world)
    assert figures.completion_rate == 0.5
    assert figures.overdue_rate == 0.5


def test_a_recurring_alert_starts_each_incident_at_its_own_occurrence(world: World) -> None:
    """Two incidents a month apart from the same alert key (one alert-<id> stream):
    each is timed from its own occurrence's pending instant."""
    declared_from_an_occurrence(world, 1)
    world.clock.advance(timedelta(days=30))
    declared_from_an_occurrence(world, 2)
    figures = report(world)
    assert figures.incidents == 2
    assert figures.summaries["MTTD"].count == 2
    assert figures.summaries["MTTD"].mean_seconds == 3 * 60  # pending -> declared
    assert figures.summaries["MTTR"].mean_seconds == 13 * 60
    assert figures.summaries["MTTR"].p90_seconds == 13 * 60
