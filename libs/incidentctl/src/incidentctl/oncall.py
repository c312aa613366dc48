"""`incidentctl oncall ...`: who is on call, shifts, overrides (firewatch.oncall.v1).

Owns the on-call command group and what the `page` group (pages.py) shares with it:
the OnCallService client, its address option (`--oncall-server`,
FIREWATCH_ONCALL_SERVER, default 127.0.0.1:50053) and the session that turns every
CliError into one `error: ...` line and its exit code. Token, TLS, timeout and retries
are the global options of `incidentctl` itself, so one token works for every API.

Retries (UNAVAILABLE, ABORTED) are safe here without idempotency keys: reads repeat
harmlessly, an override's id is chosen once per invocation (and overrides may not
overlap, so a retried add can never put two in place), and an acknowledgement is
idempotent in the paging service.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import grpc
import typer
from google.protobuf.message import Message
from rich import box
from rich.table import Table
from rich.text import Text

from firewatch.oncall.v1 import oncall_pb2 as pb
from firewatch.oncall.v1 import oncall_pb2_grpc as pb_grpc
from incidentctl import render
from incidentctl.client import ApiClient, Settings, open_channel
from incidentctl.errors import CliError, code_of
from incidentctl.values import format_instant, from_timestamp, parse_instant, to_timestamp

DEFAULT_ONCALL_SERVER = "127.0.0.1:50053"
DEFAULT_SHIFT_DAYS = 7

Json = dict[str, Any]

oncall_app = typer.Typer(
    help="Who is on call, their shifts, and overrides (the paging service's API).",
    no_args_is_help=True,
)


# ---------------------------------------------------------------------- client


class OnCallClient(ApiClient):
    """Calls to firewatch.oncall.v1.OnCallService; use `oncall_session()`."""

    API_NAME = "on-call API"
    ADDRESS_OPTION = "--oncall-server or FIREWATCH_ONCALL_SERVER"

    def __init__(self, stub: Any, settings: Settings, *, token: str | None) -> None:
        super().__init__(stub, settings, token=token)
        self.last_code: grpc.StatusCode | None = None

    def call(self, method: str, request: Message, response_type: type[Any]) -> Any:
        self.last_code = None
        return self._unary(method, request, response_type)

    def _translate(
        self, error: grpc.RpcError, *, idempotency_key: str | None = None, attempts: int = 1
    ) -> CliError:
        # Kept so a command can tell "no such page" from other refusals (`page ack`).
        self.last_code = code_of(error)
        return super()._translate(error, idempotency_key=idempotency_key, attempts=attempts)

    def who(self, request: pb.WhoIsOnCallRequest) -> pb.WhoIsOnCallResponse:
        answer: pb.WhoIsOnCallResponse = self.call("WhoIsOnCall", request, pb.WhoIsOnCallResponse)
        return answer


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.find_root().obj
    # Commands are only reachable through the root callback that sets obj.
    assert isinstance(settings, Settings)
    return settings


def fail(error: CliError) -> NoReturn:
    typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(int(error.exit_code))


@contextmanager
def oncall_session(ctx: typer.Context, server: str) -> Iterator[OnCallClient]:
    """A connected on-call client; any CliError inside becomes `error: ...` + exit code."""
    # The root options (token, TLS, timeout, retries) with this API's address.
    settings = dataclasses.replace(settings_of(ctx), server=server)
    try:
        token = settings.resolved_token()
        channel = open_channel(settings)
        try:
            stub = pb_grpc.OnCallServiceStub(channel)  # type: ignore[no-untyped-call]
            yield OnCallClient(stub, settings, token=token)
        finally:
            channel.close()
    except CliError as error:
        fail(error)


OnCallServer = Annotated[
    str,
    typer.Option(
        "--oncall-server",
        envvar="FIREWATCH_ONCALL_SERVER",
        help="on-call (paging) API address, host:port",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def _usage_instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


TargetArg = Annotated[
    str,
    typer.Argument(
        help="schedule:<id>, team:<id> or user:<id> (a bare id means a schedule)",
        show_default=False,
    ),
]
FromOption = Annotated[
    datetime | None,
    typer.Option(
        "--from", parser=_usage_instant, metavar="TIME", help="ISO 8601 start", show_default=False
    ),
]
ToOption = Annotated[
    datetime | None,
    typer.Option(
        "--to", parser=_usage_instant, metavar="TIME", help="ISO 8601 end", show_default=False
    ),
]


def target_argument(text: str) -> str:
    stripped = text.strip()
    return stripped if ":" in stripped else f"schedule:{stripped}"


def print_json(value: object) -> None:
    typer.echo(render.dumps(value))


def instant_json(message: Any, field: str) -> str | None:
    if not message.HasField(field):
        return None
    return format_instant(from_timestamp(getattr(message, field)))


def when(message: Any, field: str) -> str:
    """To the second, for people."""
    if not message.HasField(field):
        return "-"
    return format_instant(from_timestamp(getattr(message, field)).replace(microsecond=0))


def table() -> Table:
    # The same compact look as the incident tables (render._table).
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)


# ---------------------------------------------------------------------- who is on call


def _who(ctx: typer.Context, server: str, target: str, at: datetime | None, as_json: bool) -> None:
    request = pb.WhoIsOnCallRequest(target=target_argument(target))
    if at is not None:
        request.at.CopyFrom(to_timestamp(at))
    with oncall_session(ctx, server) as client:
        answer = client.who(request)
    if as_json:
        print_json(
            {
                "target": answer.target,
                "at": instant_json(answer, "at"),
                "users": list(answer.users),
                "configuration_as_of_at": answer.configuration_as_of_at,
            }
        )
        return
    line = Text(f"{answer.target} at {when(answer, 'at')}: ")
    line.append(", ".join(answer.users) if answer.users else "nobody is on call", style="bold")
    if answer.configuration_as_of_at:
        line.append(" (configuration as it stood then)")
    render.console().print(line, soft_wrap=True)


@oncall_app.command("now")
def now(
    ctx: typer.Context,
    target: TargetArg,
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Who is on call for a schedule, team or user right now."""
    _who(ctx, oncall_server, target, None, json_output)


