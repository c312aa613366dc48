"""How incidents, outcomes and events look: rich tables for people, JSON for programs.

Owns the JSON shape of `--json` output (CLI vocabulary: "P1", "investigating",
ISO 8601 UTC times; event data parsed from the log's canonical JSON) and the one-line
summary of each event type used by `timeline` and `watch`.

User-supplied text (titles, notes) is always wrapped in rich `Text`, never parsed as
console markup: a note saying "[red]" must print as typed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from firewatch.eventlog.v1 import event_pb2
from firewatch.incident.v1 import incident_pb2 as pb
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


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


def _with(main: str, extra: str, joiner: str = ": ") -> str:
    return f"{main}{joiner}{extra}" if extra else main


def _declared(d: dict[str, Any]) -> str:
    services = ", ".join(str(s) for s in d.get("services") or [])
    return f"{_text(d, 'severity')} {_text(d, 'title')!r}" + (f" [{services}]" if services else "")


def _commander(d: dict[str, Any]) -> str:
    previous = _text(d, "previous_commander")
    return f"commander {_text(d, 'commander')}" + (f" (was {previous})" if previous else "")


def _mitigation(d: dict[str, Any]) -> str:
    lasting = "temporary" if d.get("temporary") else "permanent"
    return f"{_text(d, 'kind')} ({lasting}): {_text(d, 'description')}"


def _resolved(d: dict[str, Any]) -> str:
    pending = " (root cause pending)" if d.get("root_cause_pending") else ""
    return f"{_text(d, 'summary')}{pending}"


_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "IncidentDeclared": _declared,
    "CommanderAssigned": _commander,
    "SeverityChanged": lambda d: _with(
        f"{_text(d, 'from_severity')} → {_text(d, 'to_severity')}", _text(d, "reason")
    ),
    "StatusChanged": lambda d: _with(
        f"{_text(d, 'from_status')} → {_text(d, 'to_status')}", _text(d, "note")
    ),
    "TimelineNoteAdded": lambda d: _text(d, "text"),
    "MitigationApplied": _mitigation,
    "IncidentResolved": _resolved,
    "RootCauseFollowUpRequired": lambda d: _text(d, "reason"),
    "IncidentReopened": lambda d: _text(d, "reason"),
}

# Who/when fields repeat the actor and time columns; ids mean nothing to a reader.
_NOISE_SUFFIXES = ("_at", "_by", "_id")


def summarize(event: event_pb2.LogEvent) -> str:
    """One line saying what the event recorded, for any event type.

    Types of other services (correlated into an incident's timeline) fall back to
    their data's key=value pairs."""
    data = event_data(event)
    if not isinstance(data, dict):
        return str(data)
    known = _SUMMARIES.get(event.type)
    if known is not None:
        return " ".join(known(data).split())
    pairs = (
        f"{key}={value}"
        for key, value in data.items()
        if not key.endswith(_NOISE_SUFFIXES) and value not in (None, "", [], {})
    )
    return " ".join(" ".join(pairs).split())


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
        for column in ("applied at", "kind", "lasting", "by", "description"):
            table.add_column(column)
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


def incident_table(incidents: Iterable[pb.Incident]) -> Table:
    """`list`: one row per incident."""
    table = _table()
    for column in ("ref", "sev", "status", "declared at"):
        table.add_column(column, no_wrap=True)
    table.add_column("title", overflow="fold", min_width=12)
    table.add_column("services", overflow="fold")
    table.add_column("IC", overflow="fold")  # the incident commander, as responders say
    for incident in incidents:
        table.add_row(
            incident.reference,
            severity_name(incident.severity),
            status_name(incident.status),
            _when(incident, "declared_at"),
            _title_with_paging_alert(incident),
            Text(", ".join(incident.services)),
            Text(incident.commander or "-"),
        )
    return table


def _title_with_paging_alert(incident: pb.Incident) -> Text:
    """The title, led by a loud marker when paging reached nobody: that incident has no
    responder, and the list is where someone looking for trouble looks first."""
    if not incident.paging_alert:
        return Text(incident.title)
    return Text.assemble(("NOBODY PAGED ", "bold red"), incident.title)


def timeline_table(events: Iterable[event_pb2.LogEvent]) -> Table:
    """`timeline`: one row per event, in log order."""
    table = _table()
    table.add_column("pos", justify="right", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("actor", no_wrap=True)
    table.add_column("summary", overflow="fold")
    for event in events:
        table.add_row(
            str(event.position),
            event_time(event),
            event.type,
            Text(event.actor or "-"),
            Text(summarize(event)),
        )
    return table
