"""Measured uptime bars in real headless Chromium, served by apikit.web: a component with a
synthetic check shows 90 bars whose titles carry the day's uptime, readable without
JavaScript and within a phone's width (ADR 0026). The check's events are recorded by
detection's real application into the same SQLite log."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from apikit.web import serve_wsgi
from comms_service.app import CommsApplication
from comms_service.web import StatusPage
from detection_service.check import Outcome
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from tests.unit.comms.test_check_uptime import CHECKOUT, Detection

SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@pytest.fixture
def served(app: CommsApplication, store: SQLiteEventStore, clock: FakeClock) -> Iterator[str]:
    app.configure_page(name="Example Status", url="https://status.example.com", by="admin")
    app.add_component("checkout", "Checkout", by="admin")
    app.add_component("db", "Database", by="admin")
    detection = Detection(store.path, clock)
    start = datetime(2026, 11, 27, 10, tzinfo=clock().tzinfo)
    detection.app.define_check(CHECKOUT, defined_by="alice")
    # Four days: up, with a two-hour failure on the second afternoon.
    detection.result("checkout", Outcome.UP, start)
    outage = start + timedelta(days=1, hours=4)
    detection.result("checkout", Outcome.DOWN, outage)
    detection.result("checkout", Outcome.UP, outage + timedelta(hours=2))
    clock.set(start + timedelta(days=3))
    server = serve_wsgi(StatusPage(app), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_measured_bars_render_with_titles_without_javascript(chromium: Any, served: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (
        ("uptime", {"width": 1200, "height": 700}),
        ("uptime-phone", {"width": 375, "height": 700}),
    ):
        context = chromium.new_context(java_script_enabled=False, viewport=viewport)
        try:
            page = context.new_page()
            page.goto(served + "/")
            bars = page.locator('[data-component="checkout"] .bars.measured span')
            assert bars.count() == 90
            outage = page.locator('[data-component="checkout"] span[data-day="2026-11-28"]')
            title = outage.get_attribute("title")
            assert title is not None
            assert title.startswith(f"2026-11-28: {100 * 22 / 24:.2f}% up, 120 min down")
            assert "first failed 14:00 UTC" in title
            box = outage.bounding_box()
            assert box is not None
            assert box["width"] >= 1
            assert box["height"] > 10
            label = page.locator('[data-component="checkout"] .bars').get_attribute("aria-label")
            assert label is not None
            assert "measured by synthetic checks" in label
            text = page.inner_text('[data-component="checkout"]')
            assert "uptime over 90 days, measured by synthetic checks" in text
            # The component without a check keeps the bars of its reported statuses.
            assert page.locator('[data-component="db"] .bars.measured').count() == 0
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            page.screenshot(path=str(SHOTS / f"statuspage-{name}.png"), full_page=True)
        finally:
            context.close()
