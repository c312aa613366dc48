"""Revoking or rotating a token takes effect in every running API process at once.

Two real API processes (the incident API and the on-call API, started as their console
scripts) share one SQLite log and one token file; `firewatch-token` runs as its own
process, as an operator would run it. No restart, no sleep: each process notices the
replaced token file on its next call.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from apikit.auth import Role, issue_token
from eventlog import EventFilter, open_store
from firewatch.incident.v1 import incident_pb2 as ipb
from firewatch.incident.v1 import incident_pb2_grpc
from firewatch.oncall.v1 import oncall_pb2 as opb
from firewatch.oncall.v1 import oncall_pb2_grpc
from paging_service.app import PagingApplication

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60.0


@dataclass
class Platform:
    home: Path
    env: dict[str, str]
    incident: incident_pb2_grpc.IncidentServiceStub
    oncall: oncall_pb2_grpc.OnCallServiceStub

    def token(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "firewatch-token"), *args, "--by", "root"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    found: list[int] = []
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"listening on [\d.]+:(\d+)", line)
            if match and not found:
                found.append(int(match.group(1)))
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(STARTUP_SECONDS) or not found:
        process.kill()
        raise AssertionError(f"{command[0]} did not start")
    return process, found[0]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    url = f"sqlite:///{tmp_path / 'eventlog.db'}"
    paging = open_store(url, writer="paging")
    PagingApplication(paging, paging.clock).register_user("oncall", "On-call", "UTC")
    paging.close()
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": url,
        "FIREWATCH_TOKENS_FILE": str(tmp_path / "tokens.json"),
        "FIREWATCH_INCIDENT_API_PORT": "0",
        "FIREWATCH_PAGING_API_PORT": "0",
    }
    (tmp_path / "tokens.json").write_text('{"tokens": []}\n', encoding="utf-8")
    processes = []
    channels = []
    try:
        incident, incident_port = _start([str(BIN / "firewatch-incident-api")], env)
        processes.append(incident)
        oncall, oncall_port = _start([str(BIN / "firewatch-paging-api")], env)
        processes.append(oncall)
        channels = [
            grpc.insecure_channel(f"127.0.0.1:{incident_port}"),
            grpc.insecure_channel(f"127.0.0.1:{oncall_port}"),
        ]
        yield Platform(
            tmp_path,
            env,
            incident_pb2_grpc.IncidentServiceStub(channels[0]),
            oncall_pb2_grpc.OnCallServiceStub(channels[1]),
        )
    finally:
        for channel in channels:
            channel.close()
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def _codes(platform: Platform, token: str) -> list[tuple[grpc.StatusCode, str]]:
    """What each process answers a read made with `token` (NOT_FOUND: authenticated)."""
    auth = [("authorization", f"Bearer {token}")]
    answers = []
    calls = [
        lambda: platform.incident.GetIncident(
            ipb.GetIncidentRequest(incident="INC-999"), metadata=auth, timeout=10
        ),
        lambda: platform.oncall.GetPolicy(
            opb.GetPolicyRequest(policy_id="nope"), metadata=auth, timeout=10
        ),
    ]
    for call in calls:
        try:
            call()
            answers.append((grpc.StatusCode.OK, ""))
        except grpc.RpcError as error:
            answers.append((error.code(), error.details()))
    return answers


def test_a_revoked_token_stops_working_in_every_running_process_without_a_restart(
    platform: Platform,
) -> None:
    issued = platform.token("issue", "--name", "oncall-laptop", "--role", "responder",
                            "--user", "oncall", "--expires", "30d")  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert [code for code, _ in _codes(platform, token)] == [grpc.StatusCode.NOT_FOUND] * 2

    # A write made with the bound token is attributed to the person, with the token
    # named for audit.
    declared = platform.incident.DeclareIncident(
        ipb.DeclareIncidentRequest(
            title="checkout 5xx", severity=ipb.SEVERITY_P2, services=["checkout"]
        ),
        metadata=[("authorization", f"Bearer {token}")],
        timeout=10,
    )
    assert declared.incident.declared_by == "oncall"
    log = open_store(platform.env["FIREWATCH_STORE_URL"])
    [event] = log.read_all(filter=EventFilter.of(event_types=["IncidentDeclared"]))
    assert (event.metadata.actor, event.metadata.credential) == ("oncall", "oncall-laptop")

    revoked = platform.token("revoke", "--name", "oncall-laptop", "--reason", "laptop lost")
    assert revoked.returncode == 0, revoked.stderr
    for code, details in _codes(platform, token):
        assert code is grpc.StatusCode.UNAUTHENTICATED
        assert "token 'oncall-laptop' was revoked at" in details
        assert "(laptop lost)" in details
        assert token not in details
    kinds = [e.type for e in log.read_all(filter=EventFilter.of(categories=["credential"]))]
    assert kinds == ["TokenIssued", "TokenRevoked"]
    log.close()


def test_a_rotated_token_stops_working_everywhere_and_its_successor_works_everywhere(
    platform: Platform,
) -> None:
    old = platform.token("issue", "--name", "ci", "--role", "auditor").stdout.strip()
    assert [code for code, _ in _codes(platform, old)] == [grpc.StatusCode.NOT_FOUND] * 2
    rotated = platform.token("rotate", "--name", "ci")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert [code for code, _ in _codes(platform, old)] == [grpc.StatusCode.UNAUTHENTICATED] * 2
    assert [code for code, _ in _codes(platform, new)] == [grpc.StatusCode.NOT_FOUND] * 2
    unknown = _codes(platform, "fwt_never-issued")
    assert all(
        code is grpc.StatusCode.UNAUTHENTICATED and details.startswith("unknown token")
        for code, details in unknown
    )


def test_an_expiry_written_while_processes_run_is_enforced_by_every_one_of_them(
    platform: Platform,
) -> None:
    """Expiry is checked on every call against each process's own clock, from the entry
    it reloaded; an instant already past stands in for waiting for one (the clock side is
    tested with a FakeClock in tests/unit/apikit)."""
    token = issue_token(
        Path(platform.env["FIREWATCH_TOKENS_FILE"]),
        "night-shift",
        Role.RESPONDER,
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    for code, details in _codes(platform, token):
        assert code is grpc.StatusCode.UNAUTHENTICATED
        assert "token 'night-shift' expired at" in details


def test_a_token_scoped_to_one_api_is_refused_by_the_others(platform: Platform) -> None:
    issued = platform.token("issue", "--name", "pager-bot", "--role", "responder",
                            "--services", "oncall")  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    (incident_code, incident_details), (oncall_code, _) = _codes(platform, issued.stdout.strip())
    assert incident_code is grpc.StatusCode.PERMISSION_DENIED
    assert incident_details == (
        "token 'pager-bot' is scoped to oncall; it may not call the incident API"
    )
    assert oncall_code is grpc.StatusCode.NOT_FOUND  # authenticated, and nothing there
