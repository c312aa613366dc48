"""`incidentctl audit ...`: the auditor's commands (firewatch.audit.v1.AuditService).

Owns the audit command group: verify (with a progress bar and a cron-friendly exit
code), seal, replay, diff, timeline (JSON Lines, Markdown, HTML), export and the
offline `check` of an evidence bundle (bundlecheck.py, which needs no server),
why-paged / why-not, and `credentials` (which API tokens could write at an instant).
The server address is `--audit-server` (FIREWATCH_AUDIT_SERVER, default 127.0.0.1:50056);
token, TLS and timeout are incidentctl's global options.
Exit codes: 0 all good; 1 tampering found or the server refused; 2 usage; 3 connection.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import grpc
import typer
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from firewatch.audit.v1 import audit_pb2 as pb
from firewatch.audit.v1 import audit_pb2_grpc as pb_grpc
from firewatch.eventlog.v1 import event_pb2
from incidentctl import bundlecheck
from incidentctl.client import ApiClient, Settings, open_channel
from incidentctl.errors import CliError
from incidentctl.values import AsOf, parse_as_of, parse_instant, to_timestamp

DEFAULT_AUDIT_SERVER = "127.0.0.1:50056"

audit_app = typer.Typer(
    help="Verify, seal, replay and export the log (the audit service's API; auditors).",
    no_args_is_help=True,
)


class AuditClient(ApiClient):
    API_NAME = "audit API"
    ADDRESS_OPTION = "--audit-server or FIREWATCH_AUDIT_SERVER"

    def call(self, method: str, request: Message, response_type: type[Any]) -> Any:
        return self._unary(method, request, response_type)

    def verify(self, request: pb.VerifyLogRequest) -> Iterator[pb.VerifyLogResponse]:
        try:
            # No deadline: verifying a large log takes as long as it takes.
            yield from self._stub.VerifyLog(request, metadata=self._metadata())
        except grpc.RpcError as error:
            raise self._translate(error) from None


def _console(*, stderr: bool = False) -> Console:
    # Built per command so CliRunner's replaced streams and COLUMNS are honoured.
    return Console(stderr=stderr, highlight=False, emoji=False)


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _fail(error: CliError) -> NoReturn:
    typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(int(error.exit_code))


@contextmanager
def audit_session(ctx: typer.Context, server: str) -> Iterator[AuditClient]:
    root = ctx.find_root().obj
    assert isinstance(root, Settings)
    settings = dataclasses.replace(root, server=server)
    try:
        token = settings.resolved_token()
        channel = open_channel(settings)
        try:
            stub = pb_grpc.AuditServiceStub(channel)  # type: ignore[no-untyped-call]
            yield AuditClient(stub, settings, token=token)
        finally:
            channel.close()
    except CliError as error:
        _fail(error)


def _as_of_value(text: str) -> AsOf:
    try:
        return parse_as_of(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


AuditServer = Annotated[
    str,
    typer.Option(
        "--audit-server", envvar="FIREWATCH_AUDIT_SERVER", help="audit API address, host:port"
    ),
]
AtOption = Annotated[
    AsOf | None,
    typer.Option(
        "--at",
        parser=_as_of_value,
        metavar="TIME|@POS",
        help="read as of an ISO 8601 instant (2026-11-27T02:17:00Z) or a log position (@42)",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def _as_of(value: AsOf | None) -> pb.AsOf:
    message = pb.AsOf()
    if value is not None and value.position is not None:
        message.position = value.position
    elif value is not None and value.time is not None:
        message.time.CopyFrom(to_timestamp(value.time))
    return message


def event_json(event: event_pb2.LogEvent) -> dict[str, Any]:
    out: dict[str, Any] = dict(MessageToDict(event, preserving_proto_field_name=True))
    out["data"] = json.loads(event.data_json or "{}")
    out.pop("data_json", None)
    return out


# ---------------------------------------------------------------------- verify and seal


@audit_app.command()
def verify(
    ctx: typer.Context,
    seals: Annotated[
        Path | None,
        typer.Option(
            "--seals", help="seal file kept outside the database (JSON Lines) to check too"
        ),
    ] = None,
    trusted_key: Annotated[
        list[str] | None,
        typer.Option("--trusted-key", help="key id the seal file's first key must be"),
    ] = None,
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Verify every stream's hash chain (and the seals): exit 0 if intact, 1 if not."""
    request = pb.VerifyLogRequest(trusted_key_ids=trusted_key or [])
    if seals is not None:
        try:
            request.seals_jsonl = seals.read_bytes()
        except OSError as error:
            typer.echo(f"error: cannot read --seals {seals}: {error.strerror}", err=True)
            raise typer.Exit(2) from None
    report: pb.VerifyReport | None = None
    console = _console(stderr=True)
    with (
        audit_session(ctx, server) as client,
        Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("streams  {task.fields[rate]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=json_output,
        ) as progress,
    ):
        task = progress.add_task("verify", total=None, rate="")
        try:
            for answer in client.verify(request):
                if answer.HasField("progress"):
                    elapsed = progress.tasks[0].elapsed or 0.0
                    done = answer.progress.streams_done
                    rate = f"{done / elapsed:,.0f} streams/s" if elapsed > 0 else ""
                    progress.update(
                        task, completed=done, total=answer.progress.streams_total, rate=rate
                    )
                else:
                    report = answer.report
        except CliError as error:
            _fail(error)
    assert report is not None, "the server ended the stream without a report"
    if json_output:
        typer.echo(_dumps(MessageToDict(report, preserving_proto_field_name=True)))
    else:
        for finding in report.findings:
            where = finding.stream + (f"@{finding.version}" if finding.version >= 0 else "")
            event = f" (event {finding.event_id})" if finding.event_id else ""
            typer.echo(f"{finding.kind.upper()}: {where}{event}: {finding.detail}")
        verdict = "INTACT" if report.ok else f"TAMPERED ({len(report.findings)} findings)"
        typer.echo(
            f"{verdict}: {report.streams_checked} streams, {report.events_checked} events, "
            f"{report.seals_checked} seals checked, log head at position {report.head_position}"
        )
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command()
def seal(ctx: typer.Context, server: AuditServer = DEFAULT_AUDIT_SERVER) -> None:
    """Seal the log now; prints the seal record (also appended to the seal file)."""
    with audit_session(ctx, server) as client:
        answer = client.call("SealLog", pb.SealLogRequest(), pb.SealLogResponse)
    typer.echo(answer.record_json)


