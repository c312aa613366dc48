"""Detection ingest benchmark: the platform's webhook and /v2/enqueue against a real
Alertmanager 0.25's `POST /api/v2/alerts`, with the same alert stream, in the same run.

Alerts count only when durably appended: the detection HTTP process answers after the
append, and afterwards the log must hold one AlertTriggered per accepted alert. The
webhook is compared with Alertmanager at the same batch size (one webhook carries one
group); /v2/enqueue carries one event per request, so it is compared with Alertmanager at
batch size 1. Both use the same number of client connections, and the comparison is
made at 1 and 100 alerts per request and at 1 and 8 connections (issue 14).

Run the ingest part alone with `python -m tests.benchmarks.detection_bench [alerts]`.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from detection_service.app import DetectionApplication
from detection_service.routing import DetectionConfig
from eventlog import EventFilter, Ownership
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from tests.benchmarks import alertmanager_bench as am
from tests.ports import free_port

CONFIG = """
group_by: [alertname, service]
rate_limit: {events_per_second: 1000000, burst: 1000000}
"""


@dataclass(frozen=True)
class Ingest:
    name: str
    alerts: int
    batch: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.alerts / self.seconds


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _post_all(
    port: int,
    path: str,
    bodies: list[bytes],
    counts: list[int],
    headers: dict[str, str],
    concurrency: int,
    method: str = "POST",
) -> int:
    accepted = 0
    next_index = 0
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        nonlocal accepted, next_index
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                with lock:
                    index, next_index = next_index, next_index + 1
                if index >= len(bodies) or errors:
                    return
                connection.request(method, path, bodies[index] or None, headers)
                response = connection.getresponse()
                reply = response.read()
                with lock:
                    if 200 <= response.status < 300:
                        accepted += counts[index]
                    else:
                        errors.append(f"{path}: HTTP {response.status}: {reply[:300]!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(errors[0])
    return accepted


def platform_ingest(
    alerts: int, batch: int, concurrency: int = 1, *, enqueue: bool = True
) -> tuple[Ingest, Ingest | None, Ingest | None]:
    """(webhook in batches of `batch`, /v2/enqueue one per request, and the server's
    floor: as many `GET /healthz` as alerts), the last two unless `enqueue` is False."""
    with tempfile.TemporaryDirectory(prefix="firewatch-detection-bench-") as name:
        folder = Path(name)
        log = folder / "log.db"
        store = SQLiteEventStore(log, writer="detection", ownership=Ownership.platform())
        setup = DetectionApplication(store, system_clock, DetectionConfig())
        am_key = setup.create_integration("alertmanager", "alertmanager", created_by="bench").key
        pd_key = setup.create_integration("pagerduty", "pagerduty", created_by="bench").key
        (folder / "detection.yaml").write_text(CONFIG)
        port = free_port()
        env = {
            **os.environ,
            "FIREWATCH_STORE_URL": f"sqlite:///{log}",
            "FIREWATCH_DETECTION_CONFIG": str(folder / "detection.yaml"),
            "FIREWATCH_DETECTION_HTTP_PORT": str(port),
            "PYTHONWARNINGS": "ignore",
        }
        server = _started(["-m", "detection_service.http"], "detection HTTP on", env)
        try:
            floor = None
            if enqueue:
                # What this HTTP server answers when the application does nothing: the
                # ceiling for any one-alert-per-request path (ADR 0024).
                floor = _gets(port, "/healthz", alerts, concurrency, "server floor: GET /healthz")

            webhook_stream = am.alert_stream(alerts, group_size=batch, run_id="webhook")
            payloads = am.to_webhook_v4(webhook_stream)
            bodies = [json.dumps(p).encode() for p in payloads]
            counts = [len(p["alerts"]) for p in payloads]
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {am_key}"}
            _progress(f"detection: {alerts} alerts as {len(bodies)} webhooks")
            started = time.perf_counter()
            accepted = _post_all(port, "/v1/alertmanager", bodies, counts, headers, concurrency)
            webhook = Ingest("platform webhook v4", accepted, batch, time.perf_counter() - started)
            if not enqueue:
                return (*_checked(server, store, webhook, None), None)

            pd_stream = am.alert_stream(alerts, group_size=batch, run_id="pagerduty")
            events = am.to_pagerduty_triggers(pd_stream, pd_key)
            bodies = [json.dumps(e).encode() for e in events]
            _progress(f"detection: {alerts} PagerDuty trigger events")
            started = time.perf_counter()
            accepted = _post_all(
                port,
                "/v2/enqueue",
                bodies,
                [1] * len(bodies),
                {"Content-Type": "application/json"},
                concurrency,
            )
            enqueued = Ingest("platform /v2/enqueue", accepted, 1, time.perf_counter() - started)
            return (*_checked(server, store, webhook, enqueued), floor)
        finally:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
            store.close()


BARE_SERVER = """
import sys
from apikit.web import serve_wsgi

