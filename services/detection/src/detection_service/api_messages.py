"""Translation between AlertService protobuf messages and detection's values.

Owns the enum tables, the conversions of alerts, silences, rules and heartbeats to
protobuf (and of rules and matchers back), the request checks that must name the
request's own field (`labels.<name>`, `matchers[0].value`, `rule.threshold`), and the
keyset page tokens of ListAlerts. Pure: no application, no store, no server.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import yaml  # type: ignore[import-untyped]
from google.protobuf import duration_pb2
from pydantic import ValidationError

from apikit.rpc import known_enum, set_timestamp
from contracts import checkseries
from contracts.domain import InvalidCommandError
from detection_service.alert import Alert, AlertStatus, SourceKind, SourceSeverity
from detection_service.check import Check, Outcome
from detection_service.heartbeat import HeartbeatMonitor
from detection_service.labels import MAX_LABELS, Matcher, MatchOp, label_problem
from detection_service.probes import ProbeResult
from detection_service.rule import RulesFileError, RuleSpec, SeriesSelector
from detection_service.silence import Silence
from firewatch.alert.v1 import alert_pb2 as pb

MAX_ANNOTATIONS = 64
MAX_ANNOTATION_VALUE = 8192
MAX_RULES_YAML = 1024 * 1024
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

K = TypeVar("K")
V = TypeVar("V")


def _invert(table: Mapping[K, V]) -> dict[V, K]:
    return {v: k for k, v in table.items()}


ACTIONS = {1: "trigger", 2: "acknowledge", 3: "resolve"}
_SEVERITY_TO_PB = {s: pb.AlertSeverity.Value(f"ALERT_SEVERITY_{s.name}") for s in SourceSeverity}
SEVERITY_FROM_PB = _invert(_SEVERITY_TO_PB)
_STATUS_TO_PB = {
    AlertStatus.PENDING: pb.ALERT_STATUS_PENDING,
    AlertStatus.FIRING: pb.ALERT_STATUS_FIRING,
    AlertStatus.RESOLVED: pb.ALERT_STATUS_RESOLVED,
}
STATUS_FROM_PB = _invert(_STATUS_TO_PB)
_SOURCE_TO_PB = {k: pb.AlertSource.Value(f"ALERT_SOURCE_{k.name}") for k in SourceKind}
_OP_TO_PB = {
    MatchOp.EQUAL: pb.MATCH_OPERATOR_EQUAL,
    MatchOp.NOT_EQUAL: pb.MATCH_OPERATOR_NOT_EQUAL,
    MatchOp.REGEX: pb.MATCH_OPERATOR_REGEX,
    MatchOp.NOT_REGEX: pb.MATCH_OPERATOR_NOT_REGEX,
}
_OP_FROM_PB = {**_invert(_OP_TO_PB), pb.MATCH_OPERATOR_UNSPECIFIED: MatchOp.EQUAL}
_KIND_TO_PB = {"threshold": pb.RULE_KIND_THRESHOLD, "ratio": pb.RULE_KIND_RATIO}
_KIND_FROM_PB = _invert(_KIND_TO_PB)
_AGG_TO_PB = {
    "sum": pb.AGGREGATION_SUM,
    "avg": pb.AGGREGATION_AVG,
    "max": pb.AGGREGATION_MAX,
    "min": pb.AGGREGATION_MIN,
    "last": pb.AGGREGATION_LAST,
}
_AGG_FROM_PB = {**_invert(_AGG_TO_PB), pb.AGGREGATION_UNSPECIFIED: "sum"}
_CMP_TO_PB = {
    ">": pb.COMPARISON_GREATER,
    ">=": pb.COMPARISON_GREATER_OR_EQUAL,
    "<": pb.COMPARISON_LESS,
    "<=": pb.COMPARISON_LESS_OR_EQUAL,
    "==": pb.COMPARISON_EQUAL,
    "!=": pb.COMPARISON_NOT_EQUAL,
}
_CMP_FROM_PB = _invert(_CMP_TO_PB)

# The application validates SendAlert as a PagerDuty body; name the gRPC fields instead.
PD_FIELDS = {
    "event_action": "action",
    "payload.summary": "summary",
    "payload.severity": "severity",
    "payload.source": "origin",
    "payload.timestamp": "started_at",
}

_RULE_PROBLEM = re.compile(
    r"^.*?: rules\[(?P<index>\d+)\](?: \((?P<name>[^)]*)\))?\.(?P<field>[^:\s]+): (?P<problem>.*)$",
    re.DOTALL,
)


def span(duration: duration_pb2.Duration, field: str) -> timedelta:
    try:
        converted: timedelta = duration.ToTimedelta()
    except (ValueError, OverflowError):
        raise InvalidCommandError(field, "is not a valid duration") from None
    if converted < timedelta(0):
        raise InvalidCommandError(field, "cannot be negative")
    return converted


def _to_duration(value: timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(value)
    return duration


def checked_labels(values: Mapping[str, str], field: str) -> dict[str, str]:
    """Every label checked, the offending one named as `<field>.<name>`."""
    if len(values) > MAX_LABELS:
        raise InvalidCommandError(field, f"at most {MAX_LABELS} labels")
    for name, value in values.items():
        problem = label_problem(name, value)
        if problem:
            raise InvalidCommandError(f"{field}.{name[:64]}", problem)
    return dict(values)


def checked_annotations(values: Mapping[str, str]) -> dict[str, str]:
    # Annotations are free text, but they are recorded in the log forever: bound them
    # as the PagerDuty path bounds custom_details.
    if len(values) > MAX_ANNOTATIONS:
        raise InvalidCommandError("annotations", f"at most {MAX_ANNOTATIONS} annotations")
    for name, value in values.items():
        if not name:
            raise InvalidCommandError("annotations", "names must not be empty")
        if len(name) > 256 or len(value) > MAX_ANNOTATION_VALUE:
            raise InvalidCommandError(
                f"annotations.{name[:64]}",
                f"names are at most 256 and values at most {MAX_ANNOTATION_VALUE} characters",
            )
    return dict(values)


def _field_path(prefix: str, loc: Sequence[int | str]) -> str:
    parts = ["for_duration" if part == "for" else str(part) for part in loc]
    return ".".join([prefix, *parts]) if parts else prefix


def _first_error(error: ValidationError, prefix: str) -> InvalidCommandError:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidCommandError(_field_path(prefix, first["loc"]), message)


# ---------------------------------------------------------------------- conversions


def to_alert(state: Alert, group_id: str | None = None) -> pb.Alert:
    message = pb.Alert(
        alert_id=state.alert_id,
        dedup_key=state.alert_key,
        integration=state.integration,
        source=_SOURCE_TO_PB[state.source],
        status=_STATUS_TO_PB.get(state.status, pb.ALERT_STATUS_UNSPECIFIED),
        occurrence=state.occurrence,
        labels=state.labels,
        annotations=state.annotations,
        summary=state.summary,
        severity=_SEVERITY_TO_PB[state.severity],
        resolve_reason=state.resolve_reason.value if state.resolve_reason else "",
        acknowledged_by=state.acknowledged_by or "",
        suppressed_by=state.suppressed_by or "",
        suppression_reason=state.suppression_reason or "",
        flapping=state.flapping,
        group_id=group_id or "",
    )
    for field, value in (
        ("pending_at", state.pending_at),
        ("started_at", state.started_at),
        ("fired_at", state.fired_at),
        ("resolved_at", state.resolved_at),
        ("acknowledged_at", state.acknowledged_at),
        ("auto_resolve_at", state.auto_resolve_due if state.is_open else None),
    ):
        set_timestamp(message, field, value)
    return message


def to_silence(state: Silence, now: datetime) -> pb.Silence:
    message = pb.Silence(
        silence_id=state.silence_id,
        matchers=[
            pb.Matcher(name=m.name, operator=_OP_TO_PB[m.op], value=m.value) for m in state.matchers
        ],
        created_by=state.created_by,
        comment=state.comment,
        expired_by=state.expired_by or "",
        active=state.active_at(now),
    )
    for field, value in (
        ("starts_at", state.starts_at),
        ("ends_at", state.ends_at),
        ("created_at", state.created_at),
        ("expired_at", state.expired_at),
    ):
        set_timestamp(message, field, value)
    return message


def _selector(value: SeriesSelector | None) -> pb.SeriesSelector | None:
    return None if value is None else pb.SeriesSelector(name=value.name, labels=value.labels)


def to_rule(spec: RuleSpec) -> pb.Rule:
    return pb.Rule(
        name=spec.name,
        kind=_KIND_TO_PB[spec.kind],
        series=_selector(spec.series),
        numerator=_selector(spec.numerator),
        denominator=_selector(spec.denominator),
        aggregation=_AGG_TO_PB[spec.aggregation],
        window=_to_duration(spec.window),
        comparison=_CMP_TO_PB[spec.comparison],
        threshold=spec.threshold,
        for_duration=_to_duration(spec.for_),
        keep_firing_for=_to_duration(spec.keep_firing_for),
        severity=_SEVERITY_TO_PB[spec.severity],
        labels=spec.labels,
        annotations=spec.annotations,
        group_by=list(spec.group_by),
    )


def from_rule(message: pb.Rule) -> RuleSpec:
    """A RuleSpec, validated by the same model as rules files; errors name `rule.<field>`."""
    body: dict[str, Any] = {
        "name": message.name,
        "kind": known_enum(
            message.kind, _KIND_FROM_PB, "rule.kind", "rule kind (threshold, ratio)"
        ),
        "aggregation": known_enum(
            message.aggregation, _AGG_FROM_PB, "rule.aggregation", "aggregation"
        ),
        "comparison": known_enum(message.comparison, _CMP_FROM_PB, "rule.comparison", "comparison"),
        "threshold": message.threshold,
        "severity": known_enum(
            message.severity,
            {**SEVERITY_FROM_PB, pb.ALERT_SEVERITY_UNSPECIFIED: SourceSeverity.WARNING},
            "rule.severity",
            "severity",
        ),
        "labels": dict(message.labels),
        "annotations": dict(message.annotations),
        "group_by": tuple(message.group_by),
    }
    for field in ("series", "numerator", "denominator"):
        if message.HasField(field):
            selector = getattr(message, field)
            body[field] = {"name": selector.name, "labels": dict(selector.labels)}
    for field, key in (("window", "window"), ("for_duration", "for"), ("keep_firing_for", None)):
        if message.HasField(field):
            body[key or field] = span(getattr(message, field), f"rule.{field}")
    try:
        return RuleSpec.model_validate(body)
    except ValidationError as error:
        raise _first_error(error, "rule") from None


def to_heartbeat(state: HeartbeatMonitor) -> pb.Heartbeat:
    message = pb.Heartbeat(
        name=state.name,
        interval=_to_duration(state.interval),
        grace=_to_duration(state.grace),
        labels=state.labels,
        missed=state.missed,
    )
    for field, value in (
        ("created_at", state.created_at),
        ("last_ping_at", state.last_ping_at),
        ("deadline", state.deadline),
    ):
        set_timestamp(message, field, value)
    return message


OUTCOME_TO_PB = {
    Outcome.UP: pb.CHECK_OUTCOME_UP,
    Outcome.DOWN: pb.CHECK_OUTCOME_DOWN,
    Outcome.CHECKER_ERROR: pb.CHECK_OUTCOME_CHECKER_ERROR,
}
MAX_CHECK_DEFINITION = 128 * 1024


def from_check_definition(text: str) -> dict[str, Any]:
    """DefineCheckRequest.definition (YAML, hence JSON too) → the mapping to validate."""
    if not text.strip():
        raise InvalidCommandError("definition", "is required (one check as YAML or JSON)")
    if len(text) > MAX_CHECK_DEFINITION:
        raise InvalidCommandError("definition", f"is longer than {MAX_CHECK_DEFINITION} characters")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidCommandError("definition", f"is not valid YAML or JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise InvalidCommandError("definition", "must be a mapping (one check)")
    return loaded


def to_check_result(result: ProbeResult) -> pb.CheckResult:
    message = pb.CheckResult(
        check=result.check,
        outcome=OUTCOME_TO_PB[result.outcome],
        total_ms=result.total_ms,
        steps_reached=result.steps_reached,
        steps=[
            pb.CheckStep(
                name=s.name,
                ok=s.ok,
                duration_ms=s.duration_ms,
                detail=s.detail,
                excerpt=s.excerpt,
                status_code=s.status_code,
            )
            for s in result.steps
        ],
    )
    set_timestamp(message, "at", result.at)
    return message


def to_check_history(
    series: checkseries.CheckSeries, since: datetime
) -> tuple[list[pb.CheckInterval], list[pb.CheckSummary]]:
    """The durable series (ADR 0026) from `since` on: the intervals overlapping it and
    the summaries that ended after it."""
    intervals = []
    changes = series.changes
    for index, change in enumerate(changes):
        end = changes[index + 1].at if index + 1 < len(changes) else None
        removed = next((e for s, e in series.spans if e is not None and s <= change.at < e), None)
        if removed is not None and (end is None or removed < end):
            end = removed
        if end is not None and end <= since:
            continue
        interval = pb.CheckInterval(
            outcome=OUTCOME_TO_PB[Outcome(change.status)],
            failing_step=change.failing_step,
            detail=change.detail,
        )
        set_timestamp(interval, "start", change.at)
        set_timestamp(interval, "end", end)
        intervals.append(interval)
    summaries = []
    for summary in series.summaries:
        if summary.period_end <= since:
            continue
        message = pb.CheckSummary(
            runs=summary.runs,
            up=summary.up,
            down=summary.down,
            checker_errors=summary.checker_errors,
            latency_p50_ms=summary.latency_p50_ms,
            latency_max_ms=summary.latency_max_ms,
        )
        set_timestamp(message, "period_start", summary.period_start)
        set_timestamp(message, "period_end", summary.period_end)
        summaries.append(message)
    return intervals, summaries


def to_check(state: Check, last: ProbeResult | None = None) -> pb.Check:
    spec = state.spec
    message = pb.Check(
        name=state.name,
        kind=spec.kind if spec else "",
        interval=_to_duration(timedelta(seconds=spec.interval if spec else 0)),
        definition_json=json.dumps(spec.model_dump(mode="json", by_alias=True)) if spec else "",
        status=OUTCOME_TO_PB[state.status] if state.status else pb.CHECK_OUTCOME_UNSPECIFIED,
    )
    set_timestamp(message, "status_since", state.status_since)
    set_timestamp(message, "first_failed_at", state.first_failed_at)
    if last is not None:
        message.last_result.CopyFrom(to_check_result(last))
    return message


def rule_problems(error: RulesFileError) -> list[pb.RuleProblem]:
    """parse_rules' messages, split into the rule and field they name."""
    problems = []
    for text in error.problems:
        found = _RULE_PROBLEM.match(text)
        if found is None:
            problems.append(pb.RuleProblem(rule_index=-1, message=text))
            continue
        problems.append(
            pb.RuleProblem(
                rule_index=int(found["index"]),
                rule_name=found["name"] or "",
                field=found["field"],
                message=text,
            )
        )
    return problems


