"""The production server under the detection ingest (apikit.web, ADR 0023): PagerDuty's
official client over https against a CA made here, keep-alive, and the in-flight bound
(503 with Retry-After, nothing appended for a refused request)."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pagerduty
import pytest

from apikit.rpc import TlsFiles
from apikit.web import WebServer
from detection_service import alert
from detection_service.app import DetectionApplication
from detection_service.http import DetectionHttp, serve
from detection_service.routing import parse_config
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from tests.tlsfiles import make_ca


class GateClock:
    """A FakeClock that, once armed, holds the first caller until released: a request
    parked inside the application, found without sleeping."""

    def __init__(self) -> None:
        self.clock = FakeClock(datetime(2026, 11, 27, 2, 1, tzinfo=UTC))
        self.armed = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> datetime:
        if self.armed and threading.current_thread().name != "MainThread":
            self.armed = False
            self.entered.set()
            self.release.wait(30)
        return self.clock()


@dataclass
class Running:
    server: WebServer
    app: DetectionApplication
    store: SQLiteEventStore
    clock: GateClock
    pd_key: str

    def url(self, path: str) -> str:
        return f"{self.server.scheme}://127.0.0.1:{self.server.server_port}{path}"


def _start(tmp_path: Path, *, max_in_flight: int = 16, tls: TlsFiles | None = None) -> Running:
    clock = GateClock()
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="detection", ownership=Ownership.platform(), clock=clock.clock
    )
    app = DetectionApplication(store, clock, parse_config("group_by: [service]\n"))
    pd_key = app.create_integration("pd-tool", "pagerduty", created_by="admin").key
    server = serve(DetectionHttp(app), "127.0.0.1", 0, max_in_flight=max_in_flight, tls=tls)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Running(server, app, store, clock, pd_key)


@pytest.fixture
def stop() -> Iterator[list[Running]]:
    running: list[Running] = []
    yield running
    for each in running:
        each.clock.release.set()
        each.server.shutdown()
        each.store.close()


def _trigger(key: str, dedup_key: str) -> bytes:
    return json.dumps(
        {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"},
        }
    ).encode()


def _post(url: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_official_pagerduty_client_triggers_over_https(
    tmp_path: Path, stop: list[Running]
) -> None:
    ca = make_ca(tmp_path / "tls")
    running = _start(tmp_path, tls=ca.server)
    stop.append(running)
    assert running.server.scheme == "https"
    trusting = ssl.create_default_context(cafile=str(ca.ca_certificate))
    client = pagerduty.EventsApiV2Client(running.pd_key, base_url=running.url(""), verify=trusting)

    dedup_key = client.trigger("disk full on db-1", "db-1", dedup_key="db-1/disk")
    client.resolve(dedup_key)

    assert dedup_key == "db-1/disk"
    types = [e.type for e in running.store.read_all() if e.stream.startswith("alert-")]
    assert "AlertTriggered" in types
    assert "AlertResolved" in types


def test_https_is_refused_to_a_client_that_does_not_trust_the_ca(
    tmp_path: Path, stop: list[Running]
) -> None:
    ca = make_ca(tmp_path / "tls")
    stranger = make_ca(tmp_path / "other")
    running = _start(tmp_path, tls=ca.server)
    stop.append(running)
    stranger_context = ssl.create_default_context(cafile=str(stranger.ca_certificate))
    request = urllib.request.Request(
        running.url("/v2/enqueue"), data=_trigger(running.pd_key, "x"), method="POST"
    )
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(request, timeout=30, context=stranger_context)
    assert not [e for e in running.store.read_all() if e.stream.startswith("alert-")]


def test_plain_http_stays_the_default_and_keeps_connections_alive(
    tmp_path: Path, stop: list[Running]
) -> None:
    running = _start(tmp_path)
    stop.append(running)
    assert running.server.scheme == "http"
    connection = http.client.HTTPConnection("127.0.0.1", running.server.server_port, timeout=30)
    try:
        replies = []
        for n in range(3):
            connection.request(
                "POST",
                "/v2/enqueue",
                body=_trigger(running.pd_key, f"k{n}"),
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            replies.append((response.status, response.version, response.will_close))
            response.read()
            # One socket for every request: keep-alive, HTTP/1.1.
            assert connection.sock is not None
    finally:
        connection.close()
    assert replies == [(202, 11, False)] * 3


def test_over_the_in_flight_bound_is_503_with_retry_after_and_appends_nothing(
    tmp_path: Path, stop: list[Running]
) -> None:
    running = _start(tmp_path, max_in_flight=1)
    stop.append(running)
    url = running.url("/v2/enqueue")
    running.clock.armed = True
    first: list[tuple[int, dict[str, str], bytes]] = []
    worker = threading.Thread(
        target=lambda: first.append(_post(url, _trigger(running.pd_key, "held")))
    )
    worker.start()
    assert running.clock.entered.wait(30), "the first request never reached the app"
    head = running.store.head_position()

    refused = [_post(url, _trigger(running.pd_key, f"refused-{n}")) for n in range(3)]

    assert [status for status, _, _ in refused] == [503, 503, 503]
    assert all(headers.get("Retry-After") == "1" for _, headers, _ in refused)
    assert json.loads(refused[0][2])["status"] == "unavailable"
    assert running.store.head_position() == head  # nothing appended for them
    running.clock.release.set()
    worker.join(30)
    assert first
    assert first[0][0] == 202
    # Only the held request's alert exists; the slot is free again afterwards.
    triggered = {e.stream for e in running.store.read_all() if e.type == "AlertTriggered"}
    assert triggered == {alert.stream_for(alert.alert_id_for("pd-tool", "held"))}
    assert _post(url, _trigger(running.pd_key, "after"))[0] == 202
