"""The internal web pages and exports (WSGI, served by apikit.web: cheroot, https when
FIREWATCH_POSTMORTEM_HTTP_TLS_CERT/_KEY are set, ADR 0023), and the Prometheus
metrics endpoint.

    GET /postmortems                 list with filters: owner, team, status, overdue=1
    GET /postmortems/<incident id>   one postmortem (HTML); .md for Markdown
    GET /postmortems.csv|.json       the list as CSV or JSON
    GET /actions.csv|.json           action items (same filters) as CSV or JSON
    GET /metrics                     incident metrics for Prometheus (definition label)
    GET /healthz

Server-rendered, readable without JavaScript, every piece of user text escaped by
jinja2's autoescape (and CSV cells guarded against formula injection). Read-only: it
never decides or appends. With FIREWATCH_POSTMORTEM_HTTP_TOKEN set, every page needs
`Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from apikit.endpoints import Access, Endpoint, url_map
from contracts.domain import DomainError, InvalidCommandError, NotFoundError
from postmortem_service import metrics, views
from postmortem_service.app import PostmortemApplication

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


ENDPOINTS = (
    Endpoint("/healthz", "health", Access.OPEN, ("GET",)),
    Endpoint("/", "index", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
    Endpoint("/postmortems", "list", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
    Endpoint("/postmortems.csv", "list_csv", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
    Endpoint("/postmortems.json", "list_json", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
    Endpoint("/actions.csv", "actions_csv", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
    Endpoint("/actions.json", "actions_json", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
    Endpoint("/metrics", "metrics", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
    Endpoint("/postmortems/<name>", "postmortem", Access.DEPLOYMENT_SECRET, ("GET", "HEAD")),
)
"""Every path these pages answer, and who may call them (apikit.endpoints): the router
is built from it (`url_map`), so a page cannot be served without being declared here.
FIREWATCH_POSTMORTEM_HTTP_TOKEN is the deployment secret."""
ACCESS = {e.name: e.access for e in ENDPOINTS}


class LiveMetrics:
    """The metrics fold, caught up incrementally from its last position."""

    def __init__(self, app: PostmortemApplication) -> None:
        self.app = app
        self.fold = metrics.MetricsFold()
        self.position = 0
        self.lock = threading.Lock()

    def report(self) -> metrics.Report:
        with self.lock:
            for event in self.app.store.read_all(
                from_position=self.position + 1, filter=metrics.FILTER
            ):
                self.fold.apply(event)
                self.position = event.position
            return self.fold.report(self.app.clock())


class ReportCollector:
    def __init__(self, live: LiveMetrics) -> None:
        self.live = live

    def collect(self) -> Iterable[GaugeMetricFamily]:
        report = self.live.report()
        version = report.definition
        durations = GaugeMetricFamily(
            "firewatch_incident_duration_seconds",
            "MTTD/MTTA/MTTM/MTTR statistics recomputed from the log (docs/metrics.md)",
            labels=["metric", "stat", "definition"],
        )
        for name, summary in report.summaries.items():
            for stat, value in (
                ("mean", summary.mean_seconds),
                ("median", summary.median_seconds),
                ("p90", summary.p90_seconds),
            ):
                if value is not None:
                    durations.add_metric([name, stat, version], value)
        yield durations
        counts = GaugeMetricFamily(
            "firewatch_incidents", "Incidents by severity", labels=["severity", "definition"]
        )
        for severity, count in report.by_severity.items():
            counts.add_metric([severity, version], count)
        yield counts
        services = GaugeMetricFamily(
            "firewatch_incidents_by_service",
            "Incidents by service",
            labels=["service", "definition"],
        )
        for service, count in report.by_service.items():
            services.add_metric([service, version], count)
        yield services
        months = GaugeMetricFamily(
            "firewatch_incidents_by_month",
            "Incidents by month declared",
            labels=["month", "definition"],
        )
        for month, count in report.by_month.items():
            months.add_metric([month, version], count)
        yield months
        mttr = GaugeMetricFamily(
            "firewatch_incident_mttr_by_month_seconds",
            "Mean time to resolve of the incidents declared in each month",
            labels=["month", "definition"],
        )
        for month, seconds in report.mttr_by_month.items():
            mttr.add_metric([month, version], seconds)
        yield mttr
        for name, help_text, value in (
            ("firewatch_incidents_never_acknowledged", "No ack", report.never_acknowledged),
            ("firewatch_incidents_unresolved", "Incidents not resolved now", report.unresolved),
            ("firewatch_incidents_reopened", "Incidents reopened at least once", report.reopened),
            ("firewatch_action_items", "Action items", report.action_items),
            ("firewatch_action_items_done", "Action items done", report.action_items_done),
            ("firewatch_action_items_wont_do", "Declined (won't do)", report.action_items_wont_do),
            ("firewatch_action_items_overdue", "Open past due", report.action_items_overdue),
        ):  # fmt: skip
            gauge = GaugeMetricFamily(name, help_text, labels=["definition"])
            gauge.add_metric([version], value)
            yield gauge
        for name, rate in (
            ("firewatch_action_item_completion_ratio", report.completion_rate),
            ("firewatch_action_item_overdue_ratio", report.overdue_rate),
        ):
            if rate is not None:
                gauge = GaugeMetricFamily(name, name.replace("_", " "), labels=["definition"])
                gauge.add_metric([version], rate)
                yield gauge


class WebApp:
    def __init__(self, app: PostmortemApplication, *, token: str | None = None) -> None:
        self.app = app
        self.token = token
        self.live = LiveMetrics(app)
        self.registry = CollectorRegistry()
        self.registry.register(ReportCollector(self.live))
        self.urls = url_map(ENDPOINTS).bind("firewatch-postmortem")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        path = str(environ.get("PATH_INFO", "/"))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        endpoint: str | None = None
        values: Mapping[str, Any] = {}
        allowed = True
        try:
            endpoint, values = self.urls.match(path, method=method)
        except MethodNotAllowed:
            allowed = False
        except HTTPException:
            pass  # no such page (or a path werkzeug would redirect): answered below
        if endpoint is not None and ACCESS[endpoint] is Access.OPEN:
            return _send(start_response, "200 OK", "text/plain", "ok")
        # Any other path, known or not, needs the deployment secret when one is set.
        if self.token is not None and not hmac.compare_digest(
            str(environ.get("HTTP_AUTHORIZATION", "")), f"Bearer {self.token}"
        ):
            return _send(
                start_response, "401 Unauthorized", "text/plain", "a bearer token is required"
            )
        if not allowed:
            return _send(start_response, "405 Method Not Allowed", "text/plain", "read-only")
        if endpoint is None:
            return _send(start_response, "404 Not Found", "text/plain", "no such page")
        query = {k: v[-1] for k, v in parse_qs(str(environ.get("QUERY_STRING", ""))).items()}
        try:
            return self._route(endpoint, values, query, start_response)
        except NotFoundError as error:
            return _send(start_response, "404 Not Found", "text/plain", str(error))
        except (InvalidCommandError, DomainError, ValueError) as error:
            return _send(start_response, "400 Bad Request", "text/plain", str(error))

    def _route(
        self, endpoint: str, values: Mapping[str, Any], query: dict[str, str], start: StartResponse
    ) -> list[bytes]:
        match endpoint:
            case "index" | "list":
                filters = {
                    k: query[k] for k in ("owner", "team", "status", "overdue") if query.get(k)
                }
                postmortems = self.app.list_postmortems(
                    owner=filters.get("owner"),
                    team=filters.get("team"),
                    status=filters.get("status"),
                )
                items = self._items(filters)
                if filters.get("overdue"):
                    overdue = {i.incident_id for i in items}
                    postmortems = [p for p in postmortems if p.incident_id in overdue]
                page = views.html_list(postmortems, items, filters, self.app.clock())
                return _send(start, "200 OK", "text/html; charset=utf-8", page)
            case "list_csv" | "list_json":
                fmt = endpoint.removeprefix("list_")
                body = views.export_postmortems(self.app.list_postmortems(), fmt)
                return _send(start, "200 OK", _TYPES[fmt], body)
            case "actions_csv" | "actions_json":
                fmt = endpoint.removeprefix("actions_")
                filters = {
                    k: query[k] for k in ("owner", "team", "status", "overdue") if query.get(k)
                }
                body = views.export_items(self._items(filters), self.app.clock(), fmt)
                return _send(start, "200 OK", _TYPES[fmt], body)
            case "metrics":
                return _send(
                    start, "200 OK", "text/plain; version=0.0.4", generate_latest(self.registry)
                )
            case "postmortem":
                name = str(values["name"])
                markdown = name.endswith(".md")
                try:
                    incident_id = uuid.UUID(name.removesuffix(".md"))
                except ValueError:
                    raise NotFoundError(f"{name!r} is not a postmortem") from None
                view = views.build_view(self.app, incident_id)
                if markdown:
                    body = views.markdown(view)
                    return _send(start, "200 OK", "text/markdown; charset=utf-8", body)
                return _send(start, "200 OK", "text/html; charset=utf-8", views.html(view))
        raise AssertionError(f"endpoint {endpoint!r} is declared but has no handler")

    def _items(self, filters: dict[str, str]) -> list[Any]:
        return self.app.list_action_items(
            owner=filters.get("owner"),
            team=filters.get("team"),
            status=filters.get("status"),
            overdue=True if filters.get("overdue") else None,
        )


_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _send(start: StartResponse, status: str, content_type: str, body: str | bytes) -> list[bytes]:
    data = body.encode() if isinstance(body, str) else body
    start(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
        ],
    )
    return [data]


def main() -> None:
    from servicekit.process import start as start_process

    start_process("postmortem-http")  # one log format, metrics on FIREWATCH_METRICS_PORT
    from apikit.rpc import tls_files
    from apikit.web import serve_wsgi
    from eventlog import open_store
    from eventlog.clock import system_clock
    from postmortem_service.settings import PostmortemSettings

    settings = PostmortemSettings()
    store = open_store(settings.store_url, writer="postmortem")
    app = settings.application(store, system_clock)
    token = settings.postmortem_http_token
    web = WebApp(app, token=token.get_secret_value() if token else None)
    server = serve_wsgi(
        web,
        settings.postmortem_http_host,
        settings.postmortem_http_port,
        tls=tls_files(settings.postmortem_http_tls_cert, settings.postmortem_http_tls_key),
        name="firewatch-postmortem",
    )
    print(
        f"postmortem pages on {server.scheme}://{settings.postmortem_http_host}:"
        f"{server.server_port}/postmortems",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
