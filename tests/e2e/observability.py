"""Real Prometheus + Alertmanager for end-to-end detection tests, independent of the platform.

This module owns everything needed to make real monitoring tools page a receiver:

- ``CheckoutApp``: a tiny HTTP app (stdlib, in a thread) exposing Prometheus counters
  ``http_requests_total{code, service="checkout"}`` whose 5xx ratio can be broken and healed;
- ``Prometheus`` and ``Alertmanager``: the Debian binaries started on 127.0.0.1 with free
  ports and private temp configs/data dirs (system configs are never read or written);
- ``ObservabilityStack``: the three wired together — Prometheus scrapes the app every 1 s and
  evaluates a ratio rule with ``for: 3s``; Alertmanager routes to a webhook (v4) receiver and
  a ``pagerduty_configs`` receiver whose ``url:`` points at ``<base>/v2/enqueue``;
- ``RecordingReceiver``: a plain HTTP receiver that records what Alertmanager sends (the
  harness self-test's stand-in for the platform);
- ``fingerprint``, ``group_key``, ``pagerduty_dedup_key``: how Alertmanager 0.25 derives the
  identifiers it sends, so tests and benchmarks can predict them.

Every process is started by this module, tracked by its PID and stopped by that PID only
(terminate → wait → kill). Their logs are kept and attached to failure messages.
Binaries come from PATH (override with FIREWATCH_PROMETHEUS_BIN / FIREWATCH_ALERTMANAGER_BIN);
install them with deploy/local/install-observability.sh.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from tests.ports import free_port

INSTALL_HINT = "run deploy/local/install-observability.sh (as root; CI installs them)"
ALERT_NAME = "CheckoutHighErrorRatio"
# The rule from the detection issue: 5xx / all > 1%. A 10 s window over 1 s scrapes has
# ~10 samples, enough for rate() while still forgetting a healed fault within ~10 s.
ERROR_RATIO_EXPR = (
    'sum(rate(http_requests_total{service="checkout",code=~"5.."}[10s]))'
    ' / sum(rate(http_requests_total{service="checkout"}[10s]))'
)
RULE_EXPR = f"{ERROR_RATIO_EXPR} > 0.01"
LOG_TAIL_LINES = 40


class MissingBinariesError(RuntimeError):
    """The Prometheus/Alertmanager binaries are not installed."""


class HarnessError(AssertionError):
    """A wait on an external server timed out or a server died; carries the servers' logs.

    An AssertionError so that pytest reports it as a test failure with the message shown.
    """


# --------------------------------------------------------------------------- binaries


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    alertmanager: str


def find_binaries() -> Binaries:
    """Locate the servers, or raise MissingBinariesError saying how to install them.

    Debian names the Alertmanager binary ``prometheus-alertmanager``; upstream tarballs
    call it ``alertmanager``, so both are accepted.
    """
    prometheus = os.environ.get("FIREWATCH_PROMETHEUS_BIN") or shutil.which("prometheus")
    alertmanager = (
        os.environ.get("FIREWATCH_ALERTMANAGER_BIN")
        or shutil.which("prometheus-alertmanager")
        or shutil.which("alertmanager")
    )
    missing = [
        name
        for name, path in (("prometheus", prometheus), ("prometheus-alertmanager", alertmanager))
        if not path
    ]
    if missing or prometheus is None or alertmanager is None:
        raise MissingBinariesError(
            f"real end-to-end tests need {' and '.join(missing)} on PATH: {INSTALL_HINT}"
        )
    return Binaries(prometheus=prometheus, alertmanager=alertmanager)


# --------------------------------------------------------------------------- HTTP helpers


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body or raw text). Never raises on 4xx/5xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- the app


class CheckoutApp:
    """The monitored service: serves ``/metrics`` with request counters.

    Traffic is simulated, not served: the counters advance with wall-clock time at
    ``requests_per_second`` whenever they are read, with ``error_ratio`` of them 5xx. So the
    ratio over any window is exact and a break or heal takes effect at the instant it is
    called, whatever the scrape timing — no background loop to keep alive or to race.
    """

    def __init__(
        self,
        requests_per_second: float = 200.0,
        broken_error_ratio: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests_per_second = requests_per_second
        self._clock = clock
        self.broken_error_ratio = broken_error_ratio
        self._lock = threading.Lock()
        self._ok = 0.0
        self._errors = 0.0
        self._error_ratio = 0.0
        self._last = clock()
        self.scrapes = 0
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                body = app.render().encode()
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per scrape each second would drown the test output

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="checkout-app", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    @property
    def error_ratio(self) -> float:
        return self._error_ratio

    def stop(self) -> None:
        if not self._thread.is_alive():
            # shutdown() waits for serve_forever() to acknowledge: it would hang forever.
            self._server.server_close()
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _advance(self) -> None:
        now = self._clock()
        requests = (now - self._last) * self.requests_per_second
        self._last = now
        self._errors += requests * self._error_ratio
        self._ok += requests * (1.0 - self._error_ratio)

    def set_error_ratio(self, ratio: float) -> None:
        with self._lock:
            self._advance()
            self._error_ratio = ratio

    def render(self) -> str:
        with self._lock:
            self._advance()
            self.scrapes += 1
            # floor() of a growing float never decreases, so these stay valid counters.
            ok, errors = math.floor(self._ok), math.floor(self._errors)
        # Both series exist from the first scrape: rate() over an absent 5xx series would
        # make the ratio vanish instead of reading 0 while healthy.
        return (
            "# HELP http_requests_total Requests served, by status code.\n"
            "# TYPE http_requests_total counter\n"
            f'http_requests_total{{code="200",service="checkout"}} {ok}\n'
            f'http_requests_total{{code="500",service="checkout"}} {errors}\n'
        )


# --------------------------------------------------------------------------- processes


class ManagedProcess:
    """One external server started by us, with its log file. Stops only its own PID."""

    def __init__(self, name: str, argv: list[str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = self.argv
        # If the test process dies without cleaning up (SIGKILL, pytest-timeout's thread
        # method calling os._exit), PR_SET_PDEATHSIG makes the kernel stop the server too.
        # setpriv sets it and then execs, so the PID we track is the server's own.
        setpriv = shutil.which("setpriv")
        if setpriv:
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our Ctrl-C handling, not the terminal's, stops it
            )

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, grace: float = 10.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    *,
    interval: float = 0.2,
    context: Callable[[], str] = lambda: "",
) -> Any:
    """Poll ``predicate`` until it returns something truthy; return that value.

    Used only for conditions held by external processes (Prometheus, Alertmanager) that
    offer no way to be notified. On timeout raises HarnessError naming ``what``, with the
    last exception the predicate raised and ``context()`` (the servers' logs).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
        except (OSError, ValueError, KeyError, TypeError) as error:
            value, last_error = None, error
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = f"\nlast error: {last_error!r}" if last_error else ""
            raise HarnessError(
                f"timed out after {timeout:.0f} s waiting for {what}{detail}\n{context()}"
            )
        time.sleep(interval)  # sleep-ok: polling an external server


def _write_json_config(path: Path, config: Mapping[str, Any]) -> Path:
    # JSON is valid YAML, so both servers read it, and it needs no YAML library or escaping.
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


class _Server:
    """A Prometheus-family server on 127.0.0.1 with a free port and a private dir."""

    name = "server"

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self.proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        # Another process may take the port between free_port() and bind: try a new one.
        for _attempt in range(3):
            self.port = free_port()
            self.proc = ManagedProcess(self.name, self.argv(), self.workdir)
            self.proc.start()
            try:
                wait_until(self._ready, timeout, f"{self.name} on {self.url} to be ready")
                return
            except HarnessError:
                if self.proc.exited() is None or "address already in use" not in self.log():
                    self.stop()
                    raise HarnessError(
                        f"{self.name} did not become ready on {self.url}\n{self.describe()}"
                    ) from None
                self.stop()
        raise HarnessError(f"{self.name} lost the race for a free port 3 times\n{self.describe()}")

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.exited() is not None:
            raise HarnessError(f"{self.name} exited with {self.proc.exited()}\n{self.describe()}")
        status, _ = http_json("GET", f"{self.url}/-/ready", timeout=1.0)
        return status == 200

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def log(self) -> str:
        return self.proc.log_tail() if self.proc else "(not started)"

    def describe(self) -> str:
        pid = self.proc.pid if self.proc else None
        return f"--- {self.name} (pid {pid}, {self.url}) log tail:\n{self.log()}"


class Prometheus(_Server):
    name = "prometheus"

    def __init__(
        self,
        binary: str,
        workdir: Path,
        *,
        scrape_url: str,
        alertmanager_url: str,
        rule_for: str = "3s",
    ) -> None:
        super().__init__(binary, workdir)
        host = scrape_url.split("://", 1)[-1].rstrip("/")
        am_host = alertmanager_url.split("://", 1)[-1].rstrip("/")
        self.rules_path = _write_json_config(
            workdir / "rules.yml",
            {
                "groups": [
                    {
                        "name": "checkout",
                        "interval": "1s",
                        "rules": [
                            {
                                "alert": ALERT_NAME,
                                "expr": RULE_EXPR,
                                "for": rule_for,
                                "labels": {"severity": "critical", "service": "checkout"},
                                "annotations": {
                                    "summary": "checkout 5xx ratio is above 1%",
                                    "description": "5xx ratio over 10s is {{ $value }}",
                                },
                            }
                        ],
                    }
                ]
            },
        )
        self.config_path = _write_json_config(
            workdir / "prometheus.yml",
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(self.rules_path)],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am_host]}]}]},
                "scrape_configs": [
                    {
                        "job_name": "checkout",
                        "scrape_interval": "1s",
                        "scrape_timeout": "900ms",
                        "static_configs": [{"targets": [host]}],
                    }
                ],
            },
        )

    def argv(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url={self.url}/",
            "--storage.tsdb.retention.time=1h",
        ]

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.url}/api/v1/query?query={urllib.parse.quote(expr)}"
        status, body = http_json("GET", url)
        if status != 200:
            raise HarnessError(f"query {expr!r} failed: {status} {body}")
        return list(body["data"]["result"])

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts in Prometheus' own view (pending and firing), from /api/v1/alerts."""
        status, body = http_json("GET", f"{self.url}/api/v1/alerts")
        if status != 200:
            raise HarnessError(f"/api/v1/alerts failed: {status} {body}")
        return list(body["data"]["alerts"])

    def active_alertmanagers(self) -> list[str]:
        status, body = http_json("GET", f"{self.url}/api/v1/alertmanagers")
        if status != 200:
            return []
        return [entry["url"] for entry in body["data"]["activeAlertmanagers"]]


