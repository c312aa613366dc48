"""The status page: `firewatch-statuspage` (WSGI on apikit.web: cheroot, plain threads, no
eventlet; https when FIREWATCH_STATUSPAGE_TLS_CERT/_KEY are set, ADR 0023).

Owns the HTTP surface, thin over `views.View` and `CommsApplication`:

    GET  /                               the public page (HTML, no JavaScript needed)
    GET  /incidents/<id>                 one public incident
    GET  /api/v2/summary.json | status.json | components.json | incidents.json
         /api/v2/incidents/unresolved.json
         /api/v2/scheduled-maintenances.json | /upcoming.json | /active.json
                                         the Statuspage v2 JSON API status tools read
    GET  /history.atom, /history.rss     the incident history as feeds
    POST /subscribe                      email subscription (double opt-in; rate-limited
                                         per client address: 429 with Retry-After)
    GET/POST /subscriptions/<id>/confirm?token=..   confirm (GET shows a button: mail
                                         scanners fetch links, only a POST confirms)
    GET/POST /unsubscribe/<id>/<sig>     one-click unsubscribe (RFC 8058 POST)
    GET  /internal, /internal/api/summary.json   every incident, drafts, internal notes
                                         and the incidents' promises; needs a token
                                         (Authorization: Bearer) with a reader role
    GET  /healthz
    GET  /metrics                        Prometheus: promises kept/missed per severity,
                                         deliveries per purpose and status

Every response to a GET carries an ETag derived from the log position it was rendered
at (a changed page has a new position), and If-None-Match answers 304. Each page is
rendered once per log position, body and headers together (`Rendered`), and the public
pages with a fixed path (`/`, the feeds, `/api/v2/*.json`) are answered from it without
werkzeug's request and response objects. The log is read only when it may have grown:
an `AppendWatch` (the SQLite log's doorbell, ADR 0022) says so after any process's
append, and at least every 50 ms in case a wake-up was lost; a response reflects every
event up to the position the process has caught up to when it is handled, and an
append that has returned anywhere is seen by the next request (ADR 0031).
User text is escaped by jinja2's autoescape in HTML and XML; JSON is json.dumps.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.http import parse_etags
from werkzeug.utils import get_content_type
from werkzeug.wrappers import Request, Response

from apikit.auth import READERS, AuthenticationError, TokenRegistry
from apikit.endpoints import Access, Endpoint, url_map
from apikit.web import WebServer, WsgiApp
from comms_service import room as rm
from comms_service import status_incident as si
from comms_service.app import CommsApplication
from comms_service.metrics import registry_for
from comms_service.settings import CommsSettings
from comms_service.views import View, measured_bars
from contracts.domain import DomainError, InvalidCommandError, NotFoundError
from eventlog.clock import Clock

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 16 * 1024

_TEMPLATES = Environment(
    loader=PackageLoader("comms_service", "templates"),
    autoescape=select_autoescape(["html", "atom", "rss", "xml"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _rfc822(value: str | None) -> str:
    if not value:
        return ""
    return format_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")), usegmt=True)


_TEMPLATES.globals["rfc822"] = _rfc822


ENDPOINTS = (
    Endpoint("/", "index", Access.OPEN),
    Endpoint("/healthz", "health", Access.OPEN),
    Endpoint("/metrics", "metrics", Access.OPEN),
    Endpoint("/incidents/<incident_id>", "incident", Access.OPEN),
    Endpoint("/api/v2/<path:name>", "api", Access.OPEN),
    Endpoint("/history.atom", "atom", Access.OPEN),
    Endpoint("/history.rss", "rss", Access.OPEN),
    Endpoint("/subscribe", "subscribe", Access.OPEN, ("POST",)),
    # The subscription links carry their own signed token or signature.
    Endpoint("/subscriptions/<subscriber_id>/confirm", "confirm", Access.SIGNED_LINK),
    Endpoint("/unsubscribe/<subscriber_id>/<signature>", "unsubscribe", Access.SIGNED_LINK),
    Endpoint("/internal", "internal", Access.READERS),
    Endpoint("/internal/api/<path:name>", "internal_api", Access.READERS),
)
"""Every path the status page answers, and who may call it (apikit.endpoints)."""


SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ),
)
"""On every response (set by default, so a handler may override one)."""

Render = Callable[[View], tuple[bytes, str]]

JSON_API: dict[str, Callable[[View], dict[str, Any]]] = {
    "summary.json": lambda v: v.summary(),
    "status.json": lambda v: {"page": v.page_json(), "status": v.status_json()},
    "components.json": lambda v: {"page": v.page_json(), "components": v.components_json()},
    "incidents.json": lambda v: {
        "page": v.page_json(),
        "incidents": [v.incident_json(i) for i in v.of_kind(si.Kind.INCIDENT)[:50]],
    },
    "incidents/unresolved.json": lambda v: {
        "page": v.page_json(),
        "incidents": [v.incident_json(i) for i in v.unresolved()],
    },
    "scheduled-maintenances.json": lambda v: {
        "page": v.page_json(),
        "scheduled_maintenances": v.maintenances("all"),
    },
    "scheduled-maintenances/upcoming.json": lambda v: {
        "page": v.page_json(),
        "scheduled_maintenances": v.maintenances("upcoming"),
    },
    "scheduled-maintenances/active.json": lambda v: {
        "page": v.page_json(),
        "scheduled_maintenances": v.maintenances("active"),
    },
}
"""The Statuspage v2 JSON documents under /api/v2/ (and /internal/api/)."""


def _json_render(build: Callable[[View], dict[str, Any]]) -> Render:
    def render(view: View) -> tuple[bytes, str]:
        return json.dumps(build(view), separators=(",", ":")).encode(), "application/json"

    return render


@dataclass(frozen=True, slots=True)
class Rendered:
    """One page as sent at one log position: the body and every header, made once and
    sent by every request until the position moves."""

    position: int
    etag: str
    """Quoted, as sent."""
    body: bytes
    headers: list[tuple[str, str]]
    not_modified: list[tuple[str, str]]
    """What a 304 carries: the same headers less the body's (RFC 9110 15.4.5)."""

    @classmethod
    def make(cls, position: int, key: str, internal: bool, body: bytes, mimetype: str) -> Rendered:
        tag = hashlib.sha256(b"%d|%s|%d" % (position, key.encode(), internal)).hexdigest()[:32]
        etag = f'"{tag}"'
        common = [
            ("ETag", etag),
            ("Cache-Control", "private, no-store" if internal else "public, no-cache"),
        ]
        if key.startswith("api/") and not internal:
            common.append(("Access-Control-Allow-Origin", "*"))
        common.extend(SECURITY_HEADERS)
        headers = [
            ("Content-Type", get_content_type(mimetype or "text/plain", "utf-8")),
            ("Content-Length", str(len(body))),
            *common,
        ]
        return cls(position, etag, body, headers, common)

    def unmodified_for(self, if_none_match: str | None) -> bool:
        """The client's If-None-Match names this version (weak comparison, as werkzeug's
        make_conditional does)."""
        return bool(if_none_match) and parse_etags(if_none_match).contains_weak(self.etag[1:-1])

    def response(self) -> Response:
        """As a werkzeug response (the paths that still go through werkzeug)."""
        return Response(self.body, headers=self.headers)


