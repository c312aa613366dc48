"""The status page over WSGI (werkzeug's test client, the real application and log):
the Statuspage v2 JSON shape, feeds, escaping, internal-only content, ETags, tokens, the
rate-limited subscribe endpoint, and reading the log only when it may have grown."""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from apikit.auth import Role, TokenRegistry, issue_token
from comms_service.app import CommsApplication
from comms_service.web import StatusPage
from eventlog import FakeClock, Ownership
from eventlog import sqlite as sqlite_backend
from eventlog.sqlite import SQLiteEventStore

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical"}


@pytest.fixture
def tokens(tmp_path: Path) -> tuple[TokenRegistry, str, str]:
    path = tmp_path / "tokens.json"
    admin = issue_token(path, "admin", Role.ADMIN)
    integration = issue_token(path, "alerts", Role.INTEGRATION)
    return TokenRegistry(path), admin, integration


@pytest.fixture
def site(
    app: CommsApplication, clock: FakeClock, tokens: tuple[TokenRegistry, str, str]
) -> dict[str, Any]:
    app.configure_page(name=f"Example {XSS}", url="https://status.example.com", by="admin")
    app.add_group("web", "Web tier", by="admin")
    app.add_component("api", f"API {XSS}", group_id="web", by="admin")
    app.add_component("site", "Website", group_id="web", by="admin")
    app.add_component("db", "Database", by="admin")
    public = app.draft_status_incident(
        name=f"API errors {XSS}",
        body=f"Investigating {XSS}",
        by="alice",
        impact="major",
        component_ids=["api"],
    ).state.drafted.status_incident_id
    app.post_status_update(
        public,
        status="identified",
        body="Bad deploy",
        by="alice",
        components={"api": "partial_outage"},
    )
    app.add_internal_note(public, "SECRET-NOTE db-7.internal is the culprit", by="alice")
    app.publish(public, by="alice")
    draft = app.draft_status_incident(
        name="SECRET-DRAFT not yet public", body="draft", by="alice", component_ids=["db"]
    ).state.drafted.status_incident_id
    app.post_status_update(
        draft, status="identified", body="x", by="alice", components={"db": "major_outage"}
    )
    app.draft_status_incident(
        name="SECRET-INTERNAL only", body="internal", by="alice", internal_only=True
    )
    app.draft_status_incident(
        name="Database upgrade",
        body="Planned",
        by="alice",
        kind="maintenance",
        component_ids=["db"],
        scheduled_for=clock() + timedelta(days=1),
        scheduled_until=clock() + timedelta(days=1, hours=2),
    )
    maint = next(
        s for _, s in app.model.streams("statusincident") if s.drafted.name == "Database upgrade"
    )
    app.publish(maint.drafted.status_incident_id, by="alice")
    registry, admin, integration = tokens
    return {
        "client": Client(StatusPage(app, tokens=registry, subscribe_per_minute=3)),
        "admin": admin,
        "integration": integration,
        "public": public,
    }


