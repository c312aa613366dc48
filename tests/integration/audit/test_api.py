"""AuditService over real gRPC: the role table for every method, access records,
replay as the live API rendered it, diff, timeline and export."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp

from audit_service.api import AUDITORS
from eventlog import EventFilter
from firewatch.audit.v1 import audit_pb2 as pb
from incident_service import domain
from incident_service.api import to_incident
from incident_service.app import IncidentApplication
from incidentctl.bundlecheck import check_bundle
from tests.integration.audit.conftest import AuditApi, declare_incident, fill


def _call(api: AuditApi, method: str, request: Any, who: str) -> Any:
    rpc = getattr(api.stub, method)
    answer = rpc(request, metadata=api.auth(who), timeout=20)
    return list(answer) if method == "VerifyLog" else answer


# Every AuditService method with a request that is valid once an incident exists.
METHODS: dict[str, Any] = {
    "VerifyLog": lambda ref: pb.VerifyLogRequest(),
    "SealLog": lambda ref: pb.SealLogRequest(),
    "Replay": lambda ref: pb.ReplayRequest(target=ref),
    "DiffStream": lambda ref: pb.DiffStreamRequest(stream=ref, **{"from": pb.AsOf(position=1)}),
    "GetIncidentTimeline": lambda ref: pb.GetIncidentTimelineRequest(incident=ref),
    "ExportBundle": lambda ref: pb.ExportBundleRequest(incident=ref),
    "WhoWasOnCall": lambda ref: pb.WhoWasOnCallRequest(
        target="schedule:primary", at=Timestamp(seconds=1_800_000_000)
    ),
    "Backtest": lambda ref: pb.BacktestRequest(
        to=Timestamp(seconds=1_900_000_000),
        proposal="{}",
        **{"from": Timestamp(seconds=1_800_000_000)},
    ),
    "ExplainPage": lambda ref: pb.ExplainPageRequest(page="00000000-0000-0000-0000-000000000000"),
    "ExplainNotPaged": lambda ref: pb.ExplainNotPagedRequest(user="bob", incident=ref),
    "ListCredentials": lambda ref: pb.ListCredentialsRequest(writers_only=True),
}
ROLES = {"root": "admin", "audrey": "auditor", "alice": "responder", "prom": "integration"}


def test_the_role_table_covers_every_method_of_the_service() -> None:
    declared = {m.name for m in pb.DESCRIPTOR.services_by_name["AuditService"].methods}
    assert declared == set(METHODS)
    assert {r.value for r in AUDITORS} == {"admin", "auditor"}


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("who", sorted(ROLES))
def test_only_admins_and_auditors_may_call_each_method(
    audit_api: AuditApi, method: str, who: str
) -> None:
    reference = declare_incident(audit_api.log)
    request = METHODS[method](reference)
    allowed = ROLES[who] in {"admin", "auditor"}
    try:
        _call(audit_api, method, request, who)
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
    if allowed:
        # The made-up page does not exist; every other request is answered.
        expected = grpc.StatusCode.NOT_FOUND if method == "ExplainPage" else grpc.StatusCode.OK
        assert code == expected
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED


def test_a_call_without_a_token_is_unauthenticated(audit_api: AuditApi) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        audit_api.stub.Replay(pb.ReplayRequest(target="INC-1"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_every_audit_call_is_recorded_with_who_read_what(audit_api: AuditApi) -> None:
    reference = declare_incident(audit_api.log)
    audit_api.stub.Replay(pb.ReplayRequest(target=reference), metadata=audit_api.auth())
    audit_api.stub.GetIncidentTimeline(
        pb.GetIncidentTimelineRequest(incident=reference), metadata=audit_api.auth("root")
    )

    records = list(audit_api.app.store.read_all(filter=EventFilter.of(categories=["auditaccess"])))
    seen = [(e.data["principal"], e.data["method"], e.data["target"]) for e in records]
    assert seen == [("audrey", "Replay", reference), ("root", "GetIncidentTimeline", reference)]
    assert records[0].metadata.actor == "audrey"


def test_bad_input_names_the_field(audit_api: AuditApi) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        audit_api.stub.Replay(pb.ReplayRequest(target=""), metadata=audit_api.auth())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("target:")
    with pytest.raises(grpc.RpcError) as caught:
        audit_api.stub.DiffStream(
            pb.DiffStreamRequest(stream="incident-x", **{"from": pb.AsOf(position=-3)}),
            metadata=audit_api.auth(),
        )
    assert caught.value.details().startswith("from.position:")


def test_replay_renders_an_incident_exactly_as_the_live_api_did_at_that_instant(
    audit_api: AuditApi,
) -> None:
    log = audit_api.log
    reference = declare_incident(log)
    incidents = IncidentApplication(log.open("incident"), log.clock)
    before = incidents.get(reference)
    live_then = MessageToDict(
        to_incident(before.state, before.version, before.position),
        preserving_proto_field_name=True,
    )
    log.clock.advance(60)
    incident_id = incidents.resolve_reference(reference)
    incidents.execute(
        incident_id,
        domain.AssignCommander,
        actor="alice",
        idempotency_key=None,
        commander="carol",
        assigned_by="alice",
    )

    then = audit_api.stub.Replay(
        pb.ReplayRequest(target=reference, as_of=pb.AsOf(position=before.position)),
        metadata=audit_api.auth(),
    )
    now = audit_api.stub.Replay(pb.ReplayRequest(target=reference), metadata=audit_api.auth())

    assert json.loads(then.state_json) == live_then
    assert then.position == before.position
    assert json.loads(now.state_json).get("commander") == "carol"
    diff = audit_api.stub.DiffStream(
        pb.DiffStreamRequest(stream=reference, **{"from": pb.AsOf(position=before.position)}),
        metadata=audit_api.auth(),
    )
    assert [e.type for e in diff.events] == ["CommanderAssigned"]
    assert any(c.field == "commander" and json.loads(c.after_json) == "carol" for c in diff.changes)


def test_the_exported_bundle_checks_out_and_holds_the_incident_and_its_seals(
    audit_api: AuditApi,
) -> None:
    fill(audit_api.log, streams=1, events=2)
    reference = declare_incident(audit_api.log)
    audit_api.stub.SealLog(pb.SealLogRequest(), metadata=audit_api.auth())

    answer = audit_api.stub.ExportBundle(
        pb.ExportBundleRequest(incident=reference), metadata=audit_api.auth()
    )
    bundle = json.loads(answer.bundle)

    assert answer.file_name == f"{reference}.bundle.json"
    result = check_bundle(bundle)
    assert result.ok, result.problems
    assert result.seals == 1
    assert any(s["stream"].startswith("incident-") for s in bundle["streams"])


def test_a_bundle_is_not_exported_from_a_log_that_fails_verification(
    audit_api: AuditApi,
) -> None:
    reference = declare_incident(audit_api.log)
    stream = next(
        row[0]
        for row in audit_api.log.execute(
            "SELECT stream FROM {events} WHERE stream LIKE ? LIMIT 1", "incident-%"
        )
    )
    # Edited where the hash does not look: the bundle would have checked out offline.
    audit_api.log.execute(
        "UPDATE {events} SET metadata = ? WHERE stream = ? AND version = 0",
        '{"actor":"mallory","approved_by":"mallory"}',
        stream,
    )

    with pytest.raises(grpc.RpcError) as refused:
        audit_api.stub.ExportBundle(
            pb.ExportBundleRequest(incident=reference), metadata=audit_api.auth()
        )

    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert f"{stream}@0" in refused.value.details()
    assert "approved_by" in refused.value.details()


def test_verify_log_streams_progress_then_names_the_tampering(audit_api: AuditApi) -> None:
    fill(audit_api.log)
    audit_api.log.execute("DELETE FROM {events} WHERE stream = ? AND version = ?", "incident-0", 1)

    answers = list(audit_api.stub.VerifyLog(pb.VerifyLogRequest(), metadata=audit_api.auth()))

    progress = [a.progress for a in answers if a.HasField("progress")]
    report = answers[-1].report
    assert progress
    assert progress[-1].streams_done == progress[-1].streams_total
    assert not report.ok
    assert [(f.kind, f.stream, f.version) for f in report.findings] == [
        ("deleted", "incident-0", 1)
    ]
