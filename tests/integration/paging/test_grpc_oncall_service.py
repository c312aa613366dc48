"""OnCallService through a real gRPC server, on SQLite and PostgreSQL logs.

The server's PagingApplication and the log share one fake clock, so "now", the
recorded_at of every event and therefore the as-of answers are under the test's control.
Escalations are started the way the paging worker does it (`app.start_escalation` +
`app.tick()` on the same log), since starting one is not an API call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from apikit.auth import Role, TokenRegistry, issue_token
from apikit.rpc import RunningServer, start_server
from eventlog import EventStore, FakeClock
from firewatch.oncall.v1 import oncall_pb2 as pb
from firewatch.oncall.v1 import oncall_pb2_grpc as pb_grpc
from paging_service.api import SERVICE_NAME, OnCallServicer
from paging_service.app import PagingApplication
from tests.integration.incident.conftest import StoreFactory, open_log  # noqa: F401

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
"""A Friday, inside alice's week of the `primary` rotation (handoff Mondays 09:00 UTC)."""
ROTATION_START = "2026-11-23T09:00"
WEEK = timedelta(weeks=1)


# ---------------------------------------------------------------------- the server


@contextmanager
def oncall_server(
    store: EventStore, clock: FakeClock, tokens_file: Path
) -> Iterator[tuple[PagingApplication, RunningServer]]:
    """A real OnCallService on `store` (any free port); stopped on exit. The CLI tests
    use it too."""
    app = PagingApplication(store, clock)
    servicer = OnCallServicer(app, TokenRegistry(tokens_file))
    server = start_server(
        host="127.0.0.1",
        port=0,
        register=[
            lambda s: pb_grpc.add_OnCallServiceServicer_to_server(  # type: ignore[no-untyped-call]
                servicer, s
            )
        ],
        service_names=[SERVICE_NAME],
    )
    try:
        yield app, server
    finally:
        server.stop(grace=0)


def issue_tokens(tokens_file: Path) -> dict[str, str]:
    return {
        "root": issue_token(tokens_file, "root", Role.ADMIN),
        "alice": issue_token(tokens_file, "alice", Role.RESPONDER),
        "audrey": issue_token(tokens_file, "audrey", Role.AUDITOR),
        "prom": issue_token(tokens_file, "prom", Role.INTEGRATION),
    }


@dataclass
class OnCall:
    stub: Any  # the generated OnCallServiceStub (untyped)
    channel: grpc.Channel
    server: RunningServer
    app: PagingApplication
    store: EventStore
    clock: FakeClock
    tokens: dict[str, str]

    def auth(self, who: str = "root") -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.tokens[who]}")]

    def call(self, method: str, request: Any, who: str = "root") -> Any:
        return getattr(self.stub, method)(request, metadata=self.auth(who), timeout=10)


@pytest.fixture
def oncall(open_log: StoreFactory, tmp_path: Path) -> Iterator[OnCall]:  # noqa: F811
    tokens_file = tmp_path / "tokens.json"
    tokens = issue_tokens(tokens_file)
    clock = FakeClock(T0)
    store = open_log("paging")
    store.clock = clock
    with oncall_server(store, clock, tokens_file) as (app, server):
        channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
        try:
            stub = pb_grpc.OnCallServiceStub(channel)  # type: ignore[no-untyped-call]
            yield OnCall(stub, channel, server, app, store, clock, tokens)
        finally:
            channel.close()


# ---------------------------------------------------------------------- helpers


