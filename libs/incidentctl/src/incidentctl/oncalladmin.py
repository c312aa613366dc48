"""`incidentctl oncall user|team|layer ...`: changing the on-call directory
(firewatch.oncall.v1 management methods; admin tokens only).

Owns the commands that change users (time zone, business hours, removing a contact
method), teams (create, change) and schedule layers (change, remove). It shares the
on-call client, address option and error handling with `oncall.py`, and prints one
line per change (or JSON with --json).

`layer change` reads the layer first and replaces only the options given, because the
API replaces a layer's whole definition: a forgotten option must not silently wipe a
rotation's restrictions. Retries are safe: every command here either states the whole
new value or removes by id (a retried removal answers NOT_FOUND, exit 1).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.text import Text

from firewatch.oncall.v1 import oncall_pb2 as pb
from incidentctl import render
from incidentctl.oncall import (
    DEFAULT_ONCALL_SERVER,
    JsonOption,
    OnCallServer,
    oncall_session,
    print_json,
)

user_app = typer.Typer(help="Change a user: time zone, business hours, contact methods.")
team_app = typer.Typer(help="Create and change teams (policy targets team:<id>).")
layer_app = typer.Typer(help="Change or remove a schedule's rotation layer.")

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_WINDOW = re.compile(r"^(?:(?P<days>[a-z,-]+)@)?(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d)$")
_TURN = re.compile(r"^(?P<length>\d+)(?P<unit>[hdw])$")
_UNITS = {"h": pb.TURN_UNIT_HOURS, "d": pb.TURN_UNIT_DAYS, "w": pb.TURN_UNIT_WEEKS}


def _say(text: str) -> None:
    render.console().print(Text(text), soft_wrap=True)


def _user_json(answer: Any) -> dict[str, Any]:
    user = answer.user
    return {
        "user_id": user.user_id,
        "time_zone": user.time_zone,
        "contact_methods": [m.method_id for m in user.contact_methods],
        "business_hours": [
            {
                "days": [_DAYS[d - 1] for d in w.days],
                "start": w.start,
                "end": w.end,
            }
            for w in user.business_hours
        ],
        "position": answer.outcome.position,
    }


def parse_window(text: str) -> pb.TimeWindow:
    """`09:00-17:00` (Monday to Friday) or `mon,wed-fri@09:00-17:00`."""
    match = _WINDOW.match(text.strip().lower())
    if match is None:
        raise typer.BadParameter(
            f"{text!r} is not a window like 09:00-17:00 or mon-fri@09:00-17:00"
        )
    days: list[pb.Weekday] = []
    for part in (match["days"] or "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise typer.BadParameter(f"{part!r}: days are {', '.join(_DAYS)}")
        start, end = _DAYS.index(first), _DAYS.index(last or first)
        days += [pb.Weekday.Value(f"WEEKDAY_{_WEEKDAYS[d]}") for d in range(start, end + 1)]
    return pb.TimeWindow(days=days, start=match["start"], end=match["end"])


def parse_turn(text: str) -> pb.Turn:
    """`12h`, `1d`, `2w`."""
    match = _TURN.match(text.strip().lower())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a turn like 12h, 1d or 1w")
    return pb.Turn(unit=_UNITS[match["unit"]], length=int(match["length"]))


UserArg = Annotated[str, typer.Argument(help="the user's id", show_default=False)]


# ---------------------------------------------------------------------- users


@user_app.command("timezone")
def timezone(
    ctx: typer.Context,
    user: UserArg,
    zone: Annotated[str, typer.Argument(help="IANA zone, e.g. Europe/Berlin")],
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Change the zone the user's business hours are read in."""
    request = pb.ChangeTimeZoneRequest(user_id=user, time_zone=zone)
    with oncall_session(ctx, oncall_server) as client:
        answer = client.call("ChangeTimeZone", request, pb.ChangeTimeZoneResponse)
    if json_output:
        print_json(_user_json(answer))
        return
    unchanged = " (unchanged)" if answer.outcome.position == 0 else ""
    _say(f"{answer.user.user_id} is now in {answer.user.time_zone}{unchanged}")


