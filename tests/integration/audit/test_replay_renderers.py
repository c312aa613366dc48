"""`audit replay` shows each service's streams exactly as that service's live gRPC API
answered at the instant: for every service, the live answer is captured, more events
are appended, and the replay as of the earlier point must equal the captured answer
(and differ from the answer now, so the comparison can fail).

Each service runs in-process: its application over the same log (`tampered_log`:
SQLite and PostgreSQL), its servicer on a loopback gRPC server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from apikit.auth import TokenRegistry
from apikit.rpc import start_server
from firewatch.audit.v1 import audit_pb2 as pb
from tests.integration.audit.conftest import AuditApi


def stamp(at: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(at)
    return value


@contextmanager
def live(
    api: AuditApi, add: Callable[[Any, grpc.Server], None], servicer: Any, name: str
) -> Iterator[grpc.Channel]:
    """A service's servicer on a loopback gRPC server, with the audit test's tokens."""
    server = start_server(
        host="127.0.0.1", port=0, register=[lambda s: add(servicer, s)], service_names=[name]
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield channel
    finally:
        channel.close()
        server.stop(0)


def tokens(api: AuditApi) -> TokenRegistry:
    return TokenRegistry(api.log.tmp / "tokens.json")


def admin(api: AuditApi) -> list[tuple[str, str]]:
    return api.auth("root")


def as_dict(message: Message) -> dict[str, Any]:
    return dict(MessageToDict(message, preserving_proto_field_name=True))


def replayed(
    api: AuditApi, target: str, *, position: int = 0, at: datetime | None = None
) -> tuple[dict[str, Any], str]:
    """The audit replay's state and the renderer it names (as of `position`/`at`)."""
    as_of = pb.AsOf(position=position)
    if at is not None:
        as_of.time.CopyFrom(stamp(at))
    answer = api.stub.Replay(pb.ReplayRequest(target=target, as_of=as_of), metadata=api.auth())
    return json.loads(answer.state_json), answer.renderer


# ---------------------------------------------------------------------- paging


