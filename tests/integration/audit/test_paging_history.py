"""Who was on call, why someone was paged and why someone was not, read from paging's
events as the paging service records them (its published event contracts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from eventlog import EventMetadata, StreamState
from firewatch.audit.v1 import audit_pb2 as pb
from incident_service.app import IncidentApplication
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import policy as pol
from paging_service import schedule as sch
from paging_service.common import EVENTS
from tests.integration.audit.conftest import AuditApi, declare_incident

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def stamp(at: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(at)
    return value


def record(
    api: AuditApi,
    stream: str,
    *events: object,
    cause: str | None = None,
    correlation: str | None = None,
) -> list[str]:
    store = api.log.open("paging")
    ids = []
    for event in events:
        new = EVENTS.to_new_event(
            event,  # type: ignore[arg-type]
            metadata=EventMetadata(correlation_id=correlation, causation_id=cause),
        )
        store.append(stream, [new], StreamState.ANY)
        ids.append(str(new.id))
        cause = str(new.id)
    return ids


def primary_schedule(api: AuditApi) -> None:
    """Alice and bob rotate daily from T0; carol overrides on day 2 from 10:00 to 12:00."""
    layer = sch.Layer(
        layer_id="day",
        name="day",
        users=("alice", "bob"),
        turn=sch.Turn(unit=sch.TurnUnit.DAYS, length=1),
        start=datetime(2026, 1, 1),
        time_zone="UTC",
    )
    record(
        api,
        "schedule-primary",
        sch.ScheduleCreated(schedule_id="primary", name="primary", time_zone="UTC", created_at=T0),
        sch.LayerAdded(layer=layer, added_at=T0),
    )
    api.log.clock.advance(timedelta(days=3))
    record(
        api,
        "schedule-primary",
        sch.OverrideAdded(
            override=sch.Override(
                override_id="swap",
                user_id="carol",
                start=T0 + timedelta(days=1, hours=10),
                end=T0 + timedelta(days=1, hours=12),
            ),
            added_at=api.log.clock(),
        ),
    )


def test_who_was_on_call_names_the_layer_or_the_override_as_configured_then(
    audit_api: AuditApi,
) -> None:
    primary_schedule(audit_api)

    def ask(at: datetime) -> list[tuple[str, str]]:
        answer = audit_api.stub.WhoWasOnCall(
            pb.WhoWasOnCallRequest(target="schedule:primary", at=stamp(at)),
            metadata=audit_api.auth(),
        )
        return [(r.user_id, r.via) for r in answer.rows]

    assert ask(T0 + timedelta(hours=5)) == [("alice", "layer:day")]
    assert ask(T0 + timedelta(days=1, hours=5)) == [("bob", "layer:day")]
    # The override was added on day 3: at day 1 11:00 as configured *then*, bob was on
    # call; asked after the override existed, carol covers that hour.
    assert ask(T0 + timedelta(days=1, hours=11)) == [("bob", "layer:day")]
    assert ask(T0 + timedelta(days=3, hours=1)) == [("bob", "layer:day")]


def test_who_was_on_call_needs_a_known_target_kind(audit_api: AuditApi) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        audit_api.stub.WhoWasOnCall(
            pb.WhoWasOnCallRequest(target="rota:x", at=stamp(T0)), metadata=audit_api.auth()
        )
    assert caught.value.details().startswith("target:")


def paged_incident(api: AuditApi, *, override_now: bool = False) -> tuple[str, uuid.UUID, str]:
    """INC-1 escalated through policy 'web' (level 0: schedule primary); alice was paged,
    her email failed; bob acknowledged for her first. With `override_now`, erin's
    override covers the moment the level fires."""
    primary_schedule(api)
    if override_now:
        now = api.log.clock()
        record(
            api,
            "schedule-primary",
            sch.OverrideAdded(
                override=sch.Override(
                    override_id="cover",
                    user_id="erin",
                    start=now - timedelta(hours=1),
                    end=now + timedelta(hours=1),
                ),
                added_at=now,
            ),
        )
        api.log.clock.advance(1)
    reference = declare_incident(api.log)
    incidents = IncidentApplication(api.log.open("incident"), api.log.clock)
    incident_id = incidents.resolve_reference(reference)
    declared = incidents.get(incident_id).events[0]
    now = api.log.clock()
    snapshot = pol.PolicySnapshot(
        policy_id="web",
        revision=2,
        levels=(pol.Level(targets=(pol.Target(kind=pol.TargetKind.SCHEDULE, id="primary"),)),),
        repeat=0,
        un_ack_timeout_minutes=None,
    )
    correlation = str(incident_id)
    escalation = record(
        api,
        esc.stream_for(incident_id),
        esc.EscalationStarted(
            incident_id=incident_id,
            policy=snapshot,
            severity="P2",
            urgency="high",
            service="checkout",
            title="checkout 5xx",
            started_at=now,
        ),
        esc.EscalationStepFired(
            step=0, round=0, level=0, repeat=0, responders=("alice",), due_at=now, fired_at=now
        ),
        cause=str(declared.id),
        correlation=correlation,
    )
    page_id = uuid.uuid4()
    record(
        api,
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
        pg.PageDeliveryAttempted(
            method_id="email",
            kind="email",
            address="alice@example.com",
            attempt=1,
            attempted_at=now,
            outcome_due_by=now + timedelta(minutes=1),
        ),
        pg.PageFailed(
            method_id="email", attempt=1, reason="bounced", permanent=True, failed_at=now
        ),
        pg.PageAcknowledged(by="bob", via="cli", acknowledged_at=now),
        cause=escalation[-1],
        correlation=correlation,
    )
    return reference, page_id, str(declared.id)


def test_why_paged_walks_from_the_incident_through_the_level_to_each_attempt(
    audit_api: AuditApi,
) -> None:
    _, page_id, declared_id = paged_incident(audit_api)

    answer = audit_api.stub.ExplainPage(
        pb.ExplainPageRequest(page=str(page_id)), metadata=audit_api.auth()
    )

    whats = [s.what for s in answer.steps]
    assert whats == [
        "cause: IncidentDeclared",
        "policy in force",
        "level fired",
        "paged (level resolved to this person)",
        "delivery attempt",
        "receipt: failed",
        "acknowledged",
    ]
    assert answer.steps[0].event.event_id == declared_id
    assert "policy=web revision=2" in answer.steps[1].detail
    assert "responders=['alice']" in answer.steps[2].detail


def test_why_not_says_where_each_person_fell_out(audit_api: AuditApi) -> None:
    reference, _, _ = paged_incident(audit_api)

    def verdict(user: str) -> str:
        return audit_api.stub.ExplainNotPaged(
            pb.ExplainNotPagedRequest(user=user, incident=reference), metadata=audit_api.auth()
        ).verdict

    assert verdict("dave").startswith("dave was not on call for any level that fired")
    assert "paged instead: alice" in verdict("dave")
    assert verdict("alice") == "alice was paged, but bob acknowledged first"


def test_the_cli_answers_oncall_why_paged_and_why_not(audit_api: AuditApi) -> None:
    from typer.testing import CliRunner

    from incidentctl.main import app
    from tests.integration.incidentctl.conftest import CLEAN_ENV

    reference, page_id, _ = paged_incident(audit_api)
    server = ["--audit-server", f"127.0.0.1:{audit_api.server.port}"]

    def run(*args: str) -> str:
        result = CliRunner().invoke(
            app, ["--token", audit_api.tokens["audrey"], "audit", *args, *server], env=CLEAN_ENV
        )
        assert result.exit_code == 0, result.output
        return result.output

    oncall = run("oncall", "service:checkout", "--at", "2026-01-04T05:00:00Z")
    assert "policy web revision 2" in oncall
    assert "schedule:primary" in oncall
    assert "bob" in oncall
    assert "layer:day" in oncall
    assert "receipt: failed" in run("why-paged", str(page_id))
    assert "bob acknowledged first" in run("why-not", "alice", reference)


def test_replay_renders_schedules_and_pages_as_the_on_call_api_did(audit_api: AuditApi) -> None:
    import json

    from google.protobuf.json_format import MessageToDict

    from paging_service import api as paging_api

    reference, page_id, _ = paged_incident(audit_api)
    store = audit_api.app.store
    before_override = store.read_stream("schedule-primary")[1].position

    then = audit_api.stub.Replay(
        pb.ReplayRequest(target="schedule-primary", as_of=pb.AsOf(position=before_override)),
        metadata=audit_api.auth(),
    )
    now = audit_api.stub.Replay(
        pb.ReplayRequest(target="schedule-primary"), metadata=audit_api.auth()
    )
    page = audit_api.stub.Replay(
        pb.ReplayRequest(target=f"page-{page_id}"), metadata=audit_api.auth()
    )

    def live(fold: object, render: object, stream: str) -> dict[str, object]:
        state = fold(EVENTS.from_recorded(e) for e in store.read_stream(stream))  # type: ignore[operator]
        return MessageToDict(render(state), preserving_proto_field_name=True)  # type: ignore[operator]

    assert then.kind == "schedule"
    assert "overrides" not in json.loads(then.state_json)
    assert json.loads(now.state_json) == live(
        sch.fold, paging_api.schedule_message, "schedule-primary"
    )
    assert [o["user_id"] for o in json.loads(now.state_json)["overrides"]] == ["carol"]
    assert json.loads(page.state_json) == live(pg.fold, paging_api.page_message, f"page-{page_id}")
    assert reference == "INC-1"


def test_the_bundle_holds_the_configuration_in_force_and_the_receipts(
    audit_api: AuditApi,
) -> None:
    import json

    from incidentctl.bundlecheck import check_bundle

    reference, page_id, _ = paged_incident(audit_api)
    audit_api.stub.SealLog(pb.SealLogRequest(), metadata=audit_api.auth())

    answer = audit_api.stub.ExportBundle(
        pb.ExportBundleRequest(incident=reference), metadata=audit_api.auth()
    )
    bundle = json.loads(answer.bundle)

    streams = {s["stream"]: s for s in bundle["streams"]}
    assert "schedule-primary" in streams, "the schedule a level targeted"
    assert [e["type"] for e in streams[f"page-{page_id}"]["events"]][-2:] == [
        "PageFailed",
        "PageAcknowledged",
    ]
    policy, resolution = bundle["configuration"]
    assert (policy["what"], policy["policy_id"], policy["revision"]) == (
        "policy in force",
        "web",
        2,
    )
    assert resolution["what"] == "schedule resolution"
    assert resolution["resolved"] == [
        {"target": "schedule:primary", "user_id": "bob", "via": "layer:day"}
    ]
    assert check_bundle(bundle).ok


def test_why_not_names_the_override_that_replaced_the_person_on_call(
    audit_api: AuditApi,
) -> None:
    reference, _, _ = paged_incident(audit_api, override_now=True)

    answer = audit_api.stub.ExplainNotPaged(
        pb.ExplainNotPagedRequest(user="bob", incident=reference), metadata=audit_api.auth()
    )

    assert answer.verdict == (
        "bob was on call by schedule:primary's rotation, but an override put "
        "erin (override:cover) there when level 0 fired"
    )
    assert answer.steps[-1].what == "overridden on schedule:primary"
