"""The audit service's public gRPC API (firewatch.audit.v1.AuditService).

A thin adapter: each method authenticates (only `admin` and `auditor` may call it),
records the access in the log (who read what, when) before answering, converts the
request into an application call and the result into protobuf. This process is plain
threads, never eventlet.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import grpc

from apikit.auth import Principal, Role, TokenRegistry
from apikit.rpc import guarded, optional_timestamp, read_timestamp, set_timestamp, to_log_event
from apikit.tokens import Listed
from audit_service import seals
from audit_service.app import AuditApplication
from audit_service.explain import Step
from audit_service.keys import canonical
from audit_service.oncall import who_was_on_call
from audit_service.replay import AsOf, as_json
from contracts.domain import InvalidCommandError
from eventlog import Finding, Tampering, VerificationReport
from firewatch.audit.v1 import audit_pb2 as pb
from firewatch.audit.v1 import audit_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AuditService"].full_name

AUDITORS = frozenset({Role.ADMIN, Role.AUDITOR})
"""Who may use the audit API: it reads every stream, internal notes included."""


def _as_of(message: pb.AsOf, field: str) -> AsOf:
    if message.position < 0:
        raise InvalidCommandError(f"{field}.position", "must be a log position >= 1")
    time = read_timestamp(message.time, f"{field}.time") if message.HasField("time") else None
    return AsOf(message.position or None, time)


def finding_kind(finding: Finding) -> str:
    """The chain's kinds, with "deleted at the end of a stream" called what an auditor
    calls it: truncated."""
    if finding.kind is Tampering.DELETED and "at the end of the stream" in finding.detail:
        return "truncated"
    return finding.kind.value


class AuditServicer(pb_grpc.AuditServiceServicer):
    def __init__(self, app: AuditApplication, tokens: TokenRegistry) -> None:
        self.app = app
        self.tokens = tokens

    def _record(self, who: Principal, method: str, target: str) -> None:
        self.app.record_access(who.name, method, target, credential=who.credential)

    @guarded(AUDITORS)
    def VerifyLog(  # noqa: N802 - gRPC method names
        self, request: pb.VerifyLogRequest, context: grpc.ServicerContext, who: Principal
    ) -> Iterator[pb.VerifyLogResponse]:
        records: list[dict[str, Any]] = []
        if request.seals_jsonl:
            lines = request.seals_jsonl.decode("utf-8", errors="replace").splitlines()
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(dict(json.loads(line)))
                except ValueError:
                    raise InvalidCommandError(
                        "seals_jsonl", f"line {number} is not a JSON seal record"
                    ) from None
        self._record(who, "VerifyLog", "*")
        updates: queue.Queue[tuple[int, int] | VerificationReport | BaseException] = queue.Queue()

        def run() -> None:
            try:
                updates.put(self.app.verify(lambda done, total: updates.put((done, total))))
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
                updates.put(error)

        threading.Thread(target=run, name="audit-verify", daemon=True).start()
        while True:
            item = updates.get()
            if isinstance(item, tuple):
                yield pb.VerifyLogResponse(
                    progress=pb.VerifyProgress(streams_done=item[0], streams_total=item[1])
                )
                continue
            if isinstance(item, BaseException):
                raise item
            break
        report = pb.VerifyReport(
            streams_checked=item.streams_checked,
            events_checked=item.events_checked,
            head_position=self.app.store.head_position(),
            findings=[
                pb.Finding(
                    kind=finding_kind(f),
                    stream=f.stream,
                    version=f.version,
                    event_id=f.event_id or "",
                    detail=f.detail,
                )
                for f in item.findings
            ],
        )
        if records:
            check = self.app.check_seals(records, list(request.trusted_key_ids))
            report.seals_checked = check.seals_checked
            report.findings.extend(
                pb.Finding(kind=f.kind, stream=f.stream or "", version=-1, detail=f.detail)
                for f in check.findings
            )
        report.ok = not report.findings
        yield pb.VerifyLogResponse(report=report)

    @guarded(AUDITORS)
    def SealLog(  # noqa: N802
        self, request: pb.SealLogRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SealLogResponse:
        self._record(who, "SealLog", seals.SEAL_STREAM)
        record = self.app.seal()
        return pb.SealLogResponse(
            record_json=canonical(record).decode("utf-8"), position=int(record["position"])
        )

    @guarded(AUDITORS)
    def Replay(  # noqa: N802
        self, request: pb.ReplayRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ReplayResponse:
        as_of = _as_of(request.as_of, "as_of")
        self._record(who, "Replay", request.target)
        result = self.app.replay(request.target, as_of)
        return pb.ReplayResponse(
            stream=result.stream,
            kind=result.kind,
            state_json=as_json(result.state),
            version=result.version,
            position=result.position,
            events=[to_log_event(e) for e in result.events],
            renderer=result.renderer,
        )

    @guarded(AUDITORS)
    def DiffStream(  # noqa: N802
        self, request: pb.DiffStreamRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.DiffStreamResponse:
        start = _as_of(getattr(request, "from"), "from")
        end = _as_of(request.to, "to")
        if start.is_now:
            raise InvalidCommandError("from", "is required: a time or a log position")
        self._record(who, "DiffStream", request.stream)
        result = self.app.diff(request.stream, start, end)
        return pb.DiffStreamResponse(
            stream=result.stream,
            events=[to_log_event(e) for e in result.events],
            changes=[
                pb.FieldChange(field=name, before_json=as_json(old), after_json=as_json(new))
                for name, old, new in result.changes
            ],
        )

    @guarded(AUDITORS)
    def GetIncidentTimeline(  # noqa: N802
        self,
        request: pb.GetIncidentTimelineRequest,
        context: grpc.ServicerContext,
        who: Principal,
    ) -> pb.GetIncidentTimelineResponse:
        as_of = _as_of(request.as_of, "as_of")
        self._record(who, "GetIncidentTimeline", request.incident)
        incident_id, events = self.app.timeline(request.incident, as_of)
        return pb.GetIncidentTimelineResponse(
            incident_id=str(incident_id),
            reference=request.incident,
            events=[to_log_event(e) for e in events],
        )

    @guarded(AUDITORS)
    def ExportBundle(  # noqa: N802
        self, request: pb.ExportBundleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ExportBundleResponse:
        self._record(who, "ExportBundle", request.incident)
        reference, document = self.app.export(request.incident)
        return pb.ExportBundleResponse(
            bundle=canonical(document), file_name=f"{reference}.bundle.json"
        )

    @guarded(AUDITORS)
    def WhoWasOnCall(  # noqa: N802
        self, request: pb.WhoWasOnCallRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.WhoWasOnCallResponse:
        if not request.HasField("at"):
            raise InvalidCommandError("at", "is required: the instant to answer for")
        at = read_timestamp(request.at, "at")
        self._record(who, "WhoWasOnCall", f"{request.target} at {at.isoformat()}")
        answer = who_was_on_call(self.app.store, request.target, at)
        return pb.WhoWasOnCallResponse(
            policy_id=answer.policy_id,
            policy_revision=answer.policy_revision,
            rows=[
                pb.OnCallRow(level=r.level, target=r.target, user_id=r.user_id, via=r.via)
                for r in answer.rows
            ],
        )

    @guarded(AUDITORS)
    def Backtest(  # noqa: N802
        self, request: pb.BacktestRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.BacktestResponse:
        for field in ("from", "to"):
            if not request.HasField(field):
                raise InvalidCommandError(field, "is required: an instant")
        start = read_timestamp(getattr(request, "from"), "from")
        end = read_timestamp(request.to, "to")
        self._record(who, "Backtest", f"{start.isoformat()}..{end.isoformat()}")
        result = self.app.backtest(start, end, request.proposal)
        return pb.BacktestResponse(report_json=json.dumps(result, sort_keys=True))

    @guarded(AUDITORS)
    def ExplainPage(  # noqa: N802
        self, request: pb.ExplainPageRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ExplainPageResponse:
        self._record(who, "ExplainPage", request.page)
        return pb.ExplainPageResponse(steps=_steps(self.app.why_paged(request.page)))

    @guarded(AUDITORS)
    def ExplainNotPaged(  # noqa: N802
        self, request: pb.ExplainNotPagedRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ExplainNotPagedResponse:
        self._record(who, "ExplainNotPaged", f"{request.user} {request.incident}")
        verdict, steps = self.app.why_not(request.user, request.incident)
        return pb.ExplainNotPagedResponse(verdict=verdict, steps=_steps(steps))

    @guarded(AUDITORS)
    def ListCredentials(  # noqa: N802
        self, request: pb.ListCredentialsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListCredentialsResponse:
        instant = self.app.instant(optional_timestamp(request, "as_of"))
        scope = "writers" if request.writers_only else "all"
        self._record(who, "ListCredentials", f"credential-* ({scope}) at {instant.isoformat()}")
        rows = self.app.credentials(instant, writers_only=request.writers_only)
        response = pb.ListCredentialsResponse(credentials=[_credential(r) for r in rows])
        set_timestamp(response, "as_of", instant)
        return response


def _credential(row: Listed) -> pb.CredentialRow:
    message = pb.CredentialRow(
        name=row.name,
        role=row.role,
        status=row.status,
        fingerprint=row.fingerprint,
        user=row.user or "",
        services=list(row.services),
        integrations=list(row.integrations),
        writes_through=list(row.writes_through),
        could_write=row.could_write,
    )
    set_timestamp(message, "issued_at", row.issued_at)
    set_timestamp(message, "expires_at", row.expires_at)
    set_timestamp(message, "revoked_at", row.revoked_at)
    return message


def _steps(steps: list[Step]) -> list[pb.Step]:
    return [
        pb.Step(
            what=s.what,
            detail=s.detail,
            event=to_log_event(s.event) if s.event is not None else None,
        )
        for s in steps
    ]
