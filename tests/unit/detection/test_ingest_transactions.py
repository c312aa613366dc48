"""One request, one transaction (ADR 0024): an Alertmanager notification's alerts and the
groups they join, or a PagerDuty event's alert and group, are appended together or not
at all, in an order where each alert fires before its group counts it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from detection_service.app import DetectionApplication
from detection_service.integration import Integration
from detection_service.projections import DetectionReadModel
from eventlog.sqlite import SQLiteEventStore
from tests.unit.detection.conftest import sample


def notification(services: list[str]) -> dict[str, Any]:
    body = sample("alertmanager-webhook-v4.json")
    template = body["alerts"][0]
    body["alerts"] = []
    for index, service in enumerate(services):
        alert = copy.deepcopy(template)
        alert["labels"] = {**alert["labels"], "service": service, "instance": f"host-{index}"}
        alert["fingerprint"] = f"{index:016x}"
        body["alerts"].append(alert)
    return body


def test_a_notification_of_many_alerts_is_one_transaction_in_causal_order(
    app: DetectionApplication, am_integration: Integration, store: SQLiteEventStore
) -> None:
    head, groups = store.head_position(), store.commit_groups

    results = app.ingest_alertmanager(
        notification(["checkout", "checkout", "payments", "checkout"]), am_integration
    )

    assert len(results) == 4
    assert store.commit_groups == groups + 1
    new = list(store.read_all(from_position=head + 1))
    assert [e.position for e in new] == list(range(head + 1, head + 1 + len(new)))
    assert len({e.recorded_at for e in new}) == 1
    # Every alert's AlertTriggered comes before the AlertGroupAlertAdded that counts it.
    triggered = {e.data["alert_id"]: e.position for e in new if e.type == "AlertTriggered"}
    joined = [e for e in new if e.type in ("AlertGroupAlertAdded", "AlertGroupFiring")]
    assert len(triggered) == 4
    assert len(joined) == 4
    for event in joined:
        assert triggered[event.data["alert_id"]] < event.position
    assert {e.stream for e in new if e.stream.startswith("alertgroup-")} == {
        f"alertgroup-{app.group_of(r.alert_id)}" for r in results
    }
    for stream in {e.stream for e in new}:
        assert store.verify(stream).ok
    # The read model holds each event once: equal to one rebuilt from the log.
    rebuilt = DetectionReadModel()
    for event in store.read_all():
        rebuilt.apply(event)
    model = app.core.caught_up()
    for alert in results:
        stream = f"alert-{alert.alert_id}"
        assert model.state(stream) == rebuilt.state(stream)
    assert model.group_of_alert == rebuilt.group_of_alert
    assert model.open_group_by_key == rebuilt.open_group_by_key


def test_a_failure_in_the_middle_of_a_notification_appends_none_of_it(
    app: DetectionApplication,
    am_integration: Integration,
    store: SQLiteEventStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = store.head_position()
    calls = 0
    join = app.core.runner.execute

    def fail_on_the_fourth_command(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("the log went away mid-notification")
        return join(*args, **kwargs)

    monkeypatch.setattr(app.core.runner, "execute", fail_on_the_fourth_command)
    with pytest.raises(RuntimeError, match="mid-notification"):
        app.ingest_alertmanager(notification(["checkout", "checkout", "payments"]), am_integration)
    monkeypatch.undo()

    assert store.head_position() == head
    assert app.list_alerts() == []
    assert app.list_groups() == []
    # The same notification then goes through whole.
    assert len(app.ingest_alertmanager(notification(["checkout"]), am_integration)) == 1


def test_a_pagerduty_event_appends_its_alert_and_group_in_one_transaction(
    app: DetectionApplication, pd_integration: tuple[Integration, str], store: SQLiteEventStore
) -> None:
    _, key = pd_integration
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = key
    head, groups = store.head_position(), store.commit_groups

    app.ingest_pagerduty(body)

    assert store.commit_groups == groups + 1
    streams = [e.stream.split("-", 1)[0] for e in store.read_all(from_position=head + 1)]
    assert set(streams) == {"alert", "alertgroup"}
    assert streams.index("alertgroup") > streams.index("alert")


def test_a_notification_whose_commit_fails_is_undone_in_the_read_model_without_a_replay(
    app: DetectionApplication,
    am_integration: Integration,
    store: SQLiteEventStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eventlog import BackendUnavailableError

    app.ingest_alertmanager(notification(["checkout"]), am_integration)
    model = app.core.caught_up()
    before = (dict(model.group_of_alert), dict(model.open_group_by_key), app.list_alerts())
    head = store.head_position()

    def disk_full(appends: Any) -> Any:
        raise BackendUnavailableError("disk full (injected at commit)")

    monkeypatch.setattr(store, "append_many", disk_full)
    with pytest.raises(BackendUnavailableError):
        app.ingest_alertmanager(notification(["checkout", "payments", "search"]), am_integration)
    monkeypatch.undo()

    assert store.head_position() == head
    # Undone in place (ADR 0024 amendment): the same model object, equal to the log.
    assert app.core.caught_up() is model
    assert (dict(model.group_of_alert), dict(model.open_group_by_key), app.list_alerts()) == before
    rebuilt = DetectionReadModel()
    for event in store.read_all():
        rebuilt.apply(event)
    assert model.group_of_alert == rebuilt.group_of_alert
    assert model.open_group_by_key == rebuilt.open_group_by_key
    assert dict(model._streams) == dict(rebuilt._streams)