NULL_RECEIVER = "null"


class Alertmanager(_Server):
    """Alertmanager with one route. Without webhook/PagerDuty URLs it routes to a receiver
    with no integrations, so it stores and groups alerts but sends nothing (benchmarks)."""

    name = "alertmanager"

    def __init__(
        self,
        binary: str,
        workdir: Path,
        *,
        webhook_url: str | None = None,
        pagerduty_url: str | None = None,
        routing_key: str | None = None,
        webhook_token: str | None = None,
        group_by: tuple[str, ...] = ("alertname", "service"),
    ) -> None:
        super().__init__(binary, workdir)
        receiver: dict[str, Any] = {
            "name": "platform" if webhook_url or pagerduty_url else NULL_RECEIVER
        }
        if webhook_url:
            webhook: dict[str, Any] = {"url": webhook_url, "send_resolved": True}
            if webhook_token:
                webhook["http_config"] = {
                    "authorization": {"type": "Bearer", "credentials": webhook_token}
                }
            receiver["webhook_configs"] = [webhook]
        if pagerduty_url:
            if not routing_key:
                raise ValueError("pagerduty_url needs a routing_key")
            receiver["pagerduty_configs"] = [
                {
                    "url": pagerduty_url,
                    "routing_key": routing_key,
                    # As the README advises: the group's service travels as
                    # payload.component, which names the incident's service.
                    "component": "{{ .CommonLabels.service }}",
                    "send_resolved": True,
                }
            ]
        self.config_path = _write_json_config(
            workdir / "alertmanager.yml",
            {
                # Applies only to alerts posted without endsAt; Prometheus always sets one.
                "global": {"resolve_timeout": "10s"},
                "route": {
                    "receiver": receiver["name"],
                    "group_by": list(group_by),
                    # Notify at once, re-notify a changed group after 1 s, never repeat an
                    # unchanged one during a test.
                    "group_wait": "0s",
                    "group_interval": "1s",
                    "repeat_interval": "24h",
                },
                "receivers": [receiver],
            },
        )

    def argv(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            f"--web.external-url={self.url}/",
            # Empty: no gossip cluster, so no second port and no peer lookups.
            "--cluster.listen-address=",
        ]

    def alerts(self) -> list[dict[str, Any]]:
        status, body = http_json("GET", f"{self.url}/api/v2/alerts")
        if status != 200:
            raise HarnessError(f"/api/v2/alerts failed: {status} {body}")
        return list(body)


