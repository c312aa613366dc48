"""Prometheus carries the same figures as the report (`incidentctl report`, GetMetrics):
every field of `metrics.Report`, each series labelled with the definition version."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from incident_service import domain as inc
from postmortem_service import metrics
from postmortem_service.web import WebApp
from tests.unit.postmortem.conftest import World


def scrape(world: World) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    web = WebApp(world.app)
    answer: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = status

    body = b"".join(web({"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET"}, start))
    assert answer["status"] == "200 OK"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_the_prometheus_metrics_equal_the_reports_figures(world: World) -> None:
    # November: one incident reopened and resolved again (30 min in all), one resolved
    # in 15 min; December: one resolved in 15 min. Items: done, won't do, overdue.
    reopened = world.resolved_incident("P1")
    world.incidents.execute(reopened, inc.Reopen, actor="alice", reason="back", reopened_by="alice")
    world.clock.advance(timedelta(minutes=15))
    world.incidents.execute(reopened, inc.Resolve, actor="alice", summary="ok", resolved_by="alice")
    world.resolved_incident("P2", services=("checkout", "payments"))
    world.clock.advance(timedelta(days=3))
    december = world.resolved_incident("P1", services=("payments",))
    done, declined, _ = (
        world.app.add_action_item(
            december, kind="technical", title=title, owner="alice", due_on="2026-12-07", by="bob"
        ).state.action_id
        for title in ("A", "B", "C")
    )
    assert done is not None
    assert declined is not None
    world.app.change_action_item(done, "complete", by="alice")
    world.app.change_action_item(declined, "decline", by="alice", reason="superseded by X")
    world.clock.advance(timedelta(days=10))

    report = metrics.compute(world.app.store.read_all(filter=metrics.FILTER), world.clock())
    assert report.reopened == 1
    assert report.action_items_wont_do == 1
    assert len(report.mttr_by_month) == 2
    samples = scrape(world)
    v = report.definition

    def value(name: str, **labels: str) -> float:
        return samples[(name, frozenset({**labels, "definition": v}.items()))]

    for metric, summary in report.summaries.items():
        for stat in ("mean", "median", "p90"):
            expected = getattr(summary, f"{stat}_seconds")
            labels = frozenset({"metric": metric, "stat": stat, "definition": v}.items())
            key = ("firewatch_incident_duration_seconds", labels)
            assert samples.get(key) == expected, (metric, stat)
    assert {s: value("firewatch_incidents", severity=s) for s in report.by_severity} == (
        report.by_severity
    )
    assert {s: value("firewatch_incidents_by_service", service=s) for s in report.by_service} == (
        report.by_service
    )
    assert {m: value("firewatch_incidents_by_month", month=m) for m in report.by_month} == (
        report.by_month
    )
    assert {
        m: value("firewatch_incident_mttr_by_month_seconds", month=m) for m in report.mttr_by_month
    } == report.mttr_by_month
    assert value("firewatch_incidents_never_acknowledged") == report.never_acknowledged
    assert value("firewatch_incidents_unresolved") == report.unresolved
    assert value("firewatch_incidents_reopened") == report.reopened
    assert value("firewatch_action_items") == report.action_items
    assert value("firewatch_action_items_done") == report.action_items_done
    assert value("firewatch_action_items_wont_do") == report.action_items_wont_do
    assert value("firewatch_action_items_overdue") == report.action_items_overdue
    assert value("firewatch_action_item_completion_ratio") == report.completion_rate
    assert value("firewatch_action_item_overdue_ratio") == report.overdue_rate
    # Every series says which definition produced it.
    assert all(dict(labels).get("definition") == v for _, labels in samples)
