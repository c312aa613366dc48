"""Self-test of the real Prometheus + Alertmanager harness (tests/e2e/observability.py).

A plain recording HTTP receiver stands in for the platform, so this proves the harness and
records what Alertmanager 0.25 really sends — independent of the detection service:
break the app → Prometheus fires → Alertmanager POSTs a webhook v4 payload and a PagerDuty
Events v2 trigger to /v2/enqueue → heal → both receive resolve notifications.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tests.benchmarks import alertmanager_bench as bench
from tests.e2e import observability
from tests.e2e.conftest import ENQUEUE_PATH, ROUTING_KEY, WEBHOOK_PATH, WEBHOOK_TOKEN
from tests.e2e.observability import (
    ALERT_NAME,
    CheckoutApp,
    Delivery,
    MissingBinariesError,
    ObservabilityStack,
    RecordingReceiver,
    fingerprint,
    group_key,
    pagerduty_dedup_key,
)

ZERO_TIME = "0001-01-01T00:00:00Z"
# Generous: seen ~6 s from fault to delivery, and ~10 s of window to forget it after heal.
FIRE_TIMEOUT = 45.0
RESOLVE_TIMEOUT = 60.0


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _webhook(status: str) -> Callable[[list[Delivery]], Delivery | None]:
    def find(deliveries: list[Delivery]) -> Delivery | None:
        return next(
            (
                d
                for d in deliveries
                if d.path == WEBHOOK_PATH
                and isinstance(d.body, dict)
                and d.body.get("status") == status
            ),
            None,
        )

    return find


def _pagerduty(action: str) -> Callable[[list[Delivery]], Delivery | None]:
    def find(deliveries: list[Delivery]) -> Delivery | None:
        return next(
            (
                d
                for d in deliveries
                if d.path == ENQUEUE_PATH
                and isinstance(d.body, dict)
                and d.body.get("event_action") == action
            ),
            None,
        )

    return find


def _check_webhook_v4(body: dict[str, Any], status: str, stack: ObservabilityStack) -> None:
    assert body["version"] == "4"
    assert body["status"] == status
    assert body["receiver"] == "platform"
    assert body["groupLabels"] == {"alertname": ALERT_NAME, "service": "checkout"}
    assert body["commonLabels"]["severity"] == "critical"
    assert body["externalURL"].rstrip("/") == stack.alertmanager_url
    assert body["groupKey"] == group_key(body["groupLabels"])
    assert body["truncatedAlerts"] == 0
    [alert] = body["alerts"]
    assert alert["status"] == status
    assert alert["labels"] == {
        "alertname": ALERT_NAME,
        "service": "checkout",
        "severity": "critical",
    }
    assert alert["annotations"]["summary"] == "checkout 5xx ratio is above 1%"
    # The fingerprint is the hash of the labels; the harness predicts it exactly.
    assert re.fullmatch(r"[0-9a-f]{16}", alert["fingerprint"])
    assert alert["fingerprint"] == fingerprint(alert["labels"])
    assert alert["generatorURL"].startswith(stack.prometheus_url)
    _parse_time(alert["startsAt"])
    if status == "firing":
        assert alert["endsAt"] == ZERO_TIME
    else:
        assert _parse_time(alert["endsAt"]) > _parse_time(alert["startsAt"])


def _check_pagerduty(body: dict[str, Any], action: str) -> None:
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == action
    assert re.fullmatch(r"[0-9a-f]{64}", body["dedup_key"])
    payload = body["payload"]
    assert payload["severity"] == "error"  # Alertmanager's default, not the alert's label
    assert payload["summary"]
    assert payload["source"]
    assert payload["custom_details"]["num_firing"] == ("1" if action == "trigger" else "0")


@pytest.mark.slow
def test_harness_self_test_alert_fires_pages_and_resolves_through_real_tools(
    observability_stack: ObservabilityStack,
    recording_receiver: RecordingReceiver,
    record_property: Callable[[str, object], None],
) -> None:
    stack, receiver = observability_stack, recording_receiver
    assert stack.prometheus_alerts() == [], "alert before the fault"

    broken_at = stack.break_app()

    stack.wait_until(lambda: stack.prometheus_alerts("firing"), FIRE_TIMEOUT, "Prometheus to fire")
    fired_at = observability._utc_now()
    webhook = receiver.wait_for(
        _webhook("firing"), FIRE_TIMEOUT, "a firing webhook v4 POST", stack.logs
    )
    trigger = receiver.wait_for(
        _pagerduty("trigger"), FIRE_TIMEOUT, "a PagerDuty trigger on /v2/enqueue", stack.logs
    )
    _check_webhook_v4(webhook.body, "firing", stack)
    assert webhook.headers.get("Authorization") == f"Bearer {WEBHOOK_TOKEN}"
    _check_pagerduty(trigger.body, "trigger")

    healed_at = stack.heal_app()

    resolved = receiver.wait_for(
        _webhook("resolved"), RESOLVE_TIMEOUT, "a resolved webhook v4 POST", stack.logs
    )
    resolve = receiver.wait_for(
        _pagerduty("resolve"), RESOLVE_TIMEOUT, "a PagerDuty resolve on /v2/enqueue", stack.logs
    )
    _check_webhook_v4(resolved.body, "resolved", stack)
    _check_pagerduty(resolve.body, "resolve")
    # The same alert and the same PagerDuty incident are resolved, not new ones.
    assert resolved.body["alerts"][0]["fingerprint"] == webhook.body["alerts"][0]["fingerprint"]
    assert resolve.body["dedup_key"] == trigger.body["dedup_key"]
    assert trigger.body["dedup_key"] == pagerduty_dedup_key(webhook.body["groupKey"])
    stack.wait_until(lambda: not stack.prometheus_alerts(), 10, "Prometheus to drop the alert")

    timings = {
        "prometheus_firing_s": (fired_at - broken_at).total_seconds(),
        "webhook_firing_s": (webhook.received_at - broken_at).total_seconds(),
        "pagerduty_trigger_s": (trigger.received_at - broken_at).total_seconds(),
        "webhook_resolved_after_heal_s": (resolved.received_at - healed_at).total_seconds(),
        "pagerduty_resolve_after_heal_s": (resolve.received_at - healed_at).total_seconds(),
    }
    for name, seconds in timings.items():
        record_property(name, round(seconds, 2))
    print("timings:", json.dumps(timings))
    if os.environ.get("FIREWATCH_E2E_DUMP"):
        for delivery in (webhook, trigger, resolved, resolve):
            print(f"--- POST {delivery.path} {delivery.headers}")
            print(json.dumps(delivery.body, indent=2))


@pytest.mark.slow
def test_harness_stops_every_process_it_started(
    observability_binaries: object, recording_receiver: RecordingReceiver
) -> None:
    base = recording_receiver.base_url
    with ObservabilityStack(base + WEBHOOK_PATH, base + ENQUEUE_PATH, ROUTING_KEY) as stack:
        pids = stack.pids()
        workdir = stack.workdir
        assert len(pids) == 2
        assert all(os.path.exists(f"/proc/{pid}") for pid in pids)
    # Reaped by wait(): the PIDs are gone, not zombies, and the temp dir is removed.
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
    assert workdir is not None
    assert not workdir.exists()


def test_missing_binaries_fail_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("FIREWATCH_PROMETHEUS_BIN", raising=False)
    monkeypatch.delenv("FIREWATCH_ALERTMANAGER_BIN", raising=False)
    with pytest.raises(
        MissingBinariesError, match=re.escape("deploy/local/install-observability.sh")
    ):
        observability.find_binaries()


def test_app_error_ratio_follows_break_and_heal_at_once() -> None:
    now = [0.0]
    app = CheckoutApp(requests_per_second=100, broken_error_ratio=0.2, clock=lambda: now[0])

    def counters_after(seconds: float) -> tuple[int, int]:
        now[0] += seconds
        ok, errors = re.findall(r"\} (\d+)\n", app.render())
        return int(ok), int(errors)

    assert counters_after(10) == (1000, 0)
    app.set_error_ratio(app.broken_error_ratio)
    assert counters_after(10) == (1800, 200)  # 20% of the last 1000 requests failed
    app.set_error_ratio(0.0)
    assert counters_after(10) == (2800, 200)  # healed: errors stop at once


def test_fingerprint_matches_prometheus_common() -> None:
    # Known value of model.LabelSet{}.Fingerprint() is FNV-1a's offset basis.
    assert fingerprint({}) == "cbf29ce484222325"


def test_bench_stream_encodings_match_what_alertmanager_sends() -> None:
    stream = bench.alert_stream(25, group_size=10, run_id="t")
    assert len({alert.fingerprint for alert in stream}) == 25
    api = bench.to_alertmanager_api(stream)
    assert api[0]["endsAt"] > api[0]["startsAt"]
    payloads = bench.to_webhook_v4(stream)
    assert [len(p["alerts"]) for p in payloads] == [10, 10, 5]
    for payload in payloads:
        assert payload["version"] == "4"
        assert payload["groupKey"] == group_key(payload["groupLabels"])
        assert set(payload["commonLabels"]) == {"alertname", "service", "severity"}
        for alert in payload["alerts"]:
            assert alert["endsAt"] == ZERO_TIME
            assert alert["fingerprint"] == fingerprint(alert["labels"])
    events = bench.to_pagerduty_triggers(stream, ROUTING_KEY)
    assert len(events) == 25
    assert {e["payload"]["severity"] for e in events} <= {"critical", "error", "warning", "info"}
    assert [e["dedup_key"] for e in events] == [a.fingerprint for a in stream]


@pytest.mark.slow
def test_bench_measures_a_real_alertmanager(observability_binaries: object) -> None:
    result = bench.measure_alertmanager_ingest(alerts=300, batch=50, warmup=20)
    assert result.accepted == result.stored == 300
    assert result.rate > 0
