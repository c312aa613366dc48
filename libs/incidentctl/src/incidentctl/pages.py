"""`incidentctl page ...`: the pages sent for an incident, and acknowledging them.

Owns the page command group. The paging service knows incidents by uuid only; a
reference like INC-42 is resolved through the incident API first (the global
--server), so people can use the name they see everywhere else, and answers name
the incident by its reference too.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

import grpc
import typer
from rich.text import Text

from firewatch.incident.v1 import incident_pb2
from firewatch.oncall.v1 import oncall_pb2 as pb
from incidentctl import render
from incidentctl.client import connect
from incidentctl.errors import CliError
from incidentctl.oncall import (
    DEFAULT_ONCALL_SERVER,
    JsonOption,
    OnCallServer,
    fail,
    instant_json,
    oncall_session,
    print_json,
    settings_of,
    table,
    when,
)
from incidentctl.values import incident_argument

Json = dict[str, Any]

pages_app = typer.Typer(
    help="Pages sent for an incident, and acknowledging them (the paging service's API).",
    no_args_is_help=True,
)

_PAGE_STATUS: dict[int, str] = {
    pb.PAGE_STATUS_OPEN: "open",
    pb.PAGE_STATUS_ACKNOWLEDGED: "acknowledged",
    pb.PAGE_STATUS_CANCELLED: "cancelled",
}
_ESCALATION_STATUS: dict[int, str] = {
    pb.ESCALATION_STATUS_ACTIVE: "active",
    pb.ESCALATION_STATUS_ACKNOWLEDGED: "acknowledged",
    pb.ESCALATION_STATUS_CANCELLED: "cancelled",
}
_KIND: dict[int, str] = {
    pb.CONTACT_KIND_EMAIL: "email",
    pb.CONTACT_KIND_WEBHOOK: "webhook",
    pb.CONTACT_KIND_SLACK: "slack",
}


def _name(table: dict[int, str], value: int) -> str:
    # A value this client does not know yet (a newer server) must not crash it.
    return table.get(value, f"unknown({value})")


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


def _incident(ctx: typer.Context, text: str) -> tuple[str, str]:
    """(uuid, reference) of an incident given as INC-42, 42 or its uuid, looked up on
    the incident API. A uuid the incident API cannot name keeps the uuid as its label:
    the paging service may know an incident the incident API cannot show to us."""
    given = _as_uuid(text)
    if given is not None:
        return str(given), _reference(ctx, str(given))
    try:
        with connect(settings_of(ctx)) as client:
            found = client.get(incident_pb2.GetIncidentRequest(incident=incident_argument(text)))
    except CliError as error:
        fail(error)
    return found.incident.incident_id, found.incident.reference


def _reference(ctx: typer.Context, incident_id: str) -> str:
    """INC-n for an incident uuid; the uuid itself if the incident API cannot say."""
    # One attempt: a label is not worth the retries' wait when the incident API is away.
    settings = dataclasses.replace(settings_of(ctx), attempts=1)
    try:
        with connect(settings) as client:
            found = client.get(incident_pb2.GetIncidentRequest(incident=incident_id))
    except CliError:
        # Only a label: the paging answer in hand matters more than naming it nicely.
        return incident_id
    return found.incident.reference or incident_id


def escalation_json(escalation: pb.Escalation) -> Json:
    return {
        "incident_id": escalation.incident_id,
        "status": _name(_ESCALATION_STATUS, escalation.status),
        "policy_id": escalation.policy_id,
        "policy_revision": escalation.policy_revision,
        "severity": escalation.severity,
        "urgency": escalation.urgency,
        "started_at": instant_json(escalation, "started_at"),
        "round": escalation.round,
        "next_step_due_at": instant_json(escalation, "next_step_due_at"),
        "acknowledged_by": escalation.acknowledged_by or None,
        "acknowledged_page_id": escalation.acknowledged_page_id or None,
        "acknowledged_via": escalation.acknowledged_via or None,
        "unack_timeout_due_at": instant_json(escalation, "unack_timeout_due_at"),
    }


def page_json(page: pb.Page) -> Json:
    return {
        "page_id": page.page_id,
        "incident_id": page.incident_id,
        "step": page.step,
        "user_id": page.user_id,
        "title": page.title,
        "status": _name(_PAGE_STATUS, page.status),
        "paged_at": instant_json(page, "paged_at"),
        "acknowledged_by": page.acknowledged_by or None,
        "delivered": page.delivered,
        "undeliverable": page.undeliverable,
        "methods": [
            {
                "method_id": m.method_id,
                "kind": _name(_KIND, m.kind),
                "address": m.address,
                "attempts": m.attempts,
                "delivered": m.delivered,
                "exhausted": m.exhausted,
            }
            for m in page.methods
        ],
    }


def _delivery(page: pb.Page) -> str:
    if page.delivered:
        return "delivered"
    if page.undeliverable:
        return "UNDELIVERABLE"
    return "pending"


IncidentArg = Annotated[
    str, typer.Argument(help="INC-42 (or just 42) or the incident's uuid", show_default=False)
]


@pages_app.command("list")
def list_pages(
    ctx: typer.Context,
    incident: IncidentArg,
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """The pages sent for an incident: who, when, delivered, acknowledged."""
    incident_id, reference = _incident(ctx, incident)
    with oncall_session(ctx, oncall_server) as client:
        answer: pb.ListPagesResponse = client.call(
            "ListPages", pb.ListPagesRequest(incident_id=incident_id), pb.ListPagesResponse
        )
    if json_output:
        print_json(
            {
                "escalation": escalation_json(answer.escalation),
                "pages": [page_json(p) for p in answer.pages],
            }
        )
        return
    escalation = answer.escalation
    heading = Text(f"paging for {reference}: {_name(_ESCALATION_STATUS, escalation.status)}")
    if escalation.acknowledged_by:
        heading.append(f", acknowledged by {escalation.acknowledged_by}")
    out = render.console()
    out.print(heading, soft_wrap=True)
    if not answer.pages:
        out.print("no pages sent yet")
        return
    out.print(pages_table(answer.pages))


def pages_table(pages: Sequence[pb.Page]) -> render.Fitted:
    """One row per page; on a narrow terminal the time goes under the page id and the
    delivery under the status, so the id (what `page ack` takes) is never cut."""
    wide = table()
    for column in ("paged at", "step", "user", "status", "delivery", "page id"):
        wide.add_column(column, no_wrap=True)
    narrow = table()
    narrow.add_column("page id, paged at", no_wrap=True)
    narrow.add_column("step", no_wrap=True)
    narrow.add_column("user", overflow="fold")
    narrow.add_column("status", no_wrap=True)
    rows = [
        (
            when(page, "paged_at"),
            str(page.step),
            page.user_id,
            _name(_PAGE_STATUS, page.status),
            _delivery(page),
            page.page_id,
        )
        for page in pages
    ]
    for paged_at, step, user, status, delivery, page_id in rows:
        wide.add_row(paged_at, step, Text(user), status, delivery, page_id)
        narrow.add_row(f"{page_id}\n{paged_at}", step, Text(user), f"{status}\n{delivery}")
    headers = ("paged at", "step", "user", "status", "delivery", "page id")
    widths = [render.widest(h, (row[i] for row in rows)) for i, h in enumerate(headers)]
    return render.Fitted(wide, render.span(widths), narrow)


@pages_app.command("ack")
def ack(
    ctx: typer.Context,
    subject: Annotated[
        str,
        typer.Argument(
            metavar="INCIDENT-OR-PAGE",
            help="a page id, or an incident (INC-42, 42 or its uuid) to acknowledge all "
            "of its paging",
            show_default=False,
        ),
    ],
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Acknowledge a page or an incident: paging stops. You are the token's user."""
    given = _as_uuid(subject)
    incident_id, reference = (None, "") if given is not None else _incident(ctx, subject)
    with oncall_session(ctx, oncall_server) as client:
        if incident_id is None:
            # A uuid names a page or an incident; pages are what people are sent, so
            # try that first and fall back only when there is no such page.
            try:
                answer: pb.AcknowledgeResponse = client.call(
                    "Acknowledge",
                    pb.AcknowledgeRequest(page_id=str(given), via=pb.ACK_CHANNEL_CLI),
                    pb.AcknowledgeResponse,
                )
            except CliError:
                if client.last_code is not grpc.StatusCode.NOT_FOUND:
                    raise
                incident_id = str(given)
        if incident_id is not None:
            answer = client.call(
                "Acknowledge",
                pb.AcknowledgeRequest(incident_id=incident_id, via=pb.ACK_CHANNEL_CLI),
                pb.AcknowledgeResponse,
            )
    escalation = answer.escalation
    reference = reference or _reference(ctx, escalation.incident_id)
    if json_output:
        print_json({"reference": reference, **escalation_json(escalation)})
        return
    what = (
        f"page {escalation.acknowledged_page_id} of {reference}"
        if escalation.acknowledged_page_id
        else reference
    )
    render.console().print(
        Text(f"{what} acknowledged by {escalation.acknowledged_by}: paging stopped"),
        soft_wrap=True,
    )
