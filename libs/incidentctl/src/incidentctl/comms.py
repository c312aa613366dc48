"""`incidentctl comms ...`: stakeholder updates, the promise report and the status page
(firewatch.comms.v1.CommsService).

Owns the comms command group: its client, its address option (`--comms-server`,
FIREWATCH_COMMS_SERVER, default 127.0.0.1:50055). Token, TLS, timeout and retries are
the global options of `incidentctl`. Posting an update sends an idempotency key chosen
once per invocation, so a retried call never posts twice.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from google.protobuf.message import Message
from rich.text import Text

from firewatch.comms.v1 import comms_pb2 as pb
from firewatch.comms.v1 import comms_pb2_grpc as pb_grpc
from incidentctl import render
from incidentctl.client import ApiClient, open_channel
from incidentctl.errors import CliError, ExitCode
from incidentctl.oncall import fail, instant_json, print_json, settings_of, table, when
from incidentctl.values import parse_instant, to_timestamp

DEFAULT_COMMS_SERVER = "127.0.0.1:50055"

comms_app = typer.Typer(
    help="Stakeholder updates, promises and the status page (the communications API).",
    no_args_is_help=True,
)
component_app = typer.Typer(help="Status-page components.", no_args_is_help=True)
status_app = typer.Typer(help="Status-page incidents and maintenance.", no_args_is_help=True)
subscriber_app = typer.Typer(help="Status-page subscribers.", no_args_is_help=True)
comms_app.add_typer(component_app, name="component")
comms_app.add_typer(status_app, name="page")
comms_app.add_typer(subscriber_app, name="subscriber")


class CommsClient(ApiClient):
    API_NAME = "communications API"
    ADDRESS_OPTION = "--comms-server or FIREWATCH_COMMS_SERVER"

    def call(self, method: str, request: Message, response_type: type[Any]) -> Any:
        return self._unary(method, request, response_type)


@contextmanager
def comms_session(ctx: typer.Context, server: str) -> Iterator[CommsClient]:
    settings = dataclasses.replace(settings_of(ctx), server=server)
    try:
        token = settings.resolved_token()
        channel = open_channel(settings)
        try:
            stub = pb_grpc.CommsServiceStub(channel)  # type: ignore[no-untyped-call]
            yield CommsClient(stub, settings, token=token)
        finally:
            channel.close()
    except CliError as error:
        fail(error)


Server = Annotated[
    str,
    typer.Option(
        "--comms-server", envvar="FIREWATCH_COMMS_SERVER", help="communications API, host:port"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def _enum(prefix: str, value: str) -> Any:
    name = f"{prefix}_{value.strip().upper().replace('-', '_')}"
    number = getattr(pb, name, None)
    if not isinstance(number, int):
        raise typer.BadParameter(f"unknown value {value!r}")
    return number


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _name(prefix: str, number: int) -> str:
    for name in dir(pb):
        if name.startswith(prefix + "_") and getattr(pb, name) == number:
            return name[len(prefix) + 1 :].lower()
    return "?"


# ---------------------------------------------------------------------- updates


@comms_app.command("update")
def update(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="INC-<n> or the incident id")],
    message: Annotated[str, typer.Option("--message", "-m", help="what stakeholders should know")],
    audience: Annotated[str, typer.Option(help="internal, executive or public")] = "public",
    status: Annotated[
        str, typer.Option(help="investigating, identified, monitoring, resolved")
    ] = "investigating",
    by: Annotated[
        str,
        typer.Option(
            "--by", help="admin only: post on behalf of this commander or comms lead (default: you)"
        ),
    ] = "",
    template: Annotated[str, typer.Option(help="a template name or jinja2 source")] = "",
    preview: Annotated[bool, typer.Option("--preview", help="render only; post nothing")] = False,
    server: Server = DEFAULT_COMMS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Post a stakeholder update (with its next-update promise), or preview it."""
    with comms_session(ctx, server) as client:
        if preview:
            shown = client.call(
                "PreviewUpdate",
                pb.PreviewUpdateRequest(
                    incident=incident,
                    audience=_enum("AUDIENCE", audience),
                    status=_enum("UPDATE_STATUS", status),
                    message=message,
                    template=template,
                ),
                pb.PreviewUpdateResponse,
            )
        else:
            shown = client.call(
                "PostUpdate",
                pb.PostUpdateRequest(
                    incident=incident,
                    audience=_enum("AUDIENCE", audience),
                    status=_enum("UPDATE_STATUS", status),
                    message=message,
                    template=template,
                    posted_by=by,
                    idempotency_key=str(uuid.uuid4()),
                ),
                pb.PostUpdateResponse,
            )
    if as_json:
        print_json(
            {
                "body": shown.body,
                "next_update_by": instant_json(shown, "next_update_by"),
                "posted": not preview,
                "warnings": list(getattr(shown, "warnings", [])),
            }
        )
        return
    render.console().print(Text(shown.body), soft_wrap=True)
    for warning in getattr(shown, "warnings", ()):
        render.console().print(Text(f"check: {warning}", style="yellow"), soft_wrap=True)
    line = "preview only: nothing posted" if preview else "posted"
    if shown.HasField("next_update_by"):
        line += f"; next update promised by {when(shown, 'next_update_by')}"
    render.console().print(Text(line, style="dim"))


