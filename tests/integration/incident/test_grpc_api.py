"""IncidentService through a real gRPC server, on SQLite and PostgreSQL logs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from firewatch.incident.v1 import incident_pb2 as pb
from incident_service.api import SERVICE_NAME
from tests.integration.incident.conftest import Api

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def declare(api: Api, **fields: Any) -> pb.DeclareIncidentResponse:
    request = {
        "title": "checkout 5xx above 1%",
        "severity": pb.SEVERITY_P1,
        "services": ["checkout"],
        **fields,
    }
    return api.stub.DeclareIncident(pb.DeclareIncidentRequest(**request), metadata=api.auth())


def stamp(value: datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(value)
    return result


def bad_field(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    detail = error_details_pb2.BadRequest()
    status.details[0].Unpack(detail)
    return detail.field_violations[0].field


def test_an_incident_is_declared_worked_and_resolved_over_grpc(api: Api) -> None:
    declared = declare(api)
    ref = declared.outcome.reference
    assert ref == "INC-1"
    assert declared.incident.status == pb.STATUS_INVESTIGATING
    assert declared.incident.declared_by == "alice"

    api.stub.AssignCommander(
        pb.AssignCommanderRequest(incident=ref, commander="carol"), metadata=api.auth()
    )
    api.stub.UpdateStatus(
        pb.UpdateStatusRequest(incident=ref, status=pb.STATUS_IDENTIFIED), metadata=api.auth()
    )
    api.stub.RecordMitigation(
        pb.RecordMitigationRequest(
            incident=ref,
            kind=pb.MITIGATION_KIND_ROLLBACK,
            description="rolled back 1.4.2",
            temporary=True,
        ),
        metadata=api.auth(),
    )
    api.stub.AddNote(
        pb.AddNoteRequest(incident=ref, text="errors back to baseline"), metadata=api.auth()
    )
    resolved = api.stub.ResolveIncident(
        pb.ResolveIncidentRequest(incident=ref, summary="rollback"), metadata=api.auth()
    )

    assert resolved.incident.status == pb.STATUS_RESOLVED
    assert resolved.incident.root_cause_pending is True
    assert resolved.outcome.event_types == ["IncidentResolved", "RootCauseFollowUpRequired"]
    got = api.stub.GetIncident(
        pb.GetIncidentRequest(incident=declared.outcome.incident_id), metadata=api.auth("audrey")
    )
    assert got.incident.commander == "carol"
    assert [m.kind for m in got.incident.mitigations] == [pb.MITIGATION_KIND_ROLLBACK]

    timeline = api.stub.GetTimeline(pb.GetTimelineRequest(incident=ref), metadata=api.auth())
    assert [e.type for e in timeline.events] == [
        "IncidentDeclared",
        "CommanderAssigned",
        "StatusChanged",
        "MitigationApplied",
        "TimelineNoteAdded",
        "IncidentResolved",
        "RootCauseFollowUpRequired",
    ]
    positions = [e.position for e in timeline.events]
    assert positions == sorted(positions)


def test_get_as_of_a_time_shows_the_incident_as_it_was(api: Api) -> None:
    api.clock.set(T0)
    ref = declare(api).outcome.reference
    api.clock.advance(timedelta(minutes=10))
    api.stub.ChangeSeverity(
        pb.ChangeSeverityRequest(incident=ref, severity=pb.SEVERITY_P3, reason="contained"),
        metadata=api.auth(),
    )

    then = api.stub.GetIncident(
        pb.GetIncidentRequest(incident=ref, as_of_time=stamp(T0 + timedelta(minutes=5))),
        metadata=api.auth(),
    )
    now = api.stub.GetIncident(pb.GetIncidentRequest(incident=ref), metadata=api.auth())
    by_position = api.stub.GetIncident(
        pb.GetIncidentRequest(incident=ref, as_of_position=then.incident.position),
        metadata=api.auth(),
    )
    assert (then.incident.severity, now.incident.severity) == (pb.SEVERITY_P1, pb.SEVERITY_P3)
    assert by_position.incident == then.incident
    with pytest.raises(grpc.RpcError) as info:
        api.stub.GetIncident(
            pb.GetIncidentRequest(incident=ref, as_of_time=stamp(T0 - timedelta(seconds=1))),
            metadata=api.auth(),
        )
    assert info.value.code() is grpc.StatusCode.NOT_FOUND


def test_list_filters_by_status_severity_and_service_and_pages(api: Api) -> None:
    for index in range(5):
        declare(
            api,
            title=f"incident {index}",
            severity=pb.SEVERITY_P1 if index % 2 else pb.SEVERITY_P3,
            services=["web" if index < 3 else "db"],
        )
    api.stub.ResolveIncident(
        pb.ResolveIncidentRequest(incident="INC-2", summary="ok"), metadata=api.auth()
    )

    everything = api.stub.ListIncidents(pb.ListIncidentsRequest(), metadata=api.auth())
    assert [i.reference for i in everything.incidents] == [
        "INC-5",
        "INC-4",
        "INC-3",
        "INC-2",
        "INC-1",
    ]
    open_p3_web = api.stub.ListIncidents(
        pb.ListIncidentsRequest(
            statuses=[pb.STATUS_INVESTIGATING], severities=[pb.SEVERITY_P3], service="web"
        ),
        metadata=api.auth(),
    )
    assert [i.reference for i in open_p3_web.incidents] == ["INC-3", "INC-1"]

    first = api.stub.ListIncidents(pb.ListIncidentsRequest(page_size=2), metadata=api.auth())
    second = api.stub.ListIncidents(
        pb.ListIncidentsRequest(page_size=2, page_token=first.next_page_token), metadata=api.auth()
    )
    third = api.stub.ListIncidents(
        pb.ListIncidentsRequest(page_size=2, page_token=second.next_page_token), metadata=api.auth()
    )
    assert [i.reference for page in (first, second, third) for i in page.incidents] == [
        "INC-5",
        "INC-4",
        "INC-3",
        "INC-2",
        "INC-1",
    ]
    assert third.next_page_token == ""


def test_retrying_a_command_with_its_idempotency_key_appends_nothing(api: Api) -> None:
    first = declare(api, idempotency_key="alertgroup-7")
    head = api.store.head_position()
    again = declare(api, idempotency_key="alertgroup-7")
    assert again.outcome.replayed
    assert again.outcome.incident_id == first.outcome.incident_id
    note = pb.AddNoteRequest(incident="INC-1", text="paged db team", idempotency_key="n1")
    noted = api.stub.AddNote(note, metadata=api.auth())
    renoted = api.stub.AddNote(note, metadata=api.auth())
    assert (renoted.outcome.replayed, renoted.outcome.position) == (True, noted.outcome.position)
    assert api.store.head_position() == head + 1


BAD_REQUESTS = [
    pytest.param(
        "DeclareIncident",
        {"severity": pb.SEVERITY_P1, "services": ["web"]},
        "title",
        id="missing-title",
    ),
    pytest.param(
        "DeclareIncident",
        {"title": "x" * 201, "severity": pb.SEVERITY_P1, "services": ["web"]},
        "title",
        id="oversized-title",
    ),
    pytest.param(
        "DeclareIncident",
        {"title": "t", "services": ["web"]},
        "severity",
        id="unspecified-severity",
    ),
    pytest.param(
        "DeclareIncident",
        {"title": "t", "severity": 42, "services": ["web"]},
        "severity",
        id="unknown-severity",
    ),
    pytest.param(
        "DeclareIncident", {"title": "t", "severity": pb.SEVERITY_P2}, "services", id="no-services"
    ),
    pytest.param(
        "DeclareIncident",
        {"title": "t", "severity": pb.SEVERITY_P2, "services": ["Not A Service"]},
        "services.0",
        id="bad-service-name",
    ),
    pytest.param("AddNote", {"incident": "", "text": "x"}, "incident", id="missing-incident"),
    pytest.param(
        "AddNote", {"incident": "INC-zz", "text": "x"}, "incident", id="malformed-reference"
    ),
    pytest.param("AddNote", {"incident": "not-a-uuid", "text": "x"}, "incident", id="malformed-id"),
    pytest.param(
        "AddNote", {"incident": "INC-1", "text": "x" * 10_001}, "text", id="oversized-note"
    ),
    pytest.param(
        "ChangeSeverity",
        {"incident": "INC-1", "severity": pb.SEVERITY_P2},
        "reason",
        id="severity-without-reason",
    ),
    pytest.param(
        "UpdateStatus", {"incident": "INC-1", "status": 17}, "status", id="unknown-status"
    ),
    pytest.param(
        "RecordMitigation", {"incident": "INC-1", "description": "d"}, "kind", id="unspecified-kind"
    ),
    pytest.param(
        "ResolveIncident", {"incident": "INC-1", "summary": " "}, "summary", id="blank-summary"
    ),
    pytest.param("ListIncidents", {"page_size": 501}, "page_size", id="page-too-big"),
    pytest.param(
        "ListIncidents",
        {"declared_after": timestamp_pb2.Timestamp(seconds=10**12)},
        "declared_after",
        id="timestamp-out-of-range",
    ),
    pytest.param("ListIncidents", {"page_token": "garbage"}, "page_token", id="forged-page-token"),
    pytest.param(
        "GetIncident",
        {"incident": "INC-1", "as_of_position": -3},
        "as_of_position",
        id="negative-position",
    ),
]


@pytest.mark.parametrize(("method", "fields", "field"), BAD_REQUESTS)
def test_bad_input_is_invalid_argument_naming_the_field_and_appends_nothing(
    api: Api, method: str, fields: dict[str, Any], field: str
) -> None:
    declare(api)
    head = api.store.head_position()
    request_type = getattr(pb, f"{method}Request")
    with pytest.raises(grpc.RpcError) as info:
        getattr(api.stub, method)(request_type(**fields), metadata=api.auth())
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith(field), info.value.details()
    assert bad_field(info.value) == field
    assert api.store.head_position() == head


def test_unknown_incidents_are_not_found_and_rule_violations_fail_the_precondition(
    api: Api,
) -> None:
    declare(api)
    with pytest.raises(grpc.RpcError) as missing:
        api.stub.AddNote(pb.AddNoteRequest(incident="INC-9", text="x"), metadata=api.auth())
    with pytest.raises(grpc.RpcError) as refused:
        api.stub.ReopenIncident(
            pb.ReopenIncidentRequest(incident="INC-1", reason="r"), metadata=api.auth()
        )
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "only a resolved incident can be reopened" in refused.value.details()


def test_calls_need_a_valid_token_and_a_role_that_allows_them(api: Api) -> None:
    request = pb.DeclareIncidentRequest(title="t", severity=pb.SEVERITY_P1, services=["web"])
    for metadata, code in [
        ([], grpc.StatusCode.UNAUTHENTICATED),
        ([("authorization", "Bearer fwt_not-a-real-token")], grpc.StatusCode.UNAUTHENTICATED),
        (api.auth("audrey"), grpc.StatusCode.PERMISSION_DENIED),
        (api.auth("prom"), grpc.StatusCode.PERMISSION_DENIED),
    ]:
        with pytest.raises(grpc.RpcError) as info:
            api.stub.DeclareIncident(request, metadata=metadata)
        assert info.value.code() is code
    assert api.store.head_position() == 0
    assert api.stub.DeclareIncident(request, metadata=api.auth("root")).outcome.reference == "INC-1"


def test_watch_incident_streams_history_then_live_events_and_resumes(api: Api) -> None:
    ref = declare(api).outcome.reference
    api.stub.AddNote(pb.AddNoteRequest(incident=ref, text="first"), metadata=api.auth())
    stream = api.stub.WatchIncident(
        pb.WatchIncidentRequest(incident=ref, from_position=0), metadata=api.auth(), timeout=30
    )
    received = [next(stream).event, next(stream).event]
    assert [e.type for e in received] == ["IncidentDeclared", "TimelineNoteAdded"]

    threading.Thread(
        target=lambda: api.stub.AddNote(
            pb.AddNoteRequest(incident=ref, text="live"), metadata=api.auth()
        )
    ).start()
    live = next(stream).event
    assert (live.type, '"live"' in live.data_json) == ("TimelineNoteAdded", True)
    stream.cancel()

    resumed = api.stub.WatchIncident(
        pb.WatchIncidentRequest(incident=ref, from_position=received[-1].position + 1),
        metadata=api.auth(),
        timeout=30,
    )
    assert next(resumed).event.event_id == live.event_id
    resumed.cancel()


def test_watch_all_streams_every_incident_event_in_log_order(api: Api) -> None:
    declare(api)
    declare(api)
    stream = api.stub.WatchAll(
        pb.WatchAllRequest(from_position=0), metadata=api.auth("audrey"), timeout=30
    )
    events = [next(stream).event for _ in range(2)]
    stream.cancel()
    assert [e.type for e in events] == ["IncidentDeclared", "IncidentDeclared"]
    assert events[0].position < events[1].position
    assert len(events[0].hash) == 64


def test_health_and_reflection_are_served(api: Api) -> None:
    health = health_pb2_grpc.HealthStub(api.channel)
    assert (
        health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME)).status
        == health_pb2.HealthCheckResponse.SERVING
    )
    reflection = reflection_pb2_grpc.ServerReflectionStub(api.channel)
    [answer] = list(
        reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
    )
    names = {service.name for service in answer.list_services_response.service}
    assert {SERVICE_NAME, "grpc.health.v1.Health"} <= names
