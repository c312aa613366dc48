"""How incidents, outcomes and events look: rich tables for people, JSON for programs.

Owns the JSON shape of `--json` output (CLI vocabulary: "P1", "investigating",
ISO 8601 UTC times; event data parsed from the log's canonical JSON) and the tables
people read. A table never cuts a word with "…": when its columns do not fit the
terminal (80 columns, or a pipe, which rich treats as 80), it switches to a narrow
layout that stacks cells instead (`Fitted`). What each event says in words is
sentences.py's job.

User-supplied text (titles, notes) is always wrapped in rich `Text`, never parsed as
console markup: a note saying "[red]" must print as typed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group
from rich.table import Table
from rich.text import Text

from firewatch.eventlog.v1 import event_pb2
from firewatch.incident.v1 import incident_pb2 as pb
from incidentctl import sentences
from incidentctl.values import (
    format_instant,
    from_timestamp,
    kind_name,
    severity_name,
    status_name,
)

Json = dict[str, Any]


# ---------------------------------------------------------------------- JSON


def _instant(message: Any, field: str) -> str | None:
    """Full precision, for JSON."""
    if not message.HasField(field):
        return None
    return format_instant(from_timestamp(getattr(message, field)))


def _when(message: Any, field: str, missing: str = "-") -> str:
    """To the second, for people: microseconds only crowd a table out of the terminal.
    To read at an exact event, `--as-of @<pos>` is the precise handle."""
    if not message.HasField(field):
        return missing
    return format_instant(from_timestamp(getattr(message, field)).replace(microsecond=0))


def incident_json(incident: pb.Incident) -> Json:
    return {
        "incident_id": incident.incident_id,
        "reference": incident.reference,
        "number": incident.number,
        "title": incident.title,
        "severity": severity_name(incident.severity),
        "status": status_name(incident.status),
        "services": list(incident.services),
        "source_alerts": list(incident.source_alerts),
        "commander": incident.commander or None,
        "declared_by": incident.declared_by,
        "declared_at": _instant(incident, "declared_at"),
        "resolved_at": _instant(incident, "resolved_at"),
        "resolution_summary": incident.resolution_summary or None,
        "root_cause_pending": incident.root_cause_pending,
        "paging_alert": incident.paging_alert or None,
        "mitigations": [
            {
                "kind": kind_name(m.kind),
                "description": m.description,
                "temporary": m.temporary,
                "applied_by": m.applied_by,
                "applied_at": _instant(m, "applied_at"),
            }
            for m in incident.mitigations
        ],
        "reopen_count": incident.reopen_count,
        "last_changed_at": _instant(incident, "last_changed_at"),
        "version": incident.version,
        "position": incident.position,
    }


def outcome_json(outcome: pb.CommandOutcome, idempotency_key: str) -> Json:
    return {
        "incident_id": outcome.incident_id,
        "reference": outcome.reference,
        "version": outcome.version,
        "position": outcome.position,
        "event_types": list(outcome.event_types),
        "replayed": outcome.replayed,
        # Echoed so a script can repeat the exact command safely.
        "idempotency_key": idempotency_key,
    }


def event_data(event: event_pb2.LogEvent) -> Any:
    try:
        return json.loads(event.data_json) if event.data_json else {}
    except ValueError:
        # Never lose an event over its payload: show the raw text instead.
        return event.data_json


def event_json(event: event_pb2.LogEvent) -> Json:
    return {
        "position": event.position,
        "type": event.type,
        "stream": event.stream,
        "version": event.version,
        "event_id": event.event_id,
        "schema_version": event.schema_version,
        "actor": event.actor or None,
        # The API token the actor used (ADR 0017): audit wants both.
        "credential": event.credential or None,
        "occurred_at": _instant(event, "occurred_at"),
        "recorded_at": _instant(event, "recorded_at"),
        "correlation_id": event.correlation_id or None,
        "causation_id": event.causation_id or None,
        "data": event_data(event),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


# ---------------------------------------------------------------------- event summaries


def summarize(event: event_pb2.LogEvent) -> str:
    """One line saying what the event recorded, for any event type (sentences.py)."""
    return sentences.sentence(event.type, event_data(event), event.version)


def data_lines(event: event_pb2.LogEvent) -> list[str]:
    """`-v`: every field of the event's data, one `path: value` line each, so nested
    data (a policy's levels) reads without a JSON parser and wraps in a narrow column."""
    lines: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and value:
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        else:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"{path}: {shown}" if path else shown)

    walk(event_data(event), "")
    return lines


