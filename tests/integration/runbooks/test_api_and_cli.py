"""incidentctl runbook ... against the real gRPC API over a SQLite log: publishing (a
bad document refused by field, nothing appended), showing a runbook and an incident's
runbooks, marking steps, starting and approving actions."""

from __future__ import annotations

import json
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from .conftest import Api, World, run_cli

DOCUMENT = {
    "id": "checkout-5xx",
    "title": "Checkout returns 5xx",
    "text": "# Checkout errors\nRoll back if a deploy caused it.",
    "services": ["checkout"],
    "matchers": ['env!="dev"'],
    "steps": [
        {"id": "dashboard", "title": "Open the error dashboard"},
        {
            "id": "rollback", "title": "Roll back", "kind": "http", "idempotent": True,
            "guards": {"needs_approval": True},
            "action": {"url": "http://127.0.0.1:9/rollback/{{ target }}"},
        },
    ],
}  # fmt: skip


def publish(api: Api, tmp_path: Path, document: object) -> tuple[int, str]:
    path = tmp_path / "runbook.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = run_cli(api, "runbook", "publish", str(path))
    return result.exit_code, result.output


def test_publish_list_and_show_a_runbook(api: Api, tmp_path: Path) -> None:
    assert publish(api, tmp_path, DOCUMENT) == (0, "checkout-5xx rev 1 published\n")
    assert publish(api, tmp_path, DOCUMENT) == (0, "checkout-5xx rev 1 unchanged\n")
    listed = run_cli(api, "runbook", "list")
    assert "checkout-5xx" in listed.output
    assert 'service=checkout, env!="dev"' in listed.output
    shown = run_cli(api, "runbook", "show", "checkout-5xx", who="audrey")
    assert shown.exit_code == 0, shown.output
    assert "checkout-5xx rev 1: Checkout returns 5xx" in shown.output
    assert "2. rollback: Roll back (http, idempotent, needs IC approval)" in shown.output


def test_a_bad_runbook_is_refused_naming_the_field_and_nothing_is_recorded(
    api: Api, tmp_path: Path, world: World
) -> None:
    before = world.app.store.head_position()
    bad = json.loads(json.dumps(DOCUMENT))
    bad["steps"][1]["action"]["url"] = "not a url"
    code, output = publish(api, tmp_path, bad)
    assert code == 1
    assert "steps.1.action.url" in output
    bad["steps"][1]["kind"] = "telepathy"
    code, output = publish(api, tmp_path, bad)
    assert "steps.1.kind" in output
    assert world.app.store.head_position() == before


def test_an_incident_shows_its_runbook_steps_and_an_approved_action(
    api: Api, tmp_path: Path, world: World
) -> None:
    publish(api, tmp_path, DOCUMENT)
    incident_id = world.declare()
    shown = run_cli(api, "runbook", "show", "INC-1")
    assert "INC-1 runbook checkout-5xx rev 1: Checkout returns 5xx" in shown.output, shown.output
    marked = run_cli(
        api, "runbook", "step", "INC-1", "checkout-5xx", "dashboard", "done", "--note", "5xx up"
    )
    assert marked.output == "INC-1: checkout-5xx/dashboard done\n", marked.output
    steps = run_cli(api, "runbook", "steps", "INC-1")
    assert "checkout-5xx/dashboard  done     Open the error dashboard - 5xx up" in steps.output
    started = run_cli(api, "runbook", "run", "INC-1", "checkout-5xx", "rollback")
    assert "awaiting the incident commander's approval" in started.output, started.output
    run_id = started.output.split()[1].rstrip(":")
    world.commander(incident_id, "carol")
    refused = run_cli(api, "runbook", "approve", "INC-1", run_id, who="alice")
    assert refused.exit_code == 1
    assert "only the incident commander (carol)" in refused.output
    approved = run_cli(api, "runbook", "approve", "INC-1", run_id, who="carol")
    assert approved.output == f"run {run_id}: approved by carol\n", approved.output
    assert len(world.app.claim()) == 1  # the worker would now perform it