def empty(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]

server = serve_wsgi(empty, "127.0.0.1", int(sys.argv[1]))
print("serving", flush=True)
server.serve_forever()
"""


def bare_server_floor(requests: int, concurrency: int) -> Ingest:
    """Requests/s of the production server (apikit's cheroot, same settings) running an
    application that does nothing, in a process of its own: what any Python path on this
    server can reach at best, with this client, on this machine. The detection process's
    own `GET /healthz` adds its routing, authentication layer and metrics on top."""
    port = free_port()
    server = _started(["-c", BARE_SERVER, str(port)], "serving", None)
    try:
        return _gets(port, "/", requests, concurrency, "bare server: empty WSGI app")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _started(argv: list[str], ready: str, env: dict[str, str] | None) -> subprocess.Popen[str]:
    """A Python child started with `argv`, once it printed `ready`; its further output
    is drained in the background so that it never blocks on a full pipe."""
    child = subprocess.Popen(
        [sys.executable, *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:
        if ready in line:
            break
    threading.Thread(target=child.stdout.read, daemon=True).start()
    return child


def _gets(port: int, path: str, requests: int, concurrency: int, name: str) -> Ingest:
    """`requests` keep-alive GETs of `path`, timed: requests/s as an Ingest row."""
    started = time.perf_counter()
    served = _post_all(port, path, [b""] * requests, [1] * requests, {}, concurrency, "GET")
    return Ingest(name, served, 1, time.perf_counter() - started)


def _checked(
    server: subprocess.Popen[str], store: SQLiteEventStore, webhook: Ingest, enqueued: Ingest | None
) -> tuple[Ingest, Ingest | None]:
    """Stop the server, then prove every accepted alert is in the log."""
    server.terminate()
    server.wait(timeout=30)
    accepted = webhook.alerts + (enqueued.alerts if enqueued else 0)
    stored = sum(
        1 for event in store.read_all(filter=EventFilter.of(event_types=["AlertTriggered"]))
    )
    if stored < accepted:
        raise RuntimeError(f"accepted {accepted} alerts, stored {stored}")
    return webhook, enqueued


BATCHES = (1, 100)
CONNECTIONS = (1, 8)


def compare(
    alerts: int,
    batches: Sequence[int] = BATCHES,
    connections: Sequence[int] = CONNECTIONS,
) -> str:
    """Measure both sides at every batch size and connection count; the markdown section.

    Each platform measurement gets a fresh detection process and log; each Alertmanager
    measurement a fresh Alertmanager. /v2/enqueue (one event per request) is measured
    alongside the one-alert webhook and compared with the same Alertmanager run."""
    rows: list[tuple[str, int, int, float, float]] = []
    for concurrency in connections:
        for batch in batches:
            webhook, enqueued, floor = platform_ingest(
                alerts, batch, concurrency, enqueue=batch == 1
            )
            theirs = am.measure_alertmanager_ingest(alerts, batch, concurrency=concurrency)
            rows.append((webhook.name, batch, concurrency, webhook.rate, theirs.rate))
            if enqueued is not None:
                rows.append((enqueued.name, 1, concurrency, enqueued.rate, theirs.rate))
            if floor is not None:
                rows.append((floor.name, 1, concurrency, floor.rate, theirs.rate))
                bare = bare_server_floor(alerts, concurrency)
                rows.append((bare.name, 1, concurrency, bare.rate, theirs.rate))
            _progress(
                f"{batch}/request, {concurrency} connection(s): webhook {webhook.rate:,.0f}/s"
                + (f", enqueue {enqueued.rate:,.0f}/s" if enqueued else "")
                + f", Alertmanager {theirs.rate:,.0f}/s"
            )
    lines = [
        "## Detection ingest vs Alertmanager 0.25 (same alert stream, same run)",
        "",
        "Alerts/s accepted and durably appended (platform) or accepted and stored "
        "(Alertmanager `POST /api/v2/alerts`), the same number of client connections on "
        "both sides. The server floor row is requests/s of `GET /healthz` on the same "
        "detection process (no application work): no one-alert-per-request path can beat it. "
        "The bare server row is the same server (apikit's cheroot, same settings) running an "
        "application that does nothing, in a process of its own: the ceiling of any Python "
        "path on this server with this client on this machine.",
        "",
        "| path | alerts per request | connections | platform alerts/s "
        "| Alertmanager alerts/s | ratio | target ≥ 1× |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, per_request, concurrency, ours, am_rate in rows:
        ratio = ours / am_rate
        lines.append(
            f"| {name} | {per_request} | {concurrency} | {ours:,.0f} | {am_rate:,.0f} | "
            f"{ratio:.2f}× | {'PASS' if ratio >= 1 else 'MISS'} |"
        )
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    print(compare(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
