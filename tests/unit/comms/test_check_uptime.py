"""Uptime bars measured by synthetic checks (ADR 0026): detection's real application
records check results into the same SQLite log, the status page (real WSGI app) draws
the bars from those events, and a restart of either process draws the same bars from
the log alone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.test import Client

from apikit.auth import Role, TokenRegistry, issue_token
from comms_service.app import CommsApplication
from comms_service.web import StatusPage
from detection_service.app import DetectionApplication
from detection_service.check import Outcome
from detection_service.probes import ProbeResult, StepResult
from detection_service.routing import parse_config
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore

CHECKOUT = {
    "name": "checkout",
    "kind": "http",
    "interval": "10m",
    "steps": [{"name": "pay", "url": "http://127.0.0.1:9/pay"}],
    "labels": {"statuspage_component": "checkout", "service": "checkout"},
}


class Detection:
    """detection's real application on the comms test's log file (its own writer)."""

    def __init__(self, path: Path, clock: FakeClock) -> None:
        self.store = SQLiteEventStore(
            path, writer="detection", ownership=Ownership.platform(), clock=clock
        )
        self.clock = clock
        self.app = DetectionApplication(self.store, clock, parse_config("routes: []"))

    def result(self, name: str, outcome: Outcome, at: datetime) -> None:
        ok = outcome is Outcome.UP
        step = StepResult(
            "pay", ok, 40.0, "" if ok else "status 503, wanted 200", status_code=200 if ok else 503
        )
        self.clock.set(max(at, self.clock()))
        self.app.record_check_result(ProbeResult(name, outcome, at, 40.0, (step,)))


@pytest.fixture
def detection(store: SQLiteEventStore, clock: FakeClock) -> Detection:
    return Detection(store.path, clock)


def _bars(html: str, component: str) -> dict[str, str]:
    """day -> title of the measured bars of the component's row."""
    row = html.split(f'data-component="{component}"', 1)
    assert len(row) == 2, f"no row for {component}"
    block = row[1].split("</div>", 1)[0]
    return dict(re.findall(r'data-day="([0-9-]+)" title="([^"]*)"', block))


def _run_a_day_with_an_outage(detection: Detection, clock: FakeClock) -> None:
    day = datetime(2026, 11, 27, tzinfo=clock().tzinfo)
    clock.set(day + timedelta(hours=10))
    detection.app.define_check(CHECKOUT, defined_by="alice")
    # Probes every 10 minutes: up 10:00-12:00, down 12:00-18:00, up again after.
    at = day + timedelta(hours=10)
    while at < day + timedelta(days=1, hours=6):
        clock.set(at)
        down = day + timedelta(hours=12) <= at < day + timedelta(hours=18)
        detection.result("checkout", Outcome.DOWN if down else Outcome.UP, at)
        at += timedelta(minutes=10)
    clock.set(day + timedelta(days=1, hours=6))


def test_a_component_with_a_check_shows_measured_bars_and_one_without_keeps_its_own(
    app: CommsApplication, clock: FakeClock, detection: Detection
) -> None:
    app.add_component("checkout", "Checkout", by="admin")
    app.add_component("db", "Database", by="admin")
    _run_a_day_with_an_outage(detection, clock)
    html = Client(StatusPage(app)).get("/").get_data(as_text=True)

    bars = _bars(html, "checkout")
    assert len(bars) == 90
    # Known from the first result (10:00) to midnight: 14 h, 6 of them down.
    outage = bars["2026-11-27"]
    assert outage.startswith(f"2026-11-27: {100 * 8 / 14:.2f}% up, 360 min down")
    assert "first failed 12:00 UTC" in outage
    # The public page never names a check (an internal identifier).
    assert outage.endswith("median latency 40 ms, measured by synthetic checks")
    assert "data-checks" not in html
    assert bars["2026-11-28"].startswith("2026-11-28: 100.00% up")
    # Before the check existed there is nothing to claim: no data, not 100%.
    assert bars["2026-11-26"] == "2026-11-26: no data"
    # The hourly summaries give the run counts (18:00 onwards had 6 summaries a day).
    assert re.search(r"\d+ runs, \d+ failed", outage)
    assert "measured by synthetic checks" in html
    # The component without a check keeps the bars of its reported statuses.
    assert 'data-component="db"' in html
    assert _bars(html, "db") == {}


def test_the_bars_survive_a_restart_of_comms_and_of_detection(
    app: CommsApplication, store: SQLiteEventStore, clock: FakeClock, detection: Detection
) -> None:
    app.add_component("checkout", "Checkout", by="admin")
    _run_a_day_with_an_outage(detection, clock)

    # detection restarts (its ring and in-memory period are gone) and carries on: the
    # same status again appends nothing, the series just goes on.
    head = store.head_position()
    again = Detection(store.path, clock)
    again.result("checkout", Outcome.UP, clock())
    types = [e.type for e in store.read_all(from_position=head + 1)]
    assert "CheckStatusChanged" not in types
    before = _bars(Client(StatusPage(app)).get("/").get_data(as_text=True), "checkout")

    # comms restarts: a fresh application replays the log into the same bars.
    fresh = CommsApplication(store, clock)
    after = _bars(Client(StatusPage(fresh)).get("/").get_data(as_text=True), "checkout")
    assert after == before
    assert after["2026-11-27"].startswith(f"2026-11-27: {100 * 8 / 14:.2f}% up")


def test_checker_errors_are_no_data_and_a_second_check_of_the_component_counts(
    app: CommsApplication, clock: FakeClock, detection: Detection, tmp_path: Path
) -> None:
    app.add_component("checkout", "Checkout", by="admin")
    day = datetime(2026, 11, 28, tzinfo=clock().tzinfo)
    clock.set(day)
    detection.app.define_check(CHECKOUT, defined_by="alice")
    detection.app.define_check(
        {**CHECKOUT, "name": "checkout-api", "steps": [{"url": "http://127.0.0.1:9/api"}]},
        defined_by="alice",
    )
    detection.result("checkout", Outcome.UP, day)
    detection.result("checkout-api", Outcome.UP, day)
    # checkout's prober loses its resolver for 12 hours: it knows nothing then, so the
    # day is measured by checkout-api alone, which fails for 3 of those hours.
    detection.result("checkout", Outcome.CHECKER_ERROR, day + timedelta(hours=6))
    detection.result("checkout-api", Outcome.DOWN, day + timedelta(hours=9))
    detection.result("checkout-api", Outcome.UP, day + timedelta(hours=12))
    detection.result("checkout", Outcome.UP, day + timedelta(hours=18))
    clock.set(day + timedelta(days=1))
    tokens = tmp_path / "tokens.json"
    reader = issue_token(tokens, "reader", Role.AUDITOR)
    internal = Client(StatusPage(app, tokens=TokenRegistry(tokens))).get(
        "/internal", headers={"Authorization": f"Bearer {reader}"}
    )
    html = internal.get_data(as_text=True)
    title = _bars(html, "checkout")["2026-11-28"]
    assert title.startswith(f"2026-11-28: {100 * 21 / 24:.2f}% up, 180 min down")
    # The internal page names the checks that measured the component.
    assert title.endswith("measured by checkout, checkout-api")
    assert 'data-checks="checkout checkout-api"' in html
