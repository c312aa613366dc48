"""Which services an incident declared from an alert is for, per alert format.

Precedence (README, "Sending alerts to Firewatch"): a matching route's `services`; the
`service_label` label; what the format names (PagerDuty: custom_details.service,
payload.component, payload.group; Alertmanager: labels service, job); otherwise
`default_services`.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from detection_service.alert import SourceKind, SourceSeverity
from detection_service.app import DetectionApplication
from detection_service.formats import pagerduty
from detection_service.integration import Integration
from detection_service.routing import DetectionConfig, parse_config, route
from eventlog.sqlite import SQLiteEventStore
from tests.unit.detection.conftest import events_of, loaded, sample

PD = SourceKind.PAGERDUTY
AM = SourceKind.ALERTMANAGER


def pd_trigger(**payload: Any) -> dict[str, Any]:
    return {
        "routing_key": "k" * 32,
        "event_action": "trigger",
        "payload": {"summary": "Checkout returns 5xx", "source": "checkout-1",
                    "severity": "error", **payload},
    }  # fmt: skip


def pd_services(config: DetectionConfig, **payload: Any) -> tuple[str, ...]:
    """Parse a trigger as the HTTP endpoint does, then route it."""
    event, errors = pagerduty.parse(pd_trigger(**payload))
    assert event is not None, errors
    signal = event.signal
    routed = route(
        config,
        signal.labels,
        signal.severity,
        signal.summary,
        source=PD,
        annotations=signal.annotations,
    )
    return routed.services


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"component": "checkout"}, "checkout"),
        ({"group": "payments-stack"}, "payments-stack"),
        ({"custom_details": {"service": "cart", "ratio": 0.03}}, "cart"),
        # custom_details.service is the sender calling something a service: it wins.
        ({"custom_details": {"service": "cart"}, "component": "db", "group": "prod"}, "cart"),
        ({"component": "db", "group": "prod"}, "db"),
        # Alertmanager's pagerduty_configs sends "" for fields left unset.
        ({"component": " ", "group": "", "custom_details": {"service": ""}}, "unknown"),
        ({"custom_details": {"service": 42}, "group": "prod"}, "prod"),
        ({"custom_details": "free text", "component": "db"}, "db"),
        ({}, "unknown"),
    ],
)
def test_a_pagerduty_trigger_names_its_service_by_details_component_then_group(
    config: DetectionConfig, payload: dict[str, Any], expected: str
) -> None:
    assert pd_services(config, **payload) == (expected,)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"alertname": "HighErrorRate", "service": "checkout"}, "checkout"),
        ({"alertname": "TargetDown", "job": "node-exporter"}, "node-exporter"),
        ({"alertname": "X", "service": "checkout", "job": "blackbox"}, "checkout"),
        ({"alertname": "X", "service": "", "job": "blackbox"}, "blackbox"),
        ({"alertname": "X", "instance": "db-1:9100"}, "unknown"),
    ],
)
def test_an_alertmanager_alert_names_its_service_by_the_service_then_job_label(
    config: DetectionConfig, labels: dict[str, str], expected: str
) -> None:
    routed = route(config, labels, SourceSeverity.ERROR, "s", source=AM, annotations={})
    assert routed.services == (expected,)


def services_for(
    config: DetectionConfig, labels: dict[str, str], source: SourceKind
) -> tuple[str, ...]:
    return route(config, labels, SourceSeverity.INFO, "s", source=source).services


def test_only_each_formats_own_fields_name_a_service(config: DetectionConfig) -> None:
    # `job` means nothing to PagerDuty and `component` nothing to Alertmanager; labels
    # chosen on this platform (gRPC, rules, heartbeats) only have `service_label`.
    assert services_for(config, {"job": "x"}, PD) == ("unknown",)
    assert services_for(config, {"component": "x"}, AM) == ("unknown",)
    for source in (SourceKind.GRPC, SourceKind.RULE, SourceKind.HEARTBEAT):
        assert services_for(config, {"job": "x", "component": "y"}, source) == ("unknown",)


def test_a_route_and_then_the_configured_service_label_win_over_the_format(
    config: DetectionConfig,
) -> None:
    routed = route(
        config, {"service": "checkout", "severity": "critical", "job": "web"},
        SourceSeverity.CRITICAL, "s", source=AM,
    )  # fmt: skip
    assert routed.services == ("checkout", "payments")  # the conftest config's route

    team_first = parse_config("service_label: team")
    assert pd_services(team_first, component="db") == ("db",)
    assert services_for(team_first, {"team": "sre", "job": "web", "service": "x"}, AM) == ("sre",)
    assert services_for(team_first, {"job": "web"}, AM) == ("web",)


def test_custom_details_service_is_kept_as_an_annotation_not_a_label() -> None:
    # A label would change how alerts group and what silences match.
    event, _ = pagerduty.parse(pd_trigger(custom_details={"service": " cart "}))
    assert event is not None
    assert event.signal.annotations["service"] == "cart"
    assert "service" not in event.signal.labels


def test_a_pagerduty_alert_opens_a_group_for_its_component(
    app: DetectionApplication,
    pd_integration: tuple[Integration, str],
    store: SQLiteEventStore,
) -> None:
    _, key = pd_integration
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = key
    app.ingest_pagerduty(body)
    [firing] = [loaded(e) for e in events_of(store, "AlertGroupFiring")]
    # The sample says component "checkout", group "prod", and no custom_details.service.
    assert firing.services == ["checkout"]


def test_an_alertmanager_alert_with_only_a_job_opens_a_group_for_that_job(
    app: DetectionApplication, am_integration: Integration, store: SQLiteEventStore
) -> None:
    body = copy.deepcopy(sample("alertmanager-webhook-v4.json"))
    for alert in body["alerts"]:
        del alert["labels"]["service"]
        alert["labels"]["job"] = "checkout-api"
    app.ingest_alertmanager(body, am_integration)
    [firing] = [loaded(e) for e in events_of(store, "AlertGroupFiring")]
    assert firing.services == ["checkout-api"]
