"""The status page in real headless Chromium, served by the production server (apikit.web):
readable without JavaScript, landmarks present, correct on a phone width, internal
content only on the token-protected internal page. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apikit.auth import Role, TokenRegistry, issue_token
from apikit.web import serve_wsgi
from comms_service.app import CommsApplication
from comms_service.web import StatusPage
from tests.unit.comms.conftest import declare

SHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
XSS = '<script>document.title="pwned"</script>'


@pytest.fixture
def served(app: CommsApplication, tmp_path: Path) -> Iterator[tuple[str, str]]:
    declare(app)
    app.configure_page(name="Example Status", url="https://status.example.com", by="admin")
    app.add_group("web", "Web", by="admin")
    app.add_component("api", "API", group_id="web", by="admin")
    app.add_component("checkout", "Checkout", group_id="web", by="admin")
    app.add_component("db", "Database", by="admin")
    incident = app.draft_status_incident(
        name=f"Checkout errors {XSS}",
        body="We are investigating failed checkouts.",
        by="alice",
        impact="major",
        component_ids=["checkout"],
        incident="INC-1",
    ).state.drafted.status_incident_id
    app.post_status_update(
        incident,
        status="identified",
        body=f"A bad deploy was rolled back. {XSS}",
        by="alice",
        components={"checkout": "partial_outage"},
    )
    app.add_internal_note(incident, "INTERNAL: db-7 connection pool exhausted", by="alice")
    app.publish(incident, by="alice")
    app.draft_status_incident(
        name="INTERNAL-ONLY: cache warmup", body="watching", by="alice", internal_only=True
    )
    tokens = tmp_path / "tokens.json"
    admin = issue_token(tokens, "admin", Role.ADMIN)
    server = serve_wsgi(StatusPage(app, tokens=TokenRegistry(tokens)), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", admin
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_the_public_page_renders_without_javascript_on_desktop_and_phone(
    chromium: Any, served: tuple[str, str]
) -> None:
    url, _ = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (
        ("public", {"width": 1200, "height": 900}),
        ("public-phone", {"width": 375, "height": 800}),
    ):
        context = chromium.new_context(java_script_enabled=False, viewport=viewport)
        try:
            page = context.new_page()
            page.goto(url + "/")
            text = page.inner_text("main")
            assert "Partial System Outage" in text
            assert "A bad deploy was rolled back." in text
            assert XSS in text  # shown as text, never run
            assert "INTERNAL" not in page.content()
            assert page.locator("header[role=banner]").count() == 1
            assert page.locator("main").count() == 1
            assert page.locator("footer").count() == 1
            # Nothing wider than the screen: no sideways scrolling on a phone.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            page.screenshot(path=str(SHOTS / f"statuspage-{name}.png"), full_page=True)
        finally:
            context.close()


def test_scripts_in_user_text_never_run(page: Any, served: tuple[str, str]) -> None:
    url, _ = served
    page.goto(url + "/")
    assert page.title() == "Example Status"  # the injected script never set it
    assert page.locator("script").count() == 0


def test_the_internal_page_shows_everything_with_a_token(
    chromium: Any, served: tuple[str, str]
) -> None:
    url, admin = served
    context = chromium.new_context(
        extra_http_headers={"Authorization": f"Bearer {admin}"},
        viewport={"width": 1200, "height": 900},
    )
    try:
        page = context.new_page()
        page.goto(url + "/internal")
        text = page.inner_text("main")
        assert "INTERNAL: db-7 connection pool exhausted" in text
        assert "INTERNAL-ONLY: cache warmup" in text
        assert "INC-1" in text
        page.screenshot(path=str(SHOTS / "statuspage-internal.png"), full_page=True)
    finally:
        context.close()
    anonymous = chromium.new_context()
    try:
        response = anonymous.new_page().goto(url + "/internal")
        assert response.status == 401
    finally:
        anonymous.close()
