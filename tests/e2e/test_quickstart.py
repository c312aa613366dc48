"""The README quick start, run exactly as written against `make run`'s processes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]


def quickstart_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README has no quick start block"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`make run` with a private state folder and port, from a working directory that
    looks like the repository root to the quick start (.venv and var/firewatch)."""
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    home = tmp_path / "var" / "firewatch"
    port = free_port()
    oncall_port = free_port()
    alert_port = free_port()
    audit_port = free_port()
    env = {
        **os.environ,
        "FIREWATCH_HOME": str(home),
        "FIREWATCH_INCIDENT_API_PORT": str(port),
        "FIREWATCH_DETECTION_HTTP_PORT": str(free_port()),
        "FIREWATCH_SMTP_PORT": str(free_port()),
        "FIREWATCH_DETECTION_API_PORT": str(alert_port),
        "FIREWATCH_ALERT_SERVER": f"127.0.0.1:{alert_port}",
        "FIREWATCH_PAGING_HTTP_PORT": str(free_port()),
        "FIREWATCH_PAGING_API_PORT": str(oncall_port),
        "FIREWATCH_ONCALL_SERVER": f"127.0.0.1:{oncall_port}",
        "FIREWATCH_SERVER": f"127.0.0.1:{port}",
        "FIREWATCH_AUDIT_API_PORT": str(audit_port),
        "FIREWATCH_AUDIT_SERVER": f"127.0.0.1:{audit_port}",
    }
    env.pop("FIREWATCH_STORE_URL", None)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    output: list[str] = []
    for line in process.stdout:
        output.append(line)
        if line.strip() == "ready":
            break
    else:
        pytest.fail("make run never became ready:\n" + "".join(output))
    try:
        yield env
    finally:
        os.killpg(process.pid, 2)  # Ctrl-C, as a person would
        rest, _ = process.communicate(timeout=60)
        assert "run: stopped" in rest, rest


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
    # Acknowledging answers with the reference people use, not the incident's uuid.
    assert re.search(r"^INC-1 acknowledged by \S+: paging stopped$", out, re.M), out
    # Paging events read as sentences, not as their data (a pipe is 80 columns wide).
    assert "paged oncall by email" in out
    assert "escalation on policy default rev 1 started" in out
    assert "{'" not in out
    assert "…" not in out
