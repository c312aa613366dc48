"""`incidentctl oncall ...` and `incidentctl page ...` against real servers.

The incident API (the `api` fixture, for INC-n references) and the OnCallService run
on one log (SQLite or PostgreSQL) and share its fake clock; escalations are started the
way the paging worker does it, on the same log.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import Result

from paging_service.app import PagingApplication
from tests.integration.incident.conftest import Api, StoreFactory
from tests.integration.incidentctl.conftest import Cli
from tests.integration.paging.test_grpc_oncall_service import T0, WEEK, oncall_server
from tests.integration.paging.test_grpc_oncall_service import seed as seed_over_grpc

T1 = T0 + timedelta(hours=1)
T3 = T0 + timedelta(hours=3)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@dataclass
class OnCall:
    app: PagingApplication
    address: str
    run: Cli

    def __call__(self, *args: str, who: str | None = "alice") -> Result:
        return self.run(*args, who=who, env={"FIREWATCH_ONCALL_SERVER": self.address})


@pytest.fixture
def oncall(api: Api, cli: Cli, open_log: StoreFactory, tmp_path: Path) -> Iterator[OnCall]:
    api.clock.set(T0)
    store = open_log("paging")
    store.clock = api.clock
    # The incident fixture's token file: one token works for both APIs.
    with oncall_server(store, api.clock, tmp_path / "tokens.json") as (app, server):
        yield OnCall(app, f"127.0.0.1:{server.port}", cli)


@pytest.fixture
def seeded(oncall: OnCall, api: Api) -> OnCall:
    """alice, bob, carol; schedule `primary` with a weekly alice/bob rotation; a policy
    paging whoever is on call."""
    grpc_side = _GrpcSide(oncall, api)
    seed_over_grpc(grpc_side)  # type: ignore[arg-type]
    oncall.app.create_policy("checkout", "Checkout", [{"targets": ["schedule:primary"]}])
    return oncall


@dataclass
class _GrpcSide:
    """Just enough of the gRPC test's fixture for its `seed` helper."""

    oncall: OnCall
    api: Api

    def call(self, method: str, request: object, who: str = "root") -> object:
        import grpc

        from firewatch.oncall.v1 import oncall_pb2_grpc

        with grpc.insecure_channel(self.oncall.address) as channel:
            stub = oncall_pb2_grpc.OnCallServiceStub(channel)  # type: ignore[no-untyped-call]
            metadata = [("authorization", f"Bearer {self.api.tokens[who]}")]
            return getattr(stub, method)(request, metadata=metadata, timeout=10)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "" or "wrote" in result.stderr, result.stderr
    return result.stdout


def failed(result: Result, code: int, expected: str) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    stderr = result.stderr
    assert stderr.startswith("error: "), stderr
    assert expected in stderr, stderr
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr


def declare(oncall: OnCall) -> tuple[str, str]:
    """A P1 incident on the incident API, paged by the paging application: (INC-n, id)."""
    out = ok(
        oncall.run("declare", "checkout 5xx", "--severity", "P1", "--service", "checkout", "--json")
    )
    outcome = json.loads(out)["outcome"]
    oncall.app.start_escalation(uuid.UUID(outcome["incident_id"]), "P1", "checkout")
    oncall.app.tick()
    return outcome["reference"], outcome["incident_id"]


# ---------------------------------------------------------------------- oncall


def test_oncall_now_and_at(seeded: OnCall) -> None:
    assert "schedule:primary at 2026-11-27T10:00:00Z: alice" in ok(
        seeded("oncall", "now", "primary")
    )
    answer = json.loads(ok(seeded("oncall", "now", "schedule:primary", "--json")))
    assert answer == {
        "target": "schedule:primary",
        "at": "2026-11-27T10:00:00Z",
        "users": ["alice"],
        "configuration_as_of_at": False,
    }
    assert ": bob" in ok(seeded("oncall", "at", "primary", iso(T0 + WEEK)))
    assert ": carol" in ok(seeded("oncall", "now", "user:carol"))


def test_override_then_remove_and_read_the_past(seeded: OnCall, api: Api) -> None:
    added = json.loads(
        ok(
            seeded(
                "oncall",
                "override",
                "primary",
                "carol",
                "--from",
                iso(T1),
                "--to",
                iso(T3),
                "--json",
            )
        )
    )
    override = added["override"]
    assert (override["user_id"], override["start"], override["end"]) == ("carol", iso(T1), iso(T3))
    during = iso(T0 + timedelta(hours=2))
    assert ": carol" in ok(seeded("oncall", "at", "primary", during))

    api.clock.advance(timedelta(hours=4))
    removed = ok(seeded("oncall", "override", "primary", "--remove", override["override_id"]))
    assert f"override {override['override_id']} removed from primary" in removed

    past = ok(seeded("oncall", "at", "primary", during))
    assert ": carol (configuration as it stood then)" in past
    answer = json.loads(ok(seeded("oncall", "at", "primary", during, "--json")))
    assert (answer["users"], answer["configuration_as_of_at"]) == (["carol"], True)

    plain = ok(
        seeded("oncall", "override", "primary", "bob", "--from", iso(T3), "--to", iso(T3 + WEEK))
    )
    assert plain.startswith("override o-")
    assert "bob is on call for primary from 2026-11-27T13:00:00Z" in plain


