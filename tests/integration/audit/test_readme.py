"""The README's "For auditors" block runs exactly as written against a real
AuditService on a log holding INC-1 (executable docs)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.integration.audit.conftest import AuditApi, declare_incident

ROOT = Path(__file__).resolve().parents[3]


def auditors_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For auditors", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README has no block under 'For auditors'"
    return match.group(1)


def test_the_readme_auditor_commands_run_as_written(audit_api: AuditApi, tmp_path: Path) -> None:
    assert declare_incident(audit_api.log) == "INC-1"
    work = tmp_path / "repo"
    (work / "var" / "firewatch").mkdir(parents=True)
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "libs").symlink_to(ROOT / "libs")
    (work / "var/firewatch/auditor.token").write_text(audit_api.tokens["audrey"] + "\n")
    assert audit_api.app.seal_file is not None
    (work / "var/firewatch/audit-seals.jsonl").symlink_to(audit_api.app.seal_file)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FIREWATCH_") and key != "VIRTUAL_ENV"
    }
    env["FIREWATCH_AUDIT_SERVER"] = f"127.0.0.1:{audit_api.server.port}"

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", auditors_block()],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "INTACT: " in done.stdout
    assert "# Timeline of INC-1" in done.stdout
    assert (work / "INC-1.timeline.html").read_text().count("IncidentDeclared") == 1
    assert done.stdout.count("INTACT") >= 3  # verify, check, the standalone script