def event_time(event: event_pb2.LogEvent) -> str:
    return _when(event, "recorded_at", missing="")


def watch_line(event: event_pb2.LogEvent, reference: str) -> str:
    """The single line `watch` prints per event: plain text, grep- and pipe-friendly."""
    return "  ".join(
        part
        for part in (
            event_time(event),
            f"#{event.position}",
            reference,
            event.type,
            event.actor or "-",
            summarize(event),
        )
        if part
    )


# ---------------------------------------------------------------------- rich


def console(*, stderr: bool = False) -> Console:
    # Built per command so CliRunner's replaced streams and COLUMNS are honoured.
    return Console(stderr=stderr, highlight=False, emoji=False)


def incident_panel(incident: pb.Incident, *, as_of: str | None = None) -> Group:
    """`show`: the incident's fields, then its mitigations."""
    heading = Text(f"{incident.reference}  ", style="bold")
    heading.append(incident.title)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows: list[tuple[str, str]] = [
        ("severity", severity_name(incident.severity)),
        ("status", status_name(incident.status)),
        ("commander", incident.commander or "(none assigned)"),
        ("services", ", ".join(incident.services)),
        ("alerts", ", ".join(incident.source_alerts) or "-"),
        ("declared", f"{_when(incident, 'declared_at')} by {incident.declared_by}"),
    ]
    if incident.HasField("resolved_at"):
        rows.append(("resolved", _when(incident, "resolved_at")))
        rows.append(("summary", incident.resolution_summary))
    if incident.root_cause_pending:
        rows.append(("root cause", "PENDING: resolved on temporary mitigations only"))
    if incident.reopen_count:
        rows.append(("reopened", f"{incident.reopen_count} time(s)"))
    rows.append(("last change", _when(incident, "last_changed_at")))
    rows.append(("id", incident.incident_id))
    read_at = f"version {incident.version}, log position {incident.position}"
    rows.append(("read at", f"{read_at} (as of {as_of})" if as_of else read_at))
    for label, value in rows:
        facts.add_row(label, Text(value))
    parts: list[Any] = [heading, facts]
    if incident.mitigations:
        table = _table()
        table.title, table.title_justify = "mitigations", "left"
        for column in ("applied at", "kind", "lasting"):
            table.add_column(column, no_wrap=True)
        table.add_column("by", overflow="fold")
        table.add_column("description", overflow="fold", min_width=16)
        for m in incident.mitigations:
            table.add_row(
                _when(m, "applied_at"),
                kind_name(m.kind),
                "temporary" if m.temporary else "permanent",
                Text(m.applied_by),
                Text(m.description),
            )
        parts.append(table)
    return Group(*parts)


def _table() -> Table:
    # Rules under the header only: box edges cost columns an 80-wide terminal (or a
    # pipe, which rich treats as 80 wide) needs for the text people came to read.
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)


COLUMN_GAP = 2
"""What `_table()` puts between two columns."""


def span(widths: Sequence[int]) -> int:
    """The width of a `_table()` whose columns are this wide."""
    return sum(widths) + COLUMN_GAP * (len(widths) - 1)


def widest(header: str, cells: Iterable[str]) -> int:
    """The width a no-wrap column needs for its header and every cell."""
    return max([cell_len(header), *map(cell_len, cells)])


@dataclass(frozen=True)
class Fitted:
    """A table in two layouts, chosen when printed, once the width is known: `wide`
    (one line per row) when `wide_width` columns fit, else `narrow` (cells stacked).

    Rich squeezes a table that is too wide by cutting its no-wrap cells with "…",
    which would cut the event types, references and ids people need; the narrow
    layout is built to fit 80 columns without that."""

    wide: Table
    wide_width: int
    narrow: Table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Table]:
        yield self.wide if self.wide_width <= options.max_width else self.narrow


