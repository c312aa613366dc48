"""Communications benchmarks (`make bench`), each against its floor in the same run.

1. **Status page under load.** The status page's WSGI app on the production HTTP
   server (`apikit.web.serve_wsgi`, cheroot; a child process, as in production) also
   serves a static file from the same server; N client threads with keep-alive hammer
   `/static`, `/api/v2/summary.json` and `/` for a fixed time each. Reported:
   requests/s and the ratio to the static file (target >= 0.5x), then the p99 of
   summary.json while status updates are being published (a writer in this process
   posts updates to the log throughout).
2. **Fan-out to 10,000 email subscribers.** One published status update, through the
   real path: the scheduler records the attempts in batches, a pool of sender threads
   makes one SMTP transaction per subscriber (notify's email channel, List-Unsubscribe
   and all), outcomes are recorded in batches. The floor is raw smtplib sends of the
   same number of messages of the same shape (multipart text + HTML, same headers),
   with the same concurrency and, like notify, one reused connection per sender
   thread, to the same server. Checked: the floor's server got every message, and the
   comms path lost 0 and duplicated 0 (every recipient exactly once).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
SERVER_CODE = """
import pathlib, sys
from comms_service.settings import CommsSettings
from comms_service.web import create_page, create_server
# The status page as firewatch-statuspage wires it (settings from FIREWATCH_* in the
# environment), with the floor's static files in front of it on the same server.
settings = CommsSettings()
page = create_page(settings)
STATIC = {"/static/" + p.name: p.read_bytes() for p in pathlib.Path(sys.argv[1]).iterdir()}
def app(environ, start_response):
    body = STATIC.get(environ["PATH_INFO"])
    if body is not None:
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return page(environ, start_response)
server = create_server(settings, app)
print("ready", flush=True)
server.serve_forever()
"""


def _progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} comms: {message}", file=sys.stderr, flush=True)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def _app(log: Path) -> Any:
    from comms_service.app import CommsApplication
    from eventlog import open_store
    from eventlog.clock import system_clock

    store = open_store(f"sqlite:///{log}", writer="communications")
    return CommsApplication(store, system_clock)


def _seed(app: Any) -> uuid.UUID:
    app.configure_page(name="Bench Status", url="http://127.0.0.1", by="bench")
    app.add_group("web", "Web", by="bench")
    for i in range(12):
        app.add_component(f"c{i}", f"Component {i}", group_id="web" if i < 6 else None, by="bench")
    for i in range(10):
        status_id = app.draft_status_incident(
            name=f"Past incident {i}", body="Investigating", by="bench", component_ids=["c1"]
        ).state.drafted.status_incident_id
        app.publish(status_id, by="bench")
        app.post_status_update(status_id, status="resolved", body="Fixed", by="bench")
    live = app.draft_status_incident(
        name="Ongoing", body="Investigating", by="bench", impact="major", component_ids=["c2"]
    ).state.drafted.status_incident_id
    app.publish(live, by="bench")
    return live  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- 1. page


@dataclass
class Load:
    path: str
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    failed: int = 0
    """Client threads that stopped on an error (a timeout, a reset): their requests
    still count, and the report says how many failed rather than hiding them."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _hammer(port: int, path: str, seconds: float, threads: int) -> Load:
    stop = time.perf_counter() + seconds
    counts: list[int] = []
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        done = 0
        mine: list[float] = []
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while time.perf_counter() < stop:
                began = time.perf_counter()
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status}")
                mine.append(time.perf_counter() - began)
                done += 1
        except (OSError, http.client.HTTPException, RuntimeError) as error:
            with lock:
                failures.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()
            with lock:
                counts.append(done)
                latencies.extend(mine)

    began = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        _progress(f"{path}: {len(failures)} of {threads} clients stopped: {failures[0]}")
    return Load(path, sum(counts), time.perf_counter() - began, latencies, len(failures))


@contextlib.contextmanager
def _page_server(log: Path, static: Path) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{log}",
        "FIREWATCH_STATUSPAGE_HOST": "127.0.0.1",
        "FIREWATCH_STATUSPAGE_PORT": str(port),
    }
    for name in ("FIREWATCH_STATUSPAGE_TLS_CERT", "FIREWATCH_STATUSPAGE_TLS_KEY"):
        env.pop(name, None)  # plain HTTP, as the floor is measured
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER_CODE, str(static)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"status page did not start: {line}{child.stdout.read()}")
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # sleep-ok: waiting for a child process to open its port
        yield port
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=30)


