"""CommsService over real gRPC and `incidentctl comms ...` against it: updates with
their promise, preview, the report, the status page, roles and field-named refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner

from apikit.auth import Role, TokenRegistry, issue_token
from apikit.rpc import start_server
from comms_service.api import SERVICE_NAME, CommsServicer
from comms_service.app import CommsApplication
from firewatch.comms.v1 import comms_pb2 as pb
from firewatch.comms.v1 import comms_pb2_grpc as pb_grpc
from incidentctl.main import app as cli_app
from notify import DeliveryOutcome
from tests.unit.comms.conftest import declare

CLEAN = {
    "FIREWATCH_SERVER": None,
    "FIREWATCH_TOKEN": None,
    "FIREWATCH_TOKEN_FILE": None,
    "FIREWATCH_COMMS_SERVER": None,
    "COLUMNS": "250",
}


@pytest.fixture
def api(app: CommsApplication, tmp_path: Path) -> Iterator[dict[str, Any]]:
    path = tmp_path / "tokens.json"
    tokens = {
        "admin": issue_token(path, "admin", Role.ADMIN),
        "alice": issue_token(path, "alice", Role.RESPONDER),
        "mallory": issue_token(path, "mallory", Role.RESPONDER),
        "auditor": issue_token(path, "audit", Role.AUDITOR),
    }
    servicer = CommsServicer(app, TokenRegistry(path))
    running = start_server(
        host="127.0.0.1",
        port=0,
        service_names=[SERVICE_NAME],
        register=[lambda s: pb_grpc.add_CommsServiceServicer_to_server(servicer, s)],
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield {"port": running.port, "tokens": tokens, "stub": pb_grpc.CommsServiceStub(channel)}
    finally:
        channel.close()
        running.stop(0)


def cli(api: dict[str, Any], *args: str, who: str = "alice") -> Any:
    return CliRunner().invoke(
        cli_app,
        ["--token", api["tokens"][who], *args, "--comms-server", f"127.0.0.1:{api['port']}"],
        env=CLEAN,
    )


def auth(api: dict[str, Any], who: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {api['tokens'][who]}")]


def test_the_commander_posts_an_update_from_the_cli_with_its_promise(
    api: dict[str, Any], app: CommsApplication
) -> None:
    declare(app)
    preview = cli(
        api,
        "comms",
        "update",
        "INC-1",
        "-m",
        "Checkout is failing",
        "--audience",
        "executive",
        "--preview",
    )
    assert preview.exit_code == 0, preview.output
    assert "INC-1 (P1) is investigating. Checkout is failing" in preview.output
    assert "nothing posted" in preview.output
    warned = cli(api, "comms", "update", "INC-1", "-m", "ETA 20 minutes", "--preview")
    assert "check: time estimate" in warned.output
    posted = cli(
        api, "comms", "update", "INC-1", "-m", "Checkout is failing", "--by", "alice", "--json"
    )
    assert posted.exit_code == 0, posted.output
    body = json.loads(posted.output)
    assert body["posted"]
    assert body["next_update_by"]
    shown = json.loads(cli(api, "comms", "show", "INC-1", "--json").output)
    assert {c["role"] for c in shown["channels"]} == {"war_room", "stakeholder"}
    assert {c["open"] for c in shown["channels"]} == {"pending"}
    # The war room's opening message fails once (the receiver is down): shown, retried.
    war = next(s for s in app.tick() if s.target.target_id == "war_room.war")
    app.record_outcomes(
        war.dispatch_id, [("war_room.war", 1, DeliveryOutcome(False, False, "HTTP 503"))]
    )
    shown = json.loads(cli(api, "comms", "show", "INC-1", "--json").output)
    assert {c["address"]: c["open"] for c in shown["channels"]}[war.target.address] == (
        "retrying: HTTP 503"
    )
    report = json.loads(cli(api, "comms", "report", "--json").output)
    assert report["severities"] == [{"name": "P1", "kept": 1, "missed": 0, "open": 1}]


def test_refusals_name_the_field_and_map_to_status_codes(
    api: dict[str, Any], app: CommsApplication
) -> None:
    declare(app)
    stub = api["stub"]
    with pytest.raises(grpc.RpcError) as error:
        stub.PostUpdate(
            pb.PostUpdateRequest(incident="INC-9", audience=pb.AUDIENCE_PUBLIC, message="x"),
            metadata=auth(api, "alice"),
        )
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith("incident:")
    with pytest.raises(grpc.RpcError) as error:
        stub.PostUpdate(
            pb.PostUpdateRequest(incident="INC-1", message="x"), metadata=auth(api, "alice")
        )
    assert error.value.details().startswith("audience:")
    with pytest.raises(grpc.RpcError) as error:
        stub.PostUpdate(
            pb.PostUpdateRequest(incident="INC-1", audience=pb.AUDIENCE_PUBLIC, message="x"),
            metadata=auth(api, "mallory"),  # a responder, but not alice (the commander)
        )
    assert error.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as error:
        stub.AddComponent(
            pb.AddComponentRequest(component_id="api", name="API"), metadata=auth(api, "alice")
        )
    assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as error:
        stub.GetReport(pb.GetReportRequest())
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_an_update_is_written_by_the_caller_and_only_an_admin_posts_on_behalf(
    api: dict[str, Any], app: CommsApplication
) -> None:
    declare(app)  # alice commands INC-1
    stub = api["stub"]
    head = app.store.head_position()
    with pytest.raises(grpc.RpcError) as error:
        stub.PostUpdate(
            pb.PostUpdateRequest(
                incident="INC-1", audience=pb.AUDIENCE_PUBLIC, message="x", posted_by="alice"
            ),
            metadata=auth(api, "mallory"),
        )
    assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error.value.details().startswith("posted_by:")
    assert app.store.head_position() == head
    stub.PostUpdate(
        pb.PostUpdateRequest(
            incident="INC-1", audience=pb.AUDIENCE_PUBLIC, message="by alice", posted_by="alice"
        ),
        metadata=auth(api, "alice"),
    )
    stub.PostUpdate(
        pb.PostUpdateRequest(
            incident="INC-1", audience=pb.AUDIENCE_PUBLIC, message="for alice", posted_by="alice"
        ),
        metadata=auth(api, "admin"),
    )
    posted = [e for e in app.store.read_all() if e.type == "StakeholderUpdatePosted"]
    assert [(e.data["posted_by"], e.data.get("entered_by"), e.metadata.actor) for e in posted] == [
        ("alice", None, "alice"),
        ("alice", "admin", "admin"),
    ]
    # On behalf of someone who may not write updates: the author rule still applies.
    with pytest.raises(grpc.RpcError) as error:
        stub.PostUpdate(
            pb.PostUpdateRequest(
                incident="INC-1", audience=pb.AUDIENCE_PUBLIC, message="x", posted_by="mallory"
            ),
            metadata=auth(api, "admin"),
        )
    assert error.value.code() is grpc.StatusCode.FAILED_PRECONDITION


def test_the_update_templates_are_listed_from_the_cli(
    api: dict[str, Any], app: CommsApplication
) -> None:
    listed = cli(api, "comms", "templates", "--json", who="auditor")
    assert listed.exit_code == 0, listed.output
    assert [t["name"] for t in json.loads(listed.output)] == ["executive", "internal", "public"]
    public = cli(api, "comms", "templates", "public")
    assert public.exit_code == 0, public.output
    assert "We will post another update by {{ next_update_by }}" in public.output
    unknown = cli(api, "comms", "templates", "board")
    assert unknown.exit_code == 1
    assert "template: no template 'board'" in unknown.output


def test_the_status_page_is_run_from_the_cli(api: dict[str, Any], app: CommsApplication) -> None:
    assert (
        cli(api, "comms", "component", "add", "api", "API", "--group", "web", who="admin").exit_code
        == 0
    )
    drafted = cli(
        api,
        "comms",
        "page",
        "draft",
        "API errors",
        "-m",
        "Investigating",
        "--component",
        "api",
        "--impact",
        "major",
        "--json",
    )
    assert drafted.exit_code == 0, drafted.output
    status_id = json.loads(drafted.output)["status_incident_id"]
    assert cli(api, "comms", "page", "note", status_id, "db-7 again").exit_code == 0
    updated = cli(
        api,
        "comms",
        "page",
        "update",
        status_id,
        "identified",
        "-m",
        "Bad deploy",
        "--component",
        "api=partial_outage",
    )
    assert updated.exit_code == 0, updated.output
    listed = json.loads(cli(api, "comms", "page", "list", "--json").output)
    assert listed[0]["published"] is False
    assert cli(api, "comms", "page", "publish", status_id).exit_code == 0
    components = json.loads(cli(api, "comms", "component", "list", "--json").output)
    assert {c["id"]: c["status"] for c in components} == {
        "web": "partial_outage",
        "api": "partial_outage",
    }
    bad = cli(
        api,
        "comms",
        "page",
        "update",
        status_id,
        "identified",
        "-m",
        "x",
        "--component",
        "nope=major_outage",
    )
    assert bad.exit_code == 1
    assert "components[0]" in bad.output


def test_a_maintenance_is_scheduled_from_the_cli(
    api: dict[str, Any], app: CommsApplication
) -> None:
    assert cli(api, "comms", "component", "add", "db", "Database", who="admin").exit_code == 0
    drafted = cli(
        api,
        "comms",
        "page",
        "draft",
        "DB upgrade",
        "-m",
        "Planned",
        "--component",
        "db",
        "--maintenance-from",
        "2026-12-01T02:00:00Z",
        "--maintenance-until",
        "2026-12-01T03:00:00Z",
        "--json",
    )
    assert drafted.exit_code == 0, drafted.output
    listed = json.loads(cli(api, "comms", "page", "list", "--json").output)
    assert (listed[0]["kind"], listed[0]["status"]) == ("maintenance", "scheduled")
    inverted = cli(
        api,
        "comms",
        "page",
        "draft",
        "x",
        "-m",
        "y",
        "--maintenance-from",
        "2026-12-01T03:00:00Z",
        "--maintenance-until",
        "2026-12-01T02:00:00Z",
    )
    assert inverted.exit_code == 1
    assert "scheduled_until" in inverted.output


def test_subscribers_are_managed_from_the_cli(api: dict[str, Any], app: CommsApplication) -> None:
    assert cli(api, "comms", "component", "add", "api", "API", who="admin").exit_code == 0
    added = cli(
        api,
        "comms",
        "subscriber",
        "add-webhook",
        "https://hooks.example.com/s",
        "--component",
        "api",
        who="admin",
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(cli(api, "comms", "subscriber", "list", "--json", who="admin").output)
    assert listed == [
        {
            "id": added.output.strip(),
            "kind": "webhook",
            "address": "https://hooks.example.com/s",
            "status": "confirmed",
            "components": ["api"],
        }
    ]
    refused = cli(api, "comms", "subscriber", "add-webhook", "ftp://nope", who="admin")
    assert refused.exit_code == 1
    assert "url:" in refused.output
    assert cli(api, "comms", "subscriber", "list").exit_code == 1  # a responder may not


def test_an_admin_removes_a_subscriber_from_the_cli_and_it_is_told_nothing_more(
    api: dict[str, Any], app: CommsApplication
) -> None:
    app.add_component("api", "API", by="admin")
    hook = app.add_webhook_subscriber("https://hooks.example.com/s", by="admin")
    hook_id = str(hook.state.subscriber_id)
    refused = cli(api, "comms", "subscriber", "remove", hook_id)  # a responder may not
    assert refused.exit_code == 1
    head = app.store.head_position()
    unknown = cli(api, "comms", "subscriber", "remove", "nobody@example.com", who="admin")
    assert unknown.exit_code == 1
    assert "subscriber: no subscriber 'nobody@example.com'" in unknown.output
    assert app.store.head_position() == head
    removed = cli(
        api,
        "comms",
        "subscriber",
        "remove",
        "HTTPS://hooks.example.com/s",
        "--reason",
        "endpoint gone",
        who="admin",
    )
    assert removed.exit_code == 0, removed.output
    assert f"subscriber {hook_id} removed" in removed.output
    again = cli(api, "comms", "subscriber", "remove", hook_id, who="admin")
    assert "was already removed" in again.output
    events = [e for e in app.store.read_all() if e.type == "SubscriberRemoved"]
    assert [(e.data["removed_by"], e.data["reason"], e.metadata.actor) for e in events] == [
        ("admin", "endpoint gone", "admin")
    ]
    listed = json.loads(cli(api, "comms", "subscriber", "list", "--json", who="admin").output)
    assert [s["status"] for s in listed] == ["removed"]
    status_id = app.draft_status_incident(
        name="API errors", body="Investigating", by="alice", component_ids=["api"]
    ).state.drafted.status_incident_id
    app.publish(status_id, by="alice")
    assert [s for s in app.tick() if s.purpose == "subscriber_notice"] == []
