"""The auditor's answer to "which credentials could write at 02:17": AuditService
ListCredentials and `incidentctl audit credentials`, with an auditor token, over the
credential streams `firewatch-token` records (apikit.tokens, docs/adr/0017)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from typer.testing import CliRunner, Result

from apikit.auth import Role
from apikit.tokens import TokenAdmin
from eventlog import EventFilter
from firewatch.audit.v1 import audit_pb2 as pb
from incidentctl.main import app
from paging_service.app import PagingApplication
from tests.integration.audit.conftest import AuditApi
from tests.integration.incidentctl.conftest import CLEAN_ENV

AT_0217 = "2026-11-27T02:17:00Z"


def run(api: AuditApi, *args: str, who: str = "audrey") -> Result:
    return CliRunner().invoke(
        app,
        ["--token", api.tokens[who], "audit", "credentials", *args,
         "--audit-server", f"127.0.0.1:{api.server.port}"],
        env=CLEAN_ENV,
    )  # fmt: skip


def access_records(api: AuditApi) -> list[tuple[str, str, str]]:
    return [
        (e.data["principal"], e.data["method"], e.data["target"])
        for e in api.app.store.read_all(filter=EventFilter.of(categories=["auditaccess"]))
    ]


@pytest.fixture
def night(audit_api: AuditApi, tmp_path: Path) -> AuditApi:
    """02:00 root, an auditor, a CI integration, a responder scoped to the audit API and
    oncall's night token (expires 02:30); 02:10 `leaked`; 02:20 `leaked` revoked and
    `later` issued; then an hour passes."""
    log = audit_api.log
    log.clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    PagingApplication(log.open("paging"), log.clock).register_user("oncall", "On call", "UTC")
    admin = TokenAdmin(log.open("credentials"), tmp_path / "issued.json", log.clock)
    admin.issue("root-token", Role.ADMIN, by="root")
    admin.issue("audrey-2", Role.AUDITOR, by="root")
    admin.issue("ci", Role.INTEGRATION, by="root", services=["alert"], integrations=["ci"])
    admin.issue("reader", Role.RESPONDER, by="root", services=["audit"])
    admin.issue(
        "night", Role.RESPONDER, by="root", user="oncall", services=["incident", "oncall"],
        expires_at=log.clock() + timedelta(minutes=30),
    )  # fmt: skip
    log.clock.advance(10 * 60)
    admin.issue("leaked", Role.RESPONDER, by="root")
    log.clock.advance(10 * 60)
    admin.revoke("leaked", by="root", reason="laptop lost")
    admin.issue("later", Role.ADMIN, by="root")
    log.clock.advance(60 * 60)
    return audit_api


def test_an_auditor_lists_the_credentials_that_could_write_at_an_instant(night: AuditApi) -> None:
    result = run(night, "--at", AT_0217, "--writers", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["as_of"] == AT_0217
    rows = {row["name"]: row for row in answer["credentials"]}
    assert sorted(rows) == ["ci", "leaked", "night", "root-token"]
    assert (rows["night"]["user"], rows["night"]["writes_through"]) == (
        "oncall",
        ["incident", "oncall"],
    )
    assert rows["ci"]["writes_through"] == ["alert"]
    assert rows["ci"]["integrations"] == ["ci"]
    assert "audit" not in rows["root-token"]["writes_through"]
    assert "runbooks" in rows["root-token"]["writes_through"]
    assert rows["leaked"]["status"] == "active"  # revoked at 02:20, after the instant
    assert rows["leaked"]["revoked_at"] is None
    assert all(len(row["fingerprint"]) == 12 for row in rows.values())

    # Without --writers: every credential recorded by then, with why it could not write.
    table = run(night, "--at", AT_0217)
    assert table.exit_code == 0, table.output
    assert "credentials that were recorded at 2026-11-27T02:17:00Z" in table.stdout
    assert {"audrey-2", "reader", "night", "leaked"} <= set(table.stdout.split())
    assert "later" not in table.stdout.split()

    # Now: leaked is revoked, night expired; later is live.
    now = json.loads(run(night, "--json").stdout)
    states = {row["name"]: (row["status"], row["could_write"]) for row in now["credentials"]}
    assert states["leaked"] == ("revoked", False)
    assert states["night"] == ("expired", False)
    assert states["later"] == ("active", True)

    assert access_records(night) == [
        ("audrey", "ListCredentials", "credential-* (writers) at 2026-11-27T02:17:00+00:00"),
        ("audrey", "ListCredentials", "credential-* (all) at 2026-11-27T02:17:00+00:00"),
        ("audrey", "ListCredentials", "credential-* (all) at 2026-11-27T03:20:00+00:00"),
    ]


def test_only_admins_and_auditors_may_ask_and_bad_instants_name_the_field(
    night: AuditApi,
) -> None:
    refused = run(night, "--writers", who="alice")
    assert refused.exit_code == 1
    assert "responder" in refused.stderr

    future = run(night, "--at", "2099-01-01T00:00:00Z")
    assert future.exit_code == 1
    assert "as_of: 2099-01-01T00:00:00+00:00 is in the future" in future.stderr

    malformed = run(night, "--at", "02:17 last night")
    assert malformed.exit_code == 2
    assert "--at" in malformed.output

    request = pb.ListCredentialsRequest(as_of=Timestamp(seconds=-(10**13)))
    with pytest.raises(grpc.RpcError) as caught:
        night.stub.ListCredentials(request, metadata=night.auth())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("as_of:")
    assert access_records(night) == []  # nothing answered, nothing recorded
