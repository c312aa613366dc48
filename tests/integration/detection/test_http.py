"""The detection HTTP endpoints for real: a threaded server, a SQLite log, a FakeClock."""

from __future__ import annotations

import copy
from pathlib import Path

from apikit.auth import Role, issue_token
from tests.integration.detection.conftest import Server, sample


def test_healthz_and_metrics(server: Server) -> None:
    assert server.get("/healthz").body == {"status": "ok"}
    server.get("/healthz")
    metrics = server.get("/metrics").body
    assert "firewatch_detection_http_requests_total" in metrics


def test_alertmanager_sample_is_accepted_and_fires_a_group(server: Server) -> None:
    reply = server.post(
        "/v1/alertmanager", sample("alertmanager-webhook-v4.json"), token=server.am_key
    )
    assert reply.status == 200, reply.body
    assert reply.body["alerts"][0]["dedup_key"] == "5c8a603f09d8e4f9"
    types = [e.type for e in server.store.read_all()]
    assert "AlertGroupFiring" in types
    head = server.store.head_position()
    # Alertmanager retries the same notification: nothing new is appended.
    assert (
        server.post(
            "/v1/alertmanager", sample("alertmanager-webhook-v4.json"), token=server.am_key
        ).status
        == 200
    )
    assert server.store.head_position() == head


def test_alertmanager_refuses_unknown_and_revoked_keys(server: Server) -> None:
    head = server.store.head_position()
    body = sample("alertmanager-webhook-v4.json")
    missing = server.post("/v1/alertmanager", body)
    assert missing.status == 401
    # A missing header is a setup mistake and says how to send the key.
    assert "Authorization: Bearer" in missing.body["message"]
    unknown = server.post("/v1/alertmanager", body, token="nope")
    assert unknown.status == 401
    assert "Authorization" not in unknown.body["message"]
    server.app.revoke_integration("prometheus", revoked_by="admin")
    head = server.store.head_position()
    assert server.post("/v1/alertmanager", body, token=server.am_key).status == 401
    assert server.store.head_position() == head


def test_alertmanager_bad_payload_names_fields_and_appends_nothing(server: Server) -> None:
    body = sample("alertmanager-webhook-v4.json")
    body["alerts"][0]["labels"]["bad-name"] = "x"
    body["alerts"][0]["startsAt"] = "yesterday"
    head = server.store.head_position()
    reply = server.post("/v1/alertmanager", body, token=server.am_key)
    assert reply.status == 400
    assert any(e.startswith("alerts[0].labels:") for e in reply.body["errors"])
    assert any(e.startswith("alerts[0].startsAt:") for e in reply.body["errors"])
    assert server.store.head_position() == head


def test_pagerduty_sample_trigger_ack_resolve(server: Server) -> None:
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = server.pd_key
    reply = server.post("/v2/enqueue", body)
    assert reply.status == 202
    assert reply.body == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "checkout/high-error-rate",
    }
    head = server.store.head_position()
    assert server.post("/v2/enqueue", body).status == 202
    assert server.store.head_position() == head  # dedup: same key, still open
    for action in ("acknowledge", "resolve"):
        follow = {
            "routing_key": server.pd_key,
            "event_action": action,
            "dedup_key": "checkout/high-error-rate",
        }
        assert server.post("/v2/enqueue", follow).status == 202
    types = [e.type for e in server.store.read_all()]
    assert types[-3:] == ["AlertResolved", "AlertGroupAlertResolved", "AlertGroupResolved"]
    assert "AlertGroupAcknowledged" in types


def test_pagerduty_trigger_without_dedup_key_returns_a_generated_one(server: Server) -> None:
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = server.pd_key
    del body["dedup_key"]
    reply = server.post("/v2/enqueue", body)
    assert reply.status == 202
    made = reply.body["dedup_key"]
    resolve = {"routing_key": server.pd_key, "event_action": "resolve", "dedup_key": made}
    assert server.post("/v2/enqueue", resolve).status == 202
    assert server.app.find_alert("pd-tool", made).status.value == "resolved"


def test_pagerduty_errors_follow_the_documented_shape(server: Server) -> None:
    head = server.store.head_position()
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = server.pd_key
    body["payload"]["severity"] = "fatal"
    body["payload"]["source"] = 7
    reply = server.post("/v2/enqueue", body)
    assert reply.status == 400
    assert reply.body["status"] == "invalid event"
    assert reply.body["message"] == "Event object is invalid"
    assert reply.body["errors"] == [
        "payload.source: is missing or blank",
        "payload.severity: must be one of critical, error, warning, info",
    ]
    malformed = server.post("/v2/enqueue", raw=b"{not json")
    assert malformed.status == 400
    assert malformed.body["errors"][0].startswith("body: malformed JSON")
    unknown = server.post("/v2/enqueue", {**body, "routing_key": "0" * 32})
    assert unknown.status == 400
    assert unknown.body["errors"] == ["routing_key: unknown integration key"]
    assert server.store.head_position() == head


