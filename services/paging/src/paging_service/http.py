"""The one-click acknowledgement link: `firewatch-paging-http` (apikit.web: cheroot,
plain threads; https when FIREWATCH_PAGING_HTTP_TLS_CERT/_KEY are set, ADR 0023).

Owns the HTTP surface of the signed link in a page (ADR 0010):

    GET  /ack/<token>   a confirmation page with one "Acknowledge" button; changes nothing
    POST /ack/<token>   acknowledges the page (stops the escalation) and says so
    GET  /healthz       200 "ok" once the log is open

Why GET never acknowledges: mail clients, corporate link scanners and chat unfurlers
fetch every link in a message. If GET acknowledged, a scanner would silently stop the
escalation before any human saw the page. A POST needs the button press.

Answers: a malformed, forged or foreign-secret token is 400; an expired one is 410
(with the time it expired); an unknown page is 404; acknowledging an already
acknowledged page, or one whose incident is resolved, is 200 and says what happened
(the domain makes repeats harmless). Pages are `no-store` and `no-referrer`: the token
is a bearer credential and must not leak into caches or Referer headers.

Thin: verification and the acknowledgement itself are `ack_token` and
`PagingApplication.acknowledge_with_token`. No eventlet: a separate process with real
threads, so database calls block only their own request.

Settings (see settings.py): FIREWATCH_STORE_URL, FIREWATCH_PAGING_HTTP_HOST/PORT
(default 127.0.0.1:8081), FIREWATCH_PAGING_ACK_SECRET (required, or _FILE).
"""

from __future__ import annotations

import html
import logging
import signal
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Request, Response

from apikit.endpoints import Access, Endpoint, url_map
from apikit.rpc import tls_files
from apikit.web import WebServer, serve_wsgi
from contracts.domain import DomainError, NotFoundError
from eventlog import open_store
from eventlog.clock import system_clock
from paging_service import ack_token
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service.app import PagingApplication
from paging_service.settings import PagingSettings, SettingsError

log = logging.getLogger(__name__)

SERVICE_NAME = "paging"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
    "button{font-size:1.2rem;padding:.6rem 1.4rem;background:#b00020;color:#fff;"
    "border:0;border-radius:.3rem;cursor:pointer}.muted{color:#555}"
)


ENDPOINTS = (
    Endpoint("/ack/<token>", "ack", Access.SIGNED_LINK, ("GET", "POST")),
    Endpoint("/healthz", "health", Access.OPEN, ("GET",)),
)
"""Every path this server answers, and who may call it (apikit.endpoints)."""


