"""The README quick start, run exactly as written against `make run`'s processes."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.localplatform import ROOT, LocalPlatform

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def quickstart_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README has no quick start block"
    return match.group(1)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`make run` with a private state folder and ports and the default RabbitMQ names,
    from a working directory that looks like the repository root to the quick start
    (.venv and var/firewatch): it cannot collide with a developer's own `make run`."""
    with LocalPlatform(tmp_path) as running:
        yield running.env


def test_the_readme_quick_start_declares_works_and_resolves_an_incident(
    platform: dict[str, str], tmp_path: Path
) -> None:
    script = "set -euo pipefail\n" + quickstart_block()
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=platform,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "INC-1" in out
    assert re.search(r"resolved", out, re.I)
    assert re.search(r"root cause pending", out, re.I)
    for event_type in (
        "IncidentDeclared",
        "CommanderAssigned",
        "MitigationApplied",
        "IncidentResolved",
    ):
        assert event_type in out
    # The alert's payload.component names the service, through to `show`.
    assert re.search(r"^services\s+checkout\s*$", out, re.M), out
    # Acknowledging answers with the reference people use, not the incident's uuid, and
    # names the person: the quick start acks with `oncall`'s own bound token, so the
    # timeline (and the postmortem's time-to-acknowledge) names oncall, not a token.
    assert re.search(r"^INC-1 acknowledged by oncall: paging stopped$", out, re.M), out
    assert re.search(r"paging stopped: acknowledged by oncall", out), out
    # ... and it is INC-1's own timeline that says so: the acknowledgement is an
    # EscalationStopped by oncall, acted as oncall with oncall's token (`oncall-cli`).
    timeline = subprocess.run(
        [
            ".venv/bin/incidentctl",
            "--token-file",
            "var/firewatch/admin.token",
            "timeline",
            "INC-1",
            "--json",
        ],
        cwd=tmp_path,
        env=platform,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    stops = [e for e in json.loads(timeline)["events"] if e["type"] == "EscalationStopped"]
    assert [(e["data"]["by"], e["data"]["reason"], e["actor"], e["credential"]) for e in stops] == [
        ("oncall", "acknowledged", "oncall", "oncall-cli")
    ], timeline
    # Paging events read as sentences, not as their data (a pipe is 80 columns wide).
    assert "paged oncall by email" in out
    assert "escalation on policy default rev 1 started" in out
    assert "{'" not in out
    assert "…" not in out
    # The postmortem continuation: opened by the resolution, published, reported.
    assert "PostmortemStarted" in out
    assert re.search(r"INC-1 postmortem: .*\n.*published", out)
    assert "Check the pool size against the connection limit in CI" in out
    assert "MTTR" in out
    assert "metric definition v1" in out
    # Communications: the update reached the stakeholders' mailbox and the status page.
    assert "Subject: Update on INC-1" in out
    assert '"name": "Checkout errors"' in out
    assert "no data was lost" in out
    # The platform probes its own health endpoint: defined, run once, each step timed.
    assert "platform-health: defined (http, every 30s)" in out
    assert re.search(r"^detection\s+ok\s+[\d.]+ ms\s+200", out, re.M), out
    assert "platform-health: up in" in out
    # Runbooks: INC-1 shows the runbook it matched, and the automated rollback's call
    # is in its timeline (requested, attempted, result).
    assert "checkout-5xx rev 1 published" in out
    assert re.search(r"INC-1 runbook checkout-5xx rev 1", out), out
    assert "action checkout-5xx/rollback started automatically" in out
    assert re.search(r"action succeeded: HTTP 202", out), out
    assert "runbook step checkout-5xx/dashboard done" in out