# ---------------------------------------------------------------------- reading history


def _renderer_label(renderer: str) -> str:
    if renderer in ("", "generic"):
        return "generic fold (no service renders this stream: the latest value of every field)"
    if renderer.startswith("generic"):
        return f"generic fold (the latest value of every field){renderer[len('generic') :]}"
    return f"{renderer} (the owning service's live API message)"


@audit_app.command()
def replay(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="INC-N, or any stream (policy-…, page-…)")],
    at: AtOption = None,
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Show a stream as it stood at an instant or log position (now by default)."""
    with audit_session(ctx, server) as client:
        answer = client.call(
            "Replay", pb.ReplayRequest(target=target, as_of=_as_of(at)), pb.ReplayResponse
        )
    state = json.loads(answer.state_json)
    if json_output:
        typer.echo(
            _dumps(
                {
                    "stream": answer.stream,
                    "kind": answer.kind,
                    "version": answer.version,
                    "position": answer.position,
                    "renderer": answer.renderer,
                    "state": state,
                    "events": [event_json(e) for e in answer.events],
                }
            )
        )
        return
    console = _console()
    console.print(
        Text(
            f"{answer.stream} ({answer.kind}) at version {answer.version}, "
            f"log position {answer.position}"
        )
    )
    console.print(Text(f"rendered by {_renderer_label(answer.renderer)}"))
    console.print_json(json.dumps(state))
    console.print(_events_table(answer.events))


@audit_app.command()
def diff(
    ctx: typer.Context,
    stream: Annotated[str, typer.Argument(help="INC-N or a stream name")],
    start: Annotated[
        AsOf,
        typer.Option("--from", parser=_as_of_value, metavar="TIME|@POS", help="from (excluded)"),
    ],
    end: Annotated[
        AsOf | None,
        typer.Option("--to", parser=_as_of_value, metavar="TIME|@POS", help="to (default now)"),
    ] = None,
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """What changed in one stream between two points, event by event."""
    request = pb.DiffStreamRequest(stream=stream, to=_as_of(end))
    getattr(request, "from").CopyFrom(_as_of(start))
    with audit_session(ctx, server) as client:
        answer = client.call("DiffStream", request, pb.DiffStreamResponse)
    if json_output:
        typer.echo(
            _dumps(
                {
                    "stream": answer.stream,
                    "events": [event_json(e) for e in answer.events],
                    "changes": [
                        {
                            "field": c.field,
                            "before": json.loads(c.before_json),
                            "after": json.loads(c.after_json),
                        }
                        for c in answer.changes
                    ],
                }
            )
        )
        return
    console = _console()
    console.print(_events_table(answer.events))
    for change in answer.changes:
        console.print(Text(f"{change.field}: {change.before_json} -> {change.after_json}"))


def timeline_jsonl(events: Sequence[event_pb2.LogEvent]) -> str:
    return "".join(json.dumps(event_json(e), sort_keys=True) + "\n" for e in events)


def timeline_markdown(reference: str, events: Sequence[event_pb2.LogEvent]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        f"# Timeline of {reference}",
        "",
        "| position | recorded at | stream | version | type | actor | data |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in events:
        lines.append(
            f"| {e.position} | {e.recorded_at.ToJsonString()} | {cell(e.stream)} | "
            f"{e.version} | {cell(e.type)} | {cell(e.actor)} | `{cell(e.data_json)}` |"
        )
    return "\n".join(lines) + "\n"


def timeline_html(reference: str, events: Sequence[event_pb2.LogEvent]) -> str:
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(value))}</td>"
            for value in (
                e.position,
                e.recorded_at.ToJsonString(),
                e.stream,
                e.version,
                e.type,
                e.actor,
                e.data_json,
            )
        )
        + "</tr>"
        for e in events
    )
    title = html.escape(f"Timeline of {reference}")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><h1>{title}</h1>\n<table>\n<thead><tr><th>position</th>"
        "<th>recorded at</th><th>stream</th><th>version</th><th>type</th><th>actor</th>"
        f"<th>data</th></tr></thead>\n<tbody>\n{rows}\n</tbody></table></body></html>\n"
    )


@audit_app.command()
def timeline(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="INC-N or the incident's uuid")],
    output_format: Annotated[
        str, typer.Option("--format", help="jsonl, markdown or html")
    ] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write to a file")] = None,
    at: AtOption = None,
    server: AuditServer = DEFAULT_AUDIT_SERVER,
) -> None:
    """The cross-service timeline: every event correlated with the incident, in log order."""
    renderers = {"jsonl": None, "markdown": timeline_markdown, "html": timeline_html}
    if output_format not in renderers:
        raise typer.BadParameter(
            f"{output_format!r}: use jsonl, markdown or html", param_hint="--format"
        )
    with audit_session(ctx, server) as client:
        answer = client.call(
            "GetIncidentTimeline",
            pb.GetIncidentTimelineRequest(incident=incident, as_of=_as_of(at)),
            pb.GetIncidentTimelineResponse,
        )
    events = list(answer.events)
    if output_format == "jsonl":
        text = timeline_jsonl(events)
    elif output_format == "markdown":
        text = timeline_markdown(incident, events)
    else:
        text = timeline_html(incident, events)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(events)} events to {output}", err=True)


# ---------------------------------------------------------------------- evidence


@audit_app.command()
def export(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="INC-N or the incident's uuid")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="bundle file (default INC-N.bundle.json)")
    ] = None,
    server: AuditServer = DEFAULT_AUDIT_SERVER,
) -> None:
    """Write the incident's signed evidence bundle (check it with `audit check`)."""
    with audit_session(ctx, server) as client:
        answer = client.call(
            "ExportBundle", pb.ExportBundleRequest(incident=incident), pb.ExportBundleResponse
        )
    path = output or Path(answer.file_name)
    path.write_bytes(answer.bundle)
    typer.echo(f"wrote {path}")


