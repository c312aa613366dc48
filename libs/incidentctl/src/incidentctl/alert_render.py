"""How alerts, silences, rules and heartbeats look: rich tables for people, JSON for
programs (CLI vocabulary: "critical", "firing", "=~", "2m", ISO 8601 UTC times).

Label values, summaries and comments come from monitoring tools and people: always
wrapped in rich `Text`, never parsed as console markup. Like render.py's tables, the
list tables have a narrow layout for 80 columns that stacks cells rather than cutting
dedup keys, ids or names with "…" (`render.Fitted`).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from firewatch.alert.v1 import alert_pb2 as pb
from incidentctl.render import Fitted, Json, _instant, _table, _when, span, widest
from incidentctl.values import MATCH_OP_TEXT, enum_name, format_duration


def when(message: Any, field: str, missing: str = "-") -> str:
    """A timestamp field to the second, for people."""
    return _when(message, field, missing)


def severity_name(value: int) -> str:
    return enum_name(pb.AlertSeverity, "ALERT_SEVERITY_", value, lower=True)


def status_name(value: int) -> str:
    return enum_name(pb.AlertStatus, "ALERT_STATUS_", value, lower=True)


def source_name(value: int) -> str:
    return enum_name(pb.AlertSource, "ALERT_SOURCE_", value, lower=True)


def labels_text(labels: Any) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def matcher_text(matcher: pb.Matcher) -> str:
    op = MATCH_OP_TEXT.get(pb.MatchOperator.Name(matcher.operator), "?")
    return f'{matcher.name}{op}"{matcher.value}"'


def _paging(alert: pb.Alert) -> str:
    if alert.status != pb.ALERT_STATUS_FIRING:
        return "-"
    if alert.suppressed_by:
        return "suppressed"
    if alert.flapping:
        return "flapping"
    return "paging"


def alert_json(alert: pb.Alert) -> Json:
    return {
        "alert_id": alert.alert_id,
        "dedup_key": alert.dedup_key,
        "integration": alert.integration,
        "source": source_name(alert.source),
        "status": status_name(alert.status),
        "severity": severity_name(alert.severity),
        "summary": alert.summary,
        "labels": dict(sorted(alert.labels.items())),
        "annotations": dict(sorted(alert.annotations.items())),
        "occurrence": alert.occurrence,
        "pending_at": _instant(alert, "pending_at"),
        "started_at": _instant(alert, "started_at"),
        "fired_at": _instant(alert, "fired_at"),
        "resolved_at": _instant(alert, "resolved_at"),
        "resolve_reason": alert.resolve_reason or None,
        "acknowledged_by": alert.acknowledged_by or None,
        "acknowledged_at": _instant(alert, "acknowledged_at"),
        "suppressed_by": alert.suppressed_by or None,
        "suppression_reason": alert.suppression_reason or None,
        "flapping": alert.flapping,
        "auto_resolve_at": _instant(alert, "auto_resolve_at"),
        "group_id": alert.group_id or None,
    }


def silence_json(silence: pb.Silence) -> Json:
    return {
        "silence_id": silence.silence_id,
        "matchers": [matcher_text(m) for m in silence.matchers],
        "starts_at": _instant(silence, "starts_at"),
        "ends_at": _instant(silence, "ends_at"),
        "comment": silence.comment,
        "created_by": silence.created_by,
        "created_at": _instant(silence, "created_at"),
        "expired_at": _instant(silence, "expired_at"),
        "expired_by": silence.expired_by or None,
        "active": silence.active,
    }


_COMPARISONS = {1: ">", 2: ">=", 3: "<", 4: "<=", 5: "==", 6: "!="}


def _selector(selector: pb.SeriesSelector) -> str:
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(selector.labels.items()))
    return f"{selector.name}{{{labels}}}" if labels else selector.name


def rule_expression(rule: pb.Rule) -> str:
    comparison = _COMPARISONS.get(rule.comparison, "?")
    window = format_duration(rule.window)
    if rule.kind == pb.RULE_KIND_RATIO:
        body = f"{_selector(rule.numerator)} / {_selector(rule.denominator)}"
        head = "ratio"
    else:
        body = _selector(rule.series)
        head = enum_name(pb.Aggregation, "AGGREGATION_", rule.aggregation, lower=True)
    return f"{head}({body}[{window}]) {comparison} {rule.threshold:g}"


def rule_json(rule: pb.Rule) -> Json:
    return {
        "name": rule.name,
        "kind": enum_name(pb.RuleKind, "RULE_KIND_", rule.kind, lower=True),
        "expression": rule_expression(rule),
        "for": format_duration(rule.for_duration),
        "keep_firing_for": format_duration(rule.keep_firing_for),
        "severity": severity_name(rule.severity),
        "labels": dict(sorted(rule.labels.items())),
        "annotations": dict(sorted(rule.annotations.items())),
        "group_by": list(rule.group_by),
    }


def heartbeat_json(heartbeat: pb.Heartbeat) -> Json:
    return {
        "name": heartbeat.name,
        "interval": format_duration(heartbeat.interval),
        "grace": format_duration(heartbeat.grace),
        "labels": dict(sorted(heartbeat.labels.items())),
        "created_at": _instant(heartbeat, "created_at"),
        "last_ping_at": _instant(heartbeat, "last_ping_at"),
        "deadline": _instant(heartbeat, "deadline"),
        "missed": heartbeat.missed,
    }


SUMMARY_MIN = 16
LABELS_MIN = 16
MATCHERS_MIN = 24


def alert_table(alerts: list[pb.Alert]) -> Fitted:
    """`alert list`; on a narrow terminal the time and state stack in one column and
    the dedup key, summary and labels in another."""
    wide = _table()
    # The dedup key is what `alert show --dedup-key` takes: whole, on one line.
    for column in ("status", "sev", "paging", "fired at", "dedup key"):
        wide.add_column(column, no_wrap=True)
    wide.add_column("summary", overflow="fold", min_width=SUMMARY_MIN)
    wide.add_column("labels", overflow="fold")
    narrow = _table()
    narrow.add_column("fired at, state", no_wrap=True)
    narrow.add_column("dedup key, summary, labels", overflow="fold")
    for alert in alerts:
        status, severity, paging = (
            status_name(alert.status),
            severity_name(alert.severity),
            _paging(alert),
        )
        fired = _when(alert, "fired_at", _when(alert, "pending_at"))
        labels = labels_text(alert.labels)
        wide.add_row(
            status,
            severity,
            paging,
            fired,
            Text(alert.dedup_key),
            Text(alert.summary),
            Text(labels),
        )
        about = Text(alert.dedup_key, style="bold")
        about.append("\n")
        about.append(alert.summary)
        about.append(f"\n{labels}" if labels else "", style="dim")
        narrow.add_row(f"{fired}\n{status} {severity}\n{paging}", about)
    fixed = [
        widest("status", (status_name(a.status) for a in alerts)),
        widest("sev", (severity_name(a.severity) for a in alerts)),
        widest("paging", map(_paging, alerts)),
        widest("fired at", (_when(a, "fired_at", _when(a, "pending_at")) for a in alerts)),
        widest("dedup key", (a.dedup_key for a in alerts)),
        SUMMARY_MIN,
        LABELS_MIN,
    ]
    return Fitted(wide, span(fixed), narrow)


def alert_panel(alert: pb.Alert) -> Group:
    heading = Text(f"{status_name(alert.status)} {severity_name(alert.severity)}  ", style="bold")
    heading.append(alert.summary)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows = [
        ("dedup key", alert.dedup_key),
        ("integration", f"{alert.integration} ({source_name(alert.source)})"),
        ("labels", labels_text(alert.labels) or "-"),
        ("paging", _paging(alert)),
    ]
    if alert.suppressed_by:
        rows.append(("suppressed", alert.suppression_reason or alert.suppressed_by))
    if alert.HasField("pending_at"):
        rows.append(("pending", _when(alert, "pending_at")))
    rows += [
        ("started", _when(alert, "started_at")),
        ("fired", f"{_when(alert, 'fired_at')} (occurrence {alert.occurrence})"),
    ]
    if alert.acknowledged_by:
        rows.append(("acked", f"{_when(alert, 'acknowledged_at')} by {alert.acknowledged_by}"))
    if alert.HasField("resolved_at"):
        rows.append(("resolved", f"{_when(alert, 'resolved_at')} ({alert.resolve_reason})"))
    if alert.HasField("auto_resolve_at"):
        rows.append(("auto-resolves", _when(alert, "auto_resolve_at")))
    for name, value in sorted(alert.annotations.items()):
        rows.append((f"  {name}", value))
    rows += [("group", alert.group_id or "-"), ("id", alert.alert_id)]
    for label, value in rows:
        facts.add_row(label, Text(value))
    return Group(heading, facts)


def _silence_state(silence: pb.Silence) -> str:
    # Not active and never expired: it starts later, or ended and awaits the ticker.
    if silence.active:
        return "active"
    return "expired" if silence.HasField("expired_at") else "inactive"


def silence_table(silences: list[pb.Silence]) -> Fitted:
    """`silence list`; on a narrow terminal the id (what `silence expire` takes) keeps
    its own column, with state and end under it, and the rest stacks beside it."""
    wide = _table()
    for column in ("id", "state", "ends at", "by"):
        wide.add_column(column, no_wrap=True)
    wide.add_column("matchers", overflow="fold", min_width=MATCHERS_MIN)
    wide.add_column("comment", overflow="fold", min_width=SUMMARY_MIN)
    narrow = _table()
    narrow.add_column("id, state", no_wrap=True)
    narrow.add_column("matchers, comment", overflow="fold")
    for silence in silences:
        state, ends = _silence_state(silence), _when(silence, "ends_at")
        matchers = " ".join(matcher_text(m) for m in silence.matchers)
        wide.add_row(
            silence.silence_id,
            state,
            ends,
            Text(silence.created_by),
            Text(matchers),
            Text(silence.comment),
        )
        about = Text(matchers, style="bold")
        about.append(f"\n{silence.comment}\n")
        about.append(f"by {silence.created_by}", style="dim")
        narrow.add_row(f"{silence.silence_id}\n{state} until {ends}", about)
    fixed = [
        widest("id", (s.silence_id for s in silences)),
        widest("state", map(_silence_state, silences)),
        widest("ends at", (_when(s, "ends_at") for s in silences)),
        widest("by", (s.created_by for s in silences)),
        MATCHERS_MIN,
        SUMMARY_MIN,
    ]
    return Fitted(wide, span(fixed), narrow)


def rule_table(rules: list[pb.Rule]) -> Table:
    table = _table()
    table.add_column("name", no_wrap=True)
    table.add_column("sev", no_wrap=True)
    table.add_column("for", no_wrap=True)
    table.add_column("expression", overflow="fold")
    for rule in rules:
        table.add_row(
            Text(rule.name),
            severity_name(rule.severity),
            format_duration(rule.for_duration),
            Text(rule_expression(rule)),
        )
    return table


def heartbeat_table(heartbeats: list[pb.Heartbeat]) -> Fitted:
    """`heartbeat list`; on a narrow terminal the schedule and the times stack."""
    wide = _table()
    for column in ("name", "state", "interval", "grace", "last ping", "deadline"):
        wide.add_column(column, no_wrap=True)
    wide.add_column("labels", overflow="fold")
    narrow = _table()
    narrow.add_column("name, labels", overflow="fold")
    narrow.add_column("state", no_wrap=True)
    narrow.add_column("every, grace", no_wrap=True)
    narrow.add_column("last ping, deadline", no_wrap=True)
    rows = [
        (
            heartbeat.name,
            "MISSED" if heartbeat.missed else "ok",
            format_duration(heartbeat.interval),
            format_duration(heartbeat.grace),
            _when(heartbeat, "last_ping_at", "never"),
            _when(heartbeat, "deadline"),
            labels_text(heartbeat.labels),
        )
        for heartbeat in heartbeats
    ]
    for name, state, interval, grace, last_ping, deadline, labels in rows:
        wide.add_row(Text(name), state, interval, grace, last_ping, deadline, Text(labels))
        about = Text(name)
        about.append(f"\n{labels}" if labels else "", style="dim")
        narrow.add_row(about, state, f"{interval}\ngrace {grace}", f"{last_ping}\n{deadline}")
    headers = ("name", "state", "interval", "grace", "last ping", "deadline")
    fixed = [widest(h, (row[i] for row in rows)) for i, h in enumerate(headers)]
    return Fitted(wide, span([*fixed, LABELS_MIN]), narrow)
