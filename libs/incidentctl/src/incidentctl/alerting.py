"""The detection commands: `alert`, `silence`, `rule` and `heartbeat`.

They talk to the detection service's AlertService (--alert-server /
FIREWATCH_ALERT_SERVER, default 127.0.0.1:50052) with the same token, TLS, timeout,
retry, --json and exit-code conventions as the incident commands in main.py.
Registered on main.app by main.py; the helpers they share are in options.py.

Retries are safe: `alert send` and `silence add` carry an idempotency key (a retried
trigger without --dedup-key gets the same server-made key, a retried silence is the
same silence); `heartbeat add` of an identical monitor is a no-op; expiring an expired
silence records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from firewatch.alert.v1 import alert_pb2 as pb
from incidentctl import alert_render
from incidentctl.client import AlertClient, connect_alerts
from incidentctl.errors import CliError, ExitCode
from incidentctl.options import (
    JsonOption,
    KeyOption,
    fail,
    new_key,
    print_json,
    settings_of,
    usage,
)
from incidentctl.render import console
from incidentctl.values import (
    AlertAction,
    AlertSeverity,
    AlertStatus,
    parse_duration,
    parse_instant,
    parse_matcher,
    parse_pair,
    to_duration,
    to_timestamp,
)

duration_parser = usage(parse_duration)
instant_parser = usage(parse_instant)

alert_app = typer.Typer(help="Send, list and show alerts.", no_args_is_help=True)
silence_app = typer.Typer(help="Mute matching alerts for a while.", no_args_is_help=True)
rule_app = typer.Typer(help="The platform's own alerting rules.", no_args_is_help=True)
heartbeat_app = typer.Typer(help="Dead-man's switches.", no_args_is_help=True)

LabelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        "-l",
        metavar="NAME=VALUE",
        help="a label (repeatable)",
        show_default=False,
    ),
]


@contextmanager
def alert_session(ctx: typer.Context) -> Iterator[AlertClient]:
    """A connected AlertService client; any CliError becomes `error: ...` and its code."""
    try:
        with connect_alerts(settings_of(ctx)) as client:
            yield client
    except CliError as error:
        fail(error)


def _pairs(values: list[str] | None, option: str = "--label") -> dict[str, str]:
    # Parsed here, not by a typer parser: typer cannot type a list of pairs.
    pairs: dict[str, str] = {}
    for text in values or []:
        try:
            name, value = parse_pair(text)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint=option) from None
        pairs[name] = value
    return pairs


# ---------------------------------------------------------------------- alert


@alert_app.command("send")
def alert_send(
    ctx: typer.Context,
    summary: Annotated[
        str, typer.Argument(help="what is wrong (required to trigger)", show_default=False)
    ] = "",
    severity: Annotated[
        AlertSeverity | None,
        typer.Option("--severity", "-s", case_sensitive=False, help="required to trigger"),
    ] = None,
    action: Annotated[
        AlertAction,
        typer.Option(
            case_sensitive=False,
            help="PagerDuty's event_action; acknowledge is for the sending tool: a token "
            "bound to a person is refused and acknowledges with `page ack INC-N`",
        ),
    ] = AlertAction.TRIGGER,
    dedup_key: Annotated[
        str | None,
        typer.Option(
            help="the alert's key; required to acknowledge or resolve (a trigger without "
            "one gets a key, printed)",
            show_default=False,
        ),
    ] = None,
    label: LabelOption = None,
    annotation: Annotated[
        list[str] | None,
        typer.Option(metavar="NAME=VALUE", help="an annotation (repeatable)"),
    ] = None,
    origin: Annotated[
        str | None, typer.Option(help="what is affected, e.g. a host (default: api)")
    ] = None,
    integration: Annotated[
        str | None,
        typer.Option(
            help="send as this integration (default: your token's own identity; a token "
            "scoped to integrations must name one)",
            show_default=False,
        ),
    ] = None,
    started_at: Annotated[
        datetime | None,
        typer.Option(parser=instant_parser, metavar="TIME", help="when it began (ISO 8601)"),
    ] = None,
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the dedup key")] = False,
) -> None:
    """Trigger, acknowledge or resolve an alert (PagerDuty Events v2 semantics)."""
    if action is AlertAction.TRIGGER and (severity is None or not summary.strip()):
        raise typer.BadParameter("a trigger needs a SUMMARY and --severity")
    if action is not AlertAction.TRIGGER and not dedup_key:
        raise typer.BadParameter(f"--dedup-key is required to {action.value}")
    key = new_key(idempotency_key)
    request = pb.SendAlertRequest(
        action=action.to_pb(),
        dedup_key=dedup_key or "",
        summary=summary,
        severity=severity.to_pb() if severity else "ALERT_SEVERITY_UNSPECIFIED",
        origin=origin or "",
        labels=_pairs(label),
        annotations=_pairs(annotation, "--annotation"),
        integration=integration or "",
        idempotency_key=key,
    )
    if started_at is not None:
        request.started_at.CopyFrom(to_timestamp(started_at))
    with alert_session(ctx) as client:
        answer = client.send(request)
    if quiet:
        typer.echo(answer.dedup_key)
        return
    if json_output:
        print_json(
            {
                "dedup_key": answer.dedup_key,
                "alert_id": answer.alert_id,
                "event_types": list(answer.event_types),
                "idempotency_key": key,
                "alert": alert_render.alert_json(answer.alert)
                if answer.HasField("alert")
                else None,
            }
        )
        return
    verb = {"trigger": "triggered", "acknowledge": "acknowledged", "resolve": "resolved"}
    message = f"{answer.dedup_key}: {verb[action.value]}"
    if answer.HasField("alert"):
        message += f", {alert_render.status_name(answer.alert.status)}"
        if answer.alert.suppressed_by:
            message += f", suppressed ({answer.alert.suppression_reason})"
    if not answer.event_types:
        message += " (no change: nothing recorded)"
    console().print(Text(message), soft_wrap=True)


@alert_app.command("list")
def alert_list(
    ctx: typer.Context,
    status: Annotated[
        list[AlertStatus] | None,
        typer.Option(case_sensitive=False, help="only these statuses (repeatable)"),
    ] = None,
    severity: Annotated[
        list[AlertSeverity] | None,
        typer.Option(case_sensitive=False, help="only these severities (repeatable)"),
    ] = None,
    label: LabelOption = None,
    integration: Annotated[
        str | None, typer.Option(help="only this integration id (or rule, heartbeat)")
    ] = None,
    paging: Annotated[
        bool, typer.Option("--paging", help="only alerts that page now (not suppressed)")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many")] = None,
    json_output: JsonOption = False,
    page_size: Annotated[
        int, typer.Option(min=1, max=500, hidden=True, help="alerts per API page")
    ] = 100,
) -> None:
    """List alerts, newest first, following every page."""
    request = pb.ListAlertsRequest(
        statuses=[s.to_pb() for s in status or []],
        severities=[s.to_pb() for s in severity or []],
        labels=_pairs(label),
        integration=integration or "",
        paging_only=paging,
    )
    with alert_session(ctx) as client:
        alerts = client.list_all(request, limit, page_size=page_size)
    if json_output:
        print_json([alert_render.alert_json(a) for a in alerts])
        return
    if not alerts:
        console(stderr=True).print("no alerts match")
        return
    console().print(alert_render.alert_table(alerts))


@alert_app.command("show")
def alert_show(
    ctx: typer.Context,
    alert: Annotated[
        str | None,
        typer.Argument(help="the alert id (or use --dedup-key)", show_default=False),
    ] = None,
    dedup_key: Annotated[
        str | None, typer.Option(help="find it by dedup key instead", show_default=False)
    ] = None,
    integration: Annotated[
        str | None,
        typer.Option(
            help="the integration id the dedup key belongs to (default: your token's)",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show one alert."""
    if bool(alert) == bool(dedup_key):
        raise typer.BadParameter("give an ALERT id or --dedup-key (one of them)")
    request = pb.GetAlertRequest(
        alert_id=alert or "", dedup_key=dedup_key or "", integration=integration or ""
    )
    with alert_session(ctx) as client:
        found = client.get(request).alert
    if json_output:
        print_json(alert_render.alert_json(found))
        return
    console().print(alert_render.alert_panel(found))