TITLE_MIN = 24
SERVICES_MAX = 24
COMMANDER_MAX = 16


def _services(incident: pb.Incident) -> str:
    return ", ".join(incident.services)


def incident_table(incidents: Sequence[pb.Incident]) -> Fitted:
    """`list`: one row per incident; on a narrow terminal the title, services and
    commander share one stacked column."""
    wide = _table()
    for column in ("ref", "sev", "status", "declared at"):
        wide.add_column(column, no_wrap=True)
    wide.add_column("title", overflow="fold", min_width=TITLE_MIN)
    wide.add_column("services", overflow="fold", max_width=SERVICES_MAX)
    # The incident commander, as responders say it.
    wide.add_column("IC", overflow="fold", max_width=COMMANDER_MAX)
    narrow = _table()
    for column in ("ref", "sev", "status"):
        narrow.add_column(column, no_wrap=True)
    narrow.add_column("incident", overflow="fold")
    for incident in incidents:
        ref, sev = incident.reference, severity_name(incident.severity)
        status, declared = status_name(incident.status), _when(incident, "declared_at")
        services, commander = _services(incident), incident.commander or "-"
        title = _title_with_paging_alert(incident)
        wide.add_row(ref, sev, status, declared, title, Text(services), Text(commander))
        about = _title_with_paging_alert(incident)
        about.append(f"\ndeclared {declared} for {services}; ", style="dim")
        about.append(f"IC {incident.commander}" if incident.commander else "no IC yet", style="dim")
        narrow.add_row(ref, sev, status, about)
    fixed = [
        widest("ref", (i.reference for i in incidents)),
        widest("sev", (severity_name(i.severity) for i in incidents)),
        widest("status", (status_name(i.status) for i in incidents)),
        widest("declared at", (_when(i, "declared_at") for i in incidents)),
        TITLE_MIN,
        min(SERVICES_MAX, widest("services", map(_services, incidents))),
        min(COMMANDER_MAX, widest("IC", (i.commander or "-" for i in incidents))),
    ]
    return Fitted(wide, span(fixed), narrow)


def _title_with_paging_alert(incident: pb.Incident) -> Text:
    """The title, led by a loud marker when paging reached nobody: that incident has no
    responder, and the list is where someone looking for trouble looks first."""
    if not incident.paging_alert:
        return Text(incident.title)
    return Text.assemble(("NOBODY PAGED ", "bold red"), incident.title)


SUMMARY_MIN = 30
ACTOR_MAX = 24


def _summary(event: event_pb2.LogEvent, verbose: bool) -> Text:
    text = Text(summarize(event))
    if verbose:
        for line in data_lines(event):
            text.append("\n" + line, style="dim")
    return text


def timeline_table(events: Sequence[event_pb2.LogEvent], *, verbose: bool = False) -> Fitted:
    """`timeline`: one row per event, in log order; on a narrow terminal the type,
    actor and sentence share one stacked column. `verbose` adds each event's data."""
    wide = _table()
    wide.add_column("pos", justify="right", no_wrap=True)
    wide.add_column("time", no_wrap=True)
    wide.add_column("type", no_wrap=True)
    wide.add_column("actor", overflow="fold", max_width=ACTOR_MAX)
    wide.add_column("summary", overflow="fold")
    narrow = _table()
    narrow.add_column("pos", justify="right", no_wrap=True)
    narrow.add_column("time", no_wrap=True)
    narrow.add_column("event", overflow="fold")
    for event in events:
        position, time, actor = str(event.position), event_time(event), event.actor or "-"
        wide.add_row(position, time, event.type, Text(actor), _summary(event, verbose))
        what = Text(event.type, style="bold")
        what.append(f" by {event.actor}\n" if event.actor else "\n")
        what.append_text(_summary(event, verbose))
        narrow.add_row(position, time, what)
    fixed = [
        widest("pos", (str(e.position) for e in events)),
        widest("time", map(event_time, events)),
        widest("type", (e.type for e in events)),
        min(ACTOR_MAX, widest("actor", (e.actor or "-" for e in events))),
        SUMMARY_MIN,
    ]
    return Fitted(wide, span(fixed), narrow)
