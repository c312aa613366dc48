"""Runbooks are matched by the incident's alert labels (Alertmanager matchers), most
specific first, and an alert's `runbook_url` annotation is an external runbook link."""

from __future__ import annotations

from pathlib import Path

from eventlog import NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc

from .conftest import World, rollback_runbook


def alert_fired(world: World, tmp_path: Path, key: str, labels: dict[str, str],
                annotations: dict[str, str]) -> None:  # fmt: skip
    """Detection's AlertTriggered as its log layout has it (what runbooks reads)."""
    detection = SQLiteEventStore(
        tmp_path / "log.db", writer="detection", ownership=Ownership.platform(),
        clock=world.clock,
    )  # fmt: skip
    detection.append(
        f"alert-{key}",
        [
            NewEvent(
                "AlertTriggered", {"alert_key": key, "labels": labels, "annotations": annotations}
            )
        ],
        StreamState.NO_STREAM,
    )


def declare_from(world: World, key: str) -> None:
    declared = world.incidents.declare(
        title="Checkout 5xx", severity="P2", services=["checkout"], declared_by="detection",
        source_alerts=[key],
    )  # fmt: skip
    event = world.incidents.store.read_stream(inc.stream_for(declared.incident_id))[0]
    world.app.incident_declared(declared.incident_id, causation_id=str(event.id))


def test_alert_labels_pick_the_most_specific_runbook_and_runbook_url_is_linked(
    world: World, tmp_path: Path
) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    narrow = rollback_runbook(automatic=False)
    narrow.update(id="checkout-prod-5xx", matchers=['env="prod"', 'alertname=~"Checkout.*"'])
    world.app.publish(narrow, by="alice")
    dev_only = rollback_runbook(automatic=False)
    dev_only.update(id="checkout-dev", matchers=['env="dev"'])
    world.app.publish(dev_only, by="alice")
    alert_fired(
        world, tmp_path, "k1", {"alertname": "Checkout5xx", "env": "prod"},
        {"runbook_url": "https://runbooks.example/checkout-5xx", "summary": "5xx"},
    )  # fmt: skip
    declare_from(world, "k1")
    view = world.app.view("INC-1")
    assert [(r.runbook_id, r.specificity) for r in view.record.runbooks] == [
        ("checkout-prod-5xx", 3), ("checkout-5xx", 1),
    ]  # fmt: skip
    assert view.record.external_links == ("https://runbooks.example/checkout-5xx",)
    assert view.record.labels["env"] == "prod"


def test_a_retired_runbook_no_longer_matches_new_incidents(world: World, tmp_path: Path) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    world.app.retire("checkout-5xx", "replaced", by="alice")
    alert_fired(world, tmp_path, "k2", {"alertname": "Checkout5xx"}, {})
    declare_from(world, "k2")
    assert world.app.view("INC-1").record.runbooks == ()