@comms_app.command("templates")
def templates(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="show only this template's source")] = "",
    server: Server = DEFAULT_COMMS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """The update templates (per audience, plus the deployment's own): `--template NAME`."""
    with comms_session(ctx, server) as client:
        answer = client.call("ListTemplates", pb.ListTemplatesRequest(), pb.ListTemplatesResponse)
    items = {t.name: t.source for t in answer.templates}
    if name:
        if name not in items:
            known = ", ".join(sorted(items))
            fail(
                CliError(f"template: no template {name!r} (known: {known})", ExitCode.SERVER_ERROR)
            )
        items = {name: items[name]}
    if as_json:
        print_json([{"name": n, "source": s} for n, s in items.items()])
        return
    console = render.console()
    for template_name, source in items.items():
        console.print(Text(template_name, style="bold"))
        console.print(Text(source), soft_wrap=True)


@comms_app.command("show")
def show(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="INC-<n> or the incident id")],
    wait: Annotated[
        float, typer.Option("--wait", help="seconds to wait until no delivery is pending")
    ] = 0.0,
    server: Server = DEFAULT_COMMS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """An incident's channels, comms lead, promise and deliveries."""
    deadline = time.monotonic() + wait
    with comms_session(ctx, server) as client:
        while True:
            answer = client.call(
                "GetIncidentComms",
                pb.GetIncidentCommsRequest(incident=incident),
                pb.GetIncidentCommsResponse,
            )
            if answer.deliveries_pending == 0 or time.monotonic() >= deadline:
                break
            time.sleep(0.2)  # sleep-ok: a person's command polling a remote server
    promise = answer.promise if answer.HasField("promise") else None
    if as_json:
        print_json(
            {
                "reference": answer.reference,
                "severity": answer.severity,
                "commander": answer.commander,
                "comms_lead": answer.comms_lead,
                "channels": [
                    {"role": c.role, "kind": c.kind, "address": c.address, "open": c.open_status}
                    for c in answer.channels
                ],
                "next_update_by": instant_json(promise, "due_by") if promise else None,
                "overdue": bool(promise and promise.overdue),
                "deliveries": {
                    "delivered": answer.deliveries_delivered,
                    "pending": answer.deliveries_pending,
                    "failed": answer.deliveries_failed,
                },
            }
        )
        return
    console = render.console()
    console.print(Text(f"{answer.reference} {answer.severity} {answer.title}", style="bold"))
    console.print(f"commander: {answer.commander or '-'}   comms lead: {answer.comms_lead or '-'}")
    if promise is not None:
        state = " OVERDUE" if promise.overdue else ""
        console.print(Text(f"next update by {when(promise, 'due_by')}{state}"))
    grid = table()
    for column in ("role", "kind", "address", "opened"):
        grid.add_column(column)
    for c in answer.channels:
        grid.add_row(c.role, c.kind, c.address, c.open_status)
    console.print(grid)
    console.print(
        f"deliveries: {answer.deliveries_delivered} delivered, "
        f"{answer.deliveries_pending} pending, {answer.deliveries_failed} failed"
    )


