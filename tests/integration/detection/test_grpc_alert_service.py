"""The AlertService gRPC API: a real server over a real log (SQLite file, PostgreSQL).

Every RPC, the field each bad input is refused for (with nothing appended), the role
table, the read-only replica, and hypothesis fuzzing of SendAlert through the server.
Time is a FakeClock; timers fire by calling the application's `tick()`, as the HTTP
process's ticker would.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apikit.auth import Role, TokenRegistry, issue_token
from apikit.rpc import RunningServer, start_server
from detection_service.api import SERVICE_NAME, AlertServicer
from detection_service.app import DetectionApplication
from detection_service.routing import parse_config
from eventlog import EventStore, FakeClock
from firewatch.alert.v1 import alert_pb2 as pb
from firewatch.alert.v1 import alert_pb2_grpc as pb_grpc
from tests.integration.incident.conftest import StoreFactory, open_log  # noqa: F401
from tests.ports import free_port

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

RATIO_RULES = """
rules:
  - name: CheckoutErrors
    kind: ratio
    numerator: {name: http_requests_total, labels: {code: "500"}}
    denominator: {name: http_requests_total}
    comparison: ">"
    threshold: 0.01
    window: 2m
    for: 2m
    severity: critical
    labels: {service: checkout}
"""


@dataclass
class AlertApi:
    stub: pb_grpc.AlertServiceStub
    channel: grpc.Channel
    server: RunningServer
    app: DetectionApplication
    store: EventStore
    clock: FakeClock
    tokens: dict[str, str]
    tokens_file: Path
    pd_key: str

    def auth(self, who: str = "alice") -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.tokens[who]}")]

    def call(self, method: str, request: Any, who: str = "alice") -> Any:
        return getattr(self.stub, method)(request, metadata=self.auth(who), timeout=30)

    def head(self) -> int:
        return self.store.head_position()


def _serve(app: DetectionApplication, tokens_file: Path, *, writable: bool) -> RunningServer:
    servicer = AlertServicer(app, TokenRegistry(tokens_file), writable=writable)
    return start_server(
        host="127.0.0.1",
        port=0,
        register=[lambda s: pb_grpc.add_AlertServiceServicer_to_server(servicer, s)],  # type: ignore[no-untyped-call]
        service_names=[SERVICE_NAME],
    )


@pytest.fixture
def alert_api(open_log: StoreFactory, tmp_path: Path) -> Iterator[AlertApi]:  # noqa: F811
    tokens_file = tmp_path / "tokens.json"
    tokens = {
        "alice": issue_token(tokens_file, "alice", Role.RESPONDER),
        "root": issue_token(tokens_file, "root", Role.ADMIN),
        "audrey": issue_token(tokens_file, "audrey", Role.AUDITOR),
        "prom": issue_token(tokens_file, "prom", Role.INTEGRATION),
    }
    clock = FakeClock(T0)
    store = open_log("detection")
    store.clock = clock  # type: ignore[attr-defined]
    config = parse_config("group_by: [service]\n")
    app = DetectionApplication(store, clock, config)
    pd_key = app.create_integration(
        "pd-tool", "pagerduty", created_by="root", default_labels={"team": "payments"}
    ).key
    server = _serve(app, tokens_file, writable=True)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield AlertApi(
            pb_grpc.AlertServiceStub(channel),  # type: ignore[no-untyped-call]
            channel,
            server,
            app,
            store,
            clock,
            tokens,
            tokens_file,
            pd_key,
        )
    finally:
        channel.close()
        server.stop(grace=0)


def _error(call: Callable[[], Any]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    error: grpc.RpcError = caught.value
    return error


def _attempt(call: Callable[[], Any]) -> grpc.RpcError | None:
    """The call's error, or None when it answered."""
    try:
        call()
    except grpc.RpcError as error:
        return error
    return None