def test_shifts_as_a_table_json_and_icalendar(seeded: OnCall, tmp_path: Path) -> None:
    ok(seeded("oncall", "override", "primary", "carol", "--from", iso(T1), "--to", iso(T3)))
    span = ("--from", "2026-11-23T09:00:00Z", "--to", "2026-12-07T09:00:00Z")
    table = ok(seeded("oncall", "shifts", "primary", *span))
    for expected in (
        "Alice",
        "Carol",
        "Bob",
        "layer weekly",
        "override o-",
        "2026-11-30T09:00:00Z",
    ):
        assert expected in table
    shifts = json.loads(ok(seeded("oncall", "shifts", "primary", *span, "--json")))["shifts"]
    assert [s["user_id"] for s in shifts] == ["alice", "carol", "alice", "bob"]
    assert shifts[1]["start"] == iso(T1)

    feed = tmp_path / "primary.ics"
    result = seeded("oncall", "shifts", "primary", *span, "--ical", str(feed))
    assert result.exit_code == 0, result.stderr
    assert "wrote 4 shift(s)" in result.stderr
    text = feed.read_text(encoding="utf-8")
    assert text.startswith("BEGIN:VCALENDAR")
    assert text.count("BEGIN:VEVENT") == 4
    assert ok(seeded("oncall", "shifts", "primary", *span, "--ical", "-")).startswith(
        "BEGIN:VCALENDAR"
    )


# ---------------------------------------------------------------------- pages


def test_page_list_and_ack_by_page_by_reference_and_by_incident_uuid(seeded: OnCall) -> None:
    reference, incident_id = declare(seeded)
    listed = ok(seeded("page", "list", reference))
    assert f"paging for {reference}: active" in listed
    assert "alice" in listed
    assert "open" in listed
    # Given its uuid, the incident is still named by its reference.
    assert f"paging for {reference}: active" in ok(seeded("page", "list", incident_id))
    answer = json.loads(ok(seeded("page", "list", incident_id, "--json")))
    [page] = answer["pages"]
    assert (page["user_id"], page["status"], answer["escalation"]["status"]) == (
        "alice",
        "open",
        "active",
    )

    acked = ok(seeded("page", "ack", page["page_id"]))
    assert acked.strip() == (
        f"page {page['page_id']} of {reference} acknowledged by alice: paging stopped"
    )
    after = json.loads(ok(seeded("page", "list", reference, "--json")))
    assert after["pages"][0]["status"] == "acknowledged"
    assert after["escalation"]["acknowledged_via"] == "cli"

    second_ref, _ = declare(seeded)
    by_ref = ok(seeded("page", "ack", second_ref))
    assert by_ref.strip() == f"{second_ref} acknowledged by alice: paging stopped"
    again = json.loads(ok(seeded("page", "ack", second_ref, "--json")))
    assert (again["reference"], again["status"], again["acknowledged_by"]) == (
        second_ref,
        "acknowledged",
        "alice",
    )

    third_ref, third_id = declare(seeded)
    by_uuid = ok(seeded("page", "ack", third_id, who="root"))
    assert by_uuid.strip() == f"{third_ref} acknowledged by root: paging stopped"


# ---------------------------------------------------------------------- the directory


def test_user_timezone_hours_and_method_removal(seeded: OnCall) -> None:
    assert ok(seeded("oncall", "user", "timezone", "alice", "Europe/Berlin", who="root")) == (
        "alice is now in Europe/Berlin\n"
    )
    assert "(unchanged)" in ok(
        seeded("oncall", "user", "timezone", "alice", "Europe/Berlin", who="root")
    )
    out = ok(
        seeded("oncall", "user", "hours", "alice", "09:00-17:00", "sat,sun@10:00-12:00", who="root")
    )
    assert out.strip() == (
        "alice's business hours: mon,tue,wed,thu,fri 09:00-17:00; sat,sun 10:00-12:00 "
        "(Europe/Berlin)"
    )
    answer = json.loads(
        ok(seeded("oncall", "user", "remove-method", "alice", "email", "--json", who="root"))
    )
    assert answer["contact_methods"] == []
    assert answer["business_hours"][1] == {"days": ["sat", "sun"], "start": "10:00", "end": "12:00"}
    user = seeded.app.get_user("alice")
    assert (user.time_zone, user.contact_methods) == ("Europe/Berlin", ())