def _internal_error() -> Response:
    return Response("internal error\n", status=500, mimetype="text/plain")


class RateLimiter:
    """A token bucket per client address: `per_minute` requests, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when allowed; otherwise the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate else 60.0


class StatusPage:
    """The WSGI application."""

    def __init__(
        self,
        app: CommsApplication,
        *,
        tokens: TokenRegistry | None = None,
        subscribe_per_minute: int = 5,
        clock: Clock | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.clock = clock or app.clock
        self.limiter = RateLimiter(subscribe_per_minute)
        self.metrics = registry_for(app)
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, bool], Rendered] = {}
        self._watch = app.store.watch_appends()
        self.urls = url_map(ENDPOINTS)
        # The public pages with a fixed path, answered without werkzeug (ADR 0031).
        self._fixed: dict[str, tuple[str, Render]] = {
            "/": ("index", self._index),
            "/history.atom": ("atom", self._atom),
            "/history.rss": ("rss", self._rss),
            **{f"/api/v2/{name}": (f"api/{name}", _json_render(b)) for name, b in JSON_API.items()},
        }

    def close(self) -> None:
        """Release the append watch (the store's close does too)."""
        self._watch.close()

    # ------------------------------------------------------------------ WSGI

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "GET":
            fixed = self._fixed.get(environ.get("PATH_INFO", ""))
            if fixed is not None:
                # The hot path: a public page answered from its `Rendered` as it is.
                try:
                    page = self._rendered(fixed[0], False, fixed[1])
                except Exception:
                    log.exception("statuspage: GET %s failed", environ.get("PATH_INFO"))
                    return self._finish(_internal_error(), environ, start_response)
                if page.unmodified_for(environ.get("HTTP_IF_NONE_MATCH")):
                    start_response("304 Not Modified", page.not_modified)
                    return []
                start_response("200 OK", page.headers)
                return [page.body]
        request = Request(environ)
        try:
            adapter = self.urls.bind_to_environ(environ)
            endpoint, values = adapter.match()
            response: Response = getattr(self, f"on_{endpoint}")(request, **values)
        except HTTPException as error:
            response = error.get_response()
        except Exception:
            log.exception("statuspage: %s %s failed", request.method, request.path)
            response = _internal_error()
        return self._finish(response, environ, start_response)

    @staticmethod
    def _finish(
        response: Response, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name, value)
        return response(environ, start_response)

    # ------------------------------------------------------------------ rendering

    def _rendered(self, key: str, internal: bool, render: Render) -> Rendered:
        """The page `key` at the position the process has caught up to now; rendered
        (body, ETag and headers) only when that position moved."""
        projections = self.app.projections
        with self._lock:
            # Reads the log only if the watch says it may have grown (ADR 0031).
            position = projections.refresh(self._watch)
            hit = self._cache.get((key, internal))
            if hit is not None and hit.position == position:
                return hit
            view = View(projections.projection, public=not internal, now=self.clock())
            body, mimetype = render(view)
            page = Rendered.make(position, key, internal, body, mimetype)
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[(key, internal)] = page
            return page

    def _cached(self, request: Request, key: str, internal: bool, render: Render) -> Response:
        return self._rendered(key, internal, render).response().make_conditional(request)

    def _index(self, view: View) -> tuple[bytes, str]:
        return self._html(view, "status.html")

    def _atom(self, view: View) -> tuple[bytes, str]:
        return self._feed(view, "history.atom", "application/atom+xml")

    def _rss(self, view: View) -> tuple[bytes, str]:
        return self._feed(view, "history.rss", "application/rss+xml")

    def _html(self, view: View, template: str, **extra: Any) -> tuple[bytes, str]:
        internal = not view.public
        components = view.components_json()
        # A component with synthetic checks shows what they measured (ADR 0026); the
        # others keep the bars of the statuses set on the page.
        measured: dict[str, Any] = {}
        uptime: dict[str, Any] = {}
        for c in components:
            if c["group"]:
                continue
            checks = view.checks_of(c["id"])
            if checks:
                bars, fraction = measured_bars(checks, view.now, public=view.public)
                measured[c["id"]] = {
                    "bars": bars,
                    "pct": None if fraction is None else 100 * fraction,
                    "checks": [] if view.public else [s.name for s in checks],
                }
            else:
                uptime[c["id"]] = view.uptime(c["id"])
        context: dict[str, Any] = {
            "page": view.page_json(),
            "status": view.status_json(),
            "components": components,
            "uptime": uptime,
            "measured": measured,
            "uptime_pct": {k: 100 * sum(f for _, f, _ in v) / len(v) for k, v in uptime.items()},
            "incidents": [view.incident_json(i) for i in view.unresolved()],
            "maintenances": [
                view.incident_json(m)
                for m in view.of_kind(si.Kind.MAINTENANCE)
                if m.status is not si.IncidentStatus.COMPLETED
            ],
            "history": [view.incident_json(i) for i in view.of_kind(si.Kind.INCIDENT) if i.closed][
                :20
            ],
            "internal": internal,
            "rooms": [s for _, s in view.model.streams(rm.STREAM_CATEGORY)] if internal else [],
        }
        context.update(extra)
        return _TEMPLATES.get_template(template).render(**context).encode(), "text/html"

    def _message(
        self,
        heading: str,
        text: str,
        *,
        status: int = 200,
        action: str | None = None,
        button: str = "",
        fields: dict[str, str] | None = None,
    ) -> Response:
        view = View(self.app.model, public=True, now=self.clock())
        body = _TEMPLATES.get_template("message.html").render(
            page=view.page_json(),
            internal=False,
            heading=heading,
            text=text,
            action=action,
            button=button,
            fields=fields or {},
        )
        response = Response(body, status=status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        return response

    # ------------------------------------------------------------------ public

    def on_health(self, request: Request) -> Response:
        return Response("ok\n", mimetype="text/plain")

    def on_metrics(self, request: Request) -> Response:
        with self._lock:
            body = generate_latest(self.metrics)
        return Response(body, content_type=CONTENT_TYPE_LATEST)

    def on_index(self, request: Request) -> Response:
        return self._cached(request, "index", False, self._index)

    def on_incident(self, request: Request, incident_id: str) -> Response:
        try:
            wanted = uuid.UUID(incident_id)
        except ValueError:
            raise NotFound() from None

        def render(view: View) -> tuple[bytes, str]:
            for incident in view.incidents():
                if incident.drafted is not None and incident.drafted.status_incident_id == wanted:
                    return self._html(
                        view,
                        "status.html",
                        incidents=[view.incident_json(incident)],
                        history=[],
                        maintenances=[],
                    )
            return b"", ""

        page = self._rendered(f"incident/{wanted}", False, render)
        if not page.body:
            raise NotFound()
        return page.response().make_conditional(request)

    def on_api(self, request: Request, name: str) -> Response:
        return self._json(request, name, internal=False)

    def _json(self, request: Request, name: str, *, internal: bool) -> Response:
        build = JSON_API.get(name)
        if build is None:
            raise NotFound()
        return self._cached(request, f"api/{name}", internal, _json_render(build))

    def on_atom(self, request: Request) -> Response:
        return self._cached(request, "atom", False, self._atom)

    def on_rss(self, request: Request) -> Response:
        return self._cached(request, "rss", False, self._rss)

    def _feed(self, view: View, template: str, mimetype: str) -> tuple[bytes, str]:
        body = _TEMPLATES.get_template(template).render(
            page=view.page_json(), incidents=[view.incident_json(i) for i in view.incidents()[:50]]
        )
        return body.encode(), mimetype

    # ------------------------------------------------------------------ subscriptions

    def on_subscribe(self, request: Request) -> Response:
        wait = self.limiter.allow(request.remote_addr or "?")
        if wait:
            response = self._message(
                "Too many requests", "Please try again in a minute.", status=429
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        if (request.content_length or 0) > MAX_FORM_BYTES:
            return self._message("Request too large", "The form is too large.", status=413)
        email = request.form.get("email", "")
        components = request.form.getlist("component")
        try:
            self.app.subscribe_email(email, components)
        except InvalidCommandError as error:
            return self._message("Cannot subscribe", str(error), status=400)
        return self._message(
            "Check your email",
            "We sent a confirmation link. Nothing will be sent until you confirm.",
            status=202,
        )

    def on_confirm(self, request: Request, subscriber_id: str) -> Response:
        token = request.values.get("token", "")
        try:
            sub_id = uuid.UUID(subscriber_id)
        except ValueError:
            raise NotFound() from None
        if request.method != "POST":
            return self._message(
                "Confirm your subscription",
                "Press the button to start receiving updates.",
                action=f"/subscriptions/{sub_id}/confirm",
                button="Confirm",
                fields={"token": token},
            )
        try:
            self.app.confirm_subscription(sub_id, token)
        except NotFoundError:
            raise NotFound() from None
        except DomainError as error:
            return self._message("Cannot confirm", str(error), status=400)
        return self._message("Subscribed", "You will receive updates from now on.")

    def on_unsubscribe(self, request: Request, subscriber_id: str, signature: str) -> Response:
        try:
            sub_id = uuid.UUID(subscriber_id)
        except ValueError:
            raise NotFound() from None
        if request.method != "POST":
            return self._message(
                "Unsubscribe",
                "Press the button to stop receiving updates.",
                action=f"/unsubscribe/{sub_id}/{signature}",
                button="Unsubscribe",
            )
        try:
            self.app.unsubscribe(sub_id, signature, via="one-click")
        except NotFoundError:
            raise NotFound() from None
        except DomainError as error:
            return self._message("Cannot unsubscribe", str(error), status=400)
        return self._message("Unsubscribed", "You will not receive any more updates.")

    # ------------------------------------------------------------------ internal

    def _authorised(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        if self.tokens is None:
            return Response("internal page disabled: no tokens file\n", status=403)
        try:
            principal = self.tokens.authenticate(token)
        except AuthenticationError as error:
            response = Response(f"{error}\n", status=401, mimetype="text/plain")
            response.headers["WWW-Authenticate"] = 'Bearer realm="firewatch"'
            return response
        if principal.role not in READERS:
            return Response("this role may not read the internal page\n", status=403)
        if not principal.may_call("comms"):
            return Response("this token is not scoped to communications\n", status=403)
        return None

    def on_internal(self, request: Request) -> Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        return self._cached(request, "index", True, self._index)

    def on_internal_api(self, request: Request, name: str) -> Response:
        refused = self._authorised(request)
        if refused is not None:
            return refused
        return self._json(request, name, internal=True)


def create_page(settings: CommsSettings) -> StatusPage:
    """The status page as `firewatch-statuspage` runs it: its log, application and
    tokens from `settings` (the benchmark starts it through here too)."""
    from eventlog import open_store
    from eventlog.clock import system_clock

    store = open_store(settings.store_url, writer="communications")
    app = CommsApplication(
        store,
        system_clock,
        secret=settings.secret(),
        page_url=settings.page_url,
        routing=settings.routing(),
        cadence=settings.cadence(),
        templates=settings.templates(),
    )
    tokens = TokenRegistry(Path(settings.tokens_file)) if settings.tokens_file else None
    return StatusPage(
        app, tokens=tokens, subscribe_per_minute=settings.statuspage_subscribe_per_minute
    )


def create_server(settings: CommsSettings, wsgi: WsgiApp) -> WebServer:
    """`wsgi` (the page, or something in front of it) bound where `settings` say, on the
    production server (apikit.web: cheroot, TLS when a certificate is set)."""
    from apikit.rpc import tls_files
    from apikit.web import serve_wsgi

    return serve_wsgi(
        wsgi,
        settings.statuspage_host,
        settings.statuspage_port,
        tls=tls_files(settings.statuspage_tls_cert, settings.statuspage_tls_key),
        name="firewatch-statuspage",
    )


def main() -> None:  # pragma: no cover - exercised by the e2e tests
    from servicekit.metrics import include as include_metrics
    from servicekit.process import start as start_process

    start_process("statuspage")  # one log format, metrics on FIREWATCH_METRICS_PORT
    settings = CommsSettings()
    page = create_page(settings)
    include_metrics(page.metrics)  # promises kept/missed on the metrics port too
    server = create_server(settings, page)
    # Logged once bound: the line says the page is reachable.
    log.info(
        "statuspage: serving %s on %s://%s:%d",
        settings.page_url,
        server.scheme,
        settings.statuspage_host,
        server.server_port,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
