"""The detection HTTP ingestion process: what existing tools already speak.

    POST /v1/alertmanager   Alertmanager webhook v4; `Authorization: Bearer <key>`
    POST /v2/enqueue        PagerDuty Events API v2 (routing_key in the body)
    POST /v1/samples        metric samples for the platform's own rules (Bearer key)
    GET  /healthz           liveness
    GET  /metrics           Prometheus metrics

With FIREWATCH_DETECTION_API_ENABLED=1 the process also serves the gRPC AlertService
(api.py, FIREWATCH_DETECTION_API_HOST/PORT, default 127.0.0.1:50052) on the same
application instance.

Thin: each handler authenticates, decodes JSON, delegates to DetectionApplication and
maps its errors to the protocol's responses. Served by apikit.web (cheroot: plain OS
threads in this one process, so the single writer stays single; keep-alive; at most
FIREWATCH_DETECTION_HTTP_MAX_IN_FLIGHT requests at once, the rest answered 503 with
Retry-After; https when FIREWATCH_DETECTION_HTTP_TLS_CERT/_KEY are set; ADR 0023).
This process is also the ONE place timers fire: a ticker thread
calls `app.tick()` every second (tests call `tick()` on a FakeClock instead), and the
one place synthetic checks run (synthetics.CheckScheduler, ADR 0021; their
`firewatch_check_*` series are on /metrics).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from apikit.auth import AuthenticationError, Role, TokenRegistry
from apikit.endpoints import Access, Endpoint, url_map
from apikit.rpc import TlsFiles, tls_files
from apikit.web import WebServer, serve_wsgi
from appkit import acting_with
from contracts.domain import DomainError, InvalidCommandError
from detection_service.app import DetectionApplication, InvalidPayloadError, UnknownIntegrationError
from detection_service.config import DetectionSettings
from detection_service.integration import Integration, IntegrationKind
from detection_service.ratelimit import TokenBuckets
from detection_service.routing import DetectionConfig, load_config
from detection_service.rule import load_rules_file
from eventlog import BackendUnavailableError, open_store
from eventlog.clock import system_clock

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 512 * 1024
"""PagerDuty's documented limit for one event; applied to every endpoint."""
SAMPLE_RATE_COST = 0.0
"""Samples are not alerts: they are not counted against the alert rate limit."""

Handler = Callable[[Request], Response]


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _pd_invalid(errors: Iterable[str]) -> Response:
    return _json(
        400,
        {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)},
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        return None
    return credential.strip()


ENDPOINTS = (
    Endpoint("/v1/alertmanager", "alertmanager", Access.SENDERS, ("POST",)),
    Endpoint("/v2/enqueue", "enqueue", Access.INTEGRATION_KEY, ("POST",)),
    Endpoint("/v1/samples", "samples", Access.SENDERS, ("POST",)),
    Endpoint("/healthz", "healthz", Access.OPEN, ("GET",)),
    Endpoint("/metrics", "metrics", Access.OPEN, ("GET",)),
)
"""Every path this server answers, and who may call it (apikit.endpoints)."""