def page_load(*, quick: bool) -> dict[str, Any]:
    seconds, threads = (1.0, 4) if quick else (8.0, 8)
    with tempfile.TemporaryDirectory(prefix="comms-bench-") as folder:
        log = Path(folder) / "log.db"
        app = _app(log)
        live = _seed(app)
        static = Path(folder) / "static"
        static.mkdir()
        with _page_server(log, static) as port:
            # Each static file holds the page's own bytes: same size, no work to make it.
            for path, name in (("/api/v2/summary.json", "summary.json"), ("/", "index.html")):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", path)
                (static / name).write_bytes(connection.getresponse().read())
                connection.close()
        with _page_server(log, static) as port:
            _progress(f"status page load, {threads} clients x {seconds}s per path")
            _hammer(port, "/static/summary.json", 0.5, threads)  # warm-up
            static_load = _hammer(port, "/static/summary.json", seconds, threads)
            summary = _hammer(port, "/api/v2/summary.json", seconds, threads)
            static_html = _hammer(port, "/static/index.html", seconds, threads)
            html = _hammer(port, "/", seconds, threads)
            published = 0
            stop = threading.Event()

            def publish() -> None:
                nonlocal published
                while not stop.is_set():
                    app.post_status_update(
                        live, status="identified", body=f"update {published}", by="bench"
                    )
                    published += 1
                    stop.wait(0.1)

            writer = threading.Thread(target=publish)
            writer.start()
            try:
                busy = _hammer(port, "/api/v2/summary.json", seconds, threads)
            finally:
                stop.set()
                writer.join()
        app.store.close()
    return {
        "static": static_load,
        "summary": summary,
        "html": html,
        "busy": busy,
        "published": published,
        "static_html": static_html,
    }


# --------------------------------------------------------------------------- 2. fan-out


class _Recipients:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.changed:
            for rcpt in envelope.rcpt_tos:
                self.counts[rcpt.lower()] += 1
            self.changed.notify_all()
        return "250 OK"

    def total(self) -> int:
        return sum(self.counts.values())


@contextlib.contextmanager
def _smtp(handler: _Recipients) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _subscribers(app: Any, count: int) -> None:
    from comms_service import subscriber as sub
    from eventlog import NewEvent, StreamState

    now = datetime.now(UTC).isoformat()
    for i in range(count):
        address = f"s{i}@bench.example"
        sub_id = sub.subscriber_id(sub.SubscriberKind.EMAIL, address)
        data = {
            "subscriber_id": str(sub_id),
            "kind": "email",
            "address": address,
            "component_ids": [],
            "confirm_token_sha256": None,
            "requested_at": now,
        }
        # Confirmed subscribers as setup data (the opt-in path is tested elsewhere).
        app.store.append(
            sub.stream_for(sub_id), [NewEvent("SubscriptionRequested", data)], StreamState.NO_STREAM
        )


SUBJECT = "[Bench Status] Incident identified: Checkout errors"
BODY = "We found the cause and are rolling back."


def _raw_floor(port: int, count: int, senders: int) -> float:
    """Raw smtplib with what the comms path has and nothing else: one persistent
    connection per sender thread (notify reuses pooled connections, ADR 0022) and the
    same message shape (multipart text + HTML from notify's templates, the same
    headers), rendered once, outside the timing. No ledger, no model."""
    from notify import Notification, render

    note = Notification(
        kind="update",
        recipient="s0@bench.example",
        incident_reference="",
        incident_id="",
        title=SUBJECT,
        severity="",
        summary=BODY,
        idempotency_key=str(uuid.uuid4()),
        extra={"purpose": "subscriber_notice", "subject": SUBJECT},
    )
    text, html = render("email.txt", note), render("email.html", note)
    local = threading.local()
    opened: list[smtplib.SMTP] = []
    lock = threading.Lock()

    def raw(i: int) -> None:
        smtp = getattr(local, "smtp", None)
        if smtp is None:
            smtp = local.smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
            with lock:
                opened.append(smtp)
        message = EmailMessage()
        message["From"] = "firewatch@localhost"
        message["To"] = f"s{i}@bench.example"
        message["Subject"] = SUBJECT
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<floor-{i}@firewatch>"
        message["X-Firewatch-Incident"] = ""
        message["List-Unsubscribe"] = f"<http://127.0.0.1/unsubscribe?s={i}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        smtp.send_message(message)

    began = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(raw, range(count)))
    elapsed = time.perf_counter() - began
    for smtp in opened:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
    return elapsed


