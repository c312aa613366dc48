"""The postmortem pages in headless Chromium with JavaScript off: readable without
it, user content escaped, filters working, the published document showing its
overrides and amendments; plus the Markdown, CSV/JSON exports and /metrics."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from typing import Any

from tests.integration.postmortem.conftest import World

HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def no_js_page(chromium: Any) -> Any:
    return chromium.new_context(java_script_enabled=False).new_page()


def test_the_published_postmortem_reads_without_javascript_and_escapes_user_text(
    world: World, pages: str, chromium: Any
) -> None:
    incident_id = world.resolved_incident("P1")
    app = world.app
    app.edit_section(incident_id, "summary", f"Checkout failed. {HOSTILE}", by="alice")
    app.record_root_cause(incident_id, "The pool limit was below the worker count.", by="alice")
    app.edit_section(incident_id, "lessons", "We should have load-tested.", by="bob")
    app.add_action_item(
        incident_id, kind="monitoring", title=f"Alert on {HOSTILE}", owner="alice",
        due_on="2026-12-07", by="bob", tracker_url="https://tracker.example.com/OPS-1",
    )  # fmt: skip
    app.publish(incident_id, by="alice", override_reason="a quote from the customer")
    app.amend(incident_id, "impact", "Also 30 support tickets.", reason="count arrived", by="bob")

    page = no_js_page(chromium)
    page.goto(f"{pages}/postmortems/{incident_id}")
    assert page.title() == "INC-1 postmortem · Firewatch"
    assert HOSTILE in page.inner_text("#summary")
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    assert "published" in page.inner_text("#status")
    overrides = page.inner_text("#overrides")
    assert "a quote from the customer" in overrides
    assert "should have" in overrides
    assert "bob" in page.inner_text("#amendments")
    assert "Also 30 support tickets." in page.inner_text("#amendments")
    timeline = page.inner_text("#timeline")
    assert "Incident declared (P1)" in timeline
    assert "Mitigation (temporary), rollback" in timeline
    assert "resolve 15 min" in page.inner_text("#durations")

    markdown = get(f"{pages}/postmortems/{incident_id}.md")
    assert "<script>" not in markdown
    assert "\\<script\\>" in markdown
    assert "Published with 1 blameless-language warning(s) overridden" in markdown


def test_the_list_filters_by_owner_team_status_and_overdue(
    world: World, pages: str, chromium: Any
) -> None:
    first = world.resolved_incident("P1")
    world.resolved_incident("P2")
    world.app.assign_owner(first, "carol", by="alice")
    world.app.add_action_item(
        first, kind="process", title="Update the runbook", owner="carol",
        due_on="2026-12-01", by="alice",
    )  # fmt: skip
    page = no_js_page(chromium)
    page.goto(f"{pages}/postmortems")
    assert page.locator("#postmortems tbody tr").count() == 2
    page.fill("input[name=owner]", "carol")
    page.click("button[type=submit]")  # a plain GET form: works without JavaScript
    assert page.locator("#postmortems tbody tr").count() == 1
    assert "INC-1" in page.inner_text("#postmortems")
    page.goto(f"{pages}/postmortems?team=checkout-team&overdue=1")
    assert "No action items match." in page.inner_text("#actions")
    world.clock.advance(3 * 24 * 3600)
    page.goto(f"{pages}/postmortems?team=checkout-team&overdue=1")
    assert "(overdue)" in page.inner_text("#actions")
    page.goto(f"{pages}/postmortems?status=published")
    assert "No postmortems match." in page.inner_text("#postmortems")


def test_exports_and_prometheus_metrics(world: World, pages: str) -> None:
    incident_id = world.resolved_incident("P1")
    world.app.add_action_item(
        incident_id, kind="technical", title="=HYPERLINK(1)", owner="alice",
        due_on="2026-12-07", by="bob",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(get(f"{pages}/actions.csv"))))
    assert rows[0]["title"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert json.loads(get(f"{pages}/actions.json"))[0]["title"] == "=HYPERLINK(1)"
    assert json.loads(get(f"{pages}/postmortems.json"))[0]["reference"] == "INC-1"
    exposition = get(f"{pages}/metrics")
    assert (
        'firewatch_incident_duration_seconds{definition="1",metric="MTTR",stat="mean"} 900.0'
        in exposition
    )
    assert 'firewatch_incidents_never_acknowledged{definition="1"} 1.0' in exposition
