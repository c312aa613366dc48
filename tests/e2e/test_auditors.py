"""The README's "For auditors" block, run exactly as written against `make run`'s
processes after the quick start has created INC-1 (executable docs, end to end)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.localplatform import ROOT
from tests.e2e.test_quickstart import platform, quickstart_block  # noqa: F401

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def auditors_block() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## For auditors", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README has no block under 'For auditors'"
    return match.group(1)


def test_the_readme_auditor_commands_run_against_make_run(
    platform: dict[str, str],  # noqa: F811 - the imported fixture, requested by name
    tmp_path: Path,
) -> None:
    (tmp_path / "libs").symlink_to(ROOT / "libs")
    for block in (quickstart_block(), auditors_block()):
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + block],
            cwd=tmp_path,
            env=platform,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^INTACT: \d+ streams, \d+ events, 1 seals checked", out, re.M), out
    assert "# Timeline of INC-1" in out
    # The page's events are in the cross-service timeline, beside the incident's own.
    assert "| PageDelivered |" in out
    assert out.count("INTACT") >= 3, out
    assert (tmp_path / "INC-1.bundle.json").exists()

    # why-paged on the page the quick start's alert caused walks back to that alert.
    timeline = subprocess.run(
        [
            ".venv/bin/incidentctl",
            "--token-file",
            "var/firewatch/auditor.token",
            "audit",
            "timeline",
            "INC-1",
        ],
        cwd=tmp_path,
        env=platform,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    pages = sorted(
        {
            json.loads(line)["stream"]
            for line in timeline.splitlines()
            if json.loads(line)["stream"].startswith("page-")
        }
    )
    assert pages, timeline
    why = subprocess.run(
        [
            ".venv/bin/incidentctl",
            "--token-file",
            "var/firewatch/auditor.token",
            "audit",
            "why-paged",
            pages[0].removeprefix("page-"),
            "--json",
        ],
        cwd=tmp_path,
        env=platform,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    steps = [step["what"] for step in json.loads(why)]
    assert steps == [
        "alert: AlertTriggered",
        "cause: AlertGroupFiring",
        "cause: IncidentDeclared",
        "policy in force",
        "level fired",
        "paged (level resolved to this person)",
        "notification rule",
        "delivery attempt",
        "receipt: delivered",
        "cancelled",
        "acknowledged",
    ], why

    # "Which credentials could write?", asked with the auditor's token: make run's
    # admin and oncall's bound responder token, never the auditor's own.
    listed = subprocess.run(
        [
            ".venv/bin/incidentctl",
            "--token-file",
            "var/firewatch/auditor.token",
            "audit",
            "credentials",
            "--writers",
            "--json",
        ],
        cwd=tmp_path,
        env=platform,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    writers = {row["name"]: row for row in json.loads(listed)["credentials"]}
    assert {"local-admin", "oncall-cli"} <= set(writers), listed
    assert "local-auditor" not in writers, listed
    assert (writers["oncall-cli"]["user"], writers["oncall-cli"]["role"]) == ("oncall", "responder")
    assert "incident" in writers["oncall-cli"]["writes_through"]
