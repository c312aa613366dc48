"""`incidentctl postmortem ...`, `incidentctl actions ...` and `incidentctl report`
(firewatch.postmortem.v1.PostmortemService).

Owns these command groups, the PostmortemService client and its address option
(`--postmortem-server`, FIREWATCH_POSTMORTEM_SERVER, default 127.0.0.1:50054). Token,
TLS, timeout and retries are the global options of `incidentctl`. `report` prints the
metrics as tables and, with `--charts DIR`, writes PNG charts (matplotlib, no display).

Retries (UNAVAILABLE, ABORTED) are safe: every change is idempotent in the service
(editing to the same text, publishing twice is refused, and `actions add` sends an
idempotency key chosen once per invocation).
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

from firewatch.postmortem.v1 import postmortem_pb2 as pb
from firewatch.postmortem.v1 import postmortem_pb2_grpc as pb_grpc
from incidentctl import render
from incidentctl.client import ApiClient, Settings, open_channel
from incidentctl.errors import CliError
from incidentctl.oncall import fail, settings_of
from incidentctl.values import parse_instant, to_timestamp

DEFAULT_POSTMORTEM_SERVER = "127.0.0.1:50054"

postmortem_app = typer.Typer(
    help="Blameless postmortems: sections, root cause, timeline, review, publish.",
    no_args_is_help=True,
)
actions_app = typer.Typer(help="Postmortem action items.", no_args_is_help=True)
report_app = typer.Typer(help="Incident metrics (MTTA/MTTD/MTTM/MTTR) from the log.")


class PostmortemClient(ApiClient):
    API_NAME = "postmortem API"
    ADDRESS_OPTION = "--postmortem-server or FIREWATCH_POSTMORTEM_SERVER"

    def call(self, method: str, request: Message) -> Any:
        response_type = getattr(pb, f"{method}Response")
        return self._unary(method, request, response_type)


@contextmanager
def session(ctx: typer.Context, server: str) -> Iterator[PostmortemClient]:
    settings: Settings = dataclasses.replace(settings_of(ctx), server=server)
    try:
        token = settings.resolved_token()
        channel = open_channel(settings)
        try:
            stub = pb_grpc.PostmortemServiceStub(channel)  # type: ignore[no-untyped-call]
            yield PostmortemClient(stub, settings, token=token)
        finally:
            channel.close()
    except CliError as error:
        fail(error)


Server = Annotated[
    str,
    typer.Option(
        "--postmortem-server",
        envvar="FIREWATCH_POSTMORTEM_SERVER",
        help="postmortem API address, host:port",
    ),
]
Incident = Annotated[str, typer.Argument(help="INC-42 or the incident's uuid", show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def _json(message: Message) -> None:
    typer.echo(render.dumps(MessageToDict(message, preserving_proto_field_name=True)))


def _table(*columns: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    for column in columns:
        table.add_column(column)
    return table


def _enum(value: int, enum: Any, prefix: str) -> str:
    return str(enum.Name(value)).removeprefix(prefix).lower()


def _minutes(message: Any, field: str) -> str:
    if not message.HasField(field):
        return "-"
    seconds = float(getattr(message, field))
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _show(p: pb.Postmortem, as_json: bool) -> None:
    if as_json:
        _json(p)
        return
    console = render.console()
    status = _enum(p.status, pb.PostmortemStatus, "POSTMORTEM_STATUS_")
    console.print(f"[bold]{p.reference}[/bold] postmortem: {p.title}", markup=True, highlight=False)
    console.print(f"  {p.severity} · {status} · owner {p.owner} · due {p.due_on}", highlight=False)
    d = p.durations
    console.print(
        f"  detect {_minutes(d, 'time_to_detect_seconds')} · acknowledge "
        f"{_minutes(d, 'time_to_acknowledge_seconds')} · mitigate "
        f"{_minutes(d, 'time_to_mitigate_seconds')} · resolve "
        f"{_minutes(d, 'time_to_resolve_seconds')} (from {d.impact_start_source})",
        highlight=False,
    )
    console.print(f"  root cause: {p.root_cause or '(not recorded)'}", highlight=False)
    for warning in p.open_warnings:
        console.print(
            f"  warning: {warning.section}: {warning.phrase!r} ({warning.code}): "
            f"{warning.suggestion}",
            highlight=False,
        )
    if p.override_reason:
        console.print(f"  published over warnings: {p.override_reason}", highlight=False)
    if p.action_items:
        table = _table("item", "kind", "owner", "due", "status")
        for item in p.action_items:
            table.add_row(
                item.title,
                _enum(item.kind, pb.ActionItemKind, "ACTION_ITEM_KIND_"),
                item.owner,
                item.due_on + (" (overdue)" if item.overdue else ""),
                _enum(item.status, pb.ActionItemStatus, "ACTION_ITEM_STATUS_"),
            )
        console.print(table)


# ---------------------------------------------------------------------- postmortem


@postmortem_app.command("show")
def show(ctx: typer.Context, incident: Incident, server: Server = DEFAULT_POSTMORTEM_SERVER,
         as_json: JsonOption = False) -> None:  # fmt: skip
    """The postmortem: durations, root cause, open warnings, action items."""
    with session(ctx, server) as client:
        _show(
            client.call("GetPostmortem", pb.GetPostmortemRequest(incident=incident)).postmortem,
            as_json,
        )


@postmortem_app.command("list")
def list_postmortems(
    ctx: typer.Context,
    owner: Annotated[str, typer.Option(help="only this owner")] = "",
    team: Annotated[str, typer.Option(help="only owners in this team")] = "",
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Every postmortem, newest incident first."""
    with session(ctx, server) as client:
        answer = client.call("ListPostmortems", pb.ListPostmortemsRequest(owner=owner, team=team))
    if as_json:
        _json(answer)
        return
    table = _table("incident", "title", "severity", "status", "owner", "due")
    for p in answer.postmortems:
        status = _enum(p.status, pb.PostmortemStatus, "POSTMORTEM_STATUS_")
        table.add_row(p.reference, p.title, p.severity, status, p.owner, p.due_on)
    render.console().print(table)