def test_paging_streams_replay_as_the_on_call_api_answered_then(audit_api: AuditApi) -> None:
    from firewatch.oncall.v1 import oncall_pb2 as opb
    from firewatch.oncall.v1 import oncall_pb2_grpc as opb_grpc
    from paging_service import escalation as esc
    from paging_service import page as pg
    from paging_service import policy as pol
    from paging_service.api import SERVICE_NAME, OnCallServicer
    from paging_service.app import PagingApplication
    from tests.integration.audit.test_paging_history import record

    log = audit_api.log
    app = PagingApplication(log.open("paging"), log.clock)
    servicer = OnCallServicer(app, tokens(audit_api))
    with live(
        audit_api, opb_grpc.add_OnCallServiceServicer_to_server, servicer, SERVICE_NAME
    ) as ch:
        stub = opb_grpc.OnCallServiceStub(ch)  # type: ignore[no-untyped-call]
        user = stub.RegisterUser(
            opb.RegisterUserRequest(
                user_id="alice",
                name="Alice",
                time_zone="Europe/Berlin",
                contact_methods=[
                    opb.ContactMethod(
                        method_id="email",
                        kind=opb.CONTACT_KIND_EMAIL,
                        address="alice@example.com",
                    )
                ],
            ),
            metadata=admin(audit_api),
        ).user
        stub.CreateSchedule(
            opb.CreateScheduleRequest(schedule_id="primary", name="Primary", time_zone="UTC"),
            metadata=admin(audit_api),
        )
        stub.AddLayer(
            opb.AddLayerRequest(
                schedule_id="primary",
                layer=opb.Layer(
                    layer_id="day",
                    name="day",
                    users=["alice"],
                    turn=opb.Turn(unit=opb.TURN_UNIT_DAYS, length=1),
                    start="2026-01-01T09:00",
                ),
            ),
            metadata=admin(audit_api),
        )
        stub.CreatePolicy(
            opb.CreatePolicyRequest(
                policy_id="web", name="Web", levels=[opb.Level(targets=["schedule:primary"])]
            ),
            metadata=admin(audit_api),
        )
        incident_id = uuid.uuid4()
        page_id = esc.page_id_for(incident_id, 0, "alice")  # what the escalation lists
        now = log.clock()
        record(
            audit_api,
            esc.stream_for(incident_id),
            esc.EscalationStarted(
                incident_id=incident_id,
                policy=pol.PolicySnapshot(
                    policy_id="web",
                    revision=1,
                    levels=(
                        pol.Level(
                            targets=(pol.Target(kind=pol.TargetKind.SCHEDULE, id="primary"),)
                        ),
                    ),
                    repeat=0,
                    un_ack_timeout_minutes=None,
                ),
                severity="P2",
                urgency="high",
                service="checkout",
                title="checkout 5xx",
                started_at=now,
            ),
            esc.EscalationStepFired(
                step=0, round=0, level=0, repeat=0, responders=("alice",), due_at=now, fired_at=now
            ),
        )
        record(
            audit_api,
            pg.stream_for(page_id),
            pg.ResponderPaged(
                page_id=page_id,
                incident_id=incident_id,
                step=0,
                user_id="alice",
                title="checkout 5xx",
                plan=(),
                paged_at=now,
            ),
        )
        then = log.open(None).head_position()
        captured = {
            "user-alice": user,
            "schedule-primary": stub.GetSchedule(
                opb.GetScheduleRequest(schedule_id="primary"), metadata=admin(audit_api)
            ).schedule,
            "policy-web": stub.GetPolicy(
                opb.GetPolicyRequest(policy_id="web"), metadata=admin(audit_api)
            ).policy,
        }
        pages = stub.ListPages(
            opb.ListPagesRequest(incident_id=str(incident_id)), metadata=admin(audit_api)
        )
        captured[esc.stream_for(incident_id)] = pages.escalation
        captured[pg.stream_for(page_id)] = pages.pages[0]

        # Later: every one of those streams changes.
        log.clock.advance(timedelta(hours=1))
        stub.AddContactMethod(
            opb.AddContactMethodRequest(
                user_id="alice",
                method=opb.ContactMethod(
                    method_id="sms",
                    kind=opb.CONTACT_KIND_WEBHOOK,
                    address="https://hooks.example.com/alice",
                ),
            ),
            metadata=admin(audit_api),
        )
        stub.AddOverride(
            opb.AddOverrideRequest(
                schedule_id="primary",
                user_id="alice",
                start=stamp(log.clock() + timedelta(days=1)),
                end=stamp(log.clock() + timedelta(days=2)),
            ),
            metadata=admin(audit_api),
        )
        stub.RevisePolicy(
            opb.RevisePolicyRequest(
                policy_id="web",
                name="Web",
                levels=[opb.Level(targets=["user:alice"], delay_minutes=5)],
            ),
            metadata=admin(audit_api),
        )
        stub.Acknowledge(
            opb.AcknowledgeRequest(page_id=str(page_id), via=opb.ACK_CHANNEL_CLI),
            metadata=admin(audit_api),
        )

    for stream, answer in captured.items():
        state, renderer = replayed(audit_api, stream, position=then)
        assert renderer.startswith("paging_service.rendering:render_"), stream
        assert state == as_dict(answer), stream
        assert replayed(audit_api, stream)[0] != as_dict(answer), f"{stream} never changed"


# ---------------------------------------------------------------------- detection