# ---------------------------------------------------------------------- silence


@silence_app.command("add")
def silence_add(
    ctx: typer.Context,
    matchers: Annotated[
        list[str],
        typer.Argument(
            help='label matchers, all must match: service="checkout" env!=dev job=~"api|web"',
            show_default=False,
        ),
    ],
    comment: Annotated[str, typer.Option(help="why, e.g. the maintenance ticket")],
    duration: Annotated[
        timedelta | None,
        typer.Option(parser=duration_parser, metavar="30m|2h|1d", help="how long"),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(parser=instant_parser, metavar="TIME", help="when it ends (ISO 8601)"),
    ] = None,
    starts: Annotated[
        datetime | None,
        typer.Option(parser=instant_parser, metavar="TIME", help="when it starts (default now)"),
    ] = None,
    idempotency_key: KeyOption = None,
    json_output: JsonOption = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the id")] = False,
) -> None:
    """Silence matching alerts: they are still recorded, but do not page."""
    if (duration is None) == (until is None):
        raise typer.BadParameter("give --duration or --until (one of them)")
    parsed = []
    for text in matchers:
        try:
            parsed.append(parse_matcher(text))
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="MATCHERS") from None
    key = new_key(idempotency_key)
    request = pb.CreateSilenceRequest(
        matchers=[pb.Matcher(name=m.name, operator=m.operator, value=m.value) for m in parsed],
        comment=comment,
        idempotency_key=key,
    )
    if duration is not None:
        request.duration.CopyFrom(to_duration(duration))
    if until is not None:
        request.ends_at.CopyFrom(to_timestamp(until))
    if starts is not None:
        request.starts_at.CopyFrom(to_timestamp(starts))
    with alert_session(ctx) as client:
        answer = client.create_silence(request)
    silence = answer.silence
    if quiet:
        typer.echo(silence.silence_id)
        return
    if json_output:
        print_json(
            {
                "silence": alert_render.silence_json(silence),
                "replayed": answer.replayed,
                "idempotency_key": key,
            }
        )
        return
    matched = " ".join(alert_render.matcher_text(m) for m in silence.matchers)
    message = (
        f"{silence.silence_id}: silenced {matched} until {alert_render.when(silence, 'ends_at')}"
    )
    if answer.replayed:
        message += f" (already created with idempotency key {key}: nothing new recorded)"
    console().print(Text(message), soft_wrap=True)