class DetectionHttp:
    """The WSGI application. `tokens` (API tokens) may also send samples and alerts."""

    def __init__(self, app: DetectionApplication, tokens: TokenRegistry | None = None) -> None:
        self.app = app
        self.tokens = tokens
        limits = app.config.rate_limit
        self.buckets = TokenBuckets(limits.events_per_second, limits.burst)
        self.metrics = CollectorRegistry()
        self.requests = Counter(
            "firewatch_detection_http_requests",
            "HTTP requests by endpoint and status code",
            ["endpoint", "code"],
            registry=self.metrics,
        )
        self.latency = Histogram(
            "firewatch_detection_http_seconds",
            "HTTP request handling time",
            ["endpoint"],
            registry=self.metrics,
        )
        self.ticks = Counter(
            "firewatch_detection_tick_events",
            "Events appended by timers (auto-resolve, heartbeats, rules, silences)",
            registry=self.metrics,
        )
        self.routes = url_map(ENDPOINTS)
        self.handlers: dict[str, Handler] = {
            "alertmanager": self.alertmanager,
            "enqueue": self.enqueue,
            "samples": self.samples,
            "healthz": lambda _request: _json(200, {"status": "ok"}),
            "metrics": lambda _request: Response(
                generate_latest(self.metrics), mimetype=CONTENT_TYPE_LATEST
            ),
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        endpoint = "unknown"
        try:
            endpoint, _ = self.routes.bind_to_environ(environ).match()
            with self.latency.labels(endpoint).time():
                response = self.handlers[str(endpoint)](request)
        except (NotFound, MethodNotAllowed) as exc:
            response = _json(exc.code or 404, {"status": "error", "message": exc.description})
        except HTTPException as exc:  # pragma: no cover - werkzeug-raised protocol errors
            response = _json(exc.code or 400, {"status": "error", "message": exc.description})
        except BackendUnavailableError:
            log.exception("event log unavailable")
            response = _json(503, {"status": "unavailable", "message": "event log unavailable"})
        except Exception:
            log.exception("unexpected error on %s", request.path)
            response = _json(500, {"status": "error", "message": "internal error"})
        self.requests.labels(str(endpoint), str(response.status_code)).inc()
        return response(environ, start_response)

    # ------------------------------------------------------------------ helpers

    def _body(self, request: Request) -> tuple[Any, str | None, int]:
        """(decoded JSON, None, 200) or (None, the problem, 413 for a body over the
        limit, else 400). The status is decided here, where the cause is known, not
        from the message's words (a JSON parser's "delimiter" once read as "limit")."""
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return (
                None,
                f"body: is {length} bytes; the limit is {MAX_BODY_BYTES} bytes (512 KB)",
                413,
            )
        raw = request.stream.read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            return None, f"body: is over the limit of {MAX_BODY_BYTES} bytes (512 KB)", 413
        try:
            return json.loads(raw), None, 200
        except (ValueError, UnicodeDecodeError) as exc:
            return None, f"body: malformed JSON: {exc}", 400

    def _integration(
        self, request: Request, *, alerts: bool = True
    ) -> tuple[Integration, str | None] | str | Response:
        """The integration the request speaks for; else why it has none (a 401's
        message), or the 403 for a token that authenticated but may not send. `alerts`:
        the request sends alerts as that integration (not only samples), so a token
        scoped to integrations is refused, since on this path it can send only as itself.
        Answers the integration with the API token's name when a token authenticated
        (the events' `credential`, as on gRPC), else None (an integration key)."""
        credential = _bearer(request)
        if credential is None:
            # Said plainly: a missing header is a setup mistake, not a bad key.
            return (
                "no credential: send the integration key (or an API token) as "
                "'Authorization: Bearer <key>'"
            )
        try:
            return self.app.authenticate(credential), None
        except UnknownIntegrationError:
            pass
        if self.tokens is not None and credential:
            try:
                principal = self.tokens.authenticate(credential)
            except AuthenticationError as error:
                return str(error)  # expired, revoked or unknown, each said plainly
            if principal.role not in (Role.ADMIN, Role.INTEGRATION):
                return self._forbidden(
                    f"{principal.credential} has role {principal.role.value}; sending "
                    "alerts needs admin or integration"
                )
            if not principal.may_call("alert"):
                return self._forbidden(
                    f"token {principal.credential!r} is not scoped to the alert API"
                )
            if alerts and principal.integrations:
                # Here a token always sends as itself, which its integrations scope forbids.
                return self._forbidden(
                    f"integration: token {principal.credential!r} is scoped to the "
                    f"integrations {', '.join(sorted(principal.integrations))}; send with "
                    "one of those integrations' keys (or SendAlert naming it), not as the token"
                )
            # The token's own name, never a bound person's: it names the sending tool.
            integration = Integration(
                integration_id=f"token.{principal.credential}"[:63],
                name=principal.credential,
                kind=IntegrationKind.API,
                created_at=self.app.clock(),
            )
            return integration, principal.credential
        return "unknown or revoked key"

    def _forbidden(self, message: str) -> Response:
        return _json(403, {"status": "forbidden", "message": message})

    def _unauthorized(self, message: str = "unknown or revoked key") -> Response:
        response = _json(401, {"status": "unauthorized", "message": message})
        response.headers["WWW-Authenticate"] = 'Bearer realm="firewatch-detection"'
        return response

    def _throttled(self, integration: Integration) -> bool:
        return not self.buckets.admit(integration.integration_id, self.app.clock())

    # ------------------------------------------------------------------ endpoints

    def alertmanager(self, request: Request) -> Response:
        sender = self._integration(request)
        if isinstance(sender, Response):
            return sender
        if isinstance(sender, str):
            return self._unauthorized(sender)
        integration, credential = sender
        body, problem, status = self._body(request)
        if problem is not None:
            return _json(status, {"status": "invalid", "errors": [problem]})
        if self._throttled(integration):
            return _json(429, {"status": "throttled", "message": "rate limit exceeded"})
        try:
            with acting_with(credential):
                results = self.app.ingest_alertmanager(body, integration)
        except InvalidPayloadError as exc:
            return _json(400, {"status": "invalid", "errors": exc.errors})
        return _json(
            200,
            {
                "status": "success",
                "alerts": [{"dedup_key": r.dedup_key, "alert_id": r.alert_id} for r in results],
            },
        )

    def enqueue(self, request: Request) -> Response:
        body, problem, _ = self._body(request)
        if problem is not None:
            return _pd_invalid([problem])
        # Authenticate before validating the rest, so strangers learn nothing.
        key = body.get("routing_key") if isinstance(body, dict) else None
        try:
            integration = self.app.authenticate(key if isinstance(key, str) else None)
        except UnknownIntegrationError as exc:
            if not isinstance(key, str) or not key.strip():
                return _pd_invalid(["routing_key: is missing or blank"])
            return _pd_invalid([f"routing_key: {exc}"])
        if self._throttled(integration):
            return _json(
                429,
                {
                    "status": "throttle event",
                    "message": "Requests for this service are arriving too quickly. "
                    "Please retry later.",
                },
            )
        try:
            dedup_key = self.app.ingest_pagerduty(body, integration)
        except InvalidPayloadError as exc:
            return _pd_invalid(exc.errors)
        except (InvalidCommandError, DomainError) as exc:
            return _pd_invalid([str(exc)])
        return _json(
            202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        )

    def samples(self, request: Request) -> Response:
        sender = self._integration(request, alerts=False)
        if isinstance(sender, Response):
            return sender
        if isinstance(sender, str):
            return self._unauthorized(sender)
        body, problem, status = self._body(request)
        if problem is not None:
            return _json(status, {"status": "invalid", "errors": [problem]})
        try:
            accepted = self.app.push_samples(body)
        except InvalidPayloadError as exc:
            return _json(400, {"status": "invalid", "errors": exc.errors})
        return _json(202, {"status": "success", "accepted": accepted})


class Ticker:
    """Calls `app.tick()` every `interval` seconds on a real thread until stopped."""

    def __init__(
        self, app: DetectionApplication, interval: float, on_tick: Callable[[int], None]
    ) -> None:
        self.app = app
        self.interval = interval
        self.on_tick = on_tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="detection-ticker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.on_tick(len(self.app.tick().event_types))
            except Exception:
                log.exception("tick failed; retrying at the next tick")


def serve(
    http: DetectionHttp,
    host: str,
    port: int,
    *,
    max_in_flight: int = 16,
    tls: TlsFiles | None = None,
) -> WebServer:
    """A threaded server bound to host:port (port 0 picks a free one); not started."""
    return serve_wsgi(
        http, host, port, max_in_flight=max_in_flight, tls=tls, name="firewatch-detection"
    )


def build_app(settings: DetectionSettings) -> DetectionApplication:
    config = (
        load_config(settings.detection_config) if settings.detection_config else DetectionConfig()
    )
    store = open_store(settings.store_url, writer="detection")
    app = DetectionApplication(store, system_clock, config)
    for path in config.rules_files:
        app.load_rules(load_rules_file(Path(path)), defined_by=f"file:{path}")
    return app


def main() -> int:
    from servicekit.metrics import include as include_metrics
    from servicekit.process import start as start_process

    start_process("detection-http")  # one log format, metrics on FIREWATCH_METRICS_PORT
    settings = DetectionSettings()
    app = build_app(settings)
    tokens = TokenRegistry(settings.tokens_file) if settings.tokens_file else None
    http = DetectionHttp(app, tokens)
    include_metrics(http.metrics)  # the ingestion counters on the metrics port too
    server = serve(
        http,
        settings.detection_http_host,
        settings.detection_http_port,
        max_in_flight=settings.detection_http_max_in_flight,
        tls=tls_files(settings.detection_http_tls_cert, settings.detection_http_tls_key),
    )
    grpc_server = None
    if settings.detection_api_enabled:
        # The gRPC AlertService on this same application instance: one writer and one
        # ticker for every ingestion path (ADR 0008). Imported here so the HTTP-only
        # process does not load grpc.
        from detection_service.api import start_api

        grpc_server = start_api(app, tokens or TokenRegistry.from_env(), settings)
        log.info("detection gRPC on %s:%s", settings.detection_api_host, grpc_server.port)
    ticker = Ticker(app, settings.detection_tick_seconds, http.ticks.inc)
    ticker.start()
    scheduler = None
    if settings.detection_checks_enabled:
        # Synthetic checks run here, next to the ticker that evaluates their rules.
        from detection_service.synthetics import CheckMetrics, CheckScheduler

        scheduler = CheckScheduler(
            app, workers=settings.detection_check_workers, metrics=CheckMetrics(http.metrics)
        )
        scheduler.start()

    def stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    # "detection HTTP on" is the line tests and benches wait for; the scheme follows.
    log.info(
        "detection HTTP on %s:%s (%s)",
        settings.detection_http_host,
        server.server_port,
        server.scheme,
    )
    try:
        server.serve_forever()
    finally:
        if grpc_server is not None:
            grpc_server.stop()
        ticker.stop()
        if scheduler is not None:
            scheduler.stop()
        app.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
