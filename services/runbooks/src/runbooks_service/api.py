"""The runbooks service's public gRPC API (firewatch.runbooks.v1.RunbookService).

A thin adapter: each method authenticates (apikit.rpc.guarded: reads need admin,
responder or auditor; changes admin or responder), converts the request into a
RunbooksApplication call and the result into protobuf. The caller's token name is
recorded as who made the change. Errors map to status codes through apikit's one
table (ADR 0007). Plain threads, never eventlet.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import grpc
import yaml  # type: ignore[import-untyped]

from apikit.auth import READERS, WRITERS, Principal, TokenRegistry
from apikit.rpc import (
    guarded,
    serve_until_signalled,
    start_server,
    tls_files,
    to_timestamp,
)
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from firewatch.runbooks.v1 import runbooks_pb2 as pb
from firewatch.runbooks.v1 import runbooks_pb2_grpc as pb_grpc
from runbooks_service import definition
from runbooks_service import run as rn
from runbooks_service import runbook as rb
from runbooks_service.app import IncidentView, RunbooksApplication
from runbooks_service.settings import RunbooksSettings

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RunbookService"].full_name
MAX_DOCUMENT = 256 * 1024


def parse_document(text: str) -> Any:
    if len(text) > MAX_DOCUMENT:
        raise InvalidCommandError("document", f"at most {MAX_DOCUMENT} bytes")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidCommandError("document", f"is not YAML or JSON: {error}") from None


def step_message(step: definition.Step) -> pb.Step:
    floor = step.guards.severity_floor
    return pb.Step(
        id=step.id, title=step.title, kind=step.kind, text=step.text,
        automatic=step.automatic, idempotent=step.idempotent,
        needs_approval=step.guards.needs_approval, dry_run=step.guards.dry_run,
        severity_floor=floor.value if floor else "",
    )  # fmt: skip


def runbook_message(state: rb.Runbook, revision: int = 0) -> pb.Runbook:
    found = state.at(revision) if revision else state.current
    if found is None:
        raise NotFoundError(f"runbook {state.runbook_id} has no revision {revision}")
    return pb.Runbook(
        id=found.id, revision=revision or state.revision, title=found.title, text=found.text,
        services=list(found.services), matchers=[str(m) for m in found.matchers],
        steps=[step_message(s) for s in found.steps], retired=state.retired,
        document_json=json.dumps(found.document(), sort_keys=True),
    )  # fmt: skip


def run_message(run: rn.Run) -> pb.ActionRun:
    result = run.last_result or {}
    message = pb.ActionRun(
        run_id=str(run.run_id), runbook_id=run.runbook_id, step_id=run.step_id,
        target=run.target, status=run.status.value, automatic=run.automatic,
        attempts=len(run.attempts), status_code=int(result.get("status_code") or 0),
        duration_ms=int(result.get("duration_ms") or 0),
        response_excerpt=str(result.get("response_excerpt") or ""),
        error=str(result.get("error") or ""), method=str(run.request.get("method", "")),
        url=str(run.request.get("url", "")), requested_by=run.requested_by,
        approved_by=run.approved_by or "",
    )  # fmt: skip
    message.requested_at.CopyFrom(to_timestamp(run.requested_at))
    return message


def incident_message(view: IncidentView) -> pb.GetIncidentRunbooksResponse:
    attached = []
    for runbook in view.record.runbooks:
        found = view.definitions.get(runbook.runbook_id)
        steps = []
        for step in found.steps if found else ():
            state = view.record.steps.get((runbook.runbook_id, step.id))
            message = pb.StepState(step_id=step.id, title=step.title, kind=step.kind)
            if state is not None:
                message.status, message.note, message.by = state.status.value, state.note, state.by
                if state.at is not None:
                    message.at.CopyFrom(to_timestamp(state.at))
            else:
                message.status = "pending"
            steps.append(message)
        attached.append(
            pb.AttachedRunbook(
                id=runbook.runbook_id, revision=runbook.revision, title=runbook.title,
                specificity=runbook.specificity, text=found.text if found else "", steps=steps,
            )
        )  # fmt: skip
    runs = [run_message(r) for r in view.runs]
    for refusal in view.refusals:
        runs.append(
            pb.ActionRun(
                run_id=str(refusal.get("run_id", "")), runbook_id=str(refusal.get("runbook_id")),
                step_id=str(refusal.get("step_id")), target=str(refusal.get("target")),
                status="refused", automatic=bool(refusal.get("automatic")),
                error=str(refusal.get("reason", "")),
            )
        )  # fmt: skip
    return pb.GetIncidentRunbooksResponse(
        incident_id=str(view.incident.incident_id), reference=view.incident.reference,
        runbooks=attached, external_links=list(view.record.external_links), runs=runs,
    )  # fmt: skip


def _run_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise InvalidCommandError("run_id", "must be a run's uuid") from None


class RunbookServicer(pb_grpc.RunbookServiceServicer):
    def __init__(self, app: RunbooksApplication, tokens: TokenRegistry) -> None:
        self.app = app
        self.tokens = tokens

    @guarded(WRITERS)
    def PublishRunbook(  # noqa: N802 - gRPC method names
        self, request: pb.PublishRunbookRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PublishRunbookResponse:
        result = self.app.publish(parse_document(request.document), by=who.name)
        return pb.PublishRunbookResponse(
            runbook=runbook_message(result.state), new_revision=result.appended
        )

    @guarded(READERS)
    def GetRunbook(  # noqa: N802 - gRPC method names
        self, request: pb.GetRunbookRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetRunbookResponse:
        return pb.GetRunbookResponse(
            runbook=runbook_message(self.app.runbook(request.id), request.revision)
        )

    @guarded(READERS)
    def ListRunbooks(  # noqa: N802 - gRPC method names
        self, request: pb.ListRunbooksRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListRunbooksResponse:
        return pb.ListRunbooksResponse(
            runbooks=[runbook_message(r) for r in self.app.list_runbooks()]
        )

    @guarded(WRITERS)
    def RetireRunbook(  # noqa: N802 - gRPC method names
        self, request: pb.RetireRunbookRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RetireRunbookResponse:
        result = self.app.retire(request.id, request.reason or "retired", by=who.name)
        return pb.RetireRunbookResponse(runbook=runbook_message(result.state))

    @guarded(READERS)
    def GetIncidentRunbooks(  # noqa: N802 - gRPC method names
        self, request: pb.GetIncidentRunbooksRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetIncidentRunbooksResponse:
        return incident_message(self.app.view(request.incident))

    @guarded(WRITERS)
    def AttachRunbook(  # noqa: N802 - gRPC method names
        self, request: pb.AttachRunbookRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AttachRunbookResponse:
        self.app.attach(request.incident, request.runbook_id, by=who.name)
        return pb.AttachRunbookResponse(incident=incident_message(self.app.view(request.incident)))

    @guarded(WRITERS)
    def MarkStep(  # noqa: N802 - gRPC method names
        self, request: pb.MarkStepRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.MarkStepResponse:
        self.app.mark_step(
            request.incident, request.runbook_id, request.step_id, request.status,
            note=request.note, mitigation=request.mitigation or None,
            temporary=request.temporary, by=who.name,
            idempotency_key=request.idempotency_key or None,
        )  # fmt: skip
        return pb.MarkStepResponse(incident=incident_message(self.app.view(request.incident)))

    @guarded(WRITERS)
    def StartAction(  # noqa: N802 - gRPC method names
        self, request: pb.StartActionRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.StartActionResponse:
        result = self.app.start_action(
            request.incident, request.runbook_id, request.step_id, by=who.name,
            idempotency_key=request.idempotency_key or None,
        )  # fmt: skip
        view = self.app.view(request.incident)
        for event in result.events:
            if isinstance(event, rn.ActionRunRefused):
                raise PreconditionFailedError(f"step: refused by a guard rail: {event.reason}")
        runs = {str(r.run_id): r for r in view.runs}
        run_ids = [str(e.run_id) for e in result.events if isinstance(e, rn.ActionRunRequested)]
        found = runs.get(run_ids[0]) if run_ids else (view.runs[-1] if view.runs else None)
        return pb.StartActionResponse(run=run_message(found) if found else None)

    @guarded(WRITERS)
    def ApproveAction(  # noqa: N802 - gRPC method names
        self, request: pb.ApproveActionRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ApproveActionResponse:
        run = self.app.approve(request.incident, _run_id(request.run_id), by=who.name)
        return pb.ApproveActionResponse(run=run_message(run))


def serve(settings: RunbooksSettings | None = None) -> None:
    """Run the API process until SIGTERM/SIGINT."""
    from eventlog import open_store
    from eventlog.clock import system_clock

    settings = settings or RunbooksSettings()
    store = open_store(settings.store_url, writer="runbooks")
    servicer = RunbookServicer(
        RunbooksApplication(store, system_clock, sender="runbooks-api"),
        TokenRegistry(Path(settings.tokens_file)),
    )
    cert, key = settings.runbooks_api_tls_cert, settings.runbooks_api_tls_key
    tls = tls_files(Path(cert) if cert else None, Path(key) if key else None)
    running = start_server(
        host=settings.runbooks_api_host,
        port=settings.runbooks_api_port,
        register=[
            lambda server: pb_grpc.add_RunbookServiceServicer_to_server(  # type: ignore[no-untyped-call]
                servicer, server
            )
        ],
        service_names=[SERVICE_NAME],
        tls=tls,
    )
    serve_until_signalled(
        running,
        f"runbooks api listening on {settings.runbooks_api_host}:{running.port} "
        f"({'TLS' if tls else 'plaintext'}), log {settings.store_url}",
    )


def main() -> None:
    from servicekit.process import start as start_process

    start_process("runbooks-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
