"""`incidentctl audit ...` end to end: a real AuditService on a real log, the CLI run
in-process, the bundle checker also run as a copied standalone script."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import incidentctl.bundlecheck
from eventlog import NewEvent, StreamState
from incident_service import domain
from incident_service.app import IncidentApplication
from incidentctl.main import app
from tests.integration.audit.conftest import AuditApi, declare_incident, fill
from tests.integration.incidentctl.conftest import CLEAN_ENV


def run(api: AuditApi, *args: str, who: str = "audrey") -> Result:
    return CliRunner().invoke(
        app,
        [
            "--token",
            api.tokens[who],
            "audit",
            *args,
            "--audit-server",
            f"127.0.0.1:{api.server.port}",
        ]
        if args[0] != "check"
        else ["audit", *args],
        env=CLEAN_ENV,
    )


def busy_incident(api: AuditApi) -> str:
    reference = declare_incident(api.log)
    incidents = IncidentApplication(api.log.open("incident"), api.log.clock)
    incident_id = incidents.resolve_reference(reference)
    for commander in ("carol", "dave", "erin"):
        api.log.clock.advance(30)
        incidents.execute(
            incident_id,
            domain.AssignCommander,
            actor="alice",
            idempotency_key=None,
            commander=commander,
            assigned_by="alice",
        )
    return reference


def test_verify_exits_0_on_an_intact_log_and_1_naming_each_tampered_event(
    audit_api: AuditApi,
) -> None:
    fill(audit_api.log)
    clean = run(audit_api, "verify")
    assert clean.exit_code == 0, clean.output
    assert "INTACT: " in clean.output

    audit_api.log.execute(
        "UPDATE {events} SET data = ? WHERE stream = ? AND version = ?",
        '{"n":0,"text":"forged","v":2}',
        "incident-0",
        2,
    )
    audit_api.log.execute("DELETE FROM {events} WHERE stream = ? AND version = ?", "incident-1", 1)
    audit_api.log.execute(
        "UPDATE {events} SET version = version + 10 WHERE stream = ? AND version = ?",
        "incident-2",
        1,
    )
    forged = audit_api.log.insert_forged("incident-0", 1, {"text": "forged"})
    audit_api.log.execute("DELETE FROM {events} WHERE stream = ? AND version = ?", "policy-1", 0)
    tampered = run(audit_api, "verify")

    assert tampered.exit_code == 1, tampered.output
    assert f"INSERTED: incident-0@1 (event {forged})" in tampered.output
    assert "TRUNCATED: policy-1@0" in tampered.output
    assert "EDITED: incident-0@3 (event " in tampered.output
    assert "DELETED: incident-1@1" in tampered.output
    assert "REORDERED: incident-2@11 (event " in tampered.output
    assert "TAMPERED" in tampered.output


def test_verify_with_the_seal_file_catches_a_consistent_rewrite(audit_api: AuditApi) -> None:
    fill(audit_api.log)
    sealed = run(audit_api, "seal")
    assert sealed.exit_code == 0, sealed.output
    assert json.loads(sealed.output)["kind"] == "seal"
    seal_file = audit_api.app.seal_file
    assert seal_file is not None

    audit_api.log.rewrite_consistently("incident-2", 0, {"n": 2, "v": 0, "text": "calm"})
    without = run(audit_api, "verify")
    with_seals = run(audit_api, "verify", "--seals", str(seal_file))

    assert without.exit_code == 0, without.output
    assert with_seals.exit_code == 1, with_seals.output
    assert "REWRITTEN: incident-2" in with_seals.output


def test_replay_names_the_renderer_it_used(audit_api: AuditApi) -> None:
    reference = busy_incident(audit_api)
    fill(audit_api.log, streams=1, events=1)  # policy-0 holds a type paging never wrote
    audit_api.log.open("communications").append(
        "commssender-x", [NewEvent("CommsSenderStarted", {"sender": "x"})], StreamState.ANY
    )

    incident = run(audit_api, "replay", reference)
    unreadable = run(audit_api, "replay", "policy-0", "--json")
    unrendered = run(audit_api, "replay", "commssender-x")

    assert incident.exit_code == 0, incident.output
    assert "rendered by incident_service.api:to_incident" in incident.output
    assert unreadable.exit_code == 0, unreadable.output
    assert json.loads(unreadable.output)["renderer"] == (
        "generic (paging_service.rendering:render_policy could not read it: "
        "no contract is registered for event type 'PolicyDefined')"
    )
    assert unrendered.exit_code == 0, unrendered.output
    assert "rendered by generic fold (no service renders this stream" in unrendered.output


def test_timeline_exports_json_lines_markdown_and_html(audit_api: AuditApi, tmp_path: Path) -> None:
    reference = busy_incident(audit_api)

    lines = run(audit_api, "timeline", reference)
    markdown = run(audit_api, "timeline", reference, "--format", "markdown")
    page = tmp_path / "timeline.html"
    written = run(audit_api, "timeline", reference, "--format", "html", "-o", str(page))

    events = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [e["type"] for e in events] == ["IncidentDeclared"] + ["CommanderAssigned"] * 3
    assert markdown.stdout.startswith(f"# Timeline of {reference}")
    assert markdown.stdout.count("| CommanderAssigned |") == 3
    assert written.exit_code == 0
    assert page.read_text().count("<td>CommanderAssigned</td>") == 3
    bad = run(audit_api, "timeline", reference, "--format", "pdf")
    assert bad.exit_code == 2
    assert "--format" in bad.output


def _bundle(audit_api: AuditApi, tmp_path: Path) -> tuple[Path, dict]:  # type: ignore[type-arg]
    reference = busy_incident(audit_api)
    run(audit_api, "seal")
    path = tmp_path / "evidence.json"
    exported = run(audit_api, "export", reference, "-o", str(path))
    assert exported.exit_code == 0, exported.output
    return path, json.loads(path.read_text())


def _incident_stream(bundle: dict) -> dict:  # type: ignore[type-arg]
    return next(s for s in bundle["streams"] if s["stream"].startswith("incident-"))


def test_an_exported_bundle_checks_out_offline(audit_api: AuditApi, tmp_path: Path) -> None:
    path, _ = _bundle(audit_api, tmp_path)
    checked = run(audit_api, "check", str(path))
    assert checked.exit_code == 0, checked.output
    assert "INTACT" in checked.output


@pytest.mark.parametrize("tampering", ["edited", "missing", "reordered"])
def test_a_tampered_bundle_fails_naming_the_event(
    audit_api: AuditApi, tmp_path: Path, tampering: str
) -> None:
    path, bundle = _bundle(audit_api, tmp_path)
    stream = _incident_stream(bundle)
    name = stream["stream"]
    target = stream["events"][2]
    if tampering == "edited":
        target["data_json"] = target["data_json"].replace("dave", "mallory")
        expected = f"{name}@2 (event {target['id']}): edited"
    elif tampering == "missing":
        del stream["events"][2]
        expected = f"{name}@2: missing: version 2 not in the bundle"
    else:
        stream["events"][1], stream["events"][2] = stream["events"][2], stream["events"][1]
        expected = f"{name}@2 (event {target['id']}): reordered"
    path.write_text(json.dumps(bundle))

    checked = run(audit_api, "check", str(path))

    assert checked.exit_code == 1, checked.output
    assert expected in checked.output
    assert "signature: the bundle's signature does not verify" in checked.output
    # The standalone script, copied out of the package, says the same.
    script = tmp_path / "elsewhere" / "bundlecheck.py"
    script.parent.mkdir()
    shutil.copy(incidentctl.bundlecheck.__file__, script)
    alone = subprocess.run(
        [sys.executable, "-I", str(script), str(path)],
        capture_output=True,
        text=True,
        cwd=script.parent,
        check=False,
    )
    assert alone.returncode == 1, alone.stderr
    assert expected in alone.stdout


def test_the_standalone_checker_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(incidentctl.bundlecheck.__file__).read_text())
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}