@oncall_app.command("at")
def at(
    ctx: typer.Context,
    target: TargetArg,
    instant: Annotated[
        datetime,
        typer.Argument(
            parser=_usage_instant,
            metavar="TIME",
            help="ISO 8601 with a zone, e.g. 2026-11-27T02:17:00Z",
            show_default=False,
        ),
    ],
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Who was (or will be) on call at an instant.

    A past instant is answered with the configuration as it stood then, overrides
    deleted since included; a future one with today's configuration."""
    _who(ctx, oncall_server, target, instant, json_output)


# ---------------------------------------------------------------------- shifts


def _shift_json(shift: pb.Shift) -> Json:
    return {
        "user_id": shift.user_id,
        "user_name": shift.user_name or None,
        "start": instant_json(shift, "start"),
        "end": instant_json(shift, "end"),
        "layer_id": shift.layer_id or None,
        "override_id": shift.override_id or None,
    }


@oncall_app.command("shifts")
def shifts(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument(help="the schedule's id", show_default=False)],
    start: FromOption = None,
    end: ToOption = None,
    ical: Annotated[
        Path | None,
        typer.Option(
            "--ical",
            metavar="FILE",
            dir_okay=False,
            help="write the shifts as an iCalendar (RFC 5545) file instead; - for stdout",
            show_default=False,
        ),
    ] = None,
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """A schedule's shifts (overrides and layers resolved); default: the next 7 days."""
    begin = start or datetime.now(UTC).replace(microsecond=0)
    finish = end or begin + timedelta(days=DEFAULT_SHIFT_DAYS)
    fields = {"schedule_id": schedule, "start": to_timestamp(begin), "end": to_timestamp(finish)}
    with oncall_session(ctx, oncall_server) as client:
        if ical is not None:
            feed: pb.ExportScheduleResponse = client.call(
                "ExportSchedule", pb.ExportScheduleRequest(**fields), pb.ExportScheduleResponse
            )
        else:
            answer: pb.ListShiftsResponse = client.call(
                "ListShifts", pb.ListShiftsRequest(**fields), pb.ListShiftsResponse
            )
    if ical is not None:
        if str(ical) == "-":
            typer.echo(feed.ical, nl=False)
        else:
            _write(ical, feed.ical)
            render.console(stderr=True).print(
                Text(f"wrote {feed.ical.count('BEGIN:VEVENT')} shift(s) to {ical}")
            )
        return
    if json_output:
        print_json(
            {"schedule_id": answer.schedule_id, "shifts": [_shift_json(s) for s in answer.shifts]}
        )
        return
    if not answer.shifts:
        render.console(stderr=True).print(f"nobody is on call on {schedule} in that range")
        return
    out = table()
    for column in ("start", "end", "user"):
        out.add_column(column, no_wrap=True)
    out.add_column("name", overflow="fold")
    out.add_column("source", overflow="fold")
    for shift in answer.shifts:
        source = f"override {shift.override_id}" if shift.override_id else f"layer {shift.layer_id}"
        out.add_row(
            when(shift, "start"),
            when(shift, "end"),
            Text(shift.user_id),
            Text(shift.user_name or "-"),
            Text(source),
        )
    render.console().print(out)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        # A local mistake (no such directory, read-only): a usage error, exit 2.
        raise typer.BadParameter(
            f"cannot write {path}: {error.strerror or error}", param_hint="'--ical'"
        ) from None


# ---------------------------------------------------------------------- overrides


def _override_json(override: pb.Override) -> Json:
    return {
        "override_id": override.override_id,
        "user_id": override.user_id,
        "start": instant_json(override, "start"),
        "end": instant_json(override, "end"),
    }


@oncall_app.command("override")
def override(
    ctx: typer.Context,
    schedule: Annotated[str, typer.Argument(help="the schedule's id", show_default=False)],
    user: Annotated[
        str | None,
        typer.Argument(help="who takes over (not with --remove)", show_default=False),
    ] = None,
    start: FromOption = None,
    end: ToOption = None,
    remove: Annotated[
        str | None,
        typer.Option(
            "--remove",
            metavar="OVERRIDE-ID",
            help="delete this override instead",
            show_default=False,
        ),
    ] = None,
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Put someone on call from --from to --to, or delete an override (--remove).

    An override beats every rotation of the schedule. A removed override still shows
    in `oncall at` for instants before its removal."""
    if remove is not None:
        if user is not None or start is not None or end is not None:
            raise typer.BadParameter("--remove takes no user, --from or --to")
        _remove_override(ctx, oncall_server, schedule, remove, json_output)
        return
    if user is None:
        raise typer.BadParameter("name the user who takes over", param_hint="'USER'")
    if start is None or end is None:
        raise typer.BadParameter("give both --from and --to", param_hint="'--from' / '--to'")
    # Chosen once per invocation: a retry of an add that did go through is refused as
    # a duplicate rather than recording a second override.
    override_id = f"o-{uuid.uuid4().hex[:12]}"
    request = pb.AddOverrideRequest(
        schedule_id=schedule,
        user_id=user,
        start=to_timestamp(start),
        end=to_timestamp(end),
        override_id=override_id,
    )
    with oncall_session(ctx, oncall_server) as client:
        answer: pb.AddOverrideResponse = client.call("AddOverride", request, pb.AddOverrideResponse)
    added = next(o for o in answer.schedule.overrides if o.override_id == answer.override_id)
    if json_output:
        print_json({"schedule_id": answer.schedule.schedule_id, "override": _override_json(added)})
        return
    render.console().print(
        Text(
            f"override {added.override_id}: {added.user_id} is on call for "
            f"{answer.schedule.schedule_id} from {when(added, 'start')} to {when(added, 'end')}"
        ),
        soft_wrap=True,
    )


def _remove_override(
    ctx: typer.Context, server: str, schedule: str, override_id: str, as_json: bool
) -> None:
    request = pb.RemoveOverrideRequest(schedule_id=schedule, override_id=override_id)
    with oncall_session(ctx, server) as client:
        answer: pb.RemoveOverrideResponse = client.call(
            "RemoveOverride", request, pb.RemoveOverrideResponse
        )
    if as_json:
        print_json(
            {
                "schedule_id": answer.schedule.schedule_id,
                "removed": override_id,
                "position": answer.outcome.position,
                "overrides": [_override_json(o) for o in answer.schedule.overrides],
            }
        )
        return
    render.console().print(
        Text(
            f"override {override_id} removed from {answer.schedule.schedule_id} "
            f"(log position {answer.outcome.position})"
        ),
        soft_wrap=True,
    )
