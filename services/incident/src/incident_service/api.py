"""The incident service's public gRPC API (firewatch.incident.v1.IncidentService).

A thin adapter: each method authenticates (apikit.rpc.guarded), converts the request
into an application call and the result into protobuf. Business rules live in
domain.py; loading and appending in app.py. This process is plain threads, never
eventlet (stock grpcio hangs under eventlet).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import grpc

from apikit.auth import READERS, WRITERS, Principal, TokenRegistry
from apikit.rpc import (
    abort_invalid,
    guarded,
    known_enum,
    optional_timestamp,
    read_timestamp,
    set_timestamp,
    to_log_event,
    to_timestamp,
)
from appkit import ProjectionRunner
from contracts.domain import InvalidCommandError
from eventlog import EventFilter, EventStore, RecordedEvent
from firewatch.incident.v1 import incident_pb2 as pb
from firewatch.incident.v1 import incident_pb2_grpc as pb_grpc
from incident_service import domain, domain_commands
from incident_service.app import CommandResult, IncidentApplication
from incident_service.config import IncidentSettings
from incident_service.domain import Incident
from incident_service.domain_commands import MitigationKind, Severity, Status
from incident_service.projections import IncidentListFilter, IncidentReadModel, timeline

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["IncidentService"].full_name

_SEVERITY_TO_PB = {s: pb.Severity.Value(f"SEVERITY_{s.value}") for s in Severity}
_SEVERITY_FROM_PB = {v: k for k, v in _SEVERITY_TO_PB.items()}
_STATUS_TO_PB = {s: pb.Status.Value(f"STATUS_{s.name}") for s in Status}
_STATUS_FROM_PB = {v: k for k, v in _STATUS_TO_PB.items()}
_KIND_TO_PB = {k: pb.MitigationKind.Value(f"MITIGATION_KIND_{k.name}") for k in MitigationKind}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}

WATCH_POLL_SECONDS = 0.5


def _key(request: Any) -> str | None:
    return request.idempotency_key or None


class IncidentServicer(pb_grpc.IncidentServiceServicer):
    def __init__(
        self,
        app: IncidentApplication,
        store: EventStore,
        projections: ProjectionRunner[IncidentReadModel],
        tokens: TokenRegistry,
    ) -> None:
        self.app = app
        self.store = store
        self.projections = projections
        self.tokens = tokens

    # ------------------------------------------------------------------ commands

    @guarded(WRITERS)
    def DeclareIncident(  # noqa: N802 - gRPC method names
        self, request: pb.DeclareIncidentRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.DeclareIncidentResponse:
        result = self.app.declare(
            title=request.title,
            severity=known_enum(
                request.severity, _SEVERITY_FROM_PB, "severity", "severity (P1-P4)"
            ).value,
            services=list(request.services),
            source_alerts=list(request.source_alerts),
            declared_by=who.name,
            idempotency_key=_key(request),
        )
        return pb.DeclareIncidentResponse(**self._answer(result))

    @guarded(WRITERS)
    def AssignCommander(  # noqa: N802
        self, request: pb.AssignCommanderRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AssignCommanderResponse:
        result = self.app.execute(
            _incident(request.incident),
            domain_commands.AssignCommander,
            actor=who.name,
            idempotency_key=_key(request),
            commander=request.commander,
            assigned_by=who.name,
        )
        return pb.AssignCommanderResponse(**self._answer(result))

    @guarded(WRITERS)
    def ChangeSeverity(  # noqa: N802
        self, request: pb.ChangeSeverityRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ChangeSeverityResponse:
        result = self.app.execute(
            _incident(request.incident),
            domain_commands.ChangeSeverity,
            actor=who.name,
            idempotency_key=_key(request),
            severity=known_enum(
                request.severity, _SEVERITY_FROM_PB, "severity", "severity (P1-P4)"
            ),
            reason=request.reason,
            changed_by=who.name,
        )
        return pb.ChangeSeverityResponse(**self._answer(result))

    @guarded(WRITERS)
    def UpdateStatus(  # noqa: N802
        self, request: pb.UpdateStatusRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.UpdateStatusResponse:
        result = self.app.execute(
            _incident(request.incident),
            domain_commands.UpdateStatus,
            actor=who.name,
            idempotency_key=_key(request),
            status=known_enum(request.status, _STATUS_FROM_PB, "status", "status"),
            note=request.note or None,
            changed_by=who.name,
        )
        return pb.UpdateStatusResponse(**self._answer(result))

    @guarded(WRITERS)
    def AddNote(  # noqa: N802
        self, request: pb.AddNoteRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddNoteResponse:
        result = self.app.execute(
            _incident(request.incident),
            domain_commands.AddNote,
            actor=who.name,
            idempotency_key=_key(request),
            text=request.text,
            author=who.name,
        )
        return pb.AddNoteResponse(**self._answer(result))

    @guarded(WRITERS)
    def RecordMitigation(  # noqa: N802
        self, request: pb.RecordMitigationRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RecordMitigationResponse:
        result = self.app.execute(
            _incident(request.incident),
            domain_commands.RecordMitigation,
            actor=who.name,
            idempotency_key=_key(request),
            kind=known_enum(request.kind, _KIND_FROM_PB, "kind", "mitigation kind"),
            description=request.description,
            temporary=request.temporary,
            applied_by=who.name,
            applied_at=optional_timestamp(request, "applied_at"),
        )
        return pb.RecordMitigationResponse(**self._answer(result))

    @guarded(WRITERS)
    def ResolveIncident(  # noqa: N802
        self, request: pb.ResolveIncidentRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ResolveIncidentResponse:
        result = self.app.execute(
            _incident(request.incident),
            domain_commands.Resolve,
            actor=who.name,
            idempotency_key=_key(request),
            summary=request.summary,
            resolved_by=who.name,
        )
        return pb.ResolveIncidentResponse(**self._answer(result))

    @guarded(WRITERS)
    def ReopenIncident(  # noqa: N802
        self, request: pb.ReopenIncidentRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ReopenIncidentResponse:
        result = self.app.execute(
            _incident(request.incident),
            domain_commands.Reopen,
            actor=who.name,
            idempotency_key=_key(request),
            reason=request.reason,
            reopened_by=who.name,
        )
        return pb.ReopenIncidentResponse(**self._answer(result))

    # ------------------------------------------------------------------ queries

    @guarded(READERS)
    def GetIncident(  # noqa: N802
        self, request: pb.GetIncidentRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetIncidentResponse:
        position, instant = _as_of(request)
        view = self.app.get(
            _incident(request.incident), as_of_position=position, as_of_time=instant
        )
        return pb.GetIncidentResponse(incident=to_incident(view.state, view.version, view.position))

    @guarded(READERS)
    def ListIncidents(  # noqa: N802
        self, request: pb.ListIncidentsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListIncidentsResponse:
        query = IncidentListFilter(
            statuses=frozenset(
                known_enum(s, _STATUS_FROM_PB, "statuses", "status") for s in request.statuses
            ),
            severities=frozenset(
                known_enum(s, _SEVERITY_FROM_PB, "severities", "severity")
                for s in request.severities
            ),
            service=request.service or None,
            declared_after=optional_timestamp(request, "declared_after"),
            declared_before=optional_timestamp(request, "declared_before"),
        )
        # Read-your-writes: the list reflects everything committed before this call.
        self.projections.catch_up()
        page, token = self.projections.projection.list(
            query, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListIncidentsResponse(
            incidents=[
                to_incident(item.incident, item.version, item.position, item.paging_alert)
                for item in page
            ],
            next_page_token=token,
        )

    @guarded(READERS)
    def GetTimeline(  # noqa: N802
        self, request: pb.GetTimelineRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetTimelineResponse:
        position, instant = _as_of(request)
        view = self.app.get(
            _incident(request.incident), as_of_position=position, as_of_time=instant
        )
        assert view.state.incident_id is not None
        self.projections.catch_up()
        events = timeline(
            self.store,
            self.projections.projection,
            view.state.incident_id,
            to_position=position,
            until=instant,
        )
        return pb.GetTimelineResponse(
            incident=to_incident(view.state, view.version, view.position),
            events=[to_log_event(event) for event in events],
        )

    @guarded(READERS)
    def WatchIncident(  # noqa: N802
        self, request: pb.WatchIncidentRequest, context: grpc.ServicerContext, who: Principal
    ) -> Iterator[pb.WatchIncidentResponse]:
        incident_id = self.app.resolve_reference(_incident(request.incident))
        for event in self._follow(context, request.from_position, None):
            if (
                event.metadata.correlation_id == str(incident_id)
                and event.category != "incidentnumber"
            ):
                yield pb.WatchIncidentResponse(event=to_log_event(event))

    @guarded(READERS)
    def WatchAll(  # noqa: N802
        self, request: pb.WatchAllRequest, context: grpc.ServicerContext, who: Principal
    ) -> Iterator[pb.WatchAllResponse]:
        only_incidents = EventFilter.of(categories=[domain.STREAM_CATEGORY])
        for event in self._follow(context, request.from_position, only_incidents):
            yield pb.WatchAllResponse(event=to_log_event(event))

    # ------------------------------------------------------------------ helpers

    def _follow(
        self, context: grpc.ServicerContext, from_position: int, event_filter: EventFilter | None
    ) -> Iterator[RecordedEvent]:
        if from_position < 0:
            abort_invalid(context, "from_position", "must be >= 0")
        subscription = self.store.subscribe(
            from_position=from_position, filter=event_filter, poll_interval=WATCH_POLL_SECONDS
        )
        context.add_callback(subscription.close)
        try:
            while context.is_active():
                event = subscription.next_event(timeout=WATCH_POLL_SECONDS)
                if event is not None:
                    yield event
        finally:
            subscription.close()

    def _answer(self, result: CommandResult) -> dict[str, Any]:
        if result.appended:
            assert result.version is not None
            incident = to_incident(result.state, result.version, result.position)
        else:
            # A no-op or a replayed command: show the incident as it is now.
            view = self.app.get(result.incident_id)
            incident = to_incident(view.state, view.version, view.position)
        return {
            "outcome": pb.CommandOutcome(
                incident_id=str(result.incident_id),
                reference=result.reference,
                version=result.version,
                position=result.position,
                event_types=list(result.event_types),
                replayed=result.replayed,
            ),
            "incident": incident,
        }


def _incident(reference: str) -> str:
    if not reference.strip():
        raise InvalidCommandError(
            "incident", "is required (an incident id or a reference like INC-42)"
        )
    if len(reference) > 100:
        raise InvalidCommandError("incident", "is too long to be an incident id or reference")
    return reference


def _as_of(request: Any) -> tuple[int | None, datetime | None]:
    which = request.WhichOneof("as_of")
    if which == "as_of_position":
        if request.as_of_position < 1:
            raise InvalidCommandError("as_of_position", "must be a log position >= 1")
        return int(request.as_of_position), None
    if which == "as_of_time":
        return None, read_timestamp(request.as_of_time, "as_of_time")
    return None, None


def to_incident(
    state: Incident, version: int, position: int, paging_alert: str = ""
) -> pb.Incident:
    message = pb.Incident(
        paging_alert=paging_alert,
        incident_id=str(state.incident_id or uuid.UUID(int=0)),
        reference=state.reference,
        number=state.number,
        title=state.title,
        severity=_SEVERITY_TO_PB[state.severity],
        status=_STATUS_TO_PB[state.status],
        services=list(state.services),
        source_alerts=list(state.source_alerts),
        commander=state.commander or "",
        declared_by=state.declared_by,
        resolution_summary=state.resolution_summary or "",
        root_cause_pending=state.root_cause_pending,
        reopen_count=state.reopen_count,
        version=version,
        position=position,
        mitigations=[
            pb.Mitigation(
                kind=_KIND_TO_PB[m.kind],
                description=m.description,
                temporary=m.temporary,
                applied_by=m.applied_by,
                applied_at=to_timestamp(m.applied_at),
            )
            for m in state.mitigations
        ],
    )
    set_timestamp(message, "declared_at", state.declared_at)
    set_timestamp(message, "resolved_at", state.resolved_at)
    set_timestamp(message, "last_changed_at", state.last_changed_at)
    return message


def serve(settings: IncidentSettings | None = None) -> None:
    """Run the API process until SIGTERM/SIGINT."""
    from apikit.rpc import serve_until_signalled, start_server, tls_files
    from eventlog import open_store
    from eventlog.clock import system_clock

    settings = settings or IncidentSettings()
    store = open_store(settings.store_url, writer="incident")
    tokens = TokenRegistry(settings.tokens_file)
    projections = ProjectionRunner(store, IncidentReadModel)
    projections.catch_up()
    servicer = IncidentServicer(
        IncidentApplication(store, system_clock), store, projections, tokens
    )
    tls = tls_files(settings.incident_api_tls_cert, settings.incident_api_tls_key)
    running = start_server(
        host=settings.incident_api_host,
        port=settings.incident_api_port,
        register=[
            lambda server: pb_grpc.add_IncidentServiceServicer_to_server(  # type: ignore[no-untyped-call]
                servicer, server
            )
        ],
        service_names=[SERVICE_NAME],
        tls=tls,
    )
    serve_until_signalled(
        running,
        f"incident api listening on {settings.incident_api_host}:{running.port} "
        f"({'TLS' if tls else 'plaintext'}), log {settings.store_url}",
    )
    store.close()


def main() -> None:
    from servicekit.process import start as start_process

    start_process("incident-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
