"""A page links the incident's runbooks (email, Slack, webhook): paging reads runbooks'
RunbooksAttached tolerantly and every channel's rendering shows it."""

from __future__ import annotations

import json
from pathlib import Path

from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore
from notify import Notification
from notify.message import render, slack_body, webhook_body
from paging_service.app import PagingApplication
from paging_service.delivery import runbook_lines

from .conftest import World, rollback_runbook


def test_a_page_names_the_matched_runbook_and_the_alerts_runbook_url(
    world: World, tmp_path: Path, clock: FakeClock
) -> None:
    world.app.publish(rollback_runbook(automatic=False), by="alice")
    incident_id = world.declare()
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="paging", ownership=Ownership.platform(), clock=clock
    )
    lines = runbook_lines(PagingApplication(store, clock), incident_id, "INC-1")
    assert lines == ("Checkout 5xx (checkout-5xx rev 1): incidentctl runbook show INC-1",)
    page = Notification(
        kind="page", recipient="oncall", incident_reference="INC-1",
        incident_id=str(incident_id), title="Checkout 5xx", severity="P1", summary="s",
        runbooks=(*lines, "https://runbooks.example/checkout"),
    )  # fmt: skip
    text = render("email.txt", page)
    assert "Runbook: Checkout 5xx (checkout-5xx rev 1): incidentctl runbook show INC-1" in text
    assert '<a href="https://runbooks.example/checkout">' in render("email.html", page)
    slack = json.loads(slack_body(page))["blocks"][0]["text"]["text"]
    assert "Runbook: https://runbooks.example/checkout" in slack
    assert json.loads(webhook_body(page))["runbooks"][1] == "https://runbooks.example/checkout"


def test_a_page_for_an_incident_without_runbooks_says_nothing_about_them(
    world: World, tmp_path: Path, clock: FakeClock
) -> None:
    incident_id = world.declare()
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="paging", ownership=Ownership.platform(), clock=clock
    )
    assert runbook_lines(PagingApplication(store, clock), incident_id, "INC-1") == ()
