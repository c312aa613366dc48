"""How alerts, silences, rules and heartbeats look: rich tables for people, JSON for
programs (CLI vocabulary: "critical", "firing", "=~", "2m", ISO 8601 UTC times).

Label values, summaries and comments come from monitoring tools and people: always
wrapped in rich `Text`, never parsed as console markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from firewatch.alert.v1 import alert_pb2 as pb
from incidentctl.render import Json, _instant, _table, _when
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


def alert_table(alerts: list[pb.Alert]) -> Table:
    table = _table()
    for column in ("status", "sev", "paging", "fired at"):
        table.add_column(column, no_wrap=True)
    table.add_column("dedup key", overflow="fold")
    table.add_column("summary", overflow="fold", min_width=12)
    table.add_column("labels", overflow="fold")
    for alert in alerts:
        table.add_row(
            status_name(alert.status),
            severity_name(alert.severity),
            _paging(alert),
            _when(alert, "fired_at", _when(alert, "pending_at")),
            Text(alert.dedup_key),
            Text(alert.summary),
            Text(labels_text(alert.labels)),
        )
    return table


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


def silence_table(silences: list[pb.Silence]) -> Table:
    table = _table()
    table.add_column("id", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("ends at", no_wrap=True)
    table.add_column("by", no_wrap=True)
    table.add_column("matchers", overflow="fold")
    table.add_column("comment", overflow="fold")
    for silence in silences:
        # Not active and never expired: it starts later, or ended and awaits the ticker.
        state = (
            "active"
            if silence.active
            else "expired"
            if silence.HasField("expired_at")
            else "inactive"
        )
        table.add_row(
            silence.silence_id,
            state,
            _when(silence, "ends_at"),
            Text(silence.created_by),
            Text(" ".join(matcher_text(m) for m in silence.matchers)),
            Text(silence.comment),
        )
    return table


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


def heartbeat_table(heartbeats: list[pb.Heartbeat]) -> Table:
    table = _table()
    for column in ("name", "state", "interval", "grace", "last ping", "deadline"):
        table.add_column(column, no_wrap=True)
    table.add_column("labels", overflow="fold")
    for heartbeat in heartbeats:
        table.add_row(
            Text(heartbeat.name),
            "MISSED" if heartbeat.missed else "ok",
            format_duration(heartbeat.interval),
            format_duration(heartbeat.grace),
            _when(heartbeat, "last_ping_at", "never"),
            _when(heartbeat, "deadline"),
            Text(labels_text(heartbeat.labels)),
        )
    return table