def get_json(client: Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/json"
    return json.loads(response.get_data())


def check_page(page: dict[str, Any]) -> None:
    assert set(page) >= {"id", "name", "url", "time_zone", "updated_at"}
    assert ISO.match(page["updated_at"])


def check_component(c: dict[str, Any]) -> None:
    assert set(c) >= {
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "position",
        "description",
        "showcase",
        "start_date",
        "group_id",
        "page_id",
        "group",
        "only_show_if_degraded",
    }
    assert c["status"] in COMPONENT_STATUSES
    assert isinstance(c["group"], bool)
    if c["group"]:
        assert isinstance(c["components"], list)


def check_incident(i: dict[str, Any], statuses: set[str]) -> None:
    assert set(i) >= {
        "id",
        "name",
        "status",
        "impact",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "started_at",
        "shortlink",
        "page_id",
        "incident_updates",
        "components",
    }
    assert i["status"] in statuses
    assert i["impact"] in IMPACTS
    for u in i["incident_updates"]:
        assert set(u) >= {
            "id",
            "status",
            "body",
            "incident_id",
            "created_at",
            "updated_at",
            "display_at",
            "affected_components",
            "deliver_notifications",
        }
        assert u["incident_id"] == i["id"]
        assert ISO.match(u["created_at"])
        for change in u["affected_components"] or []:
            assert set(change) == {"code", "name", "old_status", "new_status"}
    times = [u["created_at"] for u in i["incident_updates"]]
    assert times == sorted(times, reverse=True)  # newest first


def test_every_endpoint_serves_the_documented_statuspage_v2_shape(site: dict[str, Any]) -> None:
    client = site["client"]
    summary = get_json(client, "/api/v2/summary.json")
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    check_page(summary["page"])
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    for c in summary["components"]:
        check_component(c)
    assert [i["status"] for i in summary["incidents"]] == ["identified"]
    for i in summary["incidents"]:
        check_incident(i, INCIDENT_STATUSES)
    for m in summary["scheduled_maintenances"]:
        check_incident(m, MAINTENANCE_STATUSES)
        assert ISO.match(m["scheduled_for"])
        assert ISO.match(m["scheduled_until"])
    assert set(get_json(client, "/api/v2/status.json")) == {"page", "status"}
    components = get_json(client, "/api/v2/components.json")["components"]
    by_id = {c["id"]: c for c in components}
    assert by_id["api"]["status"] == "partial_outage"
    assert by_id["db"]["status"] == "operational"  # the draft's change is not public
    assert by_id["web"]["group"] is True
    assert by_id["web"]["components"] == ["api", "site"]
    assert by_id["web"]["status"] == "partial_outage"
    assert len(get_json(client, "/api/v2/incidents.json")["incidents"]) == 1
    assert len(get_json(client, "/api/v2/incidents/unresolved.json")["incidents"]) == 1
    assert (
        len(get_json(client, "/api/v2/scheduled-maintenances.json")["scheduled_maintenances"]) == 1
    )
    assert (
        len(
            get_json(client, "/api/v2/scheduled-maintenances/upcoming.json")[
                "scheduled_maintenances"
            ]
        )
        == 1
    )
    assert (
        get_json(client, "/api/v2/scheduled-maintenances/active.json")["scheduled_maintenances"]
        == []
    )
    assert client.get("/api/v2/nope.json").status_code == 404


def test_internal_notes_drafts_and_internal_only_incidents_never_reach_the_public_page(
    site: dict[str, Any],
) -> None:
    client = site["client"]
    for path in [
        "/",
        "/history.atom",
        "/history.rss",
        f"/incidents/{site['public']}",
        "/api/v2/summary.json",
        "/api/v2/incidents.json",
        "/api/v2/components.json",
        "/api/v2/scheduled-maintenances.json",
    ]:
        text = client.get(path).get_data(as_text=True)
        assert "SECRET" not in text, path
        assert "db-7.internal" not in text, path
    internal = client.get("/internal", headers={"Authorization": f"Bearer {site['admin']}"})
    text = internal.get_data(as_text=True)
    for secret in ("SECRET-NOTE", "SECRET-DRAFT", "SECRET-INTERNAL"):
        assert secret in text


def test_user_text_is_escaped_everywhere(site: dict[str, Any]) -> None:
    client = site["client"]
    for path in ["/", "/history.atom", "/history.rss", f"/incidents/{site['public']}"]:
        text = client.get(path).get_data(as_text=True)
        assert "<script>" not in text, path
        assert "<img src=x" not in text, path
    internal = client.get("/internal", headers={"Authorization": f"Bearer {site['admin']}"})
    assert "<script>" not in internal.get_data(as_text=True)
    # JSON carries the text as data, exactly as written.
    summary = get_json(client, "/api/v2/summary.json")
    assert XSS in summary["incidents"][0]["name"]


def test_feeds_are_well_formed_atom_and_rss_advertised_by_the_page(site: dict[str, Any]) -> None:
    client = site["client"]
    atom = ET.fromstring(client.get("/history.atom").get_data())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = atom.findall("a:entry", ns)
    assert len(entries) == 2
    assert any(XSS in (e.findtext("a:title", namespaces=ns) or "") for e in entries)
    rss = ET.fromstring(client.get("/history.rss").get_data())
    assert len(rss.findall("channel/item")) == 2
    html = client.get("/").get_data(as_text=True)
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert 'rel="alternate" type="application/rss+xml"' in html


def test_responses_carry_etags_and_answer_304_until_the_page_changes(
    site: dict[str, Any], app: CommsApplication
) -> None:
    client = site["client"]
    for path in ["/", "/api/v2/summary.json"]:
        first = client.get(path)
        etag = first.headers["ETag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    app.set_component_status("site", "degraded_performance", by="admin")
    assert client.get("/api/v2/summary.json", headers={"If-None-Match": etag}).status_code == 200


def test_the_internal_page_needs_a_token_with_a_reader_role(site: dict[str, Any]) -> None:
    client = site["client"]
    assert client.get("/internal").status_code == 401
    assert client.get("/internal", headers={"Authorization": "Bearer fwt_wrong"}).status_code == 401
    assert (
        client.get(
            "/internal", headers={"Authorization": f"Bearer {site['integration']}"}
        ).status_code
        == 403
    )
    assert (
        client.get("/internal", headers={"Authorization": f"Bearer {site['admin']}"}).status_code
        == 200
    )
    api = client.get(
        "/internal/api/summary.json", headers={"Authorization": f"Bearer {site['admin']}"}
    )
    names = [i["name"] for i in json.loads(api.get_data())["incidents"]]
    assert any("SECRET-DRAFT" in n for n in names)


def test_public_subscription_is_double_opt_in_and_rate_limited(
    site: dict[str, Any], app: CommsApplication
) -> None:
    client = site["client"]
    response = client.post("/subscribe", data={"email": "bob@example.com"})
    assert response.status_code == 202
    assert client.post("/subscribe", data={"email": "<script>@x"}).status_code == 400
    assert client.post("/subscribe", data={"email": "carol@example.com"}).status_code == 202
    limited = client.post("/subscribe", data={"email": "dave@example.com"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert {s.address for s in app.subscribers()} == {"bob@example.com", "carol@example.com"}
    confirm = next(s for s in app.tick() if s.target.address == "bob@example.com")
    link = confirm.body.split("Confirm with this link: ")[1].split()[0]
    path = link.replace(app.page_url, "")
    page = client.get(path)  # a mail scanner's GET confirms nothing
    assert page.status_code == 200
    assert app.subscribers()[0].status.value == "pending"
    sub_id, token = path.split("/")[2], path.split("token=")[1]
    assert client.post(f"/subscriptions/{sub_id}/confirm", data={"token": token}).status_code == 200
    bob = next(s for s in app.subscribers() if s.address == "bob@example.com")
    assert bob.status.value == "confirmed"
    unsubscribe = app.unsubscribe_url(uuid.UUID(sub_id)).replace(app.page_url, "")
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    bob = next(s for s in app.subscribers() if s.address == "bob@example.com")
    assert bob.status.value == "unsubscribed"
    assert client.post(unsubscribe[:-4] + "beef").status_code == 400


def test_an_oversized_subscribe_form_is_refused_and_records_nothing(
    site: dict[str, Any], app: CommsApplication
) -> None:
    from comms_service.web import MAX_FORM_BYTES

    head = app.store.head_position()
    padding = "x" * MAX_FORM_BYTES
    response = site["client"].post(
        "/subscribe", data={"email": "bob@example.com", "component": padding}
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert app.store.head_position() == head
    assert app.subscribers() == []


def _confirm_path(app: CommsApplication, address: str) -> str:
    mail = next(
        s for s in app.tick() if s.purpose == "confirm_subscription" and s.target.address == address
    )
    return str(mail.body.split("Confirm with this link: ")[1].split()[0].replace(app.page_url, ""))


def test_a_confirmed_subscriber_stays_confirmed_until_the_mailed_link_confirms_a_change(
    site: dict[str, Any], app: CommsApplication
) -> None:
    client = site["client"]
    assert (
        client.post("/subscribe", data={"email": "bob@example.com", "component": "api"}).status_code
        == 202
    )
    path = _confirm_path(app, "bob@example.com")
    sub_id, token = path.split("/")[2], path.split("token=")[1]
    assert client.post(f"/subscriptions/{sub_id}/confirm", data={"token": token}).status_code == 200
    # Someone else types bob's address with other components into the public form.
    other = {"email": "bob@example.com", "component": "site"}
    assert client.post("/subscribe", data=other).status_code == 202
    bob = next(s for s in app.subscribers() if s.address == "bob@example.com")
    assert (bob.status.value, bob.component_ids) == ("confirmed", ("api",))
    change = _confirm_path(app, "bob@example.com")
    assert change != path
    # The old link changes nothing; the new one, posted by bob, does.
    client.post(f"/subscriptions/{sub_id}/confirm", data={"token": token})
    bob = next(s for s in app.subscribers() if s.address == "bob@example.com")
    assert bob.component_ids == ("api",)
    new_token = change.split("token=")[1]
    assert (
        client.post(f"/subscriptions/{sub_id}/confirm", data={"token": new_token}).status_code
        == 200
    )
    bob = next(s for s in app.subscribers() if s.address == "bob@example.com")
    assert (bob.status.value, bob.component_ids) == ("confirmed", ("site",))


def test_uptime_bars_cover_90_days_computed_from_the_log(
    app: CommsApplication, clock: FakeClock
) -> None:
    from comms_service.views import View

    app.add_component("api", "API", by="admin")
    clock.set(datetime(2026, 11, 27, 12, 0, tzinfo=clock().tzinfo))
    app.set_component_status("api", "major_outage", by="admin")
    clock.advance(timedelta(hours=6))
    app.set_component_status("api", "operational", by="admin")
    clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=clock().tzinfo))
    bars = View(app.model, public=True, now=clock()).uptime("api")
    assert len(bars) == 90
    day = {d: (f, w) for d, f, w in bars}["2026-11-27"]
    assert day == (0.75, "major_outage")


def test_status_colours_keep_white_text_readable_wcag_aa() -> None:
    """Every status colour behind white text has a contrast ratio of at least 4.5:1."""
    layout = (
        Path(__file__).resolve().parents[3]
        / "services/comms/src/comms_service/templates/layout.html"
    ).read_text()
    colours = dict(re.findall(r"--(ok|minor|major|critical|maint):(#[0-9a-f]{6})", layout))
    assert set(colours) == {"ok", "minor", "major", "critical", "maint"}

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for name, colour in colours.items():
        ratio = (1.0 + 0.05) / (luminance(colour) + 0.05)
        assert ratio >= 4.5, f"{name} {colour}: {ratio:.2f}"


def test_the_subscribe_form_offers_per_component_subscriptions(
    site: dict[str, Any], app: CommsApplication
) -> None:
    client = site["client"]
    html = client.get("/").get_data(as_text=True)
    assert 'name="component" value="db"' in html
    assert (
        client.post(
            "/subscribe", data={"email": "ann@example.com", "component": ["db"]}
        ).status_code
        == 202
    )
    [ann] = [s for s in app.subscribers() if s.address == "ann@example.com"]
    assert ann.component_ids == ("db",)
    assert (
        client.post(
            "/subscribe", data={"email": "x@example.com", "component": ["nope"]}
        ).status_code
        == 400
    )


def test_the_fixed_path_pages_send_what_the_general_path_sends(site: dict[str, Any]) -> None:
    # GET of a fixed public path is answered without werkzeug; HEAD still goes through
    # it. Both must carry the same headers (werkzeug adds a Date; the server does too).
    client = site["client"]
    for path in ["/", "/api/v2/summary.json", "/history.atom", "/history.rss"]:
        got, head = client.get(path), client.head(path)
        assert got.status_code == head.status_code == 200, path
        head_headers = {k: v for k, v in head.headers.items() if k != "Date"}
        assert dict(got.headers.items()) == head_headers, path
        assert got.headers["Content-Length"] == str(len(got.get_data()))
        for method in (client.get, client.head):
            unchanged = method(path, headers={"If-None-Match": f"W/{got.headers['ETag']}"})
            assert unchanged.status_code == 304, path
            assert "Content-Length" not in unchanged.headers
            assert unchanged.headers["ETag"] == got.headers["ETag"]
            assert unchanged.get_data() == b""


def test_a_page_view_reads_the_log_only_after_an_append_and_then_shows_it(
    site: dict[str, Any],
    app: CommsApplication,
    store: SQLiteEventStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The fallback read pushed past the test: only the append's ring can explain a read.
    monkeypatch.setattr(sqlite_backend, "FALLBACK_POLL_SECONDS", 600.0)
    page = StatusPage(app)
    client = Client(page)
    try:
        before = client.get("/api/v2/summary.json")
        reads = app.projections.reads
        for path in ["/api/v2/summary.json", "/", "/api/v2/summary.json", "/history.rss"]:
            assert client.get(path).status_code == 200
        assert app.projections.reads == reads, "nothing was appended, yet the log was read"
        # Another handle on the same file, as another process: its append rings.
        other = SQLiteEventStore(
            store.path, writer="communications", ownership=Ownership.platform(), clock=clock
        )
        try:
            CommsApplication(other, clock).set_component_status(
                "site", "degraded_performance", by="admin"
            )
        finally:
            other.close()
        # The very next request shows it: the ring was queued before the call returned.
        after = client.get("/api/v2/summary.json")
        assert after.headers["ETag"] != before.headers["ETag"]
        [site_component] = [
            c for c in json.loads(after.get_data())["components"] if c["id"] == "site"
        ]
        assert site_component["status"] == "degraded_performance"
        assert app.projections.reads == reads + 1
    finally:
        page.close()
