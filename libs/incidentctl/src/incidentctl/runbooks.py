"""`incidentctl runbook ...` (firewatch.runbooks.v1.RunbookService).

Owns this command group, the RunbookService client and its address option
(`--runbooks-server`, FIREWATCH_RUNBOOKS_SERVER, default 127.0.0.1:50057). Token, TLS,
timeout and retries are the global options of `incidentctl`.

Retries (UNAVAILABLE, ABORTED) are safe: publishing the same document twice records
one revision, marking a step as it already is records nothing, and `step` and `run`
send an idempotency key chosen once per invocation.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from rich import box
from rich.table import Table

from firewatch.runbooks.v1 import runbooks_pb2 as pb
from firewatch.runbooks.v1 import runbooks_pb2_grpc as pb_grpc
from incidentctl import render
from incidentctl.client import ApiClient, Settings, open_channel
from incidentctl.errors import CliError, ExitCode
from incidentctl.oncall import fail, settings_of

DEFAULT_RUNBOOKS_SERVER = "127.0.0.1:50057"

runbook_app = typer.Typer(
    help="Runbooks: versioned procedures on incidents, step tracking, automated actions.",
    no_args_is_help=True,
)


class RunbooksClient(ApiClient):
    API_NAME = "runbooks API"
    ADDRESS_OPTION = "--runbooks-server or FIREWATCH_RUNBOOKS_SERVER"

    def call(self, method: str, request: Message) -> Any:
        response_type = getattr(pb, f"{method}Response")
        return self._unary(method, request, response_type)


@contextmanager
def session(ctx: typer.Context, server: str) -> Iterator[RunbooksClient]:
    settings: Settings = dataclasses.replace(settings_of(ctx), server=server)
    try:
        token = settings.resolved_token()
        channel = open_channel(settings)
        try:
            stub = pb_grpc.RunbookServiceStub(channel)  # type: ignore[no-untyped-call]
            yield RunbooksClient(stub, settings, token=token)
        finally:
            channel.close()
    except CliError as error:
        fail(error)


Server = Annotated[
    str,
    typer.Option(
        "--runbooks-server", envvar="FIREWATCH_RUNBOOKS_SERVER", help="runbooks API address"
    ),
]
Incident = Annotated[str, typer.Argument(help="INC-42 or the incident's uuid", show_default=False)]
RunbookId = Annotated[str, typer.Argument(help="the runbook's id", show_default=False)]
StepId = Annotated[str, typer.Argument(help="the step's id", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def _json(message: Message) -> None:
    typer.echo(render.dumps(MessageToDict(message, preserving_proto_field_name=True)))


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _is_incident(text: str) -> bool:
    if text.upper().startswith("INC-"):
        return True
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _step_flags(step: pb.Step) -> str:
    flags = [step.kind]
    if step.automatic:
        flags.append("automatic")
    if step.kind != "manual":
        flags.append("idempotent" if step.idempotent else "not idempotent")
    if step.needs_approval:
        flags.append("needs IC approval")
    if step.dry_run:
        flags.append("dry run")
    if step.severity_floor:
        flags.append(f"{step.severity_floor} or worse")
    return ", ".join(flags)


def _markdown(text: str) -> None:
    # As written: Markdown reads well as plain text, and a pipe or a log keeps it intact.
    for line in text.splitlines():
        typer.echo(f"  {line}".rstrip())


def _show_runbook(runbook: pb.Runbook) -> None:
    console = render.console()
    retired = " (retired)" if runbook.retired else ""
    console.print(
        f"[bold]{runbook.id}[/bold] rev {runbook.revision}{retired}: {runbook.title}",
        markup=True, highlight=False,
    )  # fmt: skip
    attached = [*(f"service={s}" for s in runbook.services), *runbook.matchers]
    console.print(f"  attached to: {', '.join(attached)}", highlight=False)
    _markdown(runbook.text)
    for index, step in enumerate(runbook.steps, start=1):
        console.print(
            f"  {index}. {step.id}: {step.title} ({_step_flags(step)})",
            markup=False, highlight=False,
        )  # fmt: skip


_RUN_WORDS = {
    "unknown": "OUTCOME UNKNOWN, check by hand",
    "awaiting_approval": "awaiting the incident commander's approval",
}


def _show_incident(answer: pb.GetIncidentRunbooksResponse) -> None:
    console = render.console()
    if not answer.runbooks and not answer.external_links:
        console.print(f"{answer.reference}: no runbook matches this incident", highlight=False)
    for runbook in answer.runbooks:
        console.print(
            f"[bold]{answer.reference}[/bold] runbook [bold]{runbook.id}[/bold] rev "
            f"{runbook.revision}: {runbook.title}",
            markup=True, highlight=False,
        )  # fmt: skip
        _markdown(runbook.text)
        table = _table("#", "step", "kind", "status", "note", "by")
        for index, step in enumerate(runbook.steps, start=1):
            table.add_row(
                str(index), f"{step.step_id}: {step.title}", step.kind, step.status,
                step.note, step.by,
            )  # fmt: skip
        console.print(table)
    for link in answer.external_links:
        console.print(f"external runbook: {link}", highlight=False)
    if answer.runs:
        table = _table("run", "step", "target", "status", "attempts", "result")
        for run in answer.runs:
            result = (
                f"HTTP {run.status_code} in {run.duration_ms} ms" if run.status_code else run.error
            )
            table.add_row(
                run.run_id[:8], f"{run.runbook_id}/{run.step_id}", run.target,
                _RUN_WORDS.get(run.status, run.status), str(run.attempts), result,
            )  # fmt: skip
        console.print(table)


@runbook_app.command("publish")
def publish(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="the runbook, YAML or JSON", show_default=False)],
    server: Server = DEFAULT_RUNBOOKS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Submit a runbook (a new revision when it changed; validated, refused by field)."""
    try:
        document = path.read_text(encoding="utf-8")
    except OSError as error:
        fail(CliError(f"cannot read {path}: {error.strerror}", ExitCode.USAGE))
    with session(ctx, server) as client:
        answer = client.call("PublishRunbook", pb.PublishRunbookRequest(document=document))
    if as_json:
        _json(answer)
        return
    what = "published" if answer.new_revision else "unchanged"
    typer.echo(f"{answer.runbook.id} rev {answer.runbook.revision} {what}")