@comms_app.command("lead")
def lead(
    ctx: typer.Context,
    incident: Annotated[str, typer.Argument(help="INC-<n> or the incident id")],
    person: Annotated[str, typer.Argument(help="the communications lead")],
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Make someone the incident's communications lead (overdue updates escalate to them)."""
    with comms_session(ctx, server) as client:
        client.call(
            "AssignCommsLead",
            pb.AssignCommsLeadRequest(incident=incident, comms_lead=person),
            pb.AssignCommsLeadResponse,
        )
    render.console().print(f"{person} is the communications lead of {incident}")


@comms_app.command("report")
def report(
    ctx: typer.Context, server: Server = DEFAULT_COMMS_SERVER, as_json: JsonOption = False
) -> None:
    """Update promises kept and missed, per incident and per severity."""
    with comms_session(ctx, server) as client:
        answer = client.call("GetReport", pb.GetReportRequest(), pb.GetReportResponse)

    def rows(items: Any) -> list[dict[str, Any]]:
        return [{"name": r.name, "kept": r.kept, "missed": r.missed, "open": r.open} for r in items]

    if as_json:
        print_json({"incidents": rows(answer.incidents), "severities": rows(answer.severities)})
        return
    console = render.console()
    for title, items in (("incident", answer.incidents), ("severity", answer.severities)):
        grid = table()
        for column in (title, "kept", "missed", "open", "kept %"):
            grid.add_column(column)
        for r in items:
            settled = r.kept + r.missed
            share = f"{100 * r.kept / settled:.0f}%" if settled else "-"
            grid.add_row(r.name, str(r.kept), str(r.missed), str(r.open), share)
        console.print(grid)


# ---------------------------------------------------------------------- components


@component_app.command("add")
def component_add(
    ctx: typer.Context,
    component_id: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Argument()],
    group: Annotated[str, typer.Option(help="its component group")] = "",
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Add a component (or, with --group and no such group yet, create the group first)."""
    with comms_session(ctx, server) as client:
        if group:
            client.call(
                "AddComponentGroup",
                pb.AddComponentGroupRequest(group_id=group, name=group.title()),
                pb.AddComponentGroupResponse,
            )
        client.call(
            "AddComponent",
            pb.AddComponentRequest(component_id=component_id, name=name, group_id=group),
            pb.AddComponentResponse,
        )
    render.console().print(f"component {component_id} added")


@component_app.command("status")
def component_status(
    ctx: typer.Context,
    component_id: Annotated[str, typer.Argument()],
    status: Annotated[
        str, typer.Argument(help="operational, degraded_performance, partial_outage, ...")
    ],
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Set a component's status on the page."""
    with comms_session(ctx, server) as client:
        client.call(
            "SetComponentStatus",
            pb.SetComponentStatusRequest(
                component_id=component_id, status=_enum("COMPONENT_STATUS", status)
            ),
            pb.SetComponentStatusResponse,
        )
    render.console().print(f"{component_id}: {status}")


@component_app.command("list")
def component_list(
    ctx: typer.Context, server: Server = DEFAULT_COMMS_SERVER, as_json: JsonOption = False
) -> None:
    """Every component and group with its status."""
    with comms_session(ctx, server) as client:
        answer = client.call(
            "ListComponents", pb.ListComponentsRequest(), pb.ListComponentsResponse
        )
    items = [
        {
            "id": c.component_id,
            "name": c.name,
            "group": c.group,
            "group_id": c.group_id or None,
            "status": _name("COMPONENT_STATUS", c.status),
        }
        for c in answer.components
    ]
    if as_json:
        print_json(items)
        return
    grid = table()
    for column in ("id", "name", "status"):
        grid.add_column(column)
    for item in items:
        grid.add_row(
            str(item["id"]),
            str(item["name"]) + (" (group)" if item["group"] else ""),
            str(item["status"]),
        )
    render.console().print(grid)


# ---------------------------------------------------------------------- status-page incidents


@status_app.command("draft")
def page_draft(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()],
    message: Annotated[str, typer.Option("--message", "-m")],
    impact: Annotated[str, typer.Option(help="none, minor, major, critical")] = "minor",
    component: Annotated[
        list[str] | None, typer.Option("--component", help="affected component")
    ] = None,
    incident: Annotated[str, typer.Option(help="the platform incident (INC-<n>)")] = "",
    internal_only: Annotated[bool, typer.Option("--internal-only")] = False,
    maintenance_from: Annotated[
        datetime | None,
        typer.Option(
            "--maintenance-from",
            parser=_instant,
            metavar="TIME",
            help="a scheduled maintenance starting then (ISO 8601)",
        ),
    ] = None,
    maintenance_until: Annotated[
        datetime | None,
        typer.Option(
            "--maintenance-until", parser=_instant, metavar="TIME", help="and ending then"
        ),
    ] = None,
    server: Server = DEFAULT_COMMS_SERVER,
    as_json: JsonOption = False,
) -> None:
    """Draft a status-page incident or scheduled maintenance (not public until `publish`)."""
    request = pb.DraftStatusIncidentRequest(
        name=name,
        body=message,
        impact=_enum("IMPACT", impact),
        component_ids=component or [],
        incident=incident,
        internal_only=internal_only,
        idempotency_key=str(uuid.uuid4()),
    )
    if maintenance_from is not None or maintenance_until is not None:
        request.kind = pb.STATUS_INCIDENT_KIND_MAINTENANCE
        if maintenance_from is not None:
            request.scheduled_for.CopyFrom(to_timestamp(maintenance_from))
        if maintenance_until is not None:
            request.scheduled_until.CopyFrom(to_timestamp(maintenance_until))
    with comms_session(ctx, server) as client:
        answer = client.call("DraftStatusIncident", request, pb.DraftStatusIncidentResponse)
    if as_json:
        print_json({"status_incident_id": answer.status_incident_id})
        return
    typer.echo(answer.status_incident_id)