class RefusedError(Exception):
    """A request answered with an explanation page instead of acknowledging."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _html(status: int, title: str, body: str) -> Response:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        '<meta name=robots content="noindex,nofollow">'
        f"<title>{html.escape(title)} - Firewatch</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    response = Response(document, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    )
    return response


def _p(text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<p{cls}>{html.escape(text)}</p>"


class AckSite:
    """The WSGI application; `app` must have an ack secret."""

    def __init__(self, app: PagingApplication) -> None:
        if app.ack_secret is None:
            raise SettingsError("the ack-link server needs FIREWATCH_PAGING_ACK_SECRET")
        self.app = app
        self.secret: bytes = app.ack_secret
        self.urls = url_map(ENDPOINTS)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        result: Iterable[bytes] = response(environ, start_response)
        return result

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, values = self.urls.bind_to_environ(request.environ).match()
            if endpoint == "health":
                return Response("ok\n", content_type="text/plain")
            if request.method == "POST":
                return self.acknowledge(values["token"])
            return self.confirm(values["token"])
        except RefusedError as refused:
            return _html(refused.status, refused.title, _p(refused.detail))
        except NotFound:
            return _html(404, "Not found", _p("There is nothing here."))
        except HTTPException as error:
            return _html(error.code or 400, error.name, _p(error.description or ""))
        except Exception:
            # Never a traceback to a stranger; the log has it.
            log.exception("paging-http: %s %s failed", request.method, request.path)
            return _html(
                503,
                "Please try again",
                _p("Firewatch could not record this right now. Nothing was acknowledged."),
            )

    def _claim(self, token: str) -> ack_token.AckClaim:
        """400 for anything not genuine, 410 for a genuine but expired link."""
        try:
            # Checked against the epoch first: that separates "not genuine" (400)
            # from "genuine but expired" (410) without parsing error messages.
            claim = ack_token.verify(self.secret, token, _EPOCH)
        except ack_token.InvalidAckTokenError as error:
            raise RefusedError(
                400, "Invalid link", f"This acknowledgement link is invalid: {error}."
            ) from None
        if self.app.clock() >= claim.expires_at:
            raise RefusedError(
                410,
                "Link expired",
                f"This acknowledgement link expired at {claim.expires_at:%Y-%m-%d %H:%M} UTC. "
                "Acknowledge with `incidentctl page ack` or in the API instead.",
            )
        return claim

    def _page(self, claim: ack_token.AckClaim) -> pg.Page:
        try:
            return self.app.get_page(claim.page_id)
        except NotFoundError:
            raise RefusedError(
                404, "Unknown page", "This page does not exist (any more)."
            ) from None

    def confirm(self, token: str) -> Response:
        claim = self._claim(token)
        page = self._page(claim)
        heading = f"{page.title or 'Incident'}"
        if page.status is pg.Status.ACKNOWLEDGED:
            return _html(
                200, "Already acknowledged", _p(f"Acknowledged by {page.acknowledged_by}.")
            )
        if page.status is pg.Status.CANCELLED:
            return _html(
                200,
                "Nothing to acknowledge",
                _p("This page is closed: the incident was resolved or someone else answered."),
            )
        body = (
            _p(f"You ({claim.user_id}) are being paged for: {heading}")
            + _p("Acknowledging tells everyone you are on it and stops the escalation.", "muted")
            + '<form method="post"><button type="submit">Acknowledge</button></form>'
        )
        return _html(200, "Acknowledge this page?", body)

    def acknowledge(self, token: str) -> Response:
        claim = self._claim(token)
        self._page(claim)
        try:
            state = self.app.acknowledge_with_token(token)
        except ack_token.InvalidAckTokenError as error:
            self._claim(token)  # expired between the check and now: a precise 410
            raise RefusedError(400, "Invalid link", str(error)) from None
        except DomainError as error:
            raise RefusedError(409, "Not acknowledged", str(error)) from None
        if state.status is esc.Status.CANCELLED:
            return _html(
                200, "Incident already resolved", _p("Nothing is paging for this incident.")
            )
        if state.acknowledged_page not in (None, claim.page_id):
            who = state.acknowledged_by or "someone else"
            return _html(200, "Already acknowledged", _p(f"{who} acknowledged this incident."))
        return _html(
            200,
            "Acknowledged",
            _p(f"Thanks, {claim.user_id}. The escalation has stopped; nobody else is paged."),
        )


def serve(settings: PagingSettings) -> tuple[WebServer, PagingApplication]:
    """Open the log and bind the server (port 0 picks a free port); not yet serving."""
    secret = settings.ack_secret(required=True)
    store = open_store(settings.store_url, writer=SERVICE_NAME)
    app = PagingApplication(store, system_clock, ack_secret=secret)
    server = serve_wsgi(
        AckSite(app),
        settings.paging_http_host,
        settings.paging_http_port,
        tls=tls_files(settings.paging_http_tls_cert, settings.paging_http_tls_key),
        name="firewatch-paging-http",
    )
    return server, app


def main() -> int:
    from servicekit.process import start as start_process

    start_process("paging-http")  # one log format, metrics on FIREWATCH_METRICS_PORT
    try:
        settings = PagingSettings()
        server, app = serve(settings)
    except (SettingsError, ValidationError) as error:
        print(f"firewatch-paging-http: {error}", file=sys.stderr)
        return 2
    # shutdown() waits for serve_forever to return, so it cannot run in the signal
    # handler on the serving thread itself.
    stop = threading.Event()

    def on_signal(*_: object) -> None:
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host = settings.paging_http_host
    print(
        f"firewatch-paging-http: listening on {server.scheme}://{host}:{server.server_port}",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        app.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
