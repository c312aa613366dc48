"""`incidentctl check`: synthetic checks on the detection service (ADR 0021).

    check define FILE      one check as YAML or JSON (`-` reads stdin); again = no-op
    check list             every check, its recorded status and latest run
    check run-once NAME    probe now and print each step with its timing
    check results NAME     recent runs (the writer's in-memory ring), oldest first, then
                           the recorded outcomes and summaries from the log
    check remove NAME

Talks to AlertService with the alert commands' server, token, TLS, retry, --json and
exit-code conventions (alerting.alert_session). Registered on main.app by main.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from google.protobuf.json_format import MessageToDict
from rich.table import Table
from rich.text import Text

from firewatch.alert.v1 import alert_pb2 as pb
from incidentctl import alert_render
from incidentctl.alerting import alert_session
from incidentctl.errors import CliError, ExitCode
from incidentctl.options import JsonOption, fail, print_json
from incidentctl.render import console
from incidentctl.values import enum_name

check_app = typer.Typer(help="Synthetic checks: probe services from outside.", no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="the check's name", show_default=False)]


def outcome_name(value: int) -> str:
    if value == pb.CHECK_OUTCOME_UNSPECIFIED:
        return "not run yet"
    return enum_name(pb.CheckOutcome, "CHECK_OUTCOME_", value, lower=True)


def _json(message: Any) -> Any:
    return MessageToDict(message, preserving_proto_field_name=True)


def _steps(result: pb.CheckResult) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("step", "result", "time", "status", "detail"):
        table.add_column(column, justify="right" if column == "time" else "left")
    for step in result.steps:
        table.add_row(
            Text(step.name),
            Text("ok" if step.ok else "FAILED", style="green" if step.ok else "bold red"),
            f"{step.duration_ms:.1f} ms",
            str(step.status_code or ""),
            Text(step.detail),
        )
    return table


@check_app.command("define")
def check_define(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="YAML or JSON file, or - for stdin")],
    json_output: JsonOption = False,
) -> None:
    """Define (or redefine) a check. The same definition again records nothing."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        fail(CliError(f"{file}: {exc.strerror or exc}", ExitCode.USAGE))
    with alert_session(ctx) as client:
        answer = client.define_check(text)
    if json_output:
        print_json({"check": _json(answer.check), "changed": answer.changed})
        return
    name = answer.check.name
    message = (
        f"{name}: defined ({answer.check.kind}, every {answer.check.interval.seconds}s); "
        f"alerts through rule synthetic:{name}"
        if answer.changed
        else f"{name}: already defined like this (nothing recorded)"
    )
    console().print(Text(message), soft_wrap=True)


@check_app.command("list")
def check_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Every check with its recorded status and its latest run."""
    with alert_session(ctx) as client:
        checks = list(client.list_checks().checks)
    if json_output:
        print_json([_json(c) for c in checks])
        return
    if not checks:
        console(stderr=True).print("no checks")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("name", "kind", "every", "status", "since", "failing since", "last run"):
        table.add_column(column)
    for c in checks:
        last = c.last_result
        table.add_row(
            Text(c.name),
            c.kind,
            f"{c.interval.seconds}s",
            outcome_name(c.status),
            alert_render.when(c, "status_since"),
            alert_render.when(c, "first_failed_at", ""),
            f"{outcome_name(last.outcome)} in {last.total_ms:.0f} ms"
            if c.HasField("last_result")
            else "-",
        )
    console().print(table)


@check_app.command("run-once")
def check_run_once(ctx: typer.Context, name: NameArgument, json_output: JsonOption = False) -> None:
    """Probe a check now and print each step with its timing. Exit 1 if it failed."""
    with alert_session(ctx) as client:
        answer = client.run_check(name)
    result = answer.result
    if json_output:
        print_json({"result": _json(result), "recorded": answer.recorded})
    else:
        console().print(_steps(result))
        summary = (
            f"{name}: {outcome_name(result.outcome)} in {result.total_ms:.1f} ms "
            f"({result.steps_reached} of {len(result.steps)} steps passed)"
        )
        console().print(Text(summary), soft_wrap=True)
    if result.outcome != pb.CHECK_OUTCOME_UP:
        raise typer.Exit(1)


@check_app.command("results")
def check_results(
    ctx: typer.Context,
    name: NameArgument,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="most recent runs")] = 20,
    history: Annotated[
        int, typer.Option(min=1, max=24 * 400, help="hours of recorded outcomes to show")
    ] = 24,
    json_output: JsonOption = False,
) -> None:
    """Recent runs (the writer's memory), the recorded outcomes and hourly summaries
    (the log: they survive restarts), and when the current failure began."""
    with alert_session(ctx) as client:
        answer = client.check_results(name, limit, history)
    if json_output:
        print_json(
            {
                "check": _json(answer.check),
                "results": [_json(r) for r in answer.results],
                "intervals": [_json(i) for i in answer.intervals],
                "summaries": [_json(s) for s in answer.summaries],
            }
        )
        return
    table = Table(box=None, pad_edge=False)
    for column in ("at", "result", "time", "failing step", "detail"):
        table.add_column(column)
    for r in answer.results:
        failing = next((s for s in r.steps if not s.ok), None)
        table.add_row(
            alert_render.when(r, "at"),
            outcome_name(r.outcome),
            f"{r.total_ms:.1f} ms",
            Text(failing.name if failing else ""),
            Text(failing.detail if failing else ""),
        )
    console().print(table)
    if answer.intervals:
        recorded = Table(box=None, pad_edge=False, title=f"recorded outcomes, last {history} h")
        for column in ("from", "until", "result", "failing step", "detail"):
            recorded.add_column(column)
        for i in answer.intervals:
            recorded.add_row(
                alert_render.when(i, "start"),
                alert_render.when(i, "end") if i.HasField("end") else "now",
                outcome_name(i.outcome),
                Text(i.failing_step),
                Text(i.detail),
            )
        console().print(recorded)
    if answer.summaries:
        runs = sum(s.runs for s in answer.summaries)
        down = sum(s.down for s in answer.summaries)
        console().print(
            Text(f"{len(answer.summaries)} summaries: {runs} runs, {down} down"), soft_wrap=True
        )
    status = outcome_name(answer.check.status)
    line = f"{name}: {status} since {alert_render.when(answer.check, 'status_since')}"
    if answer.check.HasField("first_failed_at"):
        line += f"; first failed at {alert_render.when(answer.check, 'first_failed_at')}"
    console().print(Text(line), soft_wrap=True)


@check_app.command("remove")
def check_remove(ctx: typer.Context, name: NameArgument) -> None:
    """Stop running a check (its rule goes too; its history stays in the log)."""
    with alert_session(ctx) as client:
        client.remove_check(name)
    console().print(Text(f"{name}: removed"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(check_app, name="check")