@audit_app.command()
def check(
    bundle: Annotated[Path, typer.Argument(help="an evidence bundle file")],
    trusted_key: Annotated[
        list[str] | None,
        typer.Option("--trusted-key", help="key id the first sealing key must be"),
    ] = None,
) -> None:
    """Verify an evidence bundle offline (no server): exit 0 if intact, 1 if not."""
    args = [str(bundle)] + [f"--trusted-key={k}" for k in trusted_key or []]
    raise typer.Exit(bundlecheck.main(args))


# ---------------------------------------------------------------------- what if


def _instant(text: str, option: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


@audit_app.command()
def backtest(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", metavar="TIME", help="period start (ISO 8601)")],
    end: Annotated[str, typer.Option("--to", metavar="TIME", help="period end (ISO 8601)")],
    config: Annotated[
        Path, typer.Option("--config", help="proposed detection + paging config, YAML or JSON")
    ],
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Replay the period's alerts through a proposed config; compare with what happened."""
    request = pb.BacktestRequest(proposal=_read(config, "--config"))
    getattr(request, "from").CopyFrom(to_timestamp(_instant(start, "--from")))
    request.to.CopyFrom(to_timestamp(_instant(end, "--to")))
    with audit_session(ctx, server) as client:
        answer = client.call("Backtest", request, pb.BacktestResponse)
    result = json.loads(answer.report_json)
    if json_output:
        typer.echo(_dumps(result))
        return
    proposed, actual = result["proposed"], result["actual"]
    table = Table("", "proposed", "actual")
    for key in (
        "incidents",
        "pages",
        "off_hours_pages",
        "suppressed_alerts",
        "acknowledgement_load_minutes",
    ):
        table.add_row(key.replace("_", " "), str(proposed[key]), str(actual[key]))
    people = sorted(set(proposed["pages_per_person"]) | set(actual["pages_per_person"]))
    for person in people:
        table.add_row(
            f"pages to {person}",
            str(proposed["pages_per_person"].get(person, 0)),
            str(actual["pages_per_person"].get(person, 0)),
        )
    _console().print(table)


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        typer.echo(f"error: cannot read {option} {path}: {error.strerror}", err=True)
        raise typer.Exit(2) from None


# ---------------------------------------------------------------------- credentials


def _stamp(message: Message, field: str) -> str | None:
    if not message.HasField(field):
        return None
    value: datetime = getattr(message, field).ToDatetime()
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_json(row: pb.CredentialRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "role": row.role,
        "status": row.status,
        "user": row.user or None,
        "services": list(row.services),
        "integrations": list(row.integrations),
        "writes_through": list(row.writes_through),
        "could_write": row.could_write,
        "issued_at": _stamp(row, "issued_at"),
        "expires_at": _stamp(row, "expires_at"),
        "revoked_at": _stamp(row, "revoked_at"),
        "fingerprint": row.fingerprint,
    }


@audit_app.command("credentials")
def credentials(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="TIME",
            help="ISO 8601 instant, e.g. 2026-11-27T02:17Z (default now)",
            show_default=False,
        ),
    ] = None,
    writers: Annotated[
        bool,
        typer.Option(
            "--writers",
            help="only the credentials that could write then: active, with a role and "
            "service scope that can append facts (admin, responder; integration via alert)",
        ),
    ] = False,
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Which API tokens were live at an instant, and which could write, through what."""
    request = pb.ListCredentialsRequest(writers_only=writers)
    if at is not None:
        request.as_of.CopyFrom(to_timestamp(_instant(at, "--at")))
    with audit_session(ctx, server) as client:
        answer = client.call("ListCredentials", request, pb.ListCredentialsResponse)
    rows = [credential_json(row) for row in answer.credentials]
    instant = _stamp(answer, "as_of")
    if json_output:
        typer.echo(_dumps({"as_of": instant, "credentials": rows}))
        return
    table = Table("name", "role", "user", "status", "could write through", "scope", "fingerprint")
    for row in rows:
        scope = ",".join(row["services"]) or "all services"
        if row["integrations"]:
            scope += "; integrations " + ",".join(row["integrations"])
        table.add_row(
            str(row["name"]),
            str(row["role"]),
            row["user"] or "-",
            str(row["status"]),
            ",".join(row["writes_through"]) or "-",
            scope,
            str(row["fingerprint"]),
        )
    console = _console()
    what = "could write" if writers else "were recorded"
    console.print(Text(f"credentials that {what} at {instant}"))
    console.print(table if rows else Text("none"))


# ---------------------------------------------------------------------- explanations


@audit_app.command("oncall")
def oncall(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="service:<name>, policy:<id> or schedule:<id>")],
    at: Annotated[
        str, typer.Option("--at", metavar="TIME", help="ISO 8601 instant, e.g. 2026-11-27T02:17Z")
    ],
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Who was on call at an instant, through which level, layer or override."""
    try:
        instant = parse_instant(at)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--at") from None
    with audit_session(ctx, server) as client:
        answer = client.call(
            "WhoWasOnCall",
            pb.WhoWasOnCallRequest(target=target, at=to_timestamp(instant)),
            pb.WhoWasOnCallResponse,
        )
    rows = [
        {"level": r.level, "target": r.target, "user": r.user_id, "via": r.via} for r in answer.rows
    ]
    if json_output:
        typer.echo(
            _dumps(
                {"policy": answer.policy_id, "revision": answer.policy_revision, "on_call": rows}
            )
        )
        return
    table = Table("level", "target", "user", "via")
    for row in rows:
        level = "-" if row["level"] < 0 else str(row["level"])
        table.add_row(level, str(row["target"]), str(row["user"]), str(row["via"]))
    console = _console()
    if answer.policy_id:
        console.print(Text(f"policy {answer.policy_id} revision {answer.policy_revision}"))
    console.print(table if rows else Text("nobody was on call"))


def _steps_table(steps: Sequence[pb.Step]) -> Table:
    table = Table("#", "step", "detail", "when")
    for number, step in enumerate(steps, start=1):
        when = step.event.recorded_at.ToJsonString() if step.HasField("event") else ""
        table.add_row(str(number), step.what, step.detail, when)
    return table


@audit_app.command("why-paged")
def why_paged(
    ctx: typer.Context,
    page: Annotated[str, typer.Argument(help="the page id (or page-<id>)")],
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """The causation chain that led to a page, cause first, then every attempt."""
    with audit_session(ctx, server) as client:
        answer = client.call(
            "ExplainPage", pb.ExplainPageRequest(page=page), pb.ExplainPageResponse
        )
    if json_output:
        typer.echo(_dumps([{"what": s.what, "detail": s.detail} for s in answer.steps]))
        return
    _console().print(_steps_table(answer.steps))


@audit_app.command("why-not")
def why_not(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="the person's user id")],
    incident: Annotated[str, typer.Argument(help="INC-N")],
    server: AuditServer = DEFAULT_AUDIT_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Where a person fell out of the incident's paging chain."""
    with audit_session(ctx, server) as client:
        answer = client.call(
            "ExplainNotPaged",
            pb.ExplainNotPagedRequest(user=user, incident=incident),
            pb.ExplainNotPagedResponse,
        )
    if json_output:
        typer.echo(
            _dumps(
                {
                    "verdict": answer.verdict,
                    "steps": [{"what": s.what, "detail": s.detail} for s in answer.steps],
                }
            )
        )
        return
    console = _console()
    console.print(Text(answer.verdict))
    console.print(_steps_table(answer.steps))


def _events_table(events: Sequence[event_pb2.LogEvent]) -> Table:
    table = Table("position", "version", "type", "actor", "recorded at")
    for e in events:
        table.add_row(
            str(e.position), str(e.version), e.type, e.actor, e.recorded_at.ToJsonString()
        )
    return table