@silence_app.command("list")
def silence_list(
    ctx: typer.Context,
    include_all: Annotated[
        bool, typer.Option("--all", help="include expired and not-yet-active silences")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List active silences (--all: every silence)."""
    with alert_session(ctx) as client:
        silences = list(
            client.list_silences(pb.ListSilencesRequest(active_only=not include_all)).silences
        )
    if json_output:
        print_json([alert_render.silence_json(s) for s in silences])
        return
    if not silences:
        console(stderr=True).print("no silences" if include_all else "no active silences")
        return
    console().print(alert_render.silence_table(silences))


@silence_app.command("expire")
def silence_expire(
    ctx: typer.Context,
    silence_id: Annotated[str, typer.Argument(help="the silence's id", show_default=False)],
    json_output: JsonOption = False,
) -> None:
    """End a silence now; alerts it muted that still fire start paging."""
    with alert_session(ctx) as client:
        answer = client.expire_silence(pb.ExpireSilenceRequest(silence_id=silence_id.strip()))
    if json_output:
        print_json(
            {
                "silence": alert_render.silence_json(answer.silence),
                "event_types": list(answer.event_types),
            }
        )
        return
    lifted = sum(1 for t in answer.event_types if t == "AlertSuppressionLifted")
    if not answer.event_types:
        message = f"{silence_id}: already expired (nothing recorded)"
    else:
        message = f"{silence_id}: expired; {lifted} muted alert(s) now page"
    console().print(Text(message), soft_wrap=True)


# ---------------------------------------------------------------------- rule


@rule_app.command("list")
def rule_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List the active rules."""
    with alert_session(ctx) as client:
        rules = list(client.list_rules().rules)
    if json_output:
        print_json([alert_render.rule_json(r) for r in rules])
        return
    if not rules:
        console(stderr=True).print("no rules defined")
        return
    console().print(alert_render.rule_table(rules))


@rule_app.command("validate")
def rule_validate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="a rules YAML file (`rules:` list)", dir_okay=False)],
    json_output: JsonOption = False,
) -> None:
    """Check a rules file with the server's validator; defines nothing.

    Exit code 0 when valid, 1 with every problem listed when not."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(CliError(f"cannot read the rules file {file}: {error}", ExitCode.USAGE))
    with alert_session(ctx) as client:
        answer = client.validate_rules(pb.ValidateRulesRequest(yaml=text, source=str(file)))
    if json_output:
        print_json(
            {
                "valid": answer.valid,
                "problems": [
                    {
                        "rule_index": p.rule_index,
                        "rule_name": p.rule_name or None,
                        "field": p.field or None,
                        "message": p.message,
                    }
                    for p in answer.problems
                ],
                "rules": [alert_render.rule_json(r) for r in answer.rules],
            }
        )
    elif answer.valid:
        names = ", ".join(r.name for r in answer.rules)
        console().print(Text(f"{file}: {len(answer.rules)} rule(s) valid: {names}"))
    else:
        for problem in answer.problems:
            typer.echo(problem.message, err=True)
    if not answer.valid:
        fail(CliError(f"{file}: {len(answer.problems)} problem(s)", ExitCode.SERVER_ERROR))


# ---------------------------------------------------------------------- heartbeat


@heartbeat_app.command("add")
def heartbeat_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="a-z, 0-9, '.', '_', '-'", show_default=False)],
    interval: Annotated[
        timedelta,
        typer.Option(parser=duration_parser, metavar="5m", help="a ping is expected this often"),
    ],
    grace: Annotated[
        timedelta | None,
        typer.Option(parser=duration_parser, metavar="1m", help="extra slack before alerting"),
    ] = None,
    label: LabelOption = None,
    json_output: JsonOption = False,
) -> None:
    """Create a heartbeat monitor: a missed ping raises an alert, the next resolves it.

    Running it again with the same definition changes nothing."""
    request = pb.CreateHeartbeatRequest(
        name=name, interval=to_duration(interval), labels=_pairs(label)
    )
    if grace is not None:
        request.grace.CopyFrom(to_duration(grace))
    with alert_session(ctx) as client:
        answer = client.create_heartbeat(request)
    if json_output:
        print_json(
            {"heartbeat": alert_render.heartbeat_json(answer.heartbeat), "created": answer.created}
        )
        return
    deadline = alert_render.when(answer.heartbeat, "deadline")
    message = f"{name}: " + (
        f"created; first ping due by {deadline}"
        if answer.created
        else "already exists with this definition (nothing recorded)"
    )
    console().print(Text(message), soft_wrap=True)


@heartbeat_app.command("list")
def heartbeat_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List heartbeat monitors and whether they were missed."""
    with alert_session(ctx) as client:
        heartbeats = list(client.list_heartbeats().heartbeats)
    if json_output:
        print_json([alert_render.heartbeat_json(h) for h in heartbeats])
        return
    if not heartbeats:
        console(stderr=True).print("no heartbeat monitors")
        return
    console().print(alert_render.heartbeat_table(heartbeats))


@heartbeat_app.command("ping")
def heartbeat_ping(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the monitor", show_default=False)],
    json_output: JsonOption = False,
) -> None:
    """Check in (what the monitored job does when it finishes)."""
    with alert_session(ctx) as client:
        answer = client.ping_heartbeat(pb.PingHeartbeatRequest(name=name))
    if json_output:
        print_json(
            {
                "heartbeat": alert_render.heartbeat_json(answer.heartbeat),
                "event_types": list(answer.event_types),
            }
        )
        return
    message = f"{name}: pinged; next due by {alert_render.when(answer.heartbeat, 'deadline')}"
    if "AlertResolved" in answer.event_types:
        message += "; its missed-heartbeat alert resolved"
    console().print(Text(message), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(alert_app, name="alert")
    app.add_typer(silence_app, name="silence")
    app.add_typer(rule_app, name="rule")
    app.add_typer(heartbeat_app, name="heartbeat")
