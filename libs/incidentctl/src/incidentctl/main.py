"""The `incidentctl` commands: parse the command line, call the API, print the answer.

Owns the command-line surface (command names, flags, environment variables, help
text) and the rule that a failure ends as one `error: ...` line on stderr with the
exit code from errors.ExitCode, never as a traceback. Talking to the server is
client.py's job; what output looks like is render.py's.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Protocol

import typer
from rich.text import Text

from firewatch.eventlog.v1 import event_pb2
from firewatch.incident.v1 import incident_pb2 as pb
from incidentctl import alerting, checks, render
from incidentctl.client import (
    DEFAULT_ALERT_SERVER,
    DEFAULT_SERVER,
    IncidentClient,
    Settings,
    connect,
)
from incidentctl.errors import CliError
from incidentctl.oncall import oncall_app
from incidentctl.options import (
    JsonOption,
    KeyOption,
    fail,
    new_key,
    print_json,
    settings_of,
    usage,
)
from incidentctl.pages import pages_app
from incidentctl.values import (
    AsOf,
    MitigationKind,
    Severity,
    Status,
    WorkingStatus,
    incident_argument,
    parse_as_of,
    parse_instant,
    severity_name,
    status_name,
    to_timestamp,
)

HELP = """Declare, work and watch Firewatch incidents from the terminal.

Talks to the incident service's gRPC API (`make run` serves it on 127.0.0.1:50051);
the `alert`, `silence`, `rule` and `heartbeat` commands talk to the detection
service's AlertService (--alert-server, default 127.0.0.1:50052).
Every call is authenticated: pass --token or --token-file, or set FIREWATCH_TOKEN.
Global options go before the command: `incidentctl --server host:50051 list`.
"""

EPILOG = """[bold]Exit codes[/bold]
  0  success
  1  refused by the server: bad input, not found, not allowed, bad token
  2  usage error: bad flags or arguments, unreadable token file
  3  connection problem: unreachable, TLS or DNS failure, --timeout passed

Mutating commands carry an idempotency key (--idempotency-key, or a fresh
one per run): the tool's own retries never record anything twice.
"""

app = typer.Typer(
    name="incidentctl",
    help=HELP,
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    # Only bugs reach typer's handler; a plain traceback is enough for those, and
    # showing locals could print the bearer token.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# ---------------------------------------------------------------------- shared options

as_of_parser = usage(parse_as_of)
instant_parser = usage(parse_instant)


IncidentArg = Annotated[
    str, typer.Argument(help="INC-42 (or just 42) or the incident's uuid", show_default=False)
]
AsOfOption = Annotated[
    AsOf | None,
    typer.Option(
        "--as-of",
        parser=as_of_parser,
        metavar="TIME|@POS",
        help="read the past: an ISO 8601 time (2026-11-27T02:17:00Z) or @<log position>",
        show_default=False,
    ),
]


class Answer(Protocol):
    """What every mutating RPC answers."""

    @property
    def outcome(self) -> pb.CommandOutcome: ...

    @property
    def incident(self) -> pb.Incident: ...


@contextmanager
def session(ctx: typer.Context) -> Iterator[IncidentClient]:
    """A connected client; any CliError inside becomes `error: ...` and its exit code."""
    try:
        with connect(settings_of(ctx)) as client:
            yield client
    except CliError as error:
        fail(error)


def _report(
    answer: Answer, key: str, json_output: bool, what: Callable[[pb.Incident], str]
) -> None:
    """The outcome of a mutating command: JSON, or one line saying what changed."""
    if json_output:
        print_json(
            {
                "outcome": render.outcome_json(answer.outcome, key),
                "incident": render.incident_json(answer.incident),
            }
        )
        return
    message = f"{answer.outcome.reference}: {what(answer.incident)}"
    if answer.outcome.replayed:
        message += f" (already applied with idempotency key {key}: nothing new recorded)"
    elif answer.outcome.position == 0:
        message += " (no change: nothing recorded)"
    else:
        message += f" (log position {answer.outcome.position})"
    render.console().print(Text(message), soft_wrap=True)


def _read_at(request: pb.GetIncidentRequest | pb.GetTimelineRequest, as_of: AsOf | None) -> None:
    """Fill the request's `as_of` oneof; without --as-of the server reads the present."""
    if as_of is None:
        return
    if as_of.position is not None:
        request.as_of_position = as_of.position
    elif as_of.time is not None:
        request.as_of_time.CopyFrom(to_timestamp(as_of.time))


# ---------------------------------------------------------------------- global options