# --------------------------------------------------------------------------- the stack


class ObservabilityStack:
    """App → Prometheus → Alertmanager → (webhook_url, pagerduty_url), on 127.0.0.1.

    ``with ObservabilityStack(webhook_url, pagerduty_url, routing_key) as stack:`` starts
    all three, waits until Prometheus scrapes the app, evaluates the rule to a healthy 0
    and knows the Alertmanager; then ``stack.break_app()`` / ``stack.heal_app()`` drive it.
    Leaving the block stops every process it started and removes its temp dir (kept when
    FIREWATCH_KEEP_E2E_DIRS=1, for debugging). One instance is entered once.
    """

    def __init__(
        self,
        webhook_url: str,
        pagerduty_url: str,
        routing_key: str,
        webhook_token: str | None = None,
        *,
        rule_for: str = "3s",
        broken_error_ratio: float = 0.2,
        startup_timeout: float = 60.0,
    ) -> None:
        self.binaries = find_binaries()
        self.webhook_url = webhook_url
        self.pagerduty_url = pagerduty_url
        self.routing_key = routing_key
        self.webhook_token = webhook_token
        self.rule_for = rule_for
        self.startup_timeout = startup_timeout
        self.app = CheckoutApp(broken_error_ratio=broken_error_ratio)
        self.workdir: Path | None = None
        self._keep_workdir = os.environ.get("FIREWATCH_KEEP_E2E_DIRS") == "1"
        self.alertmanager: Alertmanager | None = None
        self.prometheus: Prometheus | None = None
        self.broken_at: datetime | None = None
        self.healed_at: datetime | None = None

    # -- lifecycle

    def __enter__(self) -> Self:
        self.workdir = Path(tempfile.mkdtemp(prefix="firewatch-obs-"))
        try:
            self.app.start()
            self.alertmanager = Alertmanager(
                self.binaries.alertmanager,
                self.workdir / "alertmanager",
                webhook_url=self.webhook_url,
                pagerduty_url=self.pagerduty_url,
                routing_key=self.routing_key,
                webhook_token=self.webhook_token,
            )
            self.alertmanager.start(self.startup_timeout)
            self.prometheus = Prometheus(
                self.binaries.prometheus,
                self.workdir / "prometheus",
                scrape_url=self.app.url,
                alertmanager_url=self.alertmanager.url,
                rule_for=self.rule_for,
            )
            self.prometheus.start(self.startup_timeout)
            self._wait_healthy_baseline()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Prometheus first: it would otherwise log errors about the vanished Alertmanager.
        for server in (self.prometheus, self.alertmanager):
            if server is not None:
                server.stop()
        self.app.stop()
        if self.workdir is not None and not self._keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _wait_healthy_baseline(self) -> None:
        prometheus = self._prometheus()
        am_api = f"{self.alertmanager_url}/api/v2/alerts"
        self.wait_until(
            lambda: any(
                url.startswith(self.alertmanager_url) for url in prometheus.active_alertmanagers()
            ),
            self.startup_timeout,
            f"Prometheus to discover the Alertmanager at {am_api}",
        )
        # The ratio exists only once rate() has two samples of both series: until then a
        # break could not be seen, so the test's clock would start too early.
        self.wait_until(
            lambda: any(float(r["value"][1]) == 0.0 for r in prometheus.query(ERROR_RATIO_EXPR)),
            self.startup_timeout,
            "Prometheus to scrape the app and evaluate a healthy 5xx ratio of 0",
        )

    # -- driving the app

    def break_app(self) -> datetime:
        """Start serving ``broken_error_ratio`` 5xx (20% by default); returns the instant."""
        self.app.set_error_ratio(self.app.broken_error_ratio)
        self.broken_at = _utc_now()
        return self.broken_at

    def heal_app(self) -> datetime:
        self.app.set_error_ratio(0.0)
        self.healed_at = _utc_now()
        return self.healed_at

    # -- observing

    @property
    def prometheus_url(self) -> str:
        return self._prometheus().url

    @property
    def alertmanager_url(self) -> str:
        if self.alertmanager is None:
            raise RuntimeError("stack not started")
        return self.alertmanager.url

    def _prometheus(self) -> Prometheus:
        if self.prometheus is None:
            raise RuntimeError("stack not started")
        return self.prometheus

    def prometheus_alerts(self, state: str | None = None) -> list[dict[str, Any]]:
        """Prometheus' alerts named ALERT_NAME, optionally only those in ``state``."""
        return [
            alert
            for alert in self._prometheus().alerts()
            if alert["labels"].get("alertname") == ALERT_NAME
            and (state is None or alert["state"] == state)
        ]

    def error_ratio(self) -> float | None:
        result = self._prometheus().query(ERROR_RATIO_EXPR)
        return float(result[0]["value"][1]) if result else None

    def pids(self) -> list[int]:
        servers = (self.prometheus, self.alertmanager)
        return [s.proc.pid for s in servers if s and s.proc and s.proc.pid is not None]

    def logs(self) -> str:
        parts = [f"app: {self.app.scrapes} scrapes, error ratio now {self.app.error_ratio}"]
        parts += [s.describe() for s in (self.prometheus, self.alertmanager) if s is not None]
        return "\n".join(parts)

    def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll a condition on the external servers; on timeout fail with their logs."""
        return wait_until(predicate, timeout, what, context=self.logs)


# --------------------------------------------------------------------------- receiver


@dataclass(frozen=True)
class Delivery:
    """One HTTP request the receiver got."""

    path: str
    headers: dict[str, str]
    body: Any
    received_at: datetime


@dataclass
class RecordingReceiver:
    """A plain HTTP receiver that records every POST (stdlib server in a thread).

    Answers like the platform will: ``/v2/enqueue`` gets PagerDuty's 202 success body,
    anything else 200. Waiting for deliveries is event-based (a Condition notified per
    request), not polling.
    """

    deliveries: list[Delivery] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                receiver._record(Delivery(self.path, dict(self.headers.items()), body, _utc_now()))
                if self.path.rstrip("/").endswith("/v2/enqueue"):
                    dedup = body.get("dedup_key", "") if isinstance(body, dict) else ""
                    reply = {"status": "success", "message": "Event processed", "dedup_key": dedup}
                    status = HTTPStatus.ACCEPTED
                else:
                    reply, status = {"status": "ok"}, HTTPStatus.OK
                payload = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="recording-receiver", daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, delivery: Delivery) -> None:
        with self._cond:
            self.deliveries.append(delivery)
            self._cond.notify_all()

    def on(self, path: str) -> list[Delivery]:
        with self._cond:
            return [d for d in self.deliveries if d.path == path]

    def wait_for(
        self,
        predicate: Callable[[list[Delivery]], Any],
        timeout: float,
        what: str,
        context: Callable[[], str] = lambda: "",
    ) -> Any:
        """Block until ``predicate(deliveries)`` is truthy; return its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(list(self.deliveries))
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = "\n".join(
                        f"  {d.received_at:%H:%M:%S.%f} POST {d.path} {json.dumps(d.body)[:300]}"
                        for d in self.deliveries
                    )
                    raise HarnessError(
                        f"timed out after {timeout:.0f} s waiting for {what}; received:\n"
                        f"{got or '  nothing'}\n{context()}"
                    )
                self._cond.wait(remaining)


# --------------------------------------------------------------------------- fingerprints

_FNV64_OFFSET = 14695981039346656037
_FNV64_PRIME = 1099511628211
_SEPARATOR = 0xFF


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's alert fingerprint: prometheus/common model.LabelSet.Fingerprint().

    FNV-1a 64 over the label names in sorted order, each name and value followed by a
    0xFF byte, printed as 16 hex digits. Lets tests (and the platform's benchmarks) predict
    the ``fingerprint`` field Alertmanager puts in webhook payloads.
    """
    value = _FNV64_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                value = ((value ^ byte) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
            value = ((value ^ _SEPARATOR) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def group_key(group_labels: Mapping[str, str]) -> str:
    """Alertmanager's groupKey for a group under the root route: ``{}:{a="x", b="y"}``."""
    inner = ", ".join(f'{name}="{group_labels[name]}"' for name in sorted(group_labels))
    return f"{{}}:{{{inner}}}"


def pagerduty_dedup_key(key: str) -> str:
    """The dedup_key Alertmanager's pagerduty_configs sends: sha256 hex of the groupKey, so
    one PagerDuty incident per alert group, shared by its trigger and resolve."""
    return hashlib.sha256(key.encode()).hexdigest()