def test_pagerduty_oversized_payload_is_refused(server: Server) -> None:
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = server.pd_key
    body["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}
    head = server.store.head_position()
    reply = server.post("/v2/enqueue", body)
    assert reply.status == 400
    assert "512 KB" in reply.body["errors"][0]
    assert server.store.head_position() == head


def test_rate_limit_answers_429_and_refills_with_time(server: Server) -> None:
    body = sample("pagerduty-events-v2-trigger.json")
    body["routing_key"] = server.pd_key
    statuses = []
    for index in range(7):
        statuses.append(server.post("/v2/enqueue", {**body, "dedup_key": f"k{index}"}).status)
    assert statuses == [202] * 5 + [429] * 2
    server.clock.advance(2)
    assert server.post("/v2/enqueue", {**body, "dedup_key": "later"}).status == 202


def test_samples_with_api_token_and_rule_firing(server: Server) -> None:
    reply = server.post(
        "/v1/samples",
        {"samples": [{"name": "http_requests", "labels": {"code": "500"}, "value": 3}]},
        token=server.api_token,
    )
    assert reply.status == 202
    assert reply.body["accepted"] == 1
    bad = server.post(
        "/v1/samples", {"samples": [{"name": "9bad", "value": "x"}]}, token=server.api_token
    )
    assert bad.status == 400
    assert bad.body["errors"] == [
        "samples[0].name: must match [a-zA-Z_:][a-zA-Z0-9_:]*",
        "samples[0].value: must be a number",
    ]
    assert server.post("/v1/samples", {"samples": []}).status == 401


def test_unknown_path_is_404(server: Server) -> None:
    assert server.get("/nope").status == 404
    assert server.get("/v2/enqueue").status == 405


def test_resolved_alertmanager_notification(server: Server) -> None:
    body = sample("alertmanager-webhook-v4.json")
    server.post("/v1/alertmanager", body, token=server.am_key)
    resolved = copy.deepcopy(body)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-27T02:05:00Z"
    assert server.post("/v1/alertmanager", resolved, token=server.am_key).status == 200
    assert [e.type for e in server.store.read_all()][-1] == "AlertGroupResolved"


def test_a_token_scoped_to_integrations_cannot_send_alerts_over_http_as_itself(
    server: Server, tmp_path: Path
) -> None:
    """On HTTP a token always sends as itself (token.<name>), which a token scoped to
    integrations may not: 403 naming the field, nothing appended. Samples are not
    alerts sent as anyone, so the token may still push them."""
    scoped = issue_token(
        tmp_path / "tokens.json", "ci-relay", Role.INTEGRATION, integrations=["ci"]
    )
    head = server.store.head_position()
    refused = server.post("/v1/alertmanager", sample("alertmanager-webhook-v4.json"), token=scoped)
    assert refused.status == 403, refused.body
    assert refused.body["message"].startswith("integration: token 'ci-relay' is scoped to")
    assert server.store.head_position() == head
    samples = {"samples": [{"name": "http_requests", "labels": {"code": "500"}, "value": 3}]}
    assert server.post("/v1/samples", samples, token=scoped).status == 202


def test_an_alert_sent_over_http_with_an_api_token_names_the_token_as_its_credential(
    server: Server,
) -> None:
    """As on gRPC (apikit.rpc.guarded): the events carry metadata.credential; the actor
    stays the sending tool, integration:<token name> (ADR 0017)."""
    head = server.store.head_position()
    reply = server.post(
        "/v1/alertmanager", sample("alertmanager-webhook-v4.json"), token=server.api_token
    )
    assert reply.status == 200, reply.body
    appended = list(server.store.read_all(from_position=head + 1))
    triggered = [e for e in appended if e.type == "AlertTriggered"]
    assert triggered
    assert {e.metadata.credential for e in triggered} == {"pusher"}
    # An integration key is no API token: nothing is named.
    head = server.store.head_position()
    body = sample("alertmanager-webhook-v4.json")
    body["groupKey"] = "another"
    for each in body["alerts"]:
        each["fingerprint"] = "0" + each["fingerprint"][1:]
    assert server.post("/v1/alertmanager", body, token=server.am_key).status == 200
    keyed = [e for e in server.store.read_all(from_position=head + 1) if e.type == "AlertTriggered"]
    assert keyed
    assert {e.metadata.credential for e in keyed} == {None}