def test_detection_streams_replay_as_the_alert_api_answered_then(audit_api: AuditApi) -> None:
    from detection_service.api import SERVICE_NAME, AlertServicer
    from detection_service.app import DetectionApplication
    from detection_service.routing import parse_config
    from detection_service.rule import RuleSpec
    from firewatch.alert.v1 import alert_pb2 as apb
    from firewatch.alert.v1 import alert_pb2_grpc as apb_grpc

    log = audit_api.log
    app = DetectionApplication(
        log.open("detection"), log.clock, parse_config("group_by: [service]\n")
    )
    spec = {
        "name": "HighLatency",
        "kind": "threshold",
        "series": {"name": "latency_seconds"},
        "comparison": ">",
        "threshold": 0.5,
        "window": "2m",
        "for": "1m",
    }
    servicer = AlertServicer(app, tokens(audit_api))
    with live(audit_api, apb_grpc.add_AlertServiceServicer_to_server, servicer, SERVICE_NAME) as ch:
        stub = apb_grpc.AlertServiceStub(ch)  # type: ignore[no-untyped-call]
        sent = stub.SendAlert(
            apb.SendAlertRequest(
                action=apb.ALERT_ACTION_TRIGGER,
                dedup_key="checkout-5xx",
                summary="checkout 5xx above 1%",
                severity=apb.ALERT_SEVERITY_CRITICAL,
                labels={"service": "checkout"},
            ),
            metadata=admin(audit_api),
        )
        silenced = app.create_silence(
            ["env=staging"],
            ends_at=log.clock() + timedelta(minutes=30),
            created_by="root",
            comment="maintenance",
        )
        app.define_rule(RuleSpec.model_validate(spec), defined_by="root")
        app.create_heartbeat("backup", interval=timedelta(hours=1), created_by="root")
        probe = {"name": "platform", "kind": "tcp", "host": "127.0.0.1", "port": 9}
        app.define_check(probe, defined_by="root")
        log.clock.advance(timedelta(minutes=5))
        then = log.clock()
        captured = {
            f"alert-{sent.alert_id}": stub.GetAlert(
                apb.GetAlertRequest(alert_id=sent.alert_id), metadata=admin(audit_api)
            ).alert,
            f"silence-{silenced.silence_id}": stub.ListSilences(
                apb.ListSilencesRequest(), metadata=admin(audit_api)
            ).silences[0],
            "rule-HighLatency": stub.ListRules(
                apb.ListRulesRequest(), metadata=admin(audit_api)
            ).rules[0],
            "heartbeat-backup": stub.ListHeartbeats(
                apb.ListHeartbeatsRequest(), metadata=admin(audit_api)
            ).heartbeats[0],
            "check-platform": stub.ListChecks(
                apb.ListChecksRequest(), metadata=admin(audit_api)
            ).checks[0],
        }
        assert captured[f"alert-{sent.alert_id}"].group_id, "the alert joined a group"
        assert captured[f"silence-{silenced.silence_id}"].active

        log.clock.advance(timedelta(hours=1))  # the silence has ended by now
        stub.SendAlert(
            apb.SendAlertRequest(action=apb.ALERT_ACTION_RESOLVE, dedup_key="checkout-5xx"),
            metadata=admin(audit_api),
        )
        app.define_rule(RuleSpec.model_validate(spec | {"threshold": 0.9}), defined_by="root")
        app.ping_heartbeat("backup")
        app.define_check(probe | {"interval": 30}, defined_by="root")

    for stream, answer in captured.items():
        state, renderer = replayed(audit_api, stream, at=then)
        assert renderer.startswith("detection_service.rendering:render_"), stream
        assert state == as_dict(answer), stream
        assert replayed(audit_api, stream)[0] != as_dict(answer), f"{stream} never changed"


def test_a_category_no_service_renders_is_a_generic_fold_and_says_so(
    audit_api: AuditApi,
) -> None:
    from detection_service.app import DetectionApplication
    from detection_service.routing import parse_config

    log = audit_api.log
    app = DetectionApplication(
        log.open("detection"), log.clock, parse_config("group_by: [service]\n")
    )
    app.create_integration("pd-tool", "pagerduty", created_by="root")
    stream = next(e.stream for e in log.open(None).read_all() if e.category == "integration")

    state, renderer = replayed(audit_api, stream)

    assert renderer == "generic"
    assert state["last_event_type"] == "IntegrationCreated"


# ---------------------------------------------------------------------- communications


def test_comms_streams_replay_as_the_comms_api_answered_then(audit_api: AuditApi) -> None:
    from comms_service.api import SERVICE_NAME, CommsServicer
    from comms_service.app import CommsApplication
    from firewatch.comms.v1 import comms_pb2 as cpb
    from firewatch.comms.v1 import comms_pb2_grpc as cpb_grpc
    from tests.unit.comms.conftest import INCIDENT, ROUTING, declare
    from tests.unit.comms.test_app import deliver_all

    log = audit_api.log
    app = CommsApplication(
        log.open("communications"), log.clock, routing=ROUTING, contacts={"alice": "a@x.org"}
    )
    app.start_sender()
    declare(app)
    sends = app.tick()  # the channels' opening messages are now in flight
    app.add_group("web", "Web", by="root")
    app.add_component("api", "API", group_id="web", by="root")
    drafted = app.draft_status_incident(
        name="API errors", body="Investigating", by="alice", impact="major", component_ids=["api"]
    )
    status_id = drafted.state.drafted.status_incident_id
    servicer = CommsServicer(app, tokens(audit_api))
    with live(audit_api, cpb_grpc.add_CommsServiceServicer_to_server, servicer, SERVICE_NAME) as ch:
        stub = cpb_grpc.CommsServiceStub(ch)  # type: ignore[no-untyped-call]
        then = log.open(None).head_position()
        room = stub.GetIncidentComms(
            cpb.GetIncidentCommsRequest(incident=str(INCIDENT)), metadata=admin(audit_api)
        )
        assert room.deliveries_pending > 0
        captured: dict[str, Message] = {
            f"comms-{INCIDENT}": room,
            f"statusincident-{status_id}": stub.ListStatusIncidents(
                cpb.ListStatusIncidentsRequest(), metadata=admin(audit_api)
            ).incidents[0],
            "statuspage-main": stub.ListComponents(
                cpb.ListComponentsRequest(), metadata=admin(audit_api)
            ),
        }

        log.clock.advance(timedelta(minutes=1))
        deliver_all(app, sends)  # dispatch streams change: the room's answer does too
        app.post_status_update(
            status_id,
            status="identified",
            body="Bad deploy",
            by="alice",
            components={"api": "partial_outage"},
        )
        app.publish(status_id, by="alice")

    for stream, answer in captured.items():
        state, renderer = replayed(audit_api, stream, position=then)
        assert renderer.startswith("comms_service.rendering:render_"), stream
        assert state == as_dict(answer), stream
        assert replayed(audit_api, stream)[0] != as_dict(answer), f"{stream} never changed"


