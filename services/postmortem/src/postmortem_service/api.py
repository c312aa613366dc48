"""The postmortem service's public gRPC API (firewatch.postmortem.v1.PostmortemService).

A thin adapter: each method authenticates (apikit.rpc.guarded: reads need admin,
responder or auditor; changes admin or responder), converts the request into a
PostmortemApplication call and the result into protobuf. The caller's token name is
recorded as who made the change. Errors map to status codes through apikit's one
table (ADR 0007). Plain threads, never eventlet.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

import grpc
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from apikit.auth import READERS, WRITERS, Principal, TokenRegistry
from apikit.rpc import guarded, known_enum, read_timestamp, to_timestamp
from contracts.domain import InvalidCommandError, required_text
from firewatch.postmortem.v1 import postmortem_pb2 as pb
from firewatch.postmortem.v1 import postmortem_pb2_grpc as pb_grpc
from postmortem_service import action as ac
from postmortem_service import postmortem as pm
from postmortem_service import views
from postmortem_service.app import PostmortemApplication
from postmortem_service.web import LiveMetrics

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["PostmortemService"].full_name

_STATUS = {
    pm.Status.DRAFT: pb.POSTMORTEM_STATUS_DRAFT,
    pm.Status.IN_REVIEW: pb.POSTMORTEM_STATUS_IN_REVIEW,
    pm.Status.PUBLISHED: pb.POSTMORTEM_STATUS_PUBLISHED,
}
_STATUS_FROM = {v: k.value for k, v in _STATUS.items()}
_KIND = {k: pb.ActionItemKind.Value(f"ACTION_ITEM_KIND_{k.name}") for k in ac.Kind}
_KIND_FROM = {v: k.value for k, v in _KIND.items()}
_ITEM_STATUS: dict[ac.ItemStatus, pb.ActionItemStatus] = {
    s: pb.ActionItemStatus.Value(f"ACTION_ITEM_STATUS_{s.name}")
    for s in ac.ItemStatus
    if s is not ac.ItemStatus.NONE
}
_ITEM_STATUS_FROM = {v: k.value for k, v in _ITEM_STATUS.items()}
_PRIORITY = {p: pb.Priority.Value(f"PRIORITY_{p.name}") for p in ac.Priority}
_PRIORITY_FROM = {v: k.value for k, v in _PRIORITY.items()}


class PostmortemApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIREWATCH_", env_file=".env", extra="ignore")

    store_url: str = "sqlite:///var/firewatch/eventlog.db"
    tokens_file: str = "var/firewatch/tokens.json"
    postmortem_api_host: str = "127.0.0.1"
    postmortem_api_port: int = Field(default=50054, ge=0, le=65535)
    postmortem_api_tls_cert: str | None = None
    postmortem_api_tls_key: str | None = None


class PostmortemServicer(pb_grpc.PostmortemServiceServicer):
    def __init__(self, app: PostmortemApplication, tokens: TokenRegistry) -> None:
        self.app = app
        self.tokens = tokens
        self.metrics = LiveMetrics(app)

    def _incident(self, reference: str) -> uuid.UUID:
        return self.app.resolve_reference(reference)

    def _postmortem(self, incident_id: uuid.UUID) -> pb.Postmortem:
        return postmortem_message(views.build_view(self.app, incident_id))

    @guarded(WRITERS)
    def OpenPostmortem(  # noqa: N802 - gRPC method names
        self, request: pb.OpenPostmortemRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.OpenPostmortemResponse:
        incident_id = self._incident(request.incident)
        self.app.open_postmortem(incident_id, by=who.name)
        return pb.OpenPostmortemResponse(postmortem=self._postmortem(incident_id))

    @guarded(READERS)
    def GetPostmortem(  # noqa: N802 - gRPC method names
        self, request: pb.GetPostmortemRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetPostmortemResponse:
        return pb.GetPostmortemResponse(
            postmortem=self._postmortem(self._incident(request.incident))
        )

    @guarded(READERS)
    def ListPostmortems(  # noqa: N802 - gRPC method names
        self, request: pb.ListPostmortemsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListPostmortemsResponse:
        status = _STATUS_FROM.get(request.status) if request.status else None
        found = self.app.list_postmortems(
            owner=request.owner or None, team=request.team or None, status=status
        )
        return pb.ListPostmortemsResponse(postmortems=[summary_message(p) for p in found])

    def _change(self, reference: str, run: Callable[[uuid.UUID], object]) -> pb.Postmortem:
        incident_id = self._incident(reference)
        run(incident_id)
        return self._postmortem(incident_id)

    @guarded(WRITERS)
    def EditSection(  # noqa: N802 - gRPC method names
        self, request: pb.EditSectionRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.EditSectionResponse:
        return pb.EditSectionResponse(
            postmortem=self._change(
                request.incident,
                lambda i: self.app.edit_section(i, request.section, request.text, by=who.name),
            )
        )

    @guarded(WRITERS)
    def RecordRootCause(  # noqa: N802 - gRPC method names
        self, request: pb.RecordRootCauseRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RecordRootCauseResponse:
        return pb.RecordRootCauseResponse(
            postmortem=self._change(
                request.incident, lambda i: self.app.record_root_cause(i, request.text, by=who.name)
            )
        )

    @guarded(WRITERS)
    def SetImpactStart(  # noqa: N802 - gRPC method names
        self, request: pb.SetImpactStartRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SetImpactStartResponse:
        at = read_timestamp(request.impact_started_at, "impact_started_at")
        return pb.SetImpactStartResponse(
            postmortem=self._change(
                request.incident, lambda i: self.app.set_impact_start(i, at, by=who.name)
            )
        )

    @guarded(WRITERS)
    def AddTimelineEntry(  # noqa: N802 - gRPC method names
        self, request: pb.AddTimelineEntryRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddTimelineEntryResponse:
        at = read_timestamp(request.occurred_at, "occurred_at")
        return pb.AddTimelineEntryResponse(
            postmortem=self._change(
                request.incident,
                lambda i: self.app.add_timeline_entry(i, at, request.text, by=who.name),
            )
        )

    @guarded(WRITERS)
    def AnnotateTimelineEntry(  # noqa: N802 - gRPC method names
        self,
        request: pb.AnnotateTimelineEntryRequest,
        context: grpc.ServicerContext,
        who: Principal,
    ) -> pb.AnnotateTimelineEntryResponse:
        return pb.AnnotateTimelineEntryResponse(
            postmortem=self._change(
                request.incident,
                lambda i: self.app.annotate(i, request.entry_id, request.text, by=who.name),
            )
        )

    @guarded(WRITERS)
    def AssignOwner(  # noqa: N802 - gRPC method names
        self, request: pb.AssignOwnerRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AssignOwnerResponse:
        return pb.AssignOwnerResponse(
            postmortem=self._change(
                request.incident, lambda i: self.app.assign_owner(i, request.owner, by=who.name)
            )
        )

    @guarded(WRITERS)
    def RequestReview(  # noqa: N802 - gRPC method names
        self, request: pb.RequestReviewRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RequestReviewResponse:
        return pb.RequestReviewResponse(
            postmortem=self._change(
                request.incident,
                lambda i: self.app.request_review(i, list(request.reviewers), by=who.name),
            )
        )

    @guarded(WRITERS)
    def SignOff(  # noqa: N802 - gRPC method names
        self, request: pb.SignOffRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SignOffResponse:
        return pb.SignOffResponse(
            postmortem=self._change(
                request.incident, lambda i: self.app.sign_off(i, reviewer=who.name)
            )
        )

    @guarded(WRITERS)
    def Publish(  # noqa: N802 - gRPC method names
        self, request: pb.PublishRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PublishResponse:
        return pb.PublishResponse(
            postmortem=self._change(
                request.incident,
                lambda i: self.app.publish(
                    i, by=who.name, override_reason=request.override_reason or None
                ),
            )
        )

    @guarded(WRITERS)
    def Amend(  # noqa: N802 - gRPC method names
        self, request: pb.AmendRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AmendResponse:
        return pb.AmendResponse(
            postmortem=self._change(
                request.incident,
                lambda i: self.app.amend(
                    i, request.section, request.text, reason=request.reason, by=who.name
                ),
            )
        )

    @guarded(READERS)
    def RenderPostmortem(  # noqa: N802 - gRPC method names
        self, request: pb.RenderPostmortemRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RenderPostmortemResponse:
        view = views.build_view(self.app, self._incident(request.incident))
        if request.format == pb.RENDER_FORMAT_HTML:
            return pb.RenderPostmortemResponse(
                content_type="text/html; charset=utf-8", content=views.html(view)
            )
        return pb.RenderPostmortemResponse(
            content_type="text/markdown; charset=utf-8", content=views.markdown(view)
        )

    @guarded(WRITERS)
    def AddActionItem(  # noqa: N802 - gRPC method names
        self, request: pb.AddActionItemRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddActionItemResponse:
        result = self.app.add_action_item(
            self._incident(request.incident),
            kind=known_enum(request.kind, _KIND_FROM, "kind", "an action item kind"),
            title=request.title,
            owner=request.owner,
            due_on=required_text(request.due_on, "due_date"),
            priority=_PRIORITY_FROM.get(request.priority, "medium"),
            tracker_url=request.tracker_url or None,
            by=who.name,
            key=request.idempotency_key or None,
        )
        return pb.AddActionItemResponse(action_item=item_message(result.state, self.app.clock()))

    @guarded(WRITERS)
    def UpdateActionItem(  # noqa: N802 - gRPC method names
        self, request: pb.UpdateActionItemRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.UpdateActionItemResponse:
        try:
            action_id = uuid.UUID(request.action_id)
        except ValueError:
            raise InvalidCommandError("action_id", "is not an action item id (uuid)") from None
        fields: dict[str, object] = {
            "reason": request.reason,
            "owner": request.owner,
            "due_on": request.due_on,
            "title": request.title,
            "priority": _PRIORITY_FROM.get(request.priority),
            "tracker_url": request.tracker_url or None,
        }
        result = self.app.change_action_item(action_id, request.change, by=who.name, **fields)
        state = result.state if result.state.exists else self.app.get_action_item(action_id)
        return pb.UpdateActionItemResponse(action_item=item_message(state, self.app.clock()))

    @guarded(READERS)
    def ListActionItems(  # noqa: N802 - gRPC method names
        self, request: pb.ListActionItemsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListActionItemsResponse:
        items = self.app.list_action_items(
            incident_id=self._incident(request.incident) if request.incident else None,
            owner=request.owner or None,
            team=request.team or None,
            status=_ITEM_STATUS_FROM.get(request.status) if request.status else None,
            overdue=True if request.overdue_only else None,
        )
        now = self.app.clock()
        return pb.ListActionItemsResponse(action_items=[item_message(i, now) for i in items])

    @guarded(READERS)
    def GetMetrics(  # noqa: N802 - gRPC method names
        self, request: pb.GetMetricsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetMetricsResponse:
        report = self.metrics.report()
        return pb.GetMetricsResponse(
            definition=report.definition,
            computed_at=to_timestamp(report.computed_at),
            events_read=report.events_read,
            incidents=report.incidents,
            summaries=[
                pb.MetricSummary(
                    metric=s.metric,
                    count=s.count,
                    mean_seconds=s.mean_seconds,
                    median_seconds=s.median_seconds,
                    p90_seconds=s.p90_seconds,
                    definition=s.definition,
                )
                for s in report.summaries.values()
            ],
            never_acknowledged=report.never_acknowledged,
            unresolved=report.unresolved,
            reopened=report.reopened,
            by_severity=report.by_severity,
            by_service=report.by_service,
            by_month=report.by_month,
            mttr_seconds_by_month=report.mttr_by_month,
            action_items=report.action_items,
            action_items_done=report.action_items_done,
            action_items_wont_do=report.action_items_wont_do,
            action_items_overdue=report.action_items_overdue,
            completion_rate=report.completion_rate,
            overdue_rate=report.overdue_rate,
        )


def _seconds(value: object) -> float | None:
    return value.total_seconds() if hasattr(value, "total_seconds") else None


def item_message(item: ac.ActionItem, now: object) -> pb.ActionItem:
    return pb.ActionItem(
        action_id=str(item.action_id),
        incident_id=str(item.incident_id),
        kind=_KIND[item.kind],
        title=item.title,
        owner=item.owner,
        due_on=item.due_on.isoformat() if isinstance(item.due_on, date) else "",
        priority=_PRIORITY[item.priority],
        status=_ITEM_STATUS.get(item.status) or pb.ACTION_ITEM_STATUS_UNSPECIFIED,
        tracker_url=item.tracker_url or "",
        declined_reason=item.declined_reason or "",
        overdue=item.overdue(now),  # type: ignore[arg-type]
    )


def summary_message(state: pm.Postmortem) -> pb.Postmortem:
    return pb.Postmortem(
        incident_id=str(state.incident_id),
        reference=views.reference(state),
        title=state.title,
        severity=state.severity.value,
        services=list(state.services),
        status=_STATUS.get(state.status, pb.POSTMORTEM_STATUS_UNSPECIFIED),
        required=state.required,
        owner=state.owner,
        due_on=state.due_on.isoformat() if state.due_on else "",
        root_cause=state.root_cause or "",
        published_at=to_timestamp(state.published_at),
        published_by=state.published_by or "",
        root_cause_follow_up_open=state.follow_up_required,
        resolutions=state.resolutions,
    )


def postmortem_message(view: views.View) -> pb.Postmortem:
    state = view.state
    message = summary_message(state)
    message.sections.update(dict(state.sections))
    d = view.durations
    message.durations.CopyFrom(
        pb.Durations(
            impact_started_at=to_timestamp(d.impact_started_at),
            impact_start_source=d.impact_start_source,
            time_to_detect_seconds=_seconds(d.time_to_detect),
            time_to_acknowledge_seconds=_seconds(d.time_to_acknowledge),
            time_to_mitigate_seconds=_seconds(d.time_to_mitigate),
            time_to_resolve_seconds=_seconds(d.time_to_resolve),
        )
    )
    message.timeline.extend(
        pb.TimelineEntry(
            entry_id=line.entry_id,
            at=to_timestamp(line.at),
            source=line.source,
            text=line.text,
            generated=line.generated,
            added_by=line.added_by,
            annotations=[
                pb.Annotation(text=n.text, by=n.by, at=to_timestamp(n.at)) for n in line.notes
            ],
        )
        for line in view.timeline
    )
    message.responders.extend(view.responders)
    message.components.extend(view.components)
    message.reviewers.extend(state.reviewers)
    message.signed_off.extend(sorted(state.signed_off))
    message.open_warnings.extend(
        pb.BlamelessWarning(
            section=w.section, code=w.code, phrase=w.phrase, suggestion=w.suggestion
        )
        for w in view.warnings
    )
    message.overridden_warnings.extend(
        pb.BlamelessWarning(
            section=w.section, code=w.code, phrase=w.phrase, suggestion=w.suggestion
        )
        for w in state.overridden
    )
    message.override_reason = state.override_reason or ""
    message.amendments.extend(
        pb.Amendment(
            section=a.section, text=a.text, reason=a.reason, by=a.by, at=to_timestamp(a.at)
        )
        for a in state.amendments
    )
    message.action_items.extend(item_message(i, view.now) for i in view.items)
    return message


def serve(settings: PostmortemApiSettings | None = None) -> None:
    """Run the API process until SIGTERM/SIGINT."""
    import signal
    import threading
    from pathlib import Path

    from apikit.rpc import TlsFiles, start_server
    from eventlog import open_store
    from eventlog.clock import system_clock
    from postmortem_service.settings import PostmortemSettings

    settings = settings or PostmortemApiSettings()
    store = open_store(settings.store_url, writer="postmortem")
    # The service's own settings (opening policy, due business days, reminders): the
    # same application the worker runs, so `incidentctl postmortem open` and owner
    # reassignments compute the configured due date.
    app = PostmortemSettings(store_url=settings.store_url).application(store, system_clock)
    servicer = PostmortemServicer(app, TokenRegistry(Path(settings.tokens_file)))
    tls = (
        TlsFiles(Path(settings.postmortem_api_tls_cert), Path(settings.postmortem_api_tls_key))
        if settings.postmortem_api_tls_cert and settings.postmortem_api_tls_key
        else None
    )
    running = start_server(
        host=settings.postmortem_api_host,
        port=settings.postmortem_api_port,
        register=[
            lambda server: pb_grpc.add_PostmortemServiceServicer_to_server(  # type: ignore[no-untyped-call]
                servicer, server
            )
        ],
        service_names=[SERVICE_NAME],
        tls=tls,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(
        f"postmortem api listening on {settings.postmortem_api_host}:{running.port} "
        f"({'TLS' if tls else 'plaintext'}), log {settings.store_url}",
        flush=True,
    )
    stopping.wait()
    running.stop()
    store.close()


def main() -> None:
    from servicekit.process import start as start_process

    start_process("postmortem-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