def _bad_request_field(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    detail = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(detail)
    return str(detail.field_violations[0].field)


def trigger(**fields: Any) -> pb.SendAlertRequest:
    base: dict[str, Any] = {
        "action": pb.ALERT_ACTION_TRIGGER,
        "summary": "checkout 5xx above 1%",
        "severity": pb.ALERT_SEVERITY_CRITICAL,
        "labels": {"service": "checkout", "env": "prod"},
    }
    return pb.SendAlertRequest(**(base | fields))


def dur(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromTimedelta(timedelta(seconds=seconds))
    return value


def stamp(value: datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(value)
    return result


# ---------------------------------------------------------------------- alerts


def test_trigger_without_a_key_gets_one_and_repeats_append_nothing(alert_api: AlertApi) -> None:
    sent = alert_api.call("SendAlert", trigger(origin="web-1"))
    assert len(sent.dedup_key) == 32
    assert "AlertTriggered" in sent.event_types
    assert "AlertGroupFiring" in sent.event_types
    assert sent.alert.status == pb.ALERT_STATUS_FIRING
    assert sent.alert.integration == "token.alice"
    assert sent.alert.labels["source"] == "web-1"
    assert sent.alert.group_id

    head = alert_api.head()
    again = alert_api.call("SendAlert", trigger(dedup_key=sent.dedup_key))
    assert (again.alert_id, list(again.event_types)) == (sent.alert_id, [])
    assert alert_api.head() == head

    by_id = alert_api.call("GetAlert", pb.GetAlertRequest(alert_id=sent.alert_id))
    by_key = alert_api.call("GetAlert", pb.GetAlertRequest(dedup_key=sent.dedup_key))
    assert by_id.alert == by_key.alert
    assert by_id.alert.severity == pb.ALERT_SEVERITY_CRITICAL


def test_acknowledge_and_resolve_follow_pagerduty(alert_api: AlertApi) -> None:
    sent = alert_api.call("SendAlert", trigger(dedup_key="disk-full/db-1"))
    alert_api.clock.advance(60)
    acked = alert_api.call(
        "SendAlert",
        pb.SendAlertRequest(action=pb.ALERT_ACTION_ACKNOWLEDGE, dedup_key="disk-full/db-1"),
    )
    assert "AlertAcknowledged" in acked.event_types
    assert "AlertGroupAcknowledged" in acked.event_types
    assert acked.alert.acknowledged_by == "alice"
    resolved = alert_api.call(
        "SendAlert", pb.SendAlertRequest(action=pb.ALERT_ACTION_RESOLVE, dedup_key="disk-full/db-1")
    )
    assert "AlertResolved" in resolved.event_types
    assert resolved.alert.status == pb.ALERT_STATUS_RESOLVED
    assert resolved.alert.resolve_reason == "source"
    assert resolved.alert_id == sent.alert_id
    # Resolving a key that never fired is accepted and changes nothing (PagerDuty: 202).
    head = alert_api.head()
    nothing = alert_api.call(
        "SendAlert", pb.SendAlertRequest(action=pb.ALERT_ACTION_RESOLVE, dedup_key="never")
    )
    assert list(nothing.event_types) == []
    assert not nothing.HasField("alert")
    assert alert_api.head() == head


def test_a_retried_trigger_with_the_same_idempotency_key_hits_the_same_alert(
    alert_api: AlertApi,
) -> None:
    first = alert_api.call("SendAlert", trigger(idempotency_key="k-1"))
    head = alert_api.head()
    retry = alert_api.call("SendAlert", trigger(idempotency_key="k-1"))
    other = alert_api.call("SendAlert", trigger(idempotency_key="k-2"))
    assert retry.dedup_key == first.dedup_key
    assert list(retry.event_types) == []
    assert other.dedup_key != first.dedup_key
    assert alert_api.head() > head  # only the second key appended


def test_an_integration_sends_as_itself_or_as_its_named_integration(alert_api: AlertApi) -> None:
    own = alert_api.call("SendAlert", trigger(dedup_key="x"), who="prom")
    assert own.alert.integration == "token.prom"
    alert_api.app.create_integration("prom", "api", created_by="root", default_labels={"a": "b"})
    named = alert_api.call("SendAlert", trigger(dedup_key="x", integration="prom"), who="prom")
    assert named.alert.integration == "prom"
    assert named.alert.labels["a"] == "b"
    assert named.alert_id != own.alert_id  # dedup keys are scoped by integration

    by_admin = alert_api.call("SendAlert", trigger(integration="pd-tool"), who="root")
    assert by_admin.alert.labels["team"] == "payments"

    denied = _error(lambda: alert_api.call("SendAlert", trigger(integration="pd-tool"), "prom"))
    assert denied.code() is grpc.StatusCode.PERMISSION_DENIED
    missing = _error(lambda: alert_api.call("SendAlert", trigger(integration="nope")))
    assert missing.code() is grpc.StatusCode.NOT_FOUND
    alert_api.app.revoke_integration("pd-tool", revoked_by="root")
    revoked = _error(lambda: alert_api.call("SendAlert", trigger(integration="pd-tool")))
    assert revoked.code() is grpc.StatusCode.FAILED_PRECONDITION


def test_a_token_scoped_to_integrations_sends_only_as_those(alert_api: AlertApi) -> None:
    alert_api.tokens["relay"] = issue_token(
        alert_api.tokens_file, "relay", Role.INTEGRATION, integrations=["pd-tool"]
    )
    alert_api.app.create_integration("grafana", "api", created_by="root")
    allowed = alert_api.call("SendAlert", trigger(integration="pd-tool"), who="relay")
    assert allowed.alert.integration == "pd-tool"
    denied = _error(
        lambda: alert_api.call("SendAlert", trigger(integration="grafana"), who="relay")
    )
    assert denied.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "scoped to the integrations pd-tool, not 'grafana'" in (denied.details() or "")
    # Nor as itself: an empty integration would be the token's own (token.relay).
    head = alert_api.head()
    itself = _error(lambda: alert_api.call("SendAlert", trigger(dedup_key="x"), who="relay"))
    assert itself.code() is grpc.StatusCode.PERMISSION_DENIED
    assert (itself.details() or "").startswith("integration: is required: token 'relay'")
    assert "scoped to the integrations pd-tool" in (itself.details() or "")
    assert alert_api.head() == head  # nothing appended


def test_a_token_bound_to_a_person_acknowledges_pages_not_source_alerts(
    alert_api: AlertApi,
) -> None:
    """ADR 0017's ack rule: a person acknowledges through the on-call API (recorded as
    them, refused unless they were paged); acknowledging the source alert would set
    time-to-acknowledge under the token's name and skip that check."""
    alert_api.tokens["bob-phone"] = issue_token(
        alert_api.tokens_file, "bob-phone", Role.RESPONDER, user="bob"
    )
    alert_api.call("SendAlert", trigger(dedup_key="disk-full/db-1"))
    head = alert_api.head()
    ack = pb.SendAlertRequest(action=pb.ALERT_ACTION_ACKNOWLEDGE, dedup_key="disk-full/db-1")
    refused = _error(lambda: alert_api.call("SendAlert", ack, who="bob-phone"))
    assert refused.code() is grpc.StatusCode.PERMISSION_DENIED
    details = refused.details() or ""
    assert details.startswith("action: token 'bob-phone' acts as bob")
    assert "incidentctl page ack" in details
    assert alert_api.head() == head  # nothing appended
    # The same person's token may still trigger and resolve; unbound tokens still ack.
    alert_api.call("SendAlert", trigger(dedup_key="cpu/db-1"), who="bob-phone")
    acked = alert_api.call("SendAlert", ack)
    assert acked.alert.acknowledged_by == "alice"


def test_list_alerts_filters_and_pages_newest_first(alert_api: AlertApi) -> None:
    keys = []
    for index in range(5):
        alert_api.clock.advance(60)
        severity = pb.ALERT_SEVERITY_WARNING if index % 2 else pb.ALERT_SEVERITY_CRITICAL
        sent = alert_api.call(
            "SendAlert",
            trigger(dedup_key=f"a{index}", severity=severity, labels={"service": f"s{index % 2}"}),
        )
        keys.append(sent.dedup_key)
    alert_api.call("SendAlert", pb.SendAlertRequest(action=pb.ALERT_ACTION_RESOLVE, dedup_key="a0"))

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = alert_api.call("ListAlerts", pb.ListAlertsRequest(page_size=2, page_token=token))
        seen += [a.dedup_key for a in page.alerts]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert (seen, pages) == (["a4", "a3", "a2", "a1", "a0"], 3)

    def listed(**filters: Any) -> list[str]:
        answer = alert_api.call("ListAlerts", pb.ListAlertsRequest(**filters), who="audrey")
        return [a.dedup_key for a in answer.alerts]

    assert listed(statuses=[pb.ALERT_STATUS_RESOLVED]) == ["a0"]
    assert listed(severities=[pb.ALERT_SEVERITY_WARNING]) == ["a3", "a1"]
    assert listed(labels={"service": "s0"}) == ["a4", "a2", "a0"]
    assert listed(paging_only=True, labels={"service": "s0"}) == ["a4", "a2"]
    assert listed(integration="token.alice") == ["a4", "a3", "a2", "a1", "a0"]
    assert listed(integration="pd-tool") == []


# ---------------------------------------------------------------------- silences


def test_a_silence_mutes_matching_alerts_until_it_is_expired(alert_api: AlertApi) -> None:
    created = alert_api.call(
        "CreateSilence",
        pb.CreateSilenceRequest(
            matchers=[
                pb.Matcher(name="service", value="checkout"),
                pb.Matcher(name="env", operator=pb.MATCH_OPERATOR_REGEX, value="prod|staging"),
            ],
            duration=dur(3600),
            comment="CHG-42 database upgrade",
            idempotency_key="s-1",
        ),
    )
    silence = created.silence
    assert silence.active
    assert silence.created_by == "alice"
    assert silence.ends_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(hours=1)

    head = alert_api.head()
    retry = alert_api.call(
        "CreateSilence",
        pb.CreateSilenceRequest(
            matchers=[pb.Matcher(name="service", value="checkout")],
            duration=dur(3600),
            comment="CHG-42 database upgrade",
            idempotency_key="s-1",
        ),
    )
    assert retry.replayed
    assert retry.silence.silence_id == silence.silence_id
    assert alert_api.head() == head

    muted = alert_api.call("SendAlert", trigger(dedup_key="m"))
    assert "AlertSuppressed" in muted.event_types
    assert muted.alert.suppressed_by == f"silence:{silence.silence_id}"
    assert not muted.alert.group_id

    listed = alert_api.call("ListSilences", pb.ListSilencesRequest(active_only=True), "audrey")
    assert [s.silence_id for s in listed.silences] == [silence.silence_id]

    alert_api.clock.advance(60)
    expired = alert_api.call(
        "ExpireSilence", pb.ExpireSilenceRequest(silence_id=silence.silence_id)
    )
    assert "SilenceExpired" in expired.event_types
    assert "AlertSuppressionLifted" in expired.event_types
    assert not expired.silence.active
    assert expired.silence.expired_by == "alice"
    again = alert_api.call("ExpireSilence", pb.ExpireSilenceRequest(silence_id=silence.silence_id))
    assert list(again.event_types) == []
    assert alert_api.call("ListSilences", pb.ListSilencesRequest(active_only=True)).silences == []
    unknown = _error(
        lambda: alert_api.call(
            "ExpireSilence",
            pb.ExpireSilenceRequest(silence_id="0f0e0d0c-0000-4000-8000-000000000000"),
        )
    )
    assert unknown.code() is grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------------- rules


def _ratio_rule(**fields: Any) -> pb.Rule:
    base: dict[str, Any] = {
        "name": "CheckoutErrors",
        "kind": pb.RULE_KIND_RATIO,
        "numerator": pb.SeriesSelector(name="http_requests_total", labels={"code": "500"}),
        "denominator": pb.SeriesSelector(name="http_requests_total"),
        "comparison": pb.COMPARISON_GREATER,
        "threshold": 0.01,
        "window": dur(120),
        "for_duration": dur(120),
        "severity": pb.ALERT_SEVERITY_CRITICAL,
        "labels": {"service": "checkout"},
    }
    return pb.Rule(**(base | fields))


def test_rules_are_defined_listed_evaluated_and_removed(alert_api: AlertApi) -> None:
    defined = alert_api.call("DefineRule", pb.DefineRuleRequest(rule=_ratio_rule()))
    assert defined.changed
    assert defined.rule.aggregation == pb.AGGREGATION_SUM  # the default, made explicit
    head = alert_api.head()
    same = alert_api.call("DefineRule", pb.DefineRuleRequest(rule=_ratio_rule()))
    assert not same.changed
    assert alert_api.head() == head

    listed = alert_api.call("ListRules", pb.ListRulesRequest(), who="audrey").rules
    assert [r.name for r in listed] == ["CheckoutErrors"]
    assert listed[0].for_duration.ToTimedelta() == timedelta(minutes=2)

    # 5 errors in 100 requests, pushed over gRPC; the rule goes pending, then fires
    # after its `for` (the ticker's job, called here on the fake clock).
    for _ in range(3):
        pushed = alert_api.call(
            "PushSamples",
            pb.PushSamplesRequest(
                samples=[
                    pb.Sample(name="http_requests_total", labels={"code": "500"}, value=5),
                    pb.Sample(name="http_requests_total", labels={"code": "200"}, value=95),
                ]
            ),
            who="prom",
        )
        assert pushed.accepted == 2
        alert_api.app.tick()
        alert_api.clock.advance(61)
    alert_api.app.tick()
    fired = alert_api.call(
        "ListAlerts", pb.ListAlertsRequest(statuses=[pb.ALERT_STATUS_FIRING])
    ).alerts
    assert [(a.source, a.labels["alertname"]) for a in fired] == [
        (pb.ALERT_SOURCE_RULE, "CheckoutErrors")
    ]
    assert fired[0].HasField("pending_at")
    assert fired[0].HasField("fired_at")

    alert_api.call("RemoveRule", pb.RemoveRuleRequest(name="CheckoutErrors"))
    assert alert_api.call("ListRules", pb.ListRulesRequest()).rules == []
    gone = _error(lambda: alert_api.call("RemoveRule", pb.RemoveRuleRequest(name="CheckoutErrors")))
    assert gone.code() is grpc.StatusCode.NOT_FOUND


def test_validate_rules_reports_every_problem_per_rule_and_appends_nothing(
    alert_api: AlertApi,
) -> None:
    head = alert_api.head()
    good = alert_api.call("ValidateRules", pb.ValidateRulesRequest(yaml=RATIO_RULES), "audrey")
    assert good.valid
    assert [r.name for r in good.rules] == ["CheckoutErrors"]
    assert good.rules[0].severity == pb.ALERT_SEVERITY_CRITICAL

    bad_yaml = (
        RATIO_RULES
        + """
  - name: NoSeries
    kind: threshold
    comparison: ">"
    threshold: 1
  - name: BadThreshold
    kind: threshold
    series: {name: up}
    comparison: ">"
    threshold: lots
"""
    )
    bad = alert_api.call(
        "ValidateRules", pb.ValidateRulesRequest(yaml=bad_yaml, source="rules/checkout.yaml")
    )
    assert not bad.valid
    assert not bad.rules
    problems = [(p.rule_index, p.rule_name, p.field) for p in bad.problems]
    assert (2, "BadThreshold", "threshold") in problems
    assert any(index == 1 and name == "NoSeries" for index, name, _ in problems)
    assert all(p.message.startswith("rules/checkout.yaml: ") for p in bad.problems)

    broken = alert_api.call("ValidateRules", pb.ValidateRulesRequest(yaml="rules: [oops"))
    assert not broken.valid
    assert [p.rule_index for p in broken.problems] == [-1]
    assert alert_api.call("ListRules", pb.ListRulesRequest()).rules == []
    assert alert_api.head() == head


# ---------------------------------------------------------------------- heartbeats


def test_a_missed_heartbeat_alerts_and_a_ping_resolves_it(alert_api: AlertApi) -> None:
    request = pb.CreateHeartbeatRequest(
        name="nightly-backup", interval=dur(60), grace=dur(30), labels={"service": "backup"}
    )
    created = alert_api.call("CreateHeartbeat", request)
    assert created.created
    assert created.heartbeat.deadline.ToDatetime(tzinfo=UTC) == T0 + timedelta(seconds=90)
    head = alert_api.head()
    retry = alert_api.call("CreateHeartbeat", request)
    assert not retry.created
    assert alert_api.head() == head
    changed = pb.CreateHeartbeatRequest(name="nightly-backup", interval=dur(120))
    conflict = _error(lambda: alert_api.call("CreateHeartbeat", changed))
    assert conflict.code() is grpc.StatusCode.FAILED_PRECONDITION

    alert_api.clock.advance(91)
    alert_api.app.tick()
    listed = alert_api.call("ListHeartbeats", pb.ListHeartbeatsRequest(), who="audrey")
    assert [(h.name, h.missed) for h in listed.heartbeats] == [("nightly-backup", True)]
    missed = alert_api.call(
        "ListAlerts", pb.ListAlertsRequest(statuses=[pb.ALERT_STATUS_FIRING])
    ).alerts
    assert [a.labels["alertname"] for a in missed] == ["HeartbeatMissed"]

    pinged = alert_api.call("PingHeartbeat", pb.PingHeartbeatRequest(name="nightly-backup"), "prom")
    assert "HeartbeatPinged" in pinged.event_types
    assert "AlertResolved" in pinged.event_types
    assert not pinged.heartbeat.missed
    unknown = _error(lambda: alert_api.call("PingHeartbeat", pb.PingHeartbeatRequest(name="nope")))
    assert unknown.code() is grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------------- bad input

_BAD: list[tuple[str, Any, str]] = [
    ("SendAlert", pb.SendAlertRequest(summary="x"), "action"),
    ("SendAlert", trigger(severity=pb.ALERT_SEVERITY_UNSPECIFIED), "severity"),
    ("SendAlert", trigger(severity=42), "severity"),
    ("SendAlert", trigger(summary="  "), "summary"),
    ("SendAlert", trigger(labels={"bad-name": "x"}), "labels.bad-name"),
    ("SendAlert", trigger(labels={"ok": "v" * 2000}), "labels.ok"),
    ("SendAlert", trigger(dedup_key="k" * 300), "dedup_key"),
    ("SendAlert", pb.SendAlertRequest(action=pb.ALERT_ACTION_RESOLVE), "dedup_key"),
    ("SendAlert", trigger(annotations={"a": "x" * 10_000}), "annotations.a"),
    ("SendAlert", trigger(started_at=timestamp_pb2.Timestamp(seconds=-(10**12))), "started_at"),
    ("GetAlert", pb.GetAlertRequest(), "alert_id"),
    ("GetAlert", pb.GetAlertRequest(alert_id="../etc"), "alert_id"),
    ("ListAlerts", pb.ListAlertsRequest(page_size=501), "page_size"),
    ("ListAlerts", pb.ListAlertsRequest(page_token="%%%"), "page_token"),
    ("ListAlerts", pb.ListAlertsRequest(statuses=[0]), "statuses"),
    (
        "CreateSilence",
        pb.CreateSilenceRequest(
            matchers=[pb.Matcher(name="9lives", value="x")], duration=dur(60), comment="c"
        ),
        "matchers[0].name",
    ),
    (
        "CreateSilence",
        pb.CreateSilenceRequest(
            matchers=[
                pb.Matcher(name="a", value="x"),
                pb.Matcher(name="b", operator=pb.MATCH_OPERATOR_REGEX, value="(["),
            ],
            duration=dur(60),
            comment="c",
        ),
        "matchers[1].value",
    ),
    (
        "CreateSilence",
        pb.CreateSilenceRequest(duration=dur(60), comment="everything"),
        "matchers",
    ),
    (
        "CreateSilence",
        pb.CreateSilenceRequest(matchers=[pb.Matcher(name="a", value="x")], comment="c"),
        "ends_at",
    ),
    (
        "CreateSilence",
        pb.CreateSilenceRequest(matchers=[pb.Matcher(name="a", value="x")], duration=dur(60)),
        "comment",
    ),
    (
        "CreateSilence",
        pb.CreateSilenceRequest(
            matchers=[pb.Matcher(name="a", value="x")], duration=dur(-5), comment="c"
        ),
        "duration",
    ),
    ("ExpireSilence", pb.ExpireSilenceRequest(), "silence_id"),
    ("DefineRule", pb.DefineRuleRequest(), "rule"),
    ("DefineRule", pb.DefineRuleRequest(rule=_ratio_rule(kind=0)), "rule.kind"),
    ("DefineRule", pb.DefineRuleRequest(rule=_ratio_rule(name="9bad")), "rule.name"),
    ("DefineRule", pb.DefineRuleRequest(rule=_ratio_rule(threshold=math.inf)), "rule.threshold"),
    (
        "DefineRule",
        pb.DefineRuleRequest(rule=_ratio_rule(numerator=pb.SeriesSelector(name="a b"))),
        "rule.numerator.name",
    ),
    ("DefineRule", pb.DefineRuleRequest(rule=_ratio_rule(comparison=0)), "rule.comparison"),
    ("RemoveRule", pb.RemoveRuleRequest(), "name"),
    ("ValidateRules", pb.ValidateRulesRequest(yaml="x" * (1024 * 1024 + 1)), "yaml"),
    ("CreateHeartbeat", pb.CreateHeartbeatRequest(name="hb"), "interval"),
    ("CreateHeartbeat", pb.CreateHeartbeatRequest(name="Bad Name", interval=dur(60)), "name"),
    ("CreateHeartbeat", pb.CreateHeartbeatRequest(name="hb", interval=dur(0.5)), "interval"),
    (
        "CreateHeartbeat",
        pb.CreateHeartbeatRequest(name="hb", interval=dur(60), labels={"x-y": "1"}),
        "labels.x-y",
    ),
    ("PingHeartbeat", pb.PingHeartbeatRequest(name=""), "name"),
    ("PushSamples", pb.PushSamplesRequest(), "samples"),
    (
        "PushSamples",
        pb.PushSamplesRequest(
            samples=[pb.Sample(name="up", value=1), pb.Sample(name="up", value=math.nan)]
        ),
        "samples[1].value",
    ),
    (
        "PushSamples",
        pb.PushSamplesRequest(samples=[pb.Sample(name="no such metric!", value=1)]),
        "samples[0].name",
    ),
    (
        "PushSamples",
        pb.PushSamplesRequest(samples=[pb.Sample(name="up", labels={"1": "x"}, value=1)]),
        "samples[0].labels",
    ),
    (
        "PushSamples",
        pb.PushSamplesRequest(
            samples=[pb.Sample(name="up", value=1, timestamp=stamp(T0 + timedelta(hours=1)))]
        ),
        "samples[0].timestamp",
    ),
]


@pytest.mark.parametrize(
    ("method", "request_", "field"), _BAD, ids=[f"{m}-{f}" for m, _, f in _BAD]
)
def test_bad_input_is_invalid_argument_naming_the_field_and_appends_nothing(
    alert_api: AlertApi, method: str, request_: Any, field: str
) -> None:
    head = alert_api.head()
    error = _error(lambda: alert_api.call(method, request_, who="root"))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert error.details().startswith(f"{field}: "), error.details()
    assert _bad_request_field(error) == field
    assert alert_api.head() == head


# ---------------------------------------------------------------------- roles

_EVERY_CALL: dict[str, Any] = {
    "SendAlert": trigger(dedup_key="roles"),
    "GetAlert": pb.GetAlertRequest(dedup_key="roles"),
    "ListAlerts": pb.ListAlertsRequest(),
    "CreateSilence": pb.CreateSilenceRequest(
        matchers=[pb.Matcher(name="a", value="b")], duration=dur(60), comment="c"
    ),
    "ListSilences": pb.ListSilencesRequest(),
    "ExpireSilence": pb.ExpireSilenceRequest(silence_id="0f0e0d0c-0000-4000-8000-000000000000"),
    "DefineRule": pb.DefineRuleRequest(rule=_ratio_rule()),
    "RemoveRule": pb.RemoveRuleRequest(name="NoSuchRule"),
    "ListRules": pb.ListRulesRequest(),
    "ValidateRules": pb.ValidateRulesRequest(yaml=RATIO_RULES),
    "CreateHeartbeat": pb.CreateHeartbeatRequest(name="hb", interval=dur(60)),
    "ListHeartbeats": pb.ListHeartbeatsRequest(),
    "PingHeartbeat": pb.PingHeartbeatRequest(name="no-such-monitor"),
    "PushSamples": pb.PushSamplesRequest(samples=[pb.Sample(name="up", value=1)]),
    "DefineCheck": pb.DefineCheckRequest(
        definition='{"name": "db", "kind": "tcp", "host": "127.0.0.1", "port": 9}'
    ),
    "RemoveCheck": pb.RemoveCheckRequest(name="no-such-check"),
    "ListChecks": pb.ListChecksRequest(),
    "RunCheck": pb.RunCheckRequest(name="no-such-check"),
    "ListCheckResults": pb.ListCheckResultsRequest(name="no-such-check"),
}
_SENDS = {"SendAlert", "PushSamples", "PingHeartbeat"}
_READS = {
    "GetAlert",
    "ListAlerts",
    "ListSilences",
    "ListRules",
    "ValidateRules",
    "ListHeartbeats",
    "ListChecks",
    "ListCheckResults",
}
_ALLOWED = {
    "prom": _SENDS,
    "audrey": _READS,
    "alice": set(_EVERY_CALL),
    "root": set(_EVERY_CALL),
}


def test_every_rpc_is_a_registered_service_method() -> None:
    methods = set(pb.DESCRIPTOR.services_by_name["AlertService"].methods_by_name)
    assert methods == set(_EVERY_CALL)
    for enum in pb.DESCRIPTOR.enum_types_by_name.values():
        assert enum.values_by_number[0].name.endswith("_UNSPECIFIED"), enum.name


@pytest.mark.parametrize("who", sorted(_ALLOWED))
def test_each_role_may_call_exactly_its_methods(alert_api: AlertApi, who: str) -> None:
    for method, request in _EVERY_CALL.items():
        head = alert_api.head()
        error = _attempt(lambda m=method, r=request: alert_api.call(m, r, who=who))  # type: ignore[misc]
        if error is None:
            assert method in _ALLOWED[who], (who, method)
        elif method in _ALLOWED[who]:
            # Allowed, but the target may not exist: never an auth refusal.
            assert error.code() is grpc.StatusCode.NOT_FOUND, (who, method, error.details())
        else:
            assert error.code() is grpc.StatusCode.PERMISSION_DENIED, (who, method)
            assert "needs one of" in (error.details() or "")
            assert alert_api.head() == head


def test_calls_without_a_good_token_are_unauthenticated(alert_api: AlertApi) -> None:
    for metadata in ([], [("authorization", "Bearer fwt_nope")]):
        error = _error(lambda m=metadata: alert_api.stub.SendAlert(trigger(), metadata=m))  # type: ignore[misc]
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED


def test_a_read_only_replica_answers_reads_and_refuses_writes(alert_api: AlertApi) -> None:
    alert_api.call("SendAlert", trigger(dedup_key="on-writer"))
    replica = _serve(alert_api.app, alert_api.tokens_file, writable=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{replica.port}") as channel:
            stub = pb_grpc.AlertServiceStub(channel)  # type: ignore[no-untyped-call]
            listed = stub.ListAlerts(pb.ListAlertsRequest(), metadata=alert_api.auth())
            assert [a.dedup_key for a in listed.alerts] == ["on-writer"]
            head = alert_api.head()
            for method in ("SendAlert", "CreateSilence", "DefineRule", "PushSamples"):
                error = _error(
                    lambda m=method: getattr(stub, m)(  # type: ignore[misc]
                        _EVERY_CALL[m], metadata=alert_api.auth()
                    )
                )
                assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
                assert "read-only replica" in (error.details() or "")
            assert alert_api.head() == head
    finally:
        replica.stop(grace=0)


# ---------------------------------------------------------------------- fuzzing

_TEXT = st.text(max_size=40)
_SEND = st.fixed_dictionaries(
    {},
    optional={
        "action": st.integers(min_value=-1, max_value=5),
        "dedup_key": st.one_of(_TEXT, st.text(min_size=250, max_size=300)),
        "summary": st.one_of(_TEXT, st.text(min_size=1000, max_size=1100)),
        "severity": st.integers(min_value=-1, max_value=6),
        "origin": _TEXT,
        "labels": st.dictionaries(
            st.one_of(st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True), _TEXT),
            _TEXT,
            max_size=4,
        ),
        "annotations": st.dictionaries(_TEXT, _TEXT, max_size=4),
        "started_at": st.builds(
            timestamp_pb2.Timestamp,
            seconds=st.integers(min_value=-(2**40), max_value=2**40),
            nanos=st.integers(min_value=0, max_value=999_999_999),
        ),
        "integration": st.sampled_from(["", "pd-tool", "unknown-tool"]),
        "idempotency_key": _TEXT,
    },
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fields=_SEND)
def test_send_alert_answers_every_input_with_ok_or_invalid_argument(
    alert_api: AlertApi, fields: dict[str, Any]
) -> None:
    head = alert_api.head()
    request = pb.SendAlertRequest(**fields)
    error = _attempt(lambda: alert_api.call("SendAlert", request, who="root"))
    if error is None:
        assert alert_api.head() >= head
    elif error.code() is grpc.StatusCode.NOT_FOUND:
        assert fields.get("integration") == "unknown-tool", error.details()
        assert alert_api.head() == head
    else:
        assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, (error.details(), fields)
        assert error.details().startswith(f"{_bad_request_field(error)}: ")
        assert alert_api.head() == head
    alert_api.clock.advance(1)


# ---------------------------------------------------------------------- processes


def _wait_for_line(process: subprocess.Popen[str], needle: str) -> None:
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if needle in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()  # keep draining
            return
    raise AssertionError(f"process exited before {needle!r}:\n" + "".join(seen))


def _start(module: str, env: dict[str, str], needle: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_line(process, needle)
    except BaseException:
        process.kill()
        process.wait(timeout=30)
        raise
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def test_the_http_writer_process_serves_grpc_and_the_api_entry_point_is_a_replica(
    tmp_path: Path,
) -> None:
    tokens_file = tmp_path / "tokens.json"
    token = issue_token(tokens_file, "alice", Role.RESPONDER)
    auth = [("authorization", f"Bearer {token}")]
    writer_port, replica_port = free_port(), free_port()
    env = {
        "FIREWATCH_STORE_URL": f"sqlite:///{tmp_path / 'log.db'}",
        "FIREWATCH_TOKENS_FILE": str(tokens_file),
        "FIREWATCH_DETECTION_HTTP_PORT": str(free_port()),
        "FIREWATCH_DETECTION_API_ENABLED": "1",
        "FIREWATCH_DETECTION_API_PORT": str(writer_port),
    }
    writer = _start("detection_service.http", env, "detection HTTP on")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{writer_port}") as channel:
            stub = pb_grpc.AlertServiceStub(channel)  # type: ignore[no-untyped-call]
            sent = stub.SendAlert(trigger(dedup_key="from-the-writer"), metadata=auth, timeout=30)
            assert "AlertTriggered" in sent.event_types
        replica = _start(
            "detection_service.api",
            {**env, "FIREWATCH_DETECTION_API_PORT": str(replica_port)},
            "(read-only replica) listening on",
        )
        try:
            with grpc.insecure_channel(f"127.0.0.1:{replica_port}") as channel:
                stub = pb_grpc.AlertServiceStub(channel)  # type: ignore[no-untyped-call]
                listed = stub.ListAlerts(pb.ListAlertsRequest(), metadata=auth, timeout=30)
                assert [a.dedup_key for a in listed.alerts] == ["from-the-writer"]
                refused = _attempt(lambda: stub.SendAlert(trigger(), metadata=auth, timeout=30))
                assert refused is not None
                assert refused.code() is grpc.StatusCode.FAILED_PRECONDITION
        finally:
            _stop(replica)
    finally:
        _stop(writer)
    assert writer.returncode == 0