def fan_out(*, quick: bool, senders: int = 16) -> dict[str, Any]:
    from comms_service.delivery import CommsEmailChannel, Courier, SignedWebhook
    from notify import SlackChannel

    count = 500 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="comms-bench-") as folder:
        app = _app(Path(folder) / "log.db")
        app.configure_page(name="Bench Status", url="http://127.0.0.1", by="bench")
        _progress(f"creating {count} confirmed subscribers")
        _subscribers(app, count)
        floor_handler, real_handler = _Recipients(), _Recipients()
        with _smtp(floor_handler) as port:
            _progress(f"floor: {count} raw SMTP sends, {senders} threads")
            floor = _raw_floor(port, count, senders)
            if floor_handler.total() != count:
                raise AssertionError(f"floor: {floor_handler.total()} of {count} accepted")
        with _smtp(real_handler) as port:
            courier = Courier(
                CommsEmailChannel("127.0.0.1", port), SignedWebhook(b"x" * 32), SlackChannel()
            )
            _progress(f"fan-out: one update to {count} subscribers through the comms path")
            began = time.perf_counter()
            status_id = app.draft_status_incident(
                name="Checkout errors", body=BODY, by="bench"
            ).state.drafted.status_incident_id
            app.publish(status_id, by="bench")
            with ThreadPoolExecutor(senders) as pool:
                while True:
                    sends = app.tick()
                    if not sends:
                        break
                    outcomes = list(pool.map(courier.send, sends))
                    by_dispatch: dict[uuid.UUID, list[tuple[str, int, Any]]] = {}
                    for s, o in zip(sends, outcomes, strict=True):
                        by_dispatch.setdefault(s.dispatch_id, []).append(
                            (s.target.target_id, s.attempt, o)
                        )
                    for dispatch_id, batch in by_dispatch.items():
                        app.record_outcomes(dispatch_id, batch)
            real = time.perf_counter() - began
        app.store.close()
    expected = {f"s{i}@bench.example" for i in range(count)}
    got = real_handler.counts
    return {
        "count": count,
        "senders": senders,
        "floor": floor,
        "real": real,
        "lost": len(expected - set(got)),
        "duplicated": sum(n - 1 for n in got.values() if n > 1),
        "floor_total": floor_handler.total(),
    }


def run(*, quick: bool) -> str:
    page = page_load(quick=quick)
    fan = fan_out(quick=quick)
    static, summary, html, busy = page["static"], page["summary"], page["html"], page["busy"]

    static_html = page["static_html"]

    def ratio(load: Load, floor: Load | None = None) -> str:
        base = floor or static
        value = load.rps / base.rps if base.rps else 0.0
        verdict = "meets" if value >= 0.5 else "misses"
        return f"{value:.2f}x ({verdict} the 0.5x target)"

    lines = [
        "## Communications: status page and subscriber fan-out",
        "",
        "Measured by `tests/benchmarks/comms_bench.py` in the same run as its floors.",
        "",
        "| status page (production server, keep-alive clients) | requests/s | p99 ms "
        "| vs static file |",
        "|---|---:|---:|---|",
        f"| static file (summary.json's bytes), same server | {static.rps:,.0f} | "
        f"{1000 * _p99(static.latencies):.1f} | 1.00x |",
        f"| /api/v2/summary.json | {summary.rps:,.0f} | {1000 * _p99(summary.latencies):.1f} | "
        f"{ratio(summary)} |",
        f"| static file (the HTML page's bytes), same server | {static_html.rps:,.0f} | "
        f"{1000 * _p99(static_html.latencies):.1f} | 1.00x |",
        f"| / (public HTML) | {html.rps:,.0f} | {1000 * _p99(html.latencies):.1f} | "
        f"{ratio(html, static_html)} |",
        f"| summary.json while {page['published']} updates were published | {busy.rps:,.0f} | "
        f"{1000 * _p99(busy.latencies):.1f} | {ratio(busy)} |",
        "",
        *(
            [
                "Client threads that stopped on an error (timeout or reset): "
                + ", ".join(f"{load.path} {load.failed}" for load in failed)
                + ".",
                "",
            ]
            if (failed := [x for x in (static, summary, static_html, html, busy) if x.failed])
            else []
        ),
        f"| fan-out of one update to {fan['count']:,} email subscribers "
        f"({fan['senders']} sender threads) | seconds | msg/s |",
        "|---|---:|---:|",
        f"| floor: raw smtplib, same message shape, one reused connection per thread, "
        f"same server | {fan['floor']:.2f} | "
        f"{fan['count'] / fan['floor']:,.0f} |",
        f"| comms path (attempts recorded, sent, outcomes recorded) | {fan['real']:.2f} | "
        f"{fan['count'] / fan['real']:,.0f} |",
        "",
        f"Fan-out: {fan['real'] / fan['floor']:.2f}x the floor's time; lost {fan['lost']}, "
        f"duplicated {fan['duplicated']}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