@app.callback()
def main(
    ctx: typer.Context,
    server: Annotated[
        str,
        typer.Option(envvar="FIREWATCH_SERVER", help="incident API address, host:port"),
    ] = DEFAULT_SERVER,
    alert_server: Annotated[
        str,
        typer.Option(
            envvar="FIREWATCH_ALERT_SERVER",
            help="detection AlertService address, host:port (alert, silence, rule, "
            "heartbeat commands)",
        ),
    ] = DEFAULT_ALERT_SERVER,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="FIREWATCH_TOKEN",
            help="API token (firewatch-token issue); wins over --token-file",
            show_default=False,
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            envvar="FIREWATCH_TOKEN_FILE",
            help="file holding the API token, keeps it out of shell history",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    tls: Annotated[
        bool, typer.Option("--tls", envvar="FIREWATCH_TLS", help="connect over TLS")
    ] = False,
    ca_cert: Annotated[
        Path | None,
        typer.Option(
            envvar="FIREWATCH_CA_CERT",
            help="PEM CA bundle to verify the server with --tls (default: system roots)",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds to wait for each answer")] = 10.0,
    retries: Annotated[
        int,
        typer.Option(
            min=1, help="attempts per call when the server is unavailable or busy (ABORTED)"
        ),
    ] = 4,
) -> None:
    ctx.obj = Settings(
        server=server,
        alert_server=alert_server,
        token=token or None,
        token_file=token_file,
        tls=tls,
        ca_cert=ca_cert,
        timeout=timeout,
        attempts=retries,
    )


# ---------------------------------------------------------------------- commands


@app.command()
def declare(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="what is broken, in a few words")],
    severity: Annotated[
        Severity,
        typer.Option("--severity", "-s", case_sensitive=False, help="P1 (worst) .. P4"),
    ],
    service: Annotated[
        list[str],
        typer.Option("--service", help="affected service (repeat for several)"),
    ],
    alert: Annotated[
        list[str] | None,
        typer.Option("--alert", help="source alert id (repeatable)", show_default=False),
    ] = None,
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="print only the reference (INC-42)")
    ] = False,
) -> None:
    """Declare an incident and print its reference (INC-42)."""
    key = new_key(idempotency_key)
    with session(ctx) as client:
        answer = client.declare(
            pb.DeclareIncidentRequest(
                title=title,
                severity=severity.to_pb(),
                services=service,
                source_alerts=alert or [],
                idempotency_key=key,
            )
        )
    if quiet:
        typer.echo(answer.outcome.reference)
        return
    _report(
        answer,
        key,
        json_output,
        lambda i: f"declared, {severity_name(i.severity)}, {status_name(i.status)}: {i.title}",
    )


@app.command("list")
def list_incidents(
    ctx: typer.Context,
    status: Annotated[
        list[Status] | None,
        typer.Option(case_sensitive=False, help="only these statuses (repeatable)"),
    ] = None,
    severity: Annotated[
        list[Severity] | None,
        typer.Option(case_sensitive=False, help="only these severities (repeatable)"),
    ] = None,
    service: Annotated[
        str | None, typer.Option(help="only incidents affecting this service")
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(parser=instant_parser, metavar="TIME", help="declared at or after"),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(parser=instant_parser, metavar="TIME", help="declared before"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="show at most this many (default: all)")
    ] = None,
    json_output: JsonOption = False,
    page_size: Annotated[
        int,
        # Hidden: only tests (and the curious) need pages smaller than the default.
        typer.Option(min=1, max=500, hidden=True, help="incidents per API page"),
    ] = 100,
) -> None:
    """List incidents, newest first, following every page."""
    request = pb.ListIncidentsRequest(
        statuses=[s.to_pb() for s in status or []],
        severities=[s.to_pb() for s in severity or []],
        service=service or "",
    )
    if since is not None:
        request.declared_after.CopyFrom(to_timestamp(since))
    if until is not None:
        request.declared_before.CopyFrom(to_timestamp(until))
    with session(ctx) as client:
        incidents = client.list_all(request, limit, page_size=page_size)
    if json_output:
        print_json([render.incident_json(i) for i in incidents])
        return
    if not incidents:
        render.console(stderr=True).print("no incidents match")
        return
    render.console().print(render.incident_table(incidents))