# ---------------------------------------------------------------------- postmortem


def test_postmortem_streams_replay_as_the_postmortem_api_answered_then(
    audit_api: AuditApi,
) -> None:
    from firewatch.postmortem.v1 import postmortem_pb2 as ppb
    from firewatch.postmortem.v1 import postmortem_pb2_grpc as ppb_grpc
    from postmortem_service.api import SERVICE_NAME, PostmortemServicer
    from tests.unit.postmortem.conftest import build_world

    log = audit_api.log
    world = build_world(log.open, log.clock)
    incident_id = world.resolved_incident()
    app = world.app
    app.edit_section(incident_id, "summary", "Checkout returned 5xx for 15 minutes.", by="alice")
    added = app.add_action_item(
        incident_id,
        kind="technical",
        title="Add a canary stage",
        owner="alice",
        due_on=(log.clock() + timedelta(days=2)).date(),
        by="alice",
    )
    action_id = added.state.action_id
    log.clock.advance(timedelta(days=1))  # not due yet: its `overdue` depends on "now"
    then = log.clock()
    servicer = PostmortemServicer(app, tokens(audit_api))
    with live(
        audit_api, ppb_grpc.add_PostmortemServiceServicer_to_server, servicer, SERVICE_NAME
    ) as ch:
        stub = ppb_grpc.PostmortemServiceStub(ch)  # type: ignore[no-untyped-call]
        postmortem = stub.GetPostmortem(
            ppb.GetPostmortemRequest(incident=str(incident_id)), metadata=admin(audit_api)
        ).postmortem
        item = stub.ListActionItems(
            ppb.ListActionItemsRequest(incident=str(incident_id)), metadata=admin(audit_api)
        ).action_items[0]
        assert not item.overdue
        assert postmortem.timeline
        assert postmortem.action_items

        log.clock.advance(timedelta(days=3))  # overdue by now, and still being worked on
        app.edit_section(incident_id, "impact", "About 2% of checkouts failed.", by="alice")
        app.change_action_item(action_id, "start", by="alice")

    captured = {f"postmortem-{incident_id}": postmortem, f"action-{action_id}": item}
    for stream, answer in captured.items():
        state, renderer = replayed(audit_api, stream, at=then)
        assert renderer.startswith("postmortem_service.rendering:render_"), stream
        assert state == as_dict(answer), stream
        assert replayed(audit_api, stream)[0] != as_dict(answer), f"{stream} never changed"


def test_the_instant_a_replay_stands_for_is_the_time_asked_or_when_the_position_was_written(
    audit_api: AuditApi,
) -> None:
    from audit_service.replay import AsOf, log_as_of
    from eventlog import NewEvent, StreamState

    log = audit_api.log
    store = log.open("paging")
    first = store.append("user-x", [NewEvent("UserRegistered", {})], StreamState.ANY)
    written_at = log.clock()
    log.clock.advance(timedelta(minutes=10))
    store.append("user-x", [NewEvent("UserTimeZoneChanged", {})], StreamState.ANY)
    log.clock.advance(timedelta(minutes=10))
    asked = written_at + timedelta(minutes=5)

    assert log_as_of(store, AsOf(position=first.positions[0]), log.clock).at == written_at
    assert log_as_of(store, AsOf(time=asked), log.clock).at == asked
    assert log_as_of(store, AsOf(position=first.positions[0], time=asked)).at == written_at
    assert log_as_of(store, AsOf(), log.clock).at == log.clock()
    cut = log_as_of(store, AsOf(position=first.positions[0]), log.clock)
    assert [e.type for e in cut.stream("user-x")] == ["UserRegistered"]
    assert [e.type for e in log_as_of(store, AsOf(time=asked)).events()] == ["UserRegistered"]
