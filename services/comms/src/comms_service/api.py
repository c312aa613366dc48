"""The communications gRPC API (`firewatch-comms-api`): CommsService.

A thin adapter: each method authenticates (apikit.rpc.guarded, which also maps domain
errors to status codes), converts the request, calls `CommsApplication` and converts the
result. No scheduler here: the worker ticks; this process records and answers. Runs
without eventlet (stock grpcio).

Settings: FIREWATCH_STORE_URL, FIREWATCH_TOKENS_FILE, FIREWATCH_COMMS_API_HOST/_PORT
(default 127.0.0.1:50055), FIREWATCH_COMMS_SECRET, FIREWATCH_STATUSPAGE_URL,
FIREWATCH_COMMS_TEMPLATES_FILE (settings.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from apikit.auth import READERS, WRITERS, Principal, Role, ScopeError, TokenRegistry
from apikit.rpc import guarded, optional_timestamp, to_timestamp
from comms_service import dispatch as dsp
from comms_service import room as rm
from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service.app import CommsApplication
from comms_service.views import View
from contracts.domain import InvalidCommandError
from firewatch.comms.v1 import comms_pb2 as pb
from firewatch.comms.v1 import comms_pb2_grpc as pb_grpc

SERVICE_NAME = "firewatch.comms.v1.CommsService"
ADMINS = frozenset({Role.ADMIN})
V = TypeVar("V")

AUDIENCES: dict[int, str] = {
    pb.AUDIENCE_INTERNAL: "internal",
    pb.AUDIENCE_EXECUTIVE: "executive",
    pb.AUDIENCE_PUBLIC: "public",
}
UPDATE_STATUSES: dict[int, str] = {
    pb.UPDATE_STATUS_INVESTIGATING: "investigating",
    pb.UPDATE_STATUS_IDENTIFIED: "identified",
    pb.UPDATE_STATUS_MONITORING: "monitoring",
    pb.UPDATE_STATUS_RESOLVED: "resolved",
}
COMPONENT_STATUSES: dict[int, sp.ComponentStatus] = {
    pb.COMPONENT_STATUS_OPERATIONAL: sp.ComponentStatus.OPERATIONAL,
    pb.COMPONENT_STATUS_DEGRADED_PERFORMANCE: sp.ComponentStatus.DEGRADED_PERFORMANCE,
    pb.COMPONENT_STATUS_PARTIAL_OUTAGE: sp.ComponentStatus.PARTIAL_OUTAGE,
    pb.COMPONENT_STATUS_MAJOR_OUTAGE: sp.ComponentStatus.MAJOR_OUTAGE,
    pb.COMPONENT_STATUS_UNDER_MAINTENANCE: sp.ComponentStatus.UNDER_MAINTENANCE,
}
IMPACTS: dict[int, si.Impact] = {
    pb.IMPACT_NONE: si.Impact.NONE,
    pb.IMPACT_MINOR: si.Impact.MINOR,
    pb.IMPACT_MAJOR: si.Impact.MAJOR,
    pb.IMPACT_CRITICAL: si.Impact.CRITICAL,
}
KINDS: dict[int, si.Kind] = {
    pb.STATUS_INCIDENT_KIND_INCIDENT: si.Kind.INCIDENT,
    pb.STATUS_INCIDENT_KIND_MAINTENANCE: si.Kind.MAINTENANCE,
}
STATUSES: dict[int, si.IncidentStatus] = {
    getattr(pb, f"STATUS_INCIDENT_STATUS_{status.name}"): status for status in si.IncidentStatus
}


def _enum(value: int, table: Mapping[int, V], field: str, default: V | None = None) -> V:
    if value == 0 and default is not None:
        return default
    if value not in table:
        raise InvalidCommandError(field, "is required" if value == 0 else f"unknown value {value}")
    return table[value]


def _reverse(table: Mapping[int, Any], value: Any) -> Any:
    return next((k for k, v in table.items() if v == value), 0)


def update_author(posted_by: str, who: Principal) -> tuple[str, str | None]:
    """(author, entered_by) of a stakeholder update: the caller writes as themself
    (`who.name`: the user a token is bound to). Only an admin may name someone else
    (posting on the commander's behalf); the update then records both."""
    named = posted_by.strip()
    if not named or named == who.name:
        return who.name, None
    if who.role is not Role.ADMIN:
        raise ScopeError(
            f"posted_by: you post as yourself ({who.name!r}); only an admin may post "
            f"on behalf of {named!r}"
        )
    return named, who.name


def _status_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise InvalidCommandError(
            "status_incident_id", "is not a status-page incident id"
        ) from None


class CommsServicer(pb_grpc.CommsServiceServicer):
    def __init__(self, app: CommsApplication, tokens: TokenRegistry) -> None:
        self.app = app
        self.tokens = tokens

    # ------------------------------------------------------------------ incidents

    @guarded(READERS)
    def GetIncidentComms(  # noqa: N802 - gRPC method names
        self, request: pb.GetIncidentCommsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetIncidentCommsResponse:
        incident_id = self.app.find_incident(request.incident)
        return incident_comms_message(
            self.app.room(incident_id),
            self.app.dispatches_for(incident_id),
            lambda channel: self.app.open_status(incident_id, channel),
        )

    @guarded(WRITERS)
    def AssignCommsLead(  # noqa: N802
        self, request: pb.AssignCommsLeadRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AssignCommsLeadResponse:
        result = self.app.assign_comms_lead(request.incident, request.comms_lead, by=who.name)
        return pb.AssignCommsLeadResponse(position=result.position)

    @guarded(READERS)
    def PreviewUpdate(  # noqa: N802
        self, request: pb.PreviewUpdateRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PreviewUpdateResponse:
        preview = self.app.preview_update(
            request.incident,
            audience=_enum(request.audience, AUDIENCES, "audience"),
            message=request.message,
            status=_enum(request.status, UPDATE_STATUSES, "status", "investigating"),
            template=request.template or None,
        )
        return pb.PreviewUpdateResponse(
            body=preview.body,
            next_update_by=to_timestamp(preview.next_update_by),
            warnings=list(preview.warnings),
        )

    @guarded(WRITERS)
    def PostUpdate(  # noqa: N802
        self, request: pb.PostUpdateRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PostUpdateResponse:
        author, entered_by = update_author(request.posted_by, who)
        result = self.app.post_update(
            request.incident,
            audience=_enum(request.audience, AUDIENCES, "audience"),
            message=request.message,
            status=_enum(request.status, UPDATE_STATUSES, "status", "investigating"),
            template=request.template or None,
            posted_by=author,
            privileged=who.role is Role.ADMIN and entered_by is None,
            entered_by=entered_by,
            key=request.idempotency_key or None,
        )
        posted = next(
            (e for e in result.events if e.event_type() == "StakeholderUpdatePosted"), None
        )
        promise = result.state.promise
        return pb.PostUpdateResponse(
            body=getattr(posted, "body", ""),
            next_update_by=to_timestamp(promise.due_by if promise else None),
            promise_kept=bool(getattr(posted, "promise_kept", False)),
            position=result.position,
            replayed=result.replayed,
        )

    @guarded(READERS)
    def ListTemplates(  # noqa: N802
        self, request: pb.ListTemplatesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListTemplatesResponse:
        return pb.ListTemplatesResponse(
            templates=[pb.Template(name=n, source=s) for n, s in sorted(self.app.templates.items())]
        )

    @guarded(READERS)
    def GetReport(  # noqa: N802
        self, request: pb.GetReportRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetReportResponse:
        report = self.app.report()

        def rows(bucket: dict[str, dict[str, int]]) -> list[pb.PromiseCounts]:
            return [
                pb.PromiseCounts(name=name, **counts) for name, counts in sorted(bucket.items())
            ]

        return pb.GetReportResponse(
            incidents=rows(report["incidents"]), severities=rows(report["severities"])
        )

    # ------------------------------------------------------------------ page

    @guarded(ADMINS)
    def ConfigurePage(  # noqa: N802
        self, request: pb.ConfigurePageRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ConfigurePageResponse:
        result = self.app.configure_page(
            name=request.name, url=request.url, time_zone=request.time_zone or "UTC", by=who.name
        )
        return pb.ConfigurePageResponse(position=result.position)

    @guarded(ADMINS)
    def AddComponentGroup(  # noqa: N802
        self, request: pb.AddComponentGroupRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddComponentGroupResponse:
        result = self.app.add_group(
            request.group_id, request.name, description=request.description, by=who.name
        )
        return pb.AddComponentGroupResponse(position=result.position)

    @guarded(ADMINS)
    def AddComponent(  # noqa: N802
        self, request: pb.AddComponentRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddComponentResponse:
        result = self.app.add_component(
            request.component_id,
            request.name,
            description=request.description,
            group_id=request.group_id or None,
            only_show_if_degraded=request.only_show_if_degraded,
            by=who.name,
        )
        return pb.AddComponentResponse(position=result.position)

    @guarded(WRITERS)
    def SetComponentStatus(  # noqa: N802
        self, request: pb.SetComponentStatusRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SetComponentStatusResponse:
        status = _enum(request.status, COMPONENT_STATUSES, "status")
        result = self.app.set_component_status(request.component_id, status.value, by=who.name)
        return pb.SetComponentStatusResponse(position=result.position)

    @guarded(READERS)
    def ListComponents(  # noqa: N802
        self, request: pb.ListComponentsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListComponentsResponse:
        return components_message(View(self.app.model, public=False, now=self.app.clock()))

    # ------------------------------------------------------------------ status incidents

    @guarded(WRITERS)
    def DraftStatusIncident(  # noqa: N802
        self, request: pb.DraftStatusIncidentRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.DraftStatusIncidentResponse:
        result = self.app.draft_status_incident(
            name=request.name,
            body=request.body,
            by=who.name,
            impact=_enum(request.impact, IMPACTS, "impact", si.Impact.MINOR).value,
            component_ids=list(request.component_ids),
            internal_only=request.internal_only,
            incident=request.incident or None,
            kind=_enum(request.kind, KINDS, "kind", si.Kind.INCIDENT).value,
            scheduled_for=optional_timestamp(request, "scheduled_for"),
            scheduled_until=optional_timestamp(request, "scheduled_until"),
            key=request.idempotency_key or None,
        )
        drafted = result.state.drafted
        return pb.DraftStatusIncidentResponse(
            status_incident_id=str(drafted.status_incident_id), position=result.position
        )

    @guarded(WRITERS)
    def PostStatusUpdate(  # noqa: N802
        self, request: pb.PostStatusUpdateRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PostStatusUpdateResponse:
        components = {
            c.component_id: _enum(c.status, COMPONENT_STATUSES, f"components[{i}].status").value
            for i, c in enumerate(request.components)
        }
        result = self.app.post_status_update(
            _status_id(request.status_incident_id),
            status=_enum(request.status, STATUSES, "status").value,
            body=request.body,
            by=who.name,
            impact=IMPACTS[request.impact].value if request.impact in IMPACTS else None,
            components=components,
            deliver_notifications=not request.silent,
            key=request.idempotency_key or None,
        )
        return pb.PostStatusUpdateResponse(position=result.position)

    @guarded(WRITERS)
    def AddInternalNote(  # noqa: N802
        self, request: pb.AddInternalNoteRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddInternalNoteResponse:
        result = self.app.add_internal_note(
            _status_id(request.status_incident_id), request.body, by=who.name
        )
        return pb.AddInternalNoteResponse(position=result.position)

    @guarded(WRITERS)
    def PublishStatusIncident(  # noqa: N802
        self,
        request: pb.PublishStatusIncidentRequest,
        context: grpc.ServicerContext,
        who: Principal,
    ) -> pb.PublishStatusIncidentResponse:
        result = self.app.publish(_status_id(request.status_incident_id), by=who.name)
        return pb.PublishStatusIncidentResponse(position=result.position)

    @guarded(READERS)
    def ListStatusIncidents(  # noqa: N802
        self, request: pb.ListStatusIncidentsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListStatusIncidentsResponse:
        view = View(self.app.model, public=False, now=self.app.clock())
        return pb.ListStatusIncidentsResponse(
            incidents=[status_incident_message(state) for state in view.incidents()]
        )

    # ------------------------------------------------------------------ subscribers

    @guarded(ADMINS)
    def AddWebhookSubscriber(  # noqa: N802
        self, request: pb.AddWebhookSubscriberRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddWebhookSubscriberResponse:
        result = self.app.add_webhook_subscriber(
            request.url, list(request.component_ids), by=who.name
        )
        return pb.AddWebhookSubscriberResponse(subscriber_id=str(result.state.subscriber_id))

    @guarded(ADMINS)
    def ListSubscribers(  # noqa: N802
        self, request: pb.ListSubscribersRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListSubscribersResponse:
        return pb.ListSubscribersResponse(
            subscribers=[
                pb.Subscriber(
                    subscriber_id=str(s.subscriber_id),
                    kind=s.kind.value if s.kind else "",
                    address=s.address,
                    status=s.status.value,
                    component_ids=list(s.component_ids),
                )
                for s in self.app.subscribers()
            ]
        )

    @guarded(ADMINS)
    def RemoveSubscriber(  # noqa: N802
        self, request: pb.RemoveSubscriberRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveSubscriberResponse:
        result = self.app.remove_subscriber(request.subscriber, by=who.name, reason=request.reason)
        return pb.RemoveSubscriberResponse(
            subscriber_id=str(result.state.subscriber_id),
            removed=bool(result.events),
            position=result.position,
        )


# ---------------------------------------------------------------------- answers
# Module-level so comms_service.rendering shows a replayed stream with exactly these
# (appkit.rendering, the audit service's replay).


def incident_comms_message(
    room: rm.Room,
    dispatches: Sequence[dsp.Dispatch],
    open_status: Callable[[rm.Destination], str],
) -> pb.GetIncidentCommsResponse:
    """GetIncidentComms' answer: the room, its channels (each with how the message that
    opened it fared) and the delivery counts of every dispatch queued for it."""
    response = pb.GetIncidentCommsResponse(
        reference=room.reference,
        incident_id=str(room.incident_id),
        title=room.title,
        severity=room.severity.value if room.severity else "",
        commander=room.commander or "",
        comms_lead=room.comms_lead or "",
        channels=[
            pb.Channel(
                channel_id=c.channel_id,
                role=c.role.value,
                kind=c.kind.value,
                address=c.address,
                link=c.link or "",
                open_status=open_status(c),
            )
            for c in room.channels
        ],
        updates_posted=len(room.updates),
        deliveries_delivered=sum(d.count(dsp.TargetStatus.DELIVERED) for d in dispatches),
        deliveries_pending=sum(
            d.count(dsp.TargetStatus.PENDING) + d.count(dsp.TargetStatus.IN_FLIGHT)
            for d in dispatches
        ),
        deliveries_failed=sum(d.count(dsp.TargetStatus.FAILED) for d in dispatches),
    )
    if room.promise is not None:
        response.promise.CopyFrom(
            pb.Promise(
                seq=room.promise.seq,
                due_by=to_timestamp(room.promise.due_by),
                remind_at=to_timestamp(room.promise.remind_at),
                reminded=room.promise.reminded,
                overdue=room.promise.overdue,
            )
        )
    return response


def components_message(view: View) -> pb.ListComponentsResponse:
    return pb.ListComponentsResponse(
        components=[
            pb.Component(
                component_id=c["id"],
                name=c["name"],
                group_id=c["group_id"] or "",
                status=_reverse(COMPONENT_STATUSES, sp.ComponentStatus(c["status"])),
                group=c["group"],
            )
            for c in view.components_json()
        ]
    )


def status_incident_message(state: si.StatusIncident) -> pb.StatusIncident:
    drafted = state.drafted
    assert drafted is not None
    return pb.StatusIncident(
        status_incident_id=str(drafted.status_incident_id),
        name=drafted.name,
        kind=_reverse(KINDS, drafted.kind),
        status=_reverse(STATUSES, state.status),
        impact=_reverse(IMPACTS, state.impact),
        published=state.public,
        internal_only=drafted.internal_only,
        updates=len(state.updates),
        internal_notes=len(state.notes),
    )


# ---------------------------------------------------------------------- process


class CommsApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = "sqlite:///var/firewatch/eventlog.db"
    tokens_file: Path = Path("var/firewatch/tokens.json")
    comms_api_host: str = "127.0.0.1"
    comms_api_port: int = Field(default=50055, ge=0, le=65535)


def serve(settings: CommsApiSettings | None = None) -> None:  # pragma: no cover - e2e
    """Run the API process until SIGTERM/SIGINT."""
    import signal
    import threading

    from apikit.rpc import start_server
    from comms_service.settings import CommsSettings
    from eventlog import open_store
    from eventlog.clock import system_clock

    settings = settings or CommsApiSettings()
    comms = CommsSettings()
    store = open_store(settings.store_url, writer="communications")
    app = CommsApplication(
        store,
        system_clock,
        cadence=comms.cadence(),
        routing=comms.routing(),
        secret=comms.secret(),
        page_url=comms.page_url,
        contacts=comms.contacts(),
        templates=comms.templates(),
    )
    servicer = CommsServicer(app, TokenRegistry(settings.tokens_file))
    register: list[Callable[[grpc.Server], None]] = [
        lambda server: pb_grpc.add_CommsServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    ]
    running = start_server(
        host=settings.comms_api_host,
        port=settings.comms_api_port,
        register=register,
        service_names=[SERVICE_NAME],
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(
        f"comms api listening on {settings.comms_api_host}:{running.port}, "
        f"log {settings.store_url}",
        flush=True,
    )
    stopping.wait()
    running.stop()
    store.close()


def main() -> None:  # pragma: no cover
    from servicekit.process import start as start_process

    start_process("comms-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