@app.command()
def show(
    ctx: typer.Context,
    incident: IncidentArg,
    as_of: AsOfOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one incident, now or as it was at --as-of."""
    request = pb.GetIncidentRequest(incident=incident_argument(incident))
    _read_at(request, as_of)
    with session(ctx) as client:
        answer = client.get(request)
    if json_output:
        print_json(render.incident_json(answer.incident))
        return
    render.console().print(
        render.incident_panel(answer.incident, as_of=as_of.describe() if as_of else None)
    )


@app.command()
def assign(
    ctx: typer.Context,
    incident: IncidentArg,
    commander: Annotated[str, typer.Argument(help="who takes incident command")],
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Hand incident command to someone."""
    key = new_key(idempotency_key)
    with session(ctx) as client:
        answer = client.assign(
            pb.AssignCommanderRequest(
                incident=incident_argument(incident), commander=commander, idempotency_key=key
            )
        )
    _report(answer, key, json_output, lambda i: f"commander is {i.commander}")


@app.command("severity")
def change_severity(
    ctx: typer.Context,
    incident: IncidentArg,
    severity: Annotated[
        Severity, typer.Argument(case_sensitive=False, help="the new severity, P1 .. P4")
    ],
    reason: Annotated[str, typer.Option(help="why it changed")],
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Change an incident's severity, saying why."""
    key = new_key(idempotency_key)
    with session(ctx) as client:
        answer = client.change_severity(
            pb.ChangeSeverityRequest(
                incident=incident_argument(incident),
                severity=severity.to_pb(),
                reason=reason,
                idempotency_key=key,
            )
        )
    _report(answer, key, json_output, lambda i: f"severity is {severity_name(i.severity)}")


@app.command("status")
def update_status(
    ctx: typer.Context,
    incident: IncidentArg,
    status: Annotated[
        WorkingStatus,
        typer.Argument(case_sensitive=False, help="the new status (resolving: see `resolve`)"),
    ],
    note: Annotated[
        str | None, typer.Option(help="a note to record with it", show_default=False)
    ] = None,
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Move an incident between investigating, identified and monitoring."""
    key = new_key(idempotency_key)
    with session(ctx) as client:
        answer = client.update_status(
            pb.UpdateStatusRequest(
                incident=incident_argument(incident),
                status=status.to_pb(),
                note=note or "",
                idempotency_key=key,
            )
        )
    _report(answer, key, json_output, lambda i: f"status is {status_name(i.status)}")


@app.command()
def note(
    ctx: typer.Context,
    incident: IncidentArg,
    text: Annotated[str, typer.Argument(help="the note, as it should read in the timeline")],
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Add a note to an incident's timeline."""
    key = new_key(idempotency_key)
    with session(ctx) as client:
        answer = client.add_note(
            pb.AddNoteRequest(incident=incident_argument(incident), text=text, idempotency_key=key)
        )
    _report(answer, key, json_output, lambda _: "note added")


@app.command()
def mitigate(
    ctx: typer.Context,
    incident: IncidentArg,
    kind: Annotated[
        MitigationKind, typer.Option(case_sensitive=False, help="what kind of mitigation")
    ],
    description: Annotated[str, typer.Option(help="what was done")],
    temporary: Annotated[
        bool,
        typer.Option(
            "--temporary/--permanent",
            help="a band-aid (restart, rollback) or a real fix; temporary-only "
            "mitigations leave the root cause pending at resolution",
        ),
    ] = True,
    applied_at: Annotated[
        datetime | None,
        typer.Option(
            parser=instant_parser,
            metavar="TIME",
            help="when it was applied, if earlier than now (ISO 8601)",
            show_default=False,
        ),
    ] = None,
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Record a mitigation (temporary unless --permanent)."""
    key = new_key(idempotency_key)
    request = pb.RecordMitigationRequest(
        incident=incident_argument(incident),
        kind=kind.to_pb(),
        description=description,
        temporary=temporary,
        idempotency_key=key,
    )
    if applied_at is not None:
        request.applied_at.CopyFrom(to_timestamp(applied_at))
    with session(ctx) as client:
        answer = client.record_mitigation(request)
    lasting = "temporary" if temporary else "permanent"
    _report(answer, key, json_output, lambda _: f"{lasting} {kind.value} mitigation recorded")


@app.command()
def resolve(
    ctx: typer.Context,
    incident: IncidentArg,
    summary: Annotated[str, typer.Option(help="how it ended")],
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Resolve an incident with a summary."""
    key = new_key(idempotency_key)
    with session(ctx) as client:
        answer = client.resolve(
            pb.ResolveIncidentRequest(
                incident=incident_argument(incident), summary=summary, idempotency_key=key
            )
        )

    def what(incident: pb.Incident) -> str:
        if incident.root_cause_pending:
            return "resolved; root cause PENDING (only temporary mitigations): follow-up owed"
        return "resolved"

    _report(answer, key, json_output, what)


@app.command()
def reopen(
    ctx: typer.Context,
    incident: IncidentArg,
    reason: Annotated[str, typer.Option(help="why it is back")],
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Reopen a resolved incident."""
    key = new_key(idempotency_key)
    with session(ctx) as client:
        answer = client.reopen(
            pb.ReopenIncidentRequest(
                incident=incident_argument(incident), reason=reason, idempotency_key=key
            )
        )
    _report(
        answer,
        key,
        json_output,
        lambda i: f"reopened ({i.reopen_count} time(s)), {status_name(i.status)}",
    )


@app.command()
def timeline(
    ctx: typer.Context,
    incident: IncidentArg,
    as_of: AsOfOption = None,
    json_output: JsonOption = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="show each event's data under its summary"),
    ] = False,
) -> None:
    """An incident's events and every correlated event, in log order.

    Each event is summed up in a sentence; -v adds its data, --json gives everything."""
    request = pb.GetTimelineRequest(incident=incident_argument(incident))
    _read_at(request, as_of)
    with session(ctx) as client:
        answer = client.timeline(request)
    if json_output:
        print_json(
            {
                "incident": render.incident_json(answer.incident),
                "events": [render.event_json(e) for e in answer.events],
            }
        )
        return
    heading = Text(f"{answer.incident.reference}  ", style="bold")
    heading.append(answer.incident.title)
    if as_of is not None:
        heading.append(f"  (as of {as_of.describe()})")
    out = render.console()
    out.print(heading)
    out.print(render.timeline_table(answer.events, verbose=verbose))


@app.command()
def watch(
    ctx: typer.Context,
    incident: Annotated[
        str | None,
        typer.Argument(help="one incident (INC-42 or uuid); omit to watch every incident"),
    ] = None,
    from_position: Annotated[
        int, typer.Option(min=0, help="start at this log position (0: from the beginning)")
    ] = 0,
    max_events: Annotated[
        int | None,
        typer.Option(min=1, help="stop after this many events (default: until Ctrl-C)"),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="EVENT_TYPE",
            help="stop after the first event of this type (e.g. PageDelivered): lets a "
            "script wait for something to happen without polling",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Print events as they happen, one line each, until Ctrl-C.

    Shows history from --from-position first, then follows live; a dropped connection
    resumes where it left off."""
    errors = render.console(stderr=True)
    with session(ctx) as client:
        # A unary probe first: a wrong address, token or incident fails at once with
        # its own exit code instead of turning into an endless reconnect loop.
        references: dict[str, str] = {}
        target: str | None = None
        if incident is None:
            client.list_page(pb.ListIncidentsRequest(page_size=1))
            errors.print(f"watching every incident from position {from_position} (Ctrl-C stops)")
        else:
            found = client.get(pb.GetIncidentRequest(incident=incident_argument(incident))).incident
            target = found.incident_id
            references[found.incident_id] = found.reference
            errors.print(
                Text(f"watching {found.reference} from position {from_position} (Ctrl-C stops)")
            )
        events = client.watch(target, from_position, notify=errors.print)
        shown = 0
        try:
            for event in events:
                reference = references[target] if target else _reference(client, references, event)
                if json_output:
                    line = json.dumps({"reference": reference, **render.event_json(event)})
                else:
                    line = render.watch_line(event, reference)
                typer.echo(line)
                shown += 1
                if max_events is not None and shown >= max_events:
                    break
                if until is not None and event.type == until:
                    break
        except KeyboardInterrupt:
            # Ctrl-C is how a watch is meant to end: not an error, no traceback.
            errors.print("stopped")
        except BrokenPipeError:
            # The reader went away (`incidentctl watch | grep -m1 ...`): stop quietly.
            _silence_stdout()
        finally:
            events.close()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of the buffered, now
    unwritable pipe does not print an "Exception ignored" message on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (e.g. a test runner's buffer): nothing will be flushed


def _reference(client: IncidentClient, known: dict[str, str], event: event_pb2.LogEvent) -> str:
    """INC-n for an event seen by WatchAll, looked up once per incident."""
    if event.stream.startswith("incident-"):
        incident_id = event.stream.removeprefix("incident-")
    else:
        incident_id = event.correlation_id
    if incident_id in known:
        return known[incident_id]
    data = render.event_data(event)
    if event.type == "IncidentDeclared" and isinstance(data, dict) and data.get("number"):
        known[incident_id] = f"INC-{data['number']}"
        return known[incident_id]
    try:
        found = client.get(pb.GetIncidentRequest(incident=incident_id)).incident.reference
    except CliError:
        # Labelling is cosmetic: never stop a watch over it.
        found = incident_id[:8] or "-"
    known[incident_id] = found
    return found


# The detection and paging commands live in their own modules.
alerting.register(app)
checks.register(app)
app.add_typer(oncall_app, name="oncall")
from incidentctl import oncalladmin  # noqa: E402

oncalladmin.register(oncall_app)
app.add_typer(pages_app, name="page")

# The postmortem service's commands (postmortems, action items, the metrics report).
from incidentctl.postmortem import actions_app, postmortem_app, report_app  # noqa: E402

app.add_typer(postmortem_app, name="postmortem")
app.add_typer(actions_app, name="actions")
app.add_typer(report_app, name="report")
from incidentctl.comms import comms_app  # noqa: E402

app.add_typer(comms_app, name="comms")
from incidentctl.audit import audit_app  # noqa: E402

app.add_typer(audit_app, name="audit")
from incidentctl.runbooks import runbook_app  # noqa: E402

app.add_typer(runbook_app, name="runbook")