def test_team_create_and_change_then_page_through_it(seeded: OnCall) -> None:
    out = ok(
        seeded(
            "oncall", "team", "create", "sre", "--name", "SRE", "--member", "alice",
            "--member", "bob", who="root",
        )
    )  # fmt: skip
    assert out.strip() == "team sre (SRE) created: alice, bob; pages every member"
    out = ok(
        seeded(
            "oncall", "team", "change", "sre", "--name", "SRE", "--member", "alice",
            "--member", "bob", "--schedule", "primary", who="root",
        )
    )  # fmt: skip
    assert out.strip() == "team sre (SRE) changed: alice, bob; pages whoever primary has on call"
    assert "team:sre at 2026-11-27T10:00:00Z: alice" in ok(seeded("oncall", "now", "team:sre"))


def test_layer_change_keeps_what_is_not_given_and_remove(seeded: OnCall) -> None:
    out = ok(
        seeded("oncall", "layer", "change", "primary", "weekly", "--user", "bob", "--user",
               "alice", who="root")
    )  # fmt: skip
    assert out.strip() == "layer weekly of primary changed: bob, alice from 2026-11-23T09:00"
    layer = seeded.app.get_schedule("primary").layers[0]
    assert (layer.name, layer.users, layer.turn.length) == ("Weekly", ("bob", "alice"), 1)
    assert "schedule:primary at 2026-11-27T10:00:00Z: bob" in ok(seeded("oncall", "now", "primary"))
    out = ok(seeded("oncall", "layer", "remove", "primary", "weekly", who="root"))
    assert out.strip() == "layer weekly removed from primary; layers left: none"


def test_directory_refusals_and_usage_errors(seeded: OnCall) -> None:
    failed(
        seeded("oncall", "user", "timezone", "alice", "Mars/Olympus", who="root"),
        1,
        "time_zone: ",
    )
    failed(seeded("oncall", "user", "timezone", "alice", "UTC"), 1, "alice has role responder")
    failed(seeded("oncall", "layer", "remove", "primary", "ghost", who="root"), 1, "ghost")
    failed(
        seeded("oncall", "layer", "change", "primary", "ghost", "--name", "X", who="root"),
        1,
        "schedule primary has no layer 'ghost'",
    )
    assert seeded("oncall", "user", "hours", "alice", "9-5", who="root").exit_code == 2
    assert seeded("oncall", "layer", "change", "primary", "weekly", "--turn", "1y").exit_code == 2
    assert seeded.app.get_user("alice").time_zone == "UTC"


# ---------------------------------------------------------------------- errors


def test_refusals_are_one_error_line_with_exit_code_1(seeded: OnCall) -> None:
    failed(seeded("oncall", "now", "ghost"), 1, "schedule 'ghost' did not exist")
    failed(seeded("oncall", "now", "pager:x"), 1, "target: ")
    failed(
        seeded("oncall", "override", "primary", "carol", "--from", iso(T3), "--to", iso(T1)),
        1,
        "end: must be after start",
    )
    failed(
        seeded("oncall", "override", "primary", "zoe", "--from", iso(T1), "--to", iso(T3)),
        1,
        "user_id: unknown user 'zoe'",
    )
    failed(
        seeded("oncall", "override", "primary", "--remove", "o-ghost"),
        1,
        "schedule 'primary' has no override 'o-ghost'",
    )
    failed(
        seeded(
            "oncall",
            "override",
            "primary",
            "carol",
            "--from",
            iso(T1),
            "--to",
            iso(T3),
            who="audrey",
        ),
        1,
        "audrey has role auditor",
    )
    failed(seeded("page", "list", str(uuid.uuid4())), 1, "no escalation for incident")
    failed(seeded("page", "ack", str(uuid.uuid4())), 1, "no escalation for incident")
    failed(seeded("page", "list", "INC-99"), 1, "incident INC-99 does not exist")
    failed(seeded("oncall", "now", "primary", who=None), 1, "--token")


def test_usage_errors_exit_2(seeded: OnCall) -> None:
    assert seeded("oncall", "at", "primary", "yesterday").exit_code == 2
    assert seeded("oncall", "override", "primary", "carol", "--from", iso(T1)).exit_code == 2
    assert seeded("oncall", "override", "primary", "carol", "--remove", "o-1").exit_code == 2


def test_an_unreachable_oncall_server_is_exit_3_naming_the_option(oncall: OnCall) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = oncall.run(
        "--retries",
        "1",
        "oncall",
        "now",
        "primary",
        env={"FIREWATCH_ONCALL_SERVER": f"127.0.0.1:{port}"},
    )
    failed(result, 3, f"cannot reach the on-call API at 127.0.0.1:{port}")