@user_app.command("hours")
def hours(
    ctx: typer.Context,
    user: UserArg,
    windows: Annotated[
        list[str],
        typer.Argument(
            help="windows like 09:00-17:00 (Monday to Friday) or sat,sun@10:00-14:00",
            show_default=False,
        ),
    ],
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Replace the user's business hours (low-urgency pages wait for them)."""
    request = pb.SetBusinessHoursRequest(
        user_id=user, business_hours=[parse_window(w) for w in windows]
    )
    with oncall_session(ctx, oncall_server) as client:
        answer = client.call("SetBusinessHours", request, pb.SetBusinessHoursResponse)
    if json_output:
        print_json(_user_json(answer))
        return
    described = "; ".join(
        f"{','.join(_DAYS[d - 1] for d in w.days) or 'mon-fri'} {w.start}-{w.end}"
        for w in answer.user.business_hours
    )
    _say(f"{answer.user.user_id}'s business hours: {described} ({answer.user.time_zone})")


@user_app.command("remove-method")
def remove_method(
    ctx: typer.Context,
    user: UserArg,
    method: Annotated[str, typer.Argument(help="the contact method's id", show_default=False)],
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Remove a contact method; the notification rules that used it go with it."""
    request = pb.RemoveContactMethodRequest(user_id=user, method_id=method)
    with oncall_session(ctx, oncall_server) as client:
        answer = client.call("RemoveContactMethod", request, pb.RemoveContactMethodResponse)
    if json_output:
        print_json(_user_json(answer))
        return
    left = ", ".join(m.method_id for m in answer.user.contact_methods) or "none"
    _say(f"contact method {method} removed from {user}; left: {left}")


# ---------------------------------------------------------------------- teams


def _team_call(
    ctx: typer.Context,
    server: str,
    method: str,
    request: pb.CreateTeamRequest | pb.ChangeTeamRequest,
    response_type: type[Any],
    as_json: bool,
) -> None:
    with oncall_session(ctx, server) as client:
        answer = client.call(method, request, response_type)
    team = answer.team
    if as_json:
        print_json(
            {
                "team_id": team.team_id,
                "name": team.name,
                "members": list(team.members),
                "schedule_id": team.schedule_id or None,
                "position": answer.outcome.position,
            }
        )
        return
    verb = "created" if method == "CreateTeam" else "changed"
    pages = f"whoever {team.schedule_id} has on call" if team.schedule_id else "every member"
    _say(f"team {team.team_id} ({team.name}) {verb}: {', '.join(team.members)}; pages {pages}")


NameOption = Annotated[str, typer.Option("--name", help="display name", show_default=False)]
MemberOption = Annotated[
    list[str],
    typer.Option("--member", help="a user id (repeat for each member)", show_default=False),
]
ScheduleOption = Annotated[
    str,
    typer.Option("--schedule", help="page whoever this schedule has on call, not every member"),
]


@team_app.command("create")
def create_team(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(help="the team's id", show_default=False)],
    name: NameOption,
    member: MemberOption,
    schedule: ScheduleOption = "",
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Create a team, to use as `team:<id>` in escalation policies."""
    request = pb.CreateTeamRequest(team_id=team, name=name, members=member, schedule_id=schedule)
    _team_call(ctx, oncall_server, "CreateTeam", request, pb.CreateTeamResponse, json_output)


@team_app.command("change")
def change_team(
    ctx: typer.Context,
    team: Annotated[str, typer.Argument(help="the team's id", show_default=False)],
    name: NameOption,
    member: MemberOption,
    schedule: ScheduleOption = "",
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Replace a team's name, members and schedule (give them all)."""
    request = pb.ChangeTeamRequest(team_id=team, name=name, members=member, schedule_id=schedule)
    _team_call(ctx, oncall_server, "ChangeTeam", request, pb.ChangeTeamResponse, json_output)


# ---------------------------------------------------------------------- layers

ScheduleArg = Annotated[str, typer.Argument(help="the schedule's id", show_default=False)]
LayerArg = Annotated[str, typer.Argument(help="the layer's id", show_default=False)]


def _layers_json(answer: Any) -> dict[str, Any]:
    schedule = answer.schedule
    return {
        "schedule_id": schedule.schedule_id,
        "layers": [
            {"layer_id": layer.layer_id, "name": layer.name, "users": list(layer.users)}
            for layer in schedule.layers
        ],
        "position": answer.outcome.position,
    }


@layer_app.command("change")
def change_layer(
    ctx: typer.Context,
    schedule: ScheduleArg,
    layer: LayerArg,
    name: Annotated[str | None, typer.Option("--name", show_default=False)] = None,
    user: Annotated[
        list[str] | None,
        typer.Option("--user", help="the rotation, in order (repeat)", show_default=False),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--start", help="first handoff, local wall-clock time", show_default=False),
    ] = None,
    turn: Annotated[
        str | None, typer.Option("--turn", help="12h, 1d, 1w ...", show_default=False)
    ] = None,
    time_zone: Annotated[
        str | None, typer.Option("--time-zone", help="IANA zone", show_default=False)
    ] = None,
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Change a layer: only the options given; the rest stays as it is."""
    new_turn = parse_turn(turn) if turn is not None else None
    with oncall_session(ctx, oncall_server) as client:
        current = client.call(
            "GetSchedule", pb.GetScheduleRequest(schedule_id=schedule), pb.GetScheduleResponse
        ).schedule
        found = next((x for x in current.layers if x.layer_id == layer), None)
        if found is None:
            typer.echo(f"error: schedule {schedule} has no layer {layer!r}", err=True)
            raise typer.Exit(1)
        changed = pb.Layer()
        changed.CopyFrom(found)
        if name is not None:
            changed.name = name
        if user:
            del changed.users[:]
            changed.users.extend(user)
        if start is not None:
            changed.start = start
        if new_turn is not None:
            changed.turn.CopyFrom(new_turn)
        if time_zone is not None:
            changed.time_zone = time_zone
        request = pb.ChangeLayerRequest(schedule_id=schedule, layer=changed)
        answer = client.call("ChangeLayer", request, pb.ChangeLayerResponse)
    if json_output:
        print_json(_layers_json(answer))
        return
    after = next(x for x in answer.schedule.layers if x.layer_id == layer)
    _say(f"layer {layer} of {schedule} changed: {', '.join(after.users)} from {after.start}")


@layer_app.command("remove")
def remove_layer(
    ctx: typer.Context,
    schedule: ScheduleArg,
    layer: LayerArg,
    oncall_server: OnCallServer = DEFAULT_ONCALL_SERVER,
    json_output: JsonOption = False,
) -> None:
    """Remove a rotation layer from a schedule."""
    request = pb.RemoveLayerRequest(schedule_id=schedule, layer_id=layer)
    with oncall_session(ctx, oncall_server) as client:
        answer = client.call("RemoveLayer", request, pb.RemoveLayerResponse)
    if json_output:
        print_json(_layers_json(answer))
        return
    left = ", ".join(x.layer_id for x in answer.schedule.layers) or "none"
    _say(f"layer {layer} removed from {schedule}; layers left: {left}")


def register(oncall_app: typer.Typer) -> None:
    oncall_app.add_typer(user_app, name="user")
    oncall_app.add_typer(team_app, name="team")
    oncall_app.add_typer(layer_app, name="layer")