def stamp(value: datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(value)
    return result


def instant(value: timestamp_pb2.Timestamp) -> datetime:
    result: datetime = value.ToDatetime(tzinfo=UTC)
    return result


def email(user: str) -> pb.ContactMethod:
    return pb.ContactMethod(
        method_id="email", kind=pb.CONTACT_KIND_EMAIL, address=f"{user}@example.com"
    )


def seed(api: OnCall) -> None:
    """alice, bob, carol; schedule `primary` (UTC) with a weekly alice/bob rotation."""
    for user in ("alice", "bob", "carol"):
        api.call(
            "RegisterUser",
            pb.RegisterUserRequest(
                user_id=user, name=user.title(), time_zone="UTC", contact_methods=[email(user)]
            ),
        )
    api.call(
        "CreateSchedule",
        pb.CreateScheduleRequest(schedule_id="primary", name="Primary", time_zone="UTC"),
    )
    api.call(
        "AddLayer",
        pb.AddLayerRequest(
            schedule_id="primary",
            layer=pb.Layer(
                layer_id="weekly",
                name="Weekly",
                users=["alice", "bob"],
                turn=pb.Turn(unit=pb.TURN_UNIT_WEEKS, length=1),
                start=ROTATION_START,
            ),
        ),
    )


def who(api: OnCall, target: str, at: datetime | None = None) -> pb.WhoIsOnCallResponse:
    request = pb.WhoIsOnCallRequest(target=target)
    if at is not None:
        request.at.CopyFrom(stamp(at))
    answer: pb.WhoIsOnCallResponse = api.call("WhoIsOnCall", request, who="audrey")
    return answer


def override(
    api: OnCall, user: str, start: datetime, end: datetime, who: str = "alice"
) -> pb.AddOverrideResponse:
    request = pb.AddOverrideRequest(
        schedule_id="primary", user_id=user, start=stamp(start), end=stamp(end)
    )
    answer: pb.AddOverrideResponse = api.call("AddOverride", request, who=who)
    return answer


def bad_field(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    detail = error_details_pb2.BadRequest()
    status.details[0].Unpack(detail)
    field: str = detail.field_violations[0].field
    return field


def escalate(api: OnCall, policy: str = "checkout") -> uuid.UUID:
    """Start paging for a new P1 incident, as the paging worker does, and fire step 0."""
    incident = uuid.uuid4()
    api.app.start_escalation(incident, "P1", policy, title="checkout 5xx")
    api.app.tick()
    return incident


def single_level_policy(api: OnCall, policy_id: str = "checkout") -> None:
    api.call(
        "CreatePolicy",
        pb.CreatePolicyRequest(
            policy_id=policy_id,
            name="Checkout",
            levels=[pb.Level(targets=["schedule:primary"], delay_minutes=5)],
        ),
    )


# ---------------------------------------------------------------------- who is on call


def test_users_schedule_and_rotation_answer_who_is_on_call_now_and_later(oncall: OnCall) -> None:
    seed(oncall)
    now = who(oncall, "schedule:primary")
    assert list(now.users) == ["alice"]
    assert instant(now.at) == T0
    assert now.configuration_as_of_at is False
    next_week = who(oncall, "schedule:primary", T0 + WEEK)
    assert list(next_week.users) == ["bob"]
    assert next_week.configuration_as_of_at is False
    assert list(who(oncall, "user:carol").users) == ["carol"]

    schedule = oncall.call(
        "GetSchedule", pb.GetScheduleRequest(schedule_id="primary"), who="audrey"
    ).schedule
    layer = schedule.layers[0]
    assert (layer.layer_id, list(layer.users), layer.start, layer.time_zone) == (
        "weekly",
        ["alice", "bob"],
        ROTATION_START,
        "UTC",
    )
    assert layer.turn.unit == pb.TURN_UNIT_WEEKS


def test_a_team_is_created_and_changed_and_its_target_follows(oncall: OnCall) -> None:
    seed(oncall)
    created = oncall.call(
        "CreateTeam",
        pb.CreateTeamRequest(team_id="sre", name="SRE", members=["alice", "bob"]),
    )
    assert created.outcome.event_types == ["TeamCreated"]
    assert (created.team.team_id, list(created.team.members), created.team.schedule_id) == (
        "sre",
        ["alice", "bob"],
        "",
    )
    # Without a schedule a team pages every member; with one, whoever it has on call.
    assert sorted(who(oncall, "team:sre").users) == ["alice", "bob"]
    changed = oncall.call(
        "ChangeTeam",
        pb.ChangeTeamRequest(
            team_id="sre", name="Site reliability", members=["alice", "bob"], schedule_id="primary"
        ),
    )
    assert changed.outcome.event_types == ["TeamChanged"]
    assert (changed.team.name, changed.team.schedule_id) == ("Site reliability", "primary")
    assert list(who(oncall, "team:sre").users) == ["alice"]
    actors = {e.metadata.actor for e in oncall.store.read_all() if e.type.startswith("Team")}
    assert actors == {"root"}


def test_a_layer_is_changed_and_removed(oncall: OnCall) -> None:
    seed(oncall)
    changed = oncall.call(
        "ChangeLayer",
        pb.ChangeLayerRequest(
            schedule_id="primary",
            layer=pb.Layer(
                layer_id="weekly",
                name="Weekly",
                users=["bob", "alice"],
                turn=pb.Turn(unit=pb.TURN_UNIT_WEEKS, length=1),
                start=ROTATION_START,
            ),
        ),
    )
    assert changed.outcome.event_types == ["LayerChanged"]
    assert list(changed.schedule.layers[0].users) == ["bob", "alice"]
    assert list(who(oncall, "schedule:primary").users) == ["bob"]
    removed = oncall.call(
        "RemoveLayer", pb.RemoveLayerRequest(schedule_id="primary", layer_id="weekly")
    )
    assert removed.outcome.event_types == ["LayerRemoved"]
    assert list(removed.schedule.layers) == []
    assert list(who(oncall, "schedule:primary").users) == []


def test_a_users_contact_method_business_hours_and_time_zone_are_changed(
    oncall: OnCall,
) -> None:
    seed(oncall)
    oncall.call(
        "AddContactMethod",
        pb.AddContactMethodRequest(
            user_id="alice",
            method=pb.ContactMethod(
                method_id="chat", kind=pb.CONTACT_KIND_SLACK, address="https://hooks.test/a"
            ),
        ),
    )
    removed = oncall.call(
        "RemoveContactMethod", pb.RemoveContactMethodRequest(user_id="alice", method_id="email")
    )
    assert removed.outcome.event_types == ["ContactMethodRemoved"]
    assert [m.method_id for m in removed.user.contact_methods] == ["chat"]
    hours = oncall.call(
        "SetBusinessHours",
        pb.SetBusinessHoursRequest(
            user_id="alice",
            business_hours=[pb.TimeWindow(days=[pb.WEEKDAY_MONDAY], start="08:00", end="12:00")],
        ),
    )
    assert hours.outcome.event_types == ["BusinessHoursSet"]
    assert [(w.start, w.end) for w in hours.user.business_hours] == [("08:00", "12:00")]
    zone = oncall.call(
        "ChangeTimeZone", pb.ChangeTimeZoneRequest(user_id="alice", time_zone="Asia/Tokyo")
    )
    assert zone.outcome.event_types == ["UserTimeZoneChanged"]
    assert zone.user.time_zone == "Asia/Tokyo"
    # The same zone again changes nothing.
    again = oncall.call(
        "ChangeTimeZone", pb.ChangeTimeZoneRequest(user_id="alice", time_zone="Asia/Tokyo")
    )
    assert again.outcome.position == 0


def test_register_user_and_add_contact_method_answer_the_user(oncall: OnCall) -> None:
    registered = oncall.call(
        "RegisterUser",
        pb.RegisterUserRequest(
            user_id="dave",
            name="Dave",
            time_zone="Europe/Berlin",
            contact_methods=[email("dave")],
            business_hours=[
                pb.TimeWindow(
                    days=[pb.WEEKDAY_SATURDAY, pb.WEEKDAY_SUNDAY], start="10:00", end="14:00"
                )
            ],
        ),
    )
    assert registered.outcome.event_types == [
        "UserRegistered",
        "ContactMethodAdded",
        "BusinessHoursSet",
    ]
    assert registered.outcome.position == oncall.store.head_position()
    assert registered.user.time_zone == "Europe/Berlin"
    assert list(registered.user.business_hours[0].days) == [
        pb.WEEKDAY_SATURDAY,
        pb.WEEKDAY_SUNDAY,
    ]
    added = oncall.call(
        "AddContactMethod",
        pb.AddContactMethodRequest(
            user_id="dave",
            method=pb.ContactMethod(
                method_id="chat", kind=pb.CONTACT_KIND_SLACK, address="https://hooks.test/x"
            ),
        ),
    )
    assert [m.method_id for m in added.user.contact_methods] == ["email", "chat"]
    # Without explicit rules every method is used at once.
    assert [(r.method_id, r.after_minutes) for r in added.user.notification_rules] == [
        ("email", 0),
        ("chat", 0),
    ]


def test_shifts_and_the_ical_export_cover_the_range(oncall: OnCall) -> None:
    seed(oncall)
    override(oncall, "carol", T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    start, end = datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 12, 7, 9, tzinfo=UTC)
    shifts = oncall.call(
        "ListShifts",
        pb.ListShiftsRequest(schedule_id="primary", start=stamp(start), end=stamp(end)),
        who="audrey",
    ).shifts
    assert [(s.user_id, s.user_name, s.layer_id or s.override_id) for s in shifts] == [
        ("alice", "Alice", "weekly"),
        ("carol", "Carol", shifts[1].override_id),
        ("alice", "Alice", "weekly"),
        ("bob", "Bob", "weekly"),
    ]
    assert shifts[1].override_id
    assert not shifts[1].layer_id
    assert instant(shifts[1].start) == T0 + timedelta(hours=1)
    assert instant(shifts[-1].end) == end

    exported = oncall.call(
        "ExportSchedule",
        pb.ExportScheduleRequest(schedule_id="primary", start=stamp(start), end=stamp(end)),
        who="audrey",
    )
    assert exported.content_type.startswith("text/calendar")
    assert exported.ical.startswith("BEGIN:VCALENDAR")
    assert exported.ical.count("BEGIN:VEVENT") == 4


def test_who_was_on_call_uses_the_configuration_as_of_then_even_after_the_override_is_removed(
    oncall: OnCall,
) -> None:
    seed(oncall)
    during = T0 + timedelta(hours=2)
    added = override(oncall, "carol", T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    assert [o.user_id for o in added.schedule.overrides] == ["carol"]
    assert list(who(oncall, "schedule:primary", during).users) == ["carol"]  # future: today's

    oncall.clock.advance(timedelta(hours=4))
    removed = oncall.call(
        "RemoveOverride",
        pb.RemoveOverrideRequest(schedule_id="primary", override_id=added.override_id),
        who="alice",
    )
    assert removed.outcome.event_types == ["OverrideRemoved"]
    assert list(removed.schedule.overrides) == []

    past = who(oncall, "schedule:primary", during)
    assert list(past.users) == ["carol"]
    assert past.configuration_as_of_at is True
    then = oncall.call(
        "GetSchedule",
        pb.GetScheduleRequest(schedule_id="primary", as_of=stamp(during)),
        who="audrey",
    ).schedule
    assert [o.override_id for o in then.overrides] == [added.override_id]
    # Today's configuration for the same hour (via the shifts, which use it) has no carol.
    shifts = oncall.call(
        "ListShifts",
        pb.ListShiftsRequest(
            schedule_id="primary", start=stamp(during), end=stamp(during + timedelta(minutes=1))
        ),
    ).shifts
    assert [s.user_id for s in shifts] == ["alice"]


# ---------------------------------------------------------------------- policies


def test_policies_are_created_revised_and_read_as_of(oncall: OnCall) -> None:
    seed(oncall)
    created = oncall.call(
        "CreatePolicy",
        pb.CreatePolicyRequest(
            policy_id="checkout",
            name="Checkout",
            levels=[
                pb.Level(targets=["schedule:primary"], delay_minutes=5),
                pb.Level(targets=["user:carol", "user:bob"]),
            ],
            repeat=2,
            un_ack_timeout_minutes=30,
        ),
    )
    assert created.policy.revision == 1
    assert [list(level.targets) for level in created.policy.levels] == [
        ["schedule:primary"],
        ["user:carol", "user:bob"],
    ]
    assert created.policy.levels[1].delay_minutes == 30  # the default for 0
    oncall.clock.advance(60)
    revised = oncall.call(
        "RevisePolicy",
        pb.RevisePolicyRequest(
            policy_id="checkout",
            name="Checkout",
            levels=[pb.Level(targets=["user:carol"], delay_minutes=10)],
        ),
    )
    assert (revised.policy.revision, revised.policy.repeat) == (2, 0)
    assert revised.policy.un_ack_timeout_minutes == 0
    unchanged = oncall.call(
        "RevisePolicy",
        pb.RevisePolicyRequest(
            policy_id="checkout",
            name="Checkout",
            levels=[pb.Level(targets=["user:carol"], delay_minutes=10)],
        ),
    )
    assert unchanged.outcome.position == 0
    assert list(unchanged.outcome.event_types) == []
    then = oncall.call(
        "GetPolicy", pb.GetPolicyRequest(policy_id="checkout", as_of=stamp(T0)), who="audrey"
    ).policy
    assert (then.revision, then.repeat, then.un_ack_timeout_minutes) == (1, 2, 30)


# ---------------------------------------------------------------------- pages


def test_pages_are_listed_and_acknowledged_by_page_or_by_incident(oncall: OnCall) -> None:
    seed(oncall)
    single_level_policy(oncall)
    first = escalate(oncall)
    answer = oncall.call("ListPages", pb.ListPagesRequest(incident_id=str(first)), who="audrey")
    assert answer.escalation.status == pb.ESCALATION_STATUS_ACTIVE
    assert (answer.escalation.policy_id, answer.escalation.severity) == ("checkout", "P1")
    [page] = answer.pages
    assert (page.user_id, page.status, page.title) == ("alice", pb.PAGE_STATUS_OPEN, "checkout 5xx")
    assert [m.method_id for m in page.methods] == ["email"]

    acked = oncall.call(
        "Acknowledge",
        pb.AcknowledgeRequest(page_id=page.page_id, via=pb.ACK_CHANNEL_CLI),
        who="alice",
    ).escalation
    assert acked.status == pb.ESCALATION_STATUS_ACKNOWLEDGED
    # The acknowledging user is the caller's token principal.
    assert (acked.acknowledged_by, acked.acknowledged_page_id) == ("alice", page.page_id)
    assert acked.acknowledged_via == "cli"
    [after] = oncall.call("ListPages", pb.ListPagesRequest(incident_id=str(first))).pages
    assert (after.status, after.acknowledged_by) == (pb.PAGE_STATUS_ACKNOWLEDGED, "alice")

    second = escalate(oncall)
    whole = oncall.call(
        "Acknowledge", pb.AcknowledgeRequest(incident_id=str(second)), who="root"
    ).escalation
    assert (whole.status, whole.acknowledged_by, whole.acknowledged_page_id) == (
        pb.ESCALATION_STATUS_ACKNOWLEDGED,
        "root",
        "",
    )
    assert whole.acknowledged_via == "grpc"
    [closed] = oncall.call("ListPages", pb.ListPagesRequest(incident_id=str(second))).pages
    assert closed.status == pb.PAGE_STATUS_CANCELLED


def test_a_token_bound_to_a_person_acknowledges_as_them_only_if_they_were_paged(
    oncall: OnCall, tmp_path: Path
) -> None:
    """The documented rule (ADR 0017): a bound token acts as its person, who must have
    been paged for the incident (and, for a page, be its recipient); an unbound token
    acts under its own name and is not checked."""
    seed(oncall)
    single_level_policy(oncall)  # pages alice
    tokens_file = tmp_path / "tokens.json"
    oncall.tokens["alice-phone"] = issue_token(
        tokens_file, "alice-phone", Role.RESPONDER, user="alice"
    )
    oncall.tokens["bob-laptop"] = issue_token(tokens_file, "bob-laptop", Role.RESPONDER, user="bob")
    incident = escalate(oncall)
    [page] = oncall.call("ListPages", pb.ListPagesRequest(incident_id=str(incident))).pages
    assert page.user_id == "alice"

    for request in (
        pb.AcknowledgeRequest(incident_id=str(incident)),
        pb.AcknowledgeRequest(page_id=page.page_id),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            oncall.call("Acknowledge", request, who="bob-laptop")
        assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert "bob" in refused.value.details()
    assert (
        oncall.call("ListPages", pb.ListPagesRequest(incident_id=str(incident))).escalation.status
        == pb.ESCALATION_STATUS_ACTIVE
    )

    acked = oncall.call(
        "Acknowledge", pb.AcknowledgeRequest(incident_id=str(incident)), who="alice-phone"
    ).escalation
    assert (acked.status, acked.acknowledged_by) == (pb.ESCALATION_STATUS_ACKNOWLEDGED, "alice")
    [stopped] = [
        e
        for e in oncall.store.read_stream(f"escalation-{incident}")
        if e.type == "EscalationStopped"
    ]
    assert (stopped.metadata.actor, stopped.metadata.credential) == ("alice", "alice-phone")


# ---------------------------------------------------------------------- refusals


def _layer(**fields: Any) -> pb.AddLayerRequest:
    layer = {"layer_id": "extra", "name": "Extra", "users": ["alice"], "start": ROTATION_START}
    return pb.AddLayerRequest(schedule_id="primary", layer=pb.Layer(**{**layer, **fields}))


def _policy(*levels: pb.Level) -> pb.CreatePolicyRequest:
    return pb.CreatePolicyRequest(policy_id="new", name="New", levels=list(levels))


BAD_INPUT = [
    pytest.param(
        "ChangeTimeZone",
        pb.ChangeTimeZoneRequest(user_id="alice", time_zone="Mars/Olympus"),
        "time_zone",
        id="change-to-unknown-zone",
    ),
    pytest.param(
        "SetBusinessHours",
        pb.SetBusinessHoursRequest(user_id="alice"),
        "business_hours",
        id="business-hours-empty",
    ),
    pytest.param(
        "SetBusinessHours",
        pb.SetBusinessHoursRequest(
            user_id="alice", business_hours=[pb.TimeWindow(start="25:00", end="12:00")]
        ),
        "business_hours.0.start",
        id="business-hours-bad-time",
    ),
    pytest.param(
        "RemoveContactMethod",
        pb.RemoveContactMethodRequest(user_id="alice"),
        "method_id",
        id="remove-contact-method-without-id",
    ),
    pytest.param(
        "CreateTeam",
        pb.CreateTeamRequest(team_id="sre", name="SRE", members=["zoe"]),
        "members.0",
        id="team-with-unknown-member",
    ),
    pytest.param(
        "CreateTeam",
        pb.CreateTeamRequest(team_id="sre", name="SRE", members=["alice"], schedule_id="ghost"),
        "schedule_id",
        id="team-with-unknown-schedule",
    ),
    pytest.param(
        "ChangeLayer",
        pb.ChangeLayerRequest(
            schedule_id="primary",
            layer=pb.Layer(layer_id="weekly", name="Weekly", users=["zoe"], start=ROTATION_START),
        ),
        "layer.users.0",
        id="change-layer-unknown-user",
    ),
    pytest.param(
        "RemoveLayer",
        pb.RemoveLayerRequest(schedule_id="primary"),
        "layer_id",
        id="remove-layer-without-id",
    ),
    pytest.param(
        "RegisterUser",
        pb.RegisterUserRequest(user_id="eve", name="Eve", time_zone="Mars/Olympus"),
        "time_zone",
        id="user-unknown-zone",
    ),
    pytest.param(
        "RegisterUser",
        pb.RegisterUserRequest(
            user_id="eve",
            name="Eve",
            time_zone="UTC",
            contact_methods=[
                pb.ContactMethod(method_id="e", kind=pb.CONTACT_KIND_EMAIL, address="eve@")
            ],
        ),
        "contact_methods.0",
        id="user-invalid-email",
    ),
    pytest.param(
        "RegisterUser",
        pb.RegisterUserRequest(
            user_id="eve",
            name="Eve",
            time_zone="UTC",
            contact_methods=[pb.ContactMethod(method_id="e", address="eve@example.com")],
        ),
        "contact_methods.0.kind",
        id="user-unspecified-contact-kind",
    ),
    pytest.param(
        "RegisterUser",
        pb.RegisterUserRequest(user_id="Eve Smith", name="Eve", time_zone="UTC"),
        "user_id",
        id="user-bad-id",
    ),
    pytest.param(
        "AddContactMethod",
        pb.AddContactMethodRequest(
            user_id="alice",
            method=pb.ContactMethod(
                method_id="work", kind=pb.CONTACT_KIND_EMAIL, address="not an address"
            ),
        ),
        "method",
        id="contact-invalid-email",
    ),
    pytest.param(
        "AddContactMethod",
        pb.AddContactMethodRequest(
            user_id="alice",
            method=pb.ContactMethod(
                method_id="hook", kind=pb.CONTACT_KIND_WEBHOOK, address="ftp://x.test"
            ),
        ),
        "method",
        id="contact-webhook-not-http",
    ),
    pytest.param(
        "CreateSchedule",
        pb.CreateScheduleRequest(schedule_id="s2", name="S2", time_zone="Europe/Atlantis"),
        "time_zone",
        id="schedule-unknown-zone",
    ),
    pytest.param(
        "AddLayer", _layer(users=["alice", "zoe"]), "layer.users.1", id="layer-unknown-user"
    ),
    pytest.param(
        "AddLayer", _layer(time_zone="Nowhere/Town"), "layer.time_zone", id="layer-unknown-zone"
    ),
    pytest.param("AddLayer", _layer(start="next monday"), "layer.start", id="layer-bad-start"),
    pytest.param(
        "AddLayer",
        _layer(turn=pb.Turn(unit=pb.TURN_UNIT_CUSTOM)),
        "layer.turn",
        id="layer-custom-without-rrule",
    ),
    pytest.param(
        "AddOverride",
        pb.AddOverrideRequest(
            schedule_id="primary", user_id="zoe", start=stamp(T0), end=stamp(T0 + WEEK)
        ),
        "user_id",
        id="override-unknown-user",
    ),
    pytest.param(
        "AddOverride",
        pb.AddOverrideRequest(
            schedule_id="primary",
            user_id="carol",
            start=stamp(T0 + timedelta(hours=2)),
            end=stamp(T0 + timedelta(hours=1)),
        ),
        "end",
        id="override-inverted-range",
    ),
    pytest.param(
        "AddOverride",
        pb.AddOverrideRequest(
            schedule_id="primary",
            user_id="bob",
            start=stamp(T0 + timedelta(days=1)),
            end=stamp(T0 + timedelta(days=3)),
        ),
        "start",
        id="override-overlapping",
    ),
    pytest.param(
        "AddOverride",
        pb.AddOverrideRequest(schedule_id="primary", user_id="carol", start=stamp(T0)),
        "end",
        id="override-missing-end",
    ),
    pytest.param("CreatePolicy", _policy(), "levels", id="policy-empty"),
    pytest.param(
        "CreatePolicy", _policy(pb.Level(targets=[])), "levels.0.targets", id="policy-no-targets"
    ),
    pytest.param(
        "CreatePolicy",
        _policy(pb.Level(targets=["user:alice"]), pb.Level(targets=["schedule:ghost"])),
        "levels.1.targets.0",
        id="policy-unknown-schedule",
    ),
    pytest.param(
        "CreatePolicy",
        _policy(pb.Level(targets=["pager:alice"])),
        "levels.0.targets.0",
        id="policy-bad-target-kind",
    ),
    pytest.param(
        "RevisePolicy",
        pb.RevisePolicyRequest(policy_id="checkout", name="Checkout"),
        "levels",
        id="revise-to-empty",
    ),
    pytest.param(
        "WhoIsOnCall", pb.WhoIsOnCallRequest(target="primary"), "target", id="who-bad-target"
    ),
    pytest.param("WhoIsOnCall", pb.WhoIsOnCallRequest(), "target", id="who-no-target"),
    pytest.param(
        "ListShifts",
        pb.ListShiftsRequest(schedule_id="primary", start=stamp(T0 + WEEK), end=stamp(T0)),
        "end",
        id="shifts-inverted",
    ),
    pytest.param(
        "ListShifts",
        pb.ListShiftsRequest(schedule_id="primary", end=stamp(T0)),
        "start",
        id="shifts-no-start",
    ),
    pytest.param(
        "ExportSchedule",
        pb.ExportScheduleRequest(
            schedule_id="primary", start=stamp(T0), end=stamp(T0 + timedelta(days=400))
        ),
        "end",
        id="export-over-a-year",
    ),
    pytest.param("Acknowledge", pb.AcknowledgeRequest(), "incident_id", id="ack-nothing-named"),
    pytest.param(
        "Acknowledge", pb.AcknowledgeRequest(page_id="page-1"), "page_id", id="ack-bad-page-id"
    ),
    pytest.param(
        "ListPages", pb.ListPagesRequest(incident_id="INC-1"), "incident_id", id="pages-not-a-uuid"
    ),
]


@pytest.mark.parametrize(("method", "request_", "field"), BAD_INPUT)
def test_bad_input_is_invalid_argument_naming_the_field_and_appends_nothing(
    oncall: OnCall, method: str, request_: Any, field: str
) -> None:
    seed(oncall)
    single_level_policy(oncall)
    override(oncall, "carol", T0 + timedelta(days=2), T0 + timedelta(days=4))
    head = oncall.store.head_position()

    with pytest.raises(grpc.RpcError) as caught:
        oncall.call(method, request_)

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_field(caught.value) == field
    assert caught.value.details().startswith(f"{field}: ")
    assert oncall.store.head_position() == head


NOT_FOUND = [
    pytest.param("GetSchedule", pb.GetScheduleRequest(schedule_id="ghost"), id="schedule"),
    pytest.param(
        "GetSchedule",
        pb.GetScheduleRequest(schedule_id="primary", as_of=stamp(T0 - WEEK)),
        id="schedule-before-it-existed",
    ),
    pytest.param("GetPolicy", pb.GetPolicyRequest(policy_id="ghost"), id="policy"),
    pytest.param(
        "RevisePolicy",
        pb.RevisePolicyRequest(
            policy_id="ghost", name="G", levels=[pb.Level(targets=["user:alice"])]
        ),
        id="revise-unknown-policy",
    ),
    pytest.param("WhoIsOnCall", pb.WhoIsOnCallRequest(target="schedule:ghost"), id="who-schedule"),
    pytest.param("WhoIsOnCall", pb.WhoIsOnCallRequest(target="user:zoe"), id="who-user"),
    pytest.param(
        "ListShifts",
        pb.ListShiftsRequest(schedule_id="ghost", start=stamp(T0), end=stamp(T0 + WEEK)),
        id="shifts",
    ),
    pytest.param(
        "AddLayer",
        pb.AddLayerRequest(
            schedule_id="ghost",
            layer=pb.Layer(layer_id="l", name="L", users=["alice"], start=ROTATION_START),
        ),
        id="layer-on-unknown-schedule",
    ),
    pytest.param(
        "RemoveOverride",
        pb.RemoveOverrideRequest(schedule_id="primary", override_id="o-ghost"),
        id="override",
    ),
    pytest.param(
        "AddContactMethod",
        pb.AddContactMethodRequest(user_id="zoe", method=email("zoe")),
        id="contact-for-unknown-user",
    ),
    pytest.param(
        "RemoveContactMethod",
        pb.RemoveContactMethodRequest(user_id="alice", method_id="pager"),
        id="unknown-contact-method",
    ),
    pytest.param(
        "ChangeTimeZone",
        pb.ChangeTimeZoneRequest(user_id="zoe", time_zone="UTC"),
        id="time-zone-of-unknown-user",
    ),
    pytest.param(
        "ChangeTeam",
        pb.ChangeTeamRequest(team_id="ghost", name="G", members=["alice"]),
        id="team",
    ),
    pytest.param(
        "RemoveLayer",
        pb.RemoveLayerRequest(schedule_id="primary", layer_id="ghost"),
        id="layer",
    ),
    pytest.param("ListPages", pb.ListPagesRequest(incident_id=str(uuid.uuid4())), id="pages"),
    pytest.param("Acknowledge", pb.AcknowledgeRequest(page_id=str(uuid.uuid4())), id="ack-page"),
    pytest.param(
        "Acknowledge", pb.AcknowledgeRequest(incident_id=str(uuid.uuid4())), id="ack-incident"
    ),
]


@pytest.mark.parametrize(("method", "request_"), NOT_FOUND)
def test_unknown_things_are_not_found_and_append_nothing(
    oncall: OnCall, method: str, request_: Any
) -> None:
    seed(oncall)
    head = oncall.store.head_position()
    with pytest.raises(grpc.RpcError) as caught:
        oncall.call(method, request_)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND, caught.value.details()
    assert oncall.store.head_position() == head


def test_creating_twice_is_a_failed_precondition(oncall: OnCall) -> None:
    seed(oncall)
    with pytest.raises(grpc.RpcError) as caught:
        oncall.call(
            "CreateSchedule",
            pb.CreateScheduleRequest(schedule_id="primary", name="Again", time_zone="UTC"),
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already exists" in caught.value.details()


# ---------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("who", "method", "allowed"),
    [
        ("alice", "CreateSchedule", False),  # management is for admins
        ("audrey", "CreateSchedule", False),
        ("alice", "AddOverride", True),  # responders manage overrides ...
        ("audrey", "AddOverride", False),
        ("alice", "Acknowledge", True),  # ... and acknowledge
        ("audrey", "Acknowledge", False),
        ("audrey", "WhoIsOnCall", True),  # every reader reads
        ("prom", "WhoIsOnCall", False),  # integrations only send alerts
        ("prom", "ListPages", False),
    ],
)
def test_roles(oncall: OnCall, who: str, method: str, allowed: bool) -> None:
    seed(oncall)
    single_level_policy(oncall)
    incident = escalate(oncall)
    requests = {
        "CreateSchedule": pb.CreateScheduleRequest(schedule_id="s2", name="S2", time_zone="UTC"),
        "AddOverride": pb.AddOverrideRequest(
            schedule_id="primary", user_id="carol", start=stamp(T0), end=stamp(T0 + WEEK)
        ),
        "Acknowledge": pb.AcknowledgeRequest(incident_id=str(incident)),
        "WhoIsOnCall": pb.WhoIsOnCallRequest(target="schedule:primary"),
        "ListPages": pb.ListPagesRequest(incident_id=str(incident)),
    }
    head = oncall.store.head_position()
    if allowed:
        oncall.call(method, requests[method], who=who)
        return
    with pytest.raises(grpc.RpcError) as caught:
        oncall.call(method, requests[method], who=who)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert oncall.store.head_position() == head


def test_a_call_without_a_token_is_unauthenticated_but_health_is_open(oncall: OnCall) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        oncall.stub.WhoIsOnCall(pb.WhoIsOnCallRequest(target="user:alice"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    health = health_pb2_grpc.HealthStub(oncall.channel)
    answer = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