# ---------------------------------------------------------------------- paging


def sort_key(state: Alert) -> tuple[str, str]:
    when = state.fired_at or state.pending_at or datetime(1970, 1, 1, tzinfo=UTC)
    return (when.isoformat(), state.alert_id)


def page_token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode("|".join(key).encode()).decode()


def page_after(token: str) -> tuple[str, str] | None:
    """The sort key a page token continues after (keyset paging: stable under inserts)."""
    if not token:
        return None
    try:
        when, _, alert_id = base64.urlsafe_b64decode(token.encode()).decode().partition("|")
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidCommandError("page_token", "is not a token this server issued") from None
    if not alert_id:
        raise InvalidCommandError("page_token", "is not a token this server issued")
    return (when, alert_id)


def from_matcher(message: pb.Matcher, field: str) -> Matcher:
    op = known_enum(message.operator, _OP_FROM_PB, f"{field}.operator", "match operator")
    try:
        return Matcher(name=message.name, op=op, value=message.value)
    except ValidationError as error:
        first = error.errors()[0]
        # The regex check is a model validator (no location): it is about the value.
        loc = first["loc"] or ("value",)
        raise InvalidCommandError(
            f"{field}.{loc[0]}", str(first["msg"]).removeprefix("Value error, ")
        ) from None