@runbook_app.command("list")
def list_runbooks(
    ctx: typer.Context, server: Server = DEFAULT_RUNBOOKS_SERVER, as_json: JsonOption = False
) -> None:
    """Every runbook at its current revision."""
    with session(ctx, server) as client:
        answer = client.call("ListRunbooks", pb.ListRunbooksRequest())
    if as_json:
        _json(answer)
        return
    table = _table("runbook", "rev", "title", "attached to", "steps")
    for r in answer.runbooks:
        attached = ", ".join([*(f"service={s}" for s in r.services), *r.matchers])
        title = r.title + (" (retired)" if r.retired else "")
        table.add_row(r.id, str(r.revision), title, attached, str(len(r.steps)))
    render.console().print(table)


@runbook_app.command("show")
def show(
    ctx: typer.Context,
    subject: Annotated[
        str, typer.Argument(help="INC-42 (the incident's runbooks) or a runbook id")
    ],
    revision: Annotated[int, typer.Option(help="a runbook's revision (default current)")] = 0,
    server: Server = DEFAULT_RUNBOOKS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """An incident's runbooks (the revision it uses), steps and actions; or a runbook."""
    with session(ctx, server) as client:
        if _is_incident(subject):
            answer = client.call(
                "GetIncidentRunbooks", pb.GetIncidentRunbooksRequest(incident=subject)
            )
            _json(answer) if as_json else _show_incident(answer)
            return
        found = client.call("GetRunbook", pb.GetRunbookRequest(id=subject, revision=revision))
    _json(found) if as_json else _show_runbook(found.runbook)


@runbook_app.command("steps")
def steps(
    ctx: typer.Context,
    incident: Incident,
    server: Server = DEFAULT_RUNBOOKS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """One line per step of the incident's runbooks: what is pending, started, done."""
    with session(ctx, server) as client:
        answer = client.call(
            "GetIncidentRunbooks", pb.GetIncidentRunbooksRequest(incident=incident)
        )
    if as_json:
        _json(answer)
        return
    for runbook in answer.runbooks:
        for step in runbook.steps:
            note = f" - {step.note}" if step.note else ""
            typer.echo(f"{runbook.id}/{step.step_id}  {step.status:<8} {step.title}{note}")


@runbook_app.command("step")
def step(
    ctx: typer.Context,
    incident: Incident,
    runbook: RunbookId,
    step_id: StepId,
    status: Annotated[str, typer.Argument(help="started, done or skipped")],
    note: Annotated[str, typer.Option(help="what you saw or did")] = "",
    mitigation: Annotated[
        str, typer.Option(help="with done: record this mitigation on the incident too")
    ] = "",
    temporary: Annotated[bool, typer.Option(help="the mitigation is temporary")] = False,
    server: Server = DEFAULT_RUNBOOKS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Mark a step started, done or skipped (a timeline event)."""
    request = pb.MarkStepRequest(
        incident=incident, runbook_id=runbook, step_id=step_id, status=status, note=note,
        mitigation=mitigation, temporary=temporary, idempotency_key=uuid.uuid4().hex,
    )  # fmt: skip
    with session(ctx, server) as client:
        answer = client.call("MarkStep", request)
    if as_json:
        _json(answer)
        return
    typer.echo(f"{answer.incident.reference}: {runbook}/{step_id} {status}")


@runbook_app.command("run")
def run_action(
    ctx: typer.Context,
    incident: Incident,
    runbook: RunbookId,
    step_id: StepId,
    server: Server = DEFAULT_RUNBOOKS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Start an automated step; the runbooks worker performs it (guard rails apply)."""
    request = pb.StartActionRequest(
        incident=incident, runbook_id=runbook, step_id=step_id, idempotency_key=uuid.uuid4().hex
    )
    with session(ctx, server) as client:
        answer = client.call("StartAction", request)
    if as_json:
        _json(answer)
        return
    typer.echo(f"run {answer.run.run_id}: {_RUN_WORDS.get(answer.run.status, answer.run.status)}")


@runbook_app.command("approve")
def approve(
    ctx: typer.Context,
    incident: Incident,
    run_id: Annotated[str, typer.Argument(help="the run's id (runbook show INC-N)")],
    server: Server = DEFAULT_RUNBOOKS_SERVER,
) -> None:
    """Approve an action that needs the incident commander's approval."""
    with session(ctx, server) as client:
        answer = client.call(
            "ApproveAction", pb.ApproveActionRequest(incident=incident, run_id=run_id)
        )
    typer.echo(f"run {answer.run.run_id}: approved by {answer.run.approved_by}")


@runbook_app.command("attach")
def attach(
    ctx: typer.Context,
    incident: Incident,
    runbook: RunbookId,
    server: Server = DEFAULT_RUNBOOKS_SERVER,
) -> None:
    """Attach a runbook to an incident by hand (its current revision)."""
    with session(ctx, server) as client:
        answer = client.call(
            "AttachRunbook", pb.AttachRunbookRequest(incident=incident, runbook_id=runbook)
        )
    typer.echo(f"{answer.incident.reference}: {runbook} attached")


@runbook_app.command("retire")
def retire(
    ctx: typer.Context,
    runbook: RunbookId,
    reason: Annotated[str, typer.Option(help="why")] = "retired",
    server: Server = DEFAULT_RUNBOOKS_SERVER,
) -> None:
    """Stop matching new incidents (every revision stays in the log)."""
    with session(ctx, server) as client:
        answer = client.call("RetireRunbook", pb.RetireRunbookRequest(id=runbook, reason=reason))
    typer.echo(f"{answer.runbook.id} retired")