@status_app.command("update")
def page_update(
    ctx: typer.Context,
    status_incident_id: Annotated[str, typer.Argument()],
    status: Annotated[
        str, typer.Argument(help="investigating, identified, monitoring, resolved, ...")
    ],
    message: Annotated[str, typer.Option("--message", "-m")],
    component: Annotated[list[str] | None, typer.Option("--component", help="id=status")] = None,
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Post an update on a status-page incident (public at once if it is published)."""
    changes = []
    for item in component or []:
        cid, _, value = item.partition("=")
        changes.append(
            pb.ComponentChange(component_id=cid, status=_enum("COMPONENT_STATUS", value))
        )
    with comms_session(ctx, server) as client:
        client.call(
            "PostStatusUpdate",
            pb.PostStatusUpdateRequest(
                status_incident_id=status_incident_id,
                status=_enum("STATUS_INCIDENT_STATUS", status),
                body=message,
                components=changes,
                idempotency_key=str(uuid.uuid4()),
            ),
            pb.PostStatusUpdateResponse,
        )
    render.console().print(f"{status_incident_id}: {status}")


@status_app.command("note")
def page_note(
    ctx: typer.Context,
    status_incident_id: Annotated[str, typer.Argument()],
    text: Annotated[str, typer.Argument()],
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Add an internal note (never on the public page)."""
    with comms_session(ctx, server) as client:
        client.call(
            "AddInternalNote",
            pb.AddInternalNoteRequest(status_incident_id=status_incident_id, body=text),
            pb.AddInternalNoteResponse,
        )
    render.console().print("internal note added")


@status_app.command("publish")
def page_publish(
    ctx: typer.Context,
    status_incident_id: Annotated[str, typer.Argument()],
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Publish a draft to the public page and notify its subscribers."""
    with comms_session(ctx, server) as client:
        client.call(
            "PublishStatusIncident",
            pb.PublishStatusIncidentRequest(status_incident_id=status_incident_id),
            pb.PublishStatusIncidentResponse,
        )
    render.console().print(f"{status_incident_id} published")


@status_app.command("list")
def page_list(
    ctx: typer.Context, server: Server = DEFAULT_COMMS_SERVER, as_json: JsonOption = False
) -> None:
    """Every status-page incident and maintenance, drafts included."""
    with comms_session(ctx, server) as client:
        answer = client.call(
            "ListStatusIncidents", pb.ListStatusIncidentsRequest(), pb.ListStatusIncidentsResponse
        )
    items = [
        {
            "id": i.status_incident_id,
            "name": i.name,
            "kind": _name("STATUS_INCIDENT_KIND", i.kind),
            "status": _name("STATUS_INCIDENT_STATUS", i.status),
            "impact": _name("IMPACT", i.impact),
            "published": i.published,
            "internal_only": i.internal_only,
        }
        for i in answer.incidents
    ]
    if as_json:
        print_json(items)
        return
    grid = table()
    for column in ("id", "name", "status", "impact", "public"):
        grid.add_column(column)
    for item in items:
        public = (
            "internal only" if item["internal_only"] else ("yes" if item["published"] else "draft")
        )
        grid.add_row(
            str(item["id"])[:8], str(item["name"]), str(item["status"]), str(item["impact"]), public
        )
    render.console().print(grid)


# ---------------------------------------------------------------------- subscribers


@subscriber_app.command("add-webhook")
def subscriber_add_webhook(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="receives the Statuspage webhook body")],
    component: Annotated[
        list[str] | None, typer.Option("--component", help="only these components")
    ] = None,
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Subscribe a webhook (confirmed at once: an admin added it)."""
    with comms_session(ctx, server) as client:
        answer = client.call(
            "AddWebhookSubscriber",
            pb.AddWebhookSubscriberRequest(url=url, component_ids=component or []),
            pb.AddWebhookSubscriberResponse,
        )
    typer.echo(answer.subscriber_id)


@subscriber_app.command("remove")
def subscriber_remove(
    ctx: typer.Context,
    subscriber: Annotated[str, typer.Argument(help="its id, email address or webhook URL")],
    reason: Annotated[str, typer.Option(help="why (kept in the log)")] = "",
    server: Server = DEFAULT_COMMS_SERVER,
) -> None:
    """Remove a subscriber: no notice reaches it again unless it subscribes anew."""
    with comms_session(ctx, server) as client:
        answer = client.call(
            "RemoveSubscriber",
            pb.RemoveSubscriberRequest(subscriber=subscriber, reason=reason),
            pb.RemoveSubscriberResponse,
        )
    done = "removed" if answer.removed else "was already removed"
    render.console().print(f"subscriber {answer.subscriber_id} {done}")


@subscriber_app.command("list")
def subscriber_list(
    ctx: typer.Context, server: Server = DEFAULT_COMMS_SERVER, as_json: JsonOption = False
) -> None:
    """Every subscriber and its status."""
    with comms_session(ctx, server) as client:
        answer = client.call(
            "ListSubscribers", pb.ListSubscribersRequest(), pb.ListSubscribersResponse
        )
    items = [
        {
            "id": s.subscriber_id,
            "kind": s.kind,
            "address": s.address,
            "status": s.status,
            "components": list(s.component_ids),
        }
        for s in answer.subscribers
    ]
    if as_json:
        print_json(items)
        return
    grid = table()
    for column in ("kind", "address", "status", "components"):
        grid.add_column(column)
    for item in items:
        grid.add_row(
            str(item["kind"]),
            str(item["address"]),
            str(item["status"]),
            ", ".join(item["components"]) or "all",
        )
    render.console().print(grid)