@postmortem_app.command("open")
def open_postmortem(
    ctx: typer.Context,
    incident: Incident,
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Open a postmortem its severity did not require (it must be resolved)."""
    with session(ctx, server) as client:
        _show(
            client.call("OpenPostmortem", pb.OpenPostmortemRequest(incident=incident)).postmortem,
            as_json,
        )


@postmortem_app.command("edit")
def edit(
    ctx: typer.Context,
    incident: Incident,
    section: Annotated[
        str,
        typer.Argument(
            help="summary, impact, contributing_factors, went_well, went_wrong, got_lucky, lessons"
        ),
    ],
    text: Annotated[str, typer.Argument(help="the section's new text")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Replace a section's text (a draft only; amend a published one)."""
    request = pb.EditSectionRequest(incident=incident, section=section, text=text)
    with session(ctx, server) as client:
        _show(client.call("EditSection", request).postmortem, as_json)


@postmortem_app.command("root-cause")
def root_cause(
    ctx: typer.Context,
    incident: Incident,
    text: Annotated[str, typer.Argument(help="why the system failed (not the mitigation)")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Record the root cause: required to publish; a restart is not a cause."""
    with session(ctx, server) as client:
        request = pb.RecordRootCauseRequest(incident=incident, text=text)
        _show(client.call("RecordRootCause", request).postmortem, as_json)


@postmortem_app.command("impact-start")
def impact_start(
    ctx: typer.Context,
    incident: Incident,
    at: Annotated[str, typer.Argument(help="ISO 8601 instant the impact began")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Set when the impact really began: every duration is measured from it."""
    try:
        instant = parse_instant(at)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    request = pb.SetImpactStartRequest(incident=incident, impact_started_at=to_timestamp(instant))
    with session(ctx, server) as client:
        _show(client.call("SetImpactStart", request).postmortem, as_json)


@postmortem_app.command("timeline")
def timeline(ctx: typer.Context, incident: Incident, server: Server = DEFAULT_POSTMORTEM_SERVER,
             as_json: JsonOption = False) -> None:  # fmt: skip
    """The generated (from the log) and manual timeline, with annotations."""
    with session(ctx, server) as client:
        p = client.call("GetPostmortem", pb.GetPostmortemRequest(incident=incident)).postmortem
    if as_json:
        typer.echo(
            render.dumps([MessageToDict(e, preserving_proto_field_name=True) for e in p.timeline])
        )
        return
    table = _table("entry", "when", "source", "what")
    for entry in p.timeline:
        text = entry.text + "".join(f"\n  ↳ {a.by}: {a.text}" for a in entry.annotations)
        table.add_row(entry.entry_id[:13], entry.at.ToDatetime().strftime("%Y-%m-%d %H:%M:%S"),
                      entry.source, text)  # fmt: skip
    render.console().print(table)


@postmortem_app.command("add-entry")
def add_entry(
    ctx: typer.Context,
    incident: Incident,
    at: Annotated[str, typer.Argument(help="ISO 8601 instant it happened")],
    text: Annotated[str, typer.Argument(help="what happened")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """Add a timeline entry the log does not have (e.g. the first support ticket)."""
    try:
        instant = parse_instant(at)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    request = pb.AddTimelineEntryRequest(
        incident=incident, occurred_at=to_timestamp(instant), text=text
    )
    with session(ctx, server) as client:
        client.call("AddTimelineEntry", request)
    typer.echo("entry added")


@postmortem_app.command("annotate")
def annotate(
    ctx: typer.Context,
    incident: Incident,
    entry_id: Annotated[str, typer.Argument(help="the entry's id (see `timeline --json`)")],
    text: Annotated[str, typer.Argument(help="the note")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """Annotate a timeline entry (generated entries cannot be edited)."""
    request = pb.AnnotateTimelineEntryRequest(incident=incident, entry_id=entry_id, text=text)
    with session(ctx, server) as client:
        client.call("AnnotateTimelineEntry", request)
    typer.echo("annotated")


@postmortem_app.command("review")
def review(
    ctx: typer.Context,
    incident: Incident,
    reviewers: Annotated[list[str], typer.Argument(help="user ids")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """Ask reviewers to sign off before publishing."""
    request = pb.RequestReviewRequest(incident=incident, reviewers=reviewers)
    with session(ctx, server) as client:
        client.call("RequestReview", request)
    typer.echo(f"review requested from {', '.join(reviewers)}")


@postmortem_app.command("sign-off")
def sign_off(
    ctx: typer.Context, incident: Incident, server: Server = DEFAULT_POSTMORTEM_SERVER
) -> None:
    """Sign off as the token's user."""
    with session(ctx, server) as client:
        client.call("SignOff", pb.SignOffRequest(incident=incident))
    typer.echo("signed off")


@postmortem_app.command("publish")
def publish(
    ctx: typer.Context,
    incident: Incident,
    override: Annotated[
        str,
        typer.Option(
            "--override", help="publish over open blameless-language warnings, with this reason"
        ),
    ] = "",
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Publish and freeze it; closes the incident's root-cause follow-up."""
    request = pb.PublishRequest(incident=incident, override_reason=override)
    with session(ctx, server) as client:
        _show(client.call("Publish", request).postmortem, as_json)


@postmortem_app.command("amend")
def amend(
    ctx: typer.Context,
    incident: Incident,
    section: Annotated[str, typer.Argument(help="the section amended (or root_cause)")],
    text: Annotated[str, typer.Argument(help="the amended text")],
    reason: Annotated[str, typer.Option("--reason", help="why it changed")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """Amend a published postmortem (shown as an amendment, with who and when)."""
    request = pb.AmendRequest(incident=incident, section=section, text=text, reason=reason)
    with session(ctx, server) as client:
        client.call("Amend", request)
    typer.echo("amended")


@postmortem_app.command("export")
def export(
    ctx: typer.Context,
    incident: Incident,
    html: Annotated[bool, typer.Option("--html", help="HTML instead of Markdown")] = False,
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """The document as Markdown (or HTML) on stdout."""
    fmt = pb.RENDER_FORMAT_HTML if html else pb.RENDER_FORMAT_MARKDOWN
    with session(ctx, server) as client:
        answer = client.call(
            "RenderPostmortem", pb.RenderPostmortemRequest(incident=incident, format=fmt)
        )
    typer.echo(answer.content, nl=False)


# ---------------------------------------------------------------------- actions

_KINDS = {"technical": pb.ACTION_ITEM_KIND_TECHNICAL, "process": pb.ACTION_ITEM_KIND_PROCESS,
          "monitoring": pb.ACTION_ITEM_KIND_MONITORING}  # fmt: skip
_PRIORITIES = {"high": pb.PRIORITY_HIGH, "medium": pb.PRIORITY_MEDIUM, "low": pb.PRIORITY_LOW}
_STATUSES: dict[str, pb.ActionItemStatus] = {
    "open": pb.ACTION_ITEM_STATUS_OPEN,
    "in_progress": pb.ACTION_ITEM_STATUS_IN_PROGRESS,
    "done": pb.ACTION_ITEM_STATUS_DONE,
    "wont_do": pb.ACTION_ITEM_STATUS_WONT_DO,
}


def _items_table(items: Any) -> Table:
    table = _table("id", "title", "kind", "owner", "due", "priority", "status")
    for item in items:
        table.add_row(
            item.action_id[:8],
            item.title,
            _enum(item.kind, pb.ActionItemKind, "ACTION_ITEM_KIND_"),
            item.owner,
            item.due_on + (" (overdue)" if item.overdue else ""),
            _enum(item.priority, pb.Priority, "PRIORITY_"),
            _enum(item.status, pb.ActionItemStatus, "ACTION_ITEM_STATUS_"),
        )
    return table


@actions_app.command("add")
def add_action(
    ctx: typer.Context,
    incident: Incident,
    title: Annotated[str, typer.Argument(help="what to do, a verb first")],
    owner: Annotated[str, typer.Option("--owner", help="a user id from the directory")],
    due: Annotated[str, typer.Option("--due", help="due date, YYYY-MM-DD (owner's zone)")],
    kind: Annotated[
        str, typer.Option("--kind", help="technical, process or monitoring")
    ] = "technical",
    priority: Annotated[str, typer.Option("--priority", help="high, medium or low")] = "medium",
    tracker: Annotated[str, typer.Option("--tracker", help="external tracker link")] = "",
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Add an action item to the incident's postmortem."""
    if kind not in _KINDS:
        raise typer.BadParameter(f"--kind must be one of {', '.join(_KINDS)}")
    if priority not in _PRIORITIES:
        raise typer.BadParameter(f"--priority must be one of {', '.join(_PRIORITIES)}")
    request = pb.AddActionItemRequest(
        incident=incident, kind=_KINDS[kind], title=title, owner=owner, due_on=due,
        priority=_PRIORITIES[priority], tracker_url=tracker, idempotency_key=uuid.uuid4().hex,
    )  # fmt: skip
    with session(ctx, server) as client:
        item = client.call("AddActionItem", request).action_item
    if as_json:
        _json(item)
        return
    typer.echo(
        f"added action item {item.action_id}: {item.title} (owner {item.owner}, due {item.due_on})"
    )


@actions_app.command("list")
def list_actions(
    ctx: typer.Context,
    incident: Annotated[str, typer.Option("--incident", help="INC-42 or uuid")] = "",
    owner: Annotated[str, typer.Option(help="only this owner")] = "",
    team: Annotated[str, typer.Option(help="only owners in this team")] = "",
    status: Annotated[str, typer.Option(help="open, in_progress, done or wont_do")] = "",
    overdue: Annotated[bool, typer.Option("--overdue", help="only overdue items")] = False,
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Action items, soonest due first."""
    if status and status not in _STATUSES:
        raise typer.BadParameter(f"--status must be one of {', '.join(_STATUSES)}")
    request = pb.ListActionItemsRequest(
        incident=incident,
        owner=owner,
        team=team,
        status=_STATUSES.get(status, pb.ACTION_ITEM_STATUS_UNSPECIFIED),
        overdue_only=overdue,
    )
    with session(ctx, server) as client:
        answer = client.call("ListActionItems", request)
    if as_json:
        _json(answer)
        return
    render.console().print(_items_table(answer.action_items))


def _update(ctx: typer.Context, server: str, action_id: str, change: str, **fields: Any) -> None:
    request = pb.UpdateActionItemRequest(action_id=action_id, change=change, **fields)
    with session(ctx, server) as client:
        item = client.call("UpdateActionItem", request).action_item
    status = _enum(item.status, pb.ActionItemStatus, "ACTION_ITEM_STATUS_")
    typer.echo(f"{item.title}: {status}, owner {item.owner}, due {item.due_on}")


ActionId = Annotated[str, typer.Argument(help="the action item's id (uuid)")]


@actions_app.command("start")
def start(
    ctx: typer.Context, action_id: ActionId, server: Server = DEFAULT_POSTMORTEM_SERVER
) -> None:
    """Mark it in progress."""
    _update(ctx, server, action_id, "start")


@actions_app.command("done")
def done(
    ctx: typer.Context, action_id: ActionId, server: Server = DEFAULT_POSTMORTEM_SERVER
) -> None:
    """Mark it done."""
    _update(ctx, server, action_id, "complete")


@actions_app.command("wont-do")
def wont_do(
    ctx: typer.Context,
    action_id: ActionId,
    reason: Annotated[str, typer.Option("--reason", help="why it will not be done")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """Close it as won't do, with the reason."""
    _update(ctx, server, action_id, "decline", reason=reason)


@actions_app.command("reschedule")
def reschedule(
    ctx: typer.Context,
    action_id: ActionId,
    due: Annotated[str, typer.Option("--due", help="new due date, YYYY-MM-DD")],
    reason: Annotated[str, typer.Option("--reason", help="why it moved")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """Move the due date (reminders start over)."""
    _update(ctx, server, action_id, "reschedule", due_on=due, reason=reason)


@actions_app.command("reassign")
def reassign(
    ctx: typer.Context,
    action_id: ActionId,
    owner: Annotated[str, typer.Option("--owner", help="the new owner")],
    server: Server = DEFAULT_POSTMORTEM_SERVER,
) -> None:
    """Give it to someone else."""
    _update(ctx, server, action_id, "reassign", owner=owner)


# ---------------------------------------------------------------------- report


def _duration(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 60:.1f} min" if value < 3600 else f"{value / 3600:.2f} h"


@report_app.callback(invoke_without_command=True)
def report(
    ctx: typer.Context,
    charts: Annotated[
        Path | None, typer.Option("--charts", help="write PNG charts into this folder")
    ] = None,
    server: Server = DEFAULT_POSTMORTEM_SERVER,
    as_json: JsonOption = False,
) -> None:
    """MTTD/MTTA/MTTM/MTTR, counts and action-item rates, recomputed from the log."""
    with session(ctx, server) as client:
        answer = client.call("GetMetrics", pb.GetMetricsRequest())
    if as_json:
        _json(answer)
    else:
        console = render.console()
        table = _table("metric", "incidents", "mean", "median", "p90")
        for s in answer.summaries:
            table.add_row(
                s.metric, str(s.count),
                _duration(s.mean_seconds if s.HasField("mean_seconds") else None),
                _duration(s.median_seconds if s.HasField("median_seconds") else None),
                _duration(s.p90_seconds if s.HasField("p90_seconds") else None),
            )  # fmt: skip
        console.print(table)
        console.print(
            f"incidents {answer.incidents} · never acknowledged {answer.never_acknowledged} "
            f"(no MTTA for them) · unresolved {answer.unresolved} · reopened {answer.reopened}",
            highlight=False,
        )
        counts = _table("severity", "incidents")
        for severity, count in sorted(answer.by_severity.items()):
            counts.add_row(severity, str(count))
        console.print(counts)
        services = _table("service", "incidents")
        for service, count in sorted(answer.by_service.items(), key=lambda kv: -kv[1]):
            services.add_row(service, str(count))
        console.print(services)
        months = _table("month", "incidents", "MTTR")
        for month, count in sorted(answer.by_month.items()):
            months.add_row(month, str(count), _duration(answer.mttr_seconds_by_month.get(month)))
        console.print(months)
        completion = f"{answer.completion_rate:.0%}" if answer.HasField("completion_rate") else "-"
        overdue = f"{answer.overdue_rate:.0%}" if answer.HasField("overdue_rate") else "-"
        console.print(
            f"action items {answer.action_items} · done {answer.action_items_done} "
            f"({completion}) · overdue {answer.action_items_overdue} ({overdue}) · "
            f"won't do {answer.action_items_wont_do}",
            highlight=False,
        )
        console.print(f"metric definition v{answer.definition} (docs/metrics.md)", highlight=False)
    if charts is not None:
        for path in write_charts(answer, charts):
            typer.echo(f"wrote {path}", err=as_json)


def write_charts(answer: Any, folder: Path) -> list[Path]:
    """PNG charts of the trends: incidents per month, MTTR per month, by severity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    version = f"definition v{answer.definition}"
    charts: list[tuple[str, str, dict[str, float], str]] = [
        (
            "incidents-by-month.png",
            "Incidents per month",
            dict(sorted(answer.by_month.items())),
            "incidents",
        ),
        (
            "mttr-by-month.png",
            "MTTR per month",
            {k: v / 60 for k, v in sorted(answer.mttr_seconds_by_month.items())},
            "minutes",
        ),
        (
            "incidents-by-severity.png",
            "Incidents by severity",
            dict(sorted(answer.by_severity.items())),
            "incidents",
        ),
    ]
    for name, title, data, unit in charts:
        figure, axes = plt.subplots(figsize=(7, 3.5), dpi=100)
        axes.bar(list(data) or ["(none)"], list(data.values()) or [0], color="#c0392b")
        axes.set_title(f"{title} ({version})")
        axes.set_ylabel(unit)
        figure.tight_layout()
        path = folder / name
        figure.savefig(path, format="png")
        plt.close(figure)
        written.append(path)
    return written
