# ruff: noqa: F811 - tests request the imported `alert_api` fixture by name
"""AlertService's check methods over real gRPC against a real loopback HTTP target:
define (YAML), list, run once with each step timed, results; bad definitions refused
naming the field with nothing appended; roles as documented in docs/access.md."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest

from apikit.auth import Role, issue_token
from eventlog import EventFilter, open_store
from firewatch.alert.v1 import alert_pb2 as pb
from firewatch.alert.v1 import alert_pb2_grpc as pb_grpc
from tests.integration.detection.test_grpc_alert_service import (  # noqa: F401
    AlertApi,
    _bad_request_field,
    _error,
    _serve,
    _start,
    _stop,
    alert_api,
)
from tests.integration.incident.conftest import StoreFactory, open_log  # noqa: F401
from tests.ports import free_port


class _Health(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = b'{"status": "ok"}' if self.path == "/healthz" else b"nope"
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def health_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _definition(url: str, path: str = "/healthz") -> str:
    return f"""
name: platform
kind: http
interval: 30s
for: 1m
steps:
  - name: health
    url: {url}{path}
    assertions:
      - status: 200
      - json_equals: {{path: status, value: ok}}
"""


def test_define_run_and_read_results_over_grpc(alert_api: AlertApi, health_url: str) -> None:
    defined = alert_api.call(
        "DefineCheck", pb.DefineCheckRequest(definition=_definition(health_url))
    )
    assert defined.changed
    assert defined.check.kind == "http"
    assert defined.check.interval.seconds == 30
    again = alert_api.call("DefineCheck", pb.DefineCheckRequest(definition=_definition(health_url)))
    assert not again.changed
    ran = alert_api.call("RunCheck", pb.RunCheckRequest(name="platform"))
    assert ran.recorded
    assert ran.result.outcome == pb.CHECK_OUTCOME_UP
    assert [s.name for s in ran.result.steps] == ["health"]
    assert ran.result.steps[0].duration_ms > 0
    listed = alert_api.call("ListChecks", pb.ListChecksRequest(), who="audrey")
    assert [c.name for c in listed.checks] == ["platform"]
    assert listed.checks[0].status == pb.CHECK_OUTCOME_UP
    results = alert_api.call(
        "ListCheckResults", pb.ListCheckResultsRequest(name="platform"), who="audrey"
    )
    assert len(results.results) == 1
    assert results.check.HasField("status_since")
    rules = alert_api.call("ListRules", pb.ListRulesRequest())
    assert [r.name for r in rules.rules] == ["synthetic:platform"]


def test_a_failing_step_shows_its_detail_and_excerpt(alert_api: AlertApi, health_url: str) -> None:
    alert_api.call("DefineCheck", pb.DefineCheckRequest(definition=_definition(health_url, "/x")))
    result = alert_api.call("RunCheck", pb.RunCheckRequest(name="platform")).result
    assert result.outcome == pb.CHECK_OUTCOME_DOWN
    assert result.steps[0].detail == "status 404, expected 200"
    assert result.steps[0].excerpt == "nope"
    assert result.steps_reached == 0


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ("", "definition"),
        ("- not a mapping", "definition"),
        ("name: x\nkind: http\nsteps: [{url: 'ftp://x'}]", "steps.0.url"),
        ("name: x\nkind: tcp\nhost: db\nport: 99999", "port"),
        ("name: x\nkind: http\ninterval: 0\nsteps: [{url: 'http://x'}]", "interval"),
    ],
)
def test_a_bad_definition_is_invalid_argument_naming_the_field(
    alert_api: AlertApi, definition: str, field: str
) -> None:
    before = alert_api.head()
    error = _error(
        lambda: alert_api.call("DefineCheck", pb.DefineCheckRequest(definition=definition))
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert _bad_request_field(error) == field
    assert alert_api.head() == before


def test_auditors_read_checks_but_cannot_define_or_run_them(
    alert_api: AlertApi, health_url: str
) -> None:
    request = pb.DefineCheckRequest(definition=_definition(health_url))
    denied = _error(lambda: alert_api.call("DefineCheck", request, who="audrey"))
    assert denied.code() is grpc.StatusCode.PERMISSION_DENIED
    alert_api.call("DefineCheck", request)
    run = _error(lambda: alert_api.call("RunCheck", pb.RunCheckRequest(name="platform"), "audrey"))
    assert run.code() is grpc.StatusCode.PERMISSION_DENIED
    missing = _error(lambda: alert_api.call("RunCheck", pb.RunCheckRequest(name="nope")))
    assert missing.code() is grpc.StatusCode.NOT_FOUND


def test_a_read_only_replica_runs_a_check_without_recording_it(
    alert_api: AlertApi, health_url: str
) -> None:
    alert_api.call("DefineCheck", pb.DefineCheckRequest(definition=_definition(health_url)))
    head = alert_api.head()
    replica = _serve(alert_api.app, alert_api.tokens_file, writable=False)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{replica.port}") as channel:
            stub = pb_grpc.AlertServiceStub(channel)  # type: ignore[no-untyped-call]
            ran = stub.RunCheck(pb.RunCheckRequest(name="platform"), metadata=alert_api.auth())
            assert ran.result.outcome == pb.CHECK_OUTCOME_UP
            assert not ran.recorded
            refused = _error(
                lambda: stub.DefineCheck(
                    pb.DefineCheckRequest(definition=_definition(health_url, "/x")),
                    metadata=alert_api.auth(),
                )
            )
            assert refused.code() is grpc.StatusCode.FAILED_PRECONDITION
    finally:
        replica.stop(grace=0)
    assert alert_api.head() == head
    assert alert_api.app.check_results("platform") == []


def test_the_writer_process_runs_defined_checks_on_its_own_and_exports_their_metrics(
    tmp_path: Path, health_url: str
) -> None:
    tokens_file = tmp_path / "tokens.json"
    auth = [("authorization", f"Bearer {issue_token(tokens_file, 'alice', Role.RESPONDER)}")]
    api_port, http_port = free_port(), free_port()
    env = {
        "FIREWATCH_STORE_URL": f"sqlite:///{tmp_path / 'log.db'}",
        "FIREWATCH_TOKENS_FILE": str(tokens_file),
        "FIREWATCH_DETECTION_HTTP_PORT": str(http_port),
        "FIREWATCH_DETECTION_API_ENABLED": "1",
        "FIREWATCH_DETECTION_API_PORT": str(api_port),
    }
    writer = _start("detection_service.http", env, "detection HTTP on")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{api_port}") as channel:
            stub = pb_grpc.AlertServiceStub(channel)  # type: ignore[no-untyped-call]
            definition = _definition(health_url).replace("interval: 30s", "interval: 1s")
            stub.DefineCheck(pb.DefineCheckRequest(definition=definition), metadata=auth)
            # The scheduler's first run records the first status: wait for that event.
            log = open_store(env["FIREWATCH_STORE_URL"])
            changes = log.subscribe(
                filter=EventFilter(event_types=["CheckStatusChanged"]), poll_interval=0.05
            )
            try:
                first = changes.next_event(timeout=30)
            finally:
                changes.close()
                log.close()
            assert first is not None
            assert first.data["status"] == "up"
            listed = stub.ListChecks(pb.ListChecksRequest(), metadata=auth).checks
            assert listed[0].last_result.outcome == pb.CHECK_OUTCOME_UP
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=30) as page:
            metrics = page.read().decode()
        assert 'firewatch_check_up{check="platform"} 1.0' in metrics
        assert 'firewatch_check_runs_total{check="platform",outcome="up"}' in metrics
    finally:
        _stop(writer)
    assert writer.returncode == 0
