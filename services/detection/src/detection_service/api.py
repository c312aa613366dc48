"""The detection service's public gRPC API (firewatch.alert.v1.AlertService).

A thin adapter: each method authenticates (apikit.rpc.guarded), turns the request into
a DetectionApplication call and the result into protobuf. Deciding, appending and
timers live in app.py. Plain threads, never eventlet (stock grpcio hangs under it).

Where it runs (ADR 0008): the HTTP ingestion process serves it on the same
application instance when FIREWATCH_DETECTION_API_ENABLED is set (`start_api`), so
there is one writer and one ticker. `firewatch-detection-api` (`main`) is a
gRPC-only, read-only replica: it never ticks and refuses writes, because samples
pushed to or alerts decided by a second process would race the writer's timers.

Field names in INVALID_ARGUMENT are the request's (`severity`, `labels.<name>`,
`matchers[0].name`, `samples[2].value`, `rule.threshold`), never the internal
PagerDuty-shaped names the application validates with.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
from google.protobuf import duration_pb2
from pydantic import ValidationError

from apikit.auth import READERS, WRITERS, Principal, Role, TokenRegistry
from apikit.rpc import (
    RunningServer,
    TlsFiles,
    guarded,
    known_enum,
    optional_timestamp,
    read_timestamp,
    set_timestamp,
    start_server,
)
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from detection_service import heartbeat as heartbeat_module
from detection_service.alert import Alert, AlertStatus, SourceKind, SourceSeverity
from detection_service.app import DetectionApplication, InvalidPayloadError
from detection_service.config import DetectionSettings
from detection_service.heartbeat import HeartbeatMonitor
from detection_service.integration import Integration, IntegrationKind
from detection_service.labels import MAX_LABELS, Matcher, MatchOp, label_problem
from detection_service.rule import RulesFileError, RuleSpec, SeriesSelector, parse_rules
from detection_service.silence import Silence
from eventlog import EventLogError, StreamPermissionError
from firewatch.alert.v1 import alert_pb2 as pb
from firewatch.alert.v1 import alert_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["AlertService"].full_name

SENDERS = frozenset({Role.ADMIN, Role.RESPONDER, Role.INTEGRATION})
"""SendAlert, PushSamples, PingHeartbeat: what a monitoring tool's token needs."""

ID_NAMESPACE = uuid.UUID("7d3c8a52-2f0e-5b61-9a4d-6e1b0c9f2a37")
"""Fixed forever: derives dedup keys and silence ids from idempotency keys."""

MAX_ANNOTATIONS = 64
MAX_ANNOTATION_VALUE = 8192
MAX_RULES_YAML = 1024 * 1024
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

K = TypeVar("K")
V = TypeVar("V")


def _invert(table: Mapping[K, V]) -> dict[V, K]:
    return {v: k for k, v in table.items()}


_ACTIONS = {1: "trigger", 2: "acknowledge", 3: "resolve"}
_SEVERITY_TO_PB = {s: pb.AlertSeverity.Value(f"ALERT_SEVERITY_{s.name}") for s in SourceSeverity}
_SEVERITY_FROM_PB = _invert(_SEVERITY_TO_PB)
_STATUS_TO_PB = {
    AlertStatus.PENDING: pb.ALERT_STATUS_PENDING,
    AlertStatus.FIRING: pb.ALERT_STATUS_FIRING,
    AlertStatus.RESOLVED: pb.ALERT_STATUS_RESOLVED,
}
_STATUS_FROM_PB = _invert(_STATUS_TO_PB)
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
_PD_FIELDS = {
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


def _span(duration: duration_pb2.Duration, field: str) -> timedelta:
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


def _labels(values: Mapping[str, str], field: str) -> dict[str, str]:
    """Every label checked, the offending one named as `<field>.<name>`."""
    if len(values) > MAX_LABELS:
        raise InvalidCommandError(field, f"at most {MAX_LABELS} labels")
    for name, value in values.items():
        problem = label_problem(name, value)
        if problem:
            raise InvalidCommandError(f"{field}.{name[:64]}", problem)
    return dict(values)


def _annotations(values: Mapping[str, str]) -> dict[str, str]:
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
            {**_SEVERITY_FROM_PB, pb.ALERT_SEVERITY_UNSPECIFIED: SourceSeverity.WARNING},
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
            body[key or field] = _span(getattr(message, field), f"rule.{field}")
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


def _sort_key(state: Alert) -> tuple[str, str]:
    when = state.fired_at or state.pending_at or datetime(1970, 1, 1, tzinfo=UTC)
    return (when.isoformat(), state.alert_id)


def _page_token(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode("|".join(key).encode()).decode()


def _after(token: str) -> tuple[str, str] | None:
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


# ---------------------------------------------------------------------- servicer


class AlertServicer(pb_grpc.AlertServiceServicer):
    def __init__(
        self, app: DetectionApplication, tokens: TokenRegistry, *, writable: bool = True
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.writable = writable

    def _write(self) -> None:
        if not self.writable:
            raise PreconditionFailedError(
                "this detection API is a read-only replica; send writes to the detection "
                "writer process (firewatch-detection-http with FIREWATCH_DETECTION_API_ENABLED)"
            )

    # ------------------------------------------------------------------ alerts

    @guarded(SENDERS)
    def SendAlert(  # noqa: N802 - gRPC method names
        self, request: pb.SendAlertRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SendAlertResponse:
        action = known_enum(
            request.action, _ACTIONS, "action", "action (trigger, acknowledge, resolve)"
        )
        trigger = action == "trigger"
        severity = (
            known_enum(request.severity, _SEVERITY_FROM_PB, "severity", "severity").value
            if trigger
            else "error"
        )
        labels = _labels(request.labels, "labels")
        annotations = _annotations(request.annotations)
        started_at = optional_timestamp(request, "started_at")
        source = self._source(request.integration, who)
        self._write()
        dedup_key = request.dedup_key or None
        if dedup_key is None and trigger and request.idempotency_key:
            # PagerDuty makes a key up for a trigger without one; deriving it from the
            # idempotency key makes the retry of a lost answer hit the same alert.
            dedup_key = uuid.uuid5(
                ID_NAMESPACE, f"dedup/{source.integration_id}/{request.idempotency_key}"
            ).hex
        try:
            result = self.app.send_alert(
                source,
                action=action,
                dedup_key=dedup_key,
                summary=request.summary,
                severity=severity,
                origin=request.origin or "api",
                labels=labels,
                annotations=annotations,
                started_at=started_at,
            )
        except InvalidPayloadError as error:
            raise InvalidCommandError(
                _PD_FIELDS.get(error.field, error.field), error.problem
            ) from None
        try:
            state: Alert | None = self.app.get_alert(result.alert_id)
        except NotFoundError:
            state = None  # acknowledging or resolving a key never triggered: PD says OK
        return pb.SendAlertResponse(
            dedup_key=result.dedup_key,
            alert_id=result.alert_id,
            event_types=list(result.event_types),
            alert=to_alert(state, self.app.group_of(state.alert_id)) if state else None,
        )

    @guarded(READERS)
    def GetAlert(  # noqa: N802
        self, request: pb.GetAlertRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetAlertResponse:
        if request.alert_id:
            state = self.app.get_alert(request.alert_id)
        elif request.dedup_key:
            integration_id = request.integration or _token_integration(who, self.app).integration_id
            state = self.app.find_alert(integration_id, request.dedup_key)
        else:
            raise InvalidCommandError("alert_id", "is required (or dedup_key)")
        return pb.GetAlertResponse(alert=to_alert(state, self.app.group_of(state.alert_id)))

    @guarded(READERS)
    def ListAlerts(  # noqa: N802
        self, request: pb.ListAlertsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListAlertsResponse:
        statuses = {known_enum(s, _STATUS_FROM_PB, "statuses", "status") for s in request.statuses}
        severities = {
            known_enum(s, _SEVERITY_FROM_PB, "severities", "severity") for s in request.severities
        }
        wanted = dict(request.labels)
        if not 0 <= request.page_size <= MAX_PAGE_SIZE:
            raise InvalidCommandError("page_size", f"must be 1..{MAX_PAGE_SIZE} (0 means 50)")
        size = request.page_size or DEFAULT_PAGE_SIZE
        after = _after(request.page_token)
        found = [
            a
            for a in self.app.list_alerts()
            if (not statuses or a.status in statuses)
            and (not severities or a.severity in severities)
            and (not request.integration or a.integration == request.integration)
            and all(a.labels.get(k) == v for k, v in wanted.items())
            and (not request.paging_only or a.pages)
            and (after is None or _sort_key(a) < after)
        ]
        found.sort(key=_sort_key, reverse=True)  # newest first
        page = found[:size]
        token = _page_token(_sort_key(page[-1])) if len(found) > size else ""
        return pb.ListAlertsResponse(
            alerts=[to_alert(a, self.app.group_of(a.alert_id)) for a in page],
            next_page_token=token,
        )

    # ------------------------------------------------------------------ silences

    @guarded(WRITERS)
    def CreateSilence(  # noqa: N802
        self, request: pb.CreateSilenceRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateSilenceResponse:
        matchers = [_matcher(m, f"matchers[{i}]") for i, m in enumerate(request.matchers)]
        now = self.app.clock()
        starts_at = optional_timestamp(request, "starts_at")
        has_end, has_duration = request.HasField("ends_at"), request.HasField("duration")
        if has_end and has_duration:
            raise InvalidCommandError("duration", "give ends_at or duration, not both")
        if has_end:
            ends_at = read_timestamp(request.ends_at, "ends_at")
        elif has_duration:
            span = _span(request.duration, "duration")
            try:
                ends_at = (starts_at or now) + span
            except OverflowError:
                raise InvalidCommandError("duration", "is too long") from None
        else:
            raise InvalidCommandError("ends_at", "is required (or duration)")
        self._write()
        silence_id = (
            str(uuid.uuid5(ID_NAMESPACE, f"silence/{who.name}/{request.idempotency_key}"))
            if request.idempotency_key
            else None
        )
        try:
            created = self.app.create_silence(
                matchers,
                ends_at=ends_at,
                created_by=who.name,
                comment=request.comment,
                starts_at=starts_at,
                silence_id=silence_id,
            )
        except PreconditionFailedError:
            # The id exists only if this key created it before: a retry.
            existing = self._silence(silence_id) if silence_id else None
            if existing is None:
                raise
            return pb.CreateSilenceResponse(silence=to_silence(existing, now), replayed=True)
        return pb.CreateSilenceResponse(silence=to_silence(created, self.app.clock()))

    @guarded(READERS)
    def ListSilences(  # noqa: N802
        self, request: pb.ListSilencesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListSilencesResponse:
        now = self.app.clock()
        return pb.ListSilencesResponse(
            silences=[
                to_silence(s, now) for s in self.app.list_silences(active_only=request.active_only)
            ]
        )

    @guarded(WRITERS)
    def ExpireSilence(  # noqa: N802
        self, request: pb.ExpireSilenceRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ExpireSilenceResponse:
        if not request.silence_id:
            raise InvalidCommandError("silence_id", "is required")
        self._write()
        events = self.app.expire_silence(request.silence_id, expired_by=who.name)
        state = self._silence(request.silence_id)
        assert state is not None  # expire_silence raised NotFoundError otherwise
        return pb.ExpireSilenceResponse(
            silence=to_silence(state, self.app.clock()), event_types=events
        )

    def _silence(self, silence_id: str) -> Silence | None:
        return next((s for s in self.app.list_silences() if s.silence_id == silence_id), None)

    # ------------------------------------------------------------------ rules

    @guarded(WRITERS)
    def DefineRule(  # noqa: N802
        self, request: pb.DefineRuleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.DefineRuleResponse:
        if not request.HasField("rule"):
            raise InvalidCommandError("rule", "is required")
        spec = from_rule(request.rule)
        self._write()
        changed = self.app.define_rule(spec, defined_by=who.name)
        return pb.DefineRuleResponse(rule=to_rule(spec), changed=changed)

    @guarded(WRITERS)
    def RemoveRule(  # noqa: N802
        self, request: pb.RemoveRuleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveRuleResponse:
        if not request.name:
            raise InvalidCommandError("name", "is required")
        self._write()
        try:
            self.app.remove_rule(request.name, removed_by=who.name)
        except NotFoundError:
            raise NotFoundError(f"no rule named {request.name!r}") from None
        return pb.RemoveRuleResponse()

    @guarded(READERS)
    def ListRules(  # noqa: N802
        self, request: pb.ListRulesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListRulesResponse:
        return pb.ListRulesResponse(rules=[to_rule(spec) for spec in self.app.list_rules()])

    @guarded(READERS)
    def ValidateRules(  # noqa: N802
        self, request: pb.ValidateRulesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ValidateRulesResponse:
        if len(request.yaml) > MAX_RULES_YAML:
            raise InvalidCommandError("yaml", f"is longer than {MAX_RULES_YAML} characters")
        try:
            specs = parse_rules(request.yaml, request.source or "<rules>")
        except RulesFileError as error:
            return pb.ValidateRulesResponse(valid=False, problems=rule_problems(error))
        return pb.ValidateRulesResponse(valid=True, rules=[to_rule(spec) for spec in specs])

    # ------------------------------------------------------------------ heartbeats

    @guarded(WRITERS)
    def CreateHeartbeat(  # noqa: N802
        self, request: pb.CreateHeartbeatRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateHeartbeatResponse:
        if not request.HasField("interval"):
            raise InvalidCommandError("interval", "is required (at least 1 second)")
        interval = _span(request.interval, "interval")
        grace = _span(request.grace, "grace") if request.HasField("grace") else timedelta(0)
        labels = _labels(request.labels, "labels")
        self._write()
        try:
            state = self.app.create_heartbeat(
                request.name, interval=interval, grace=grace, labels=labels, created_by=who.name
            )
        except PreconditionFailedError:
            # Creating the same monitor again is a retry, not a conflict: the name is
            # the natural idempotency key. A different definition is refused.
            existing = self._heartbeat(request.name)
            if existing is None or (existing.interval, existing.grace, existing.labels) != (
                interval,
                grace,
                labels,
            ):
                raise
            return pb.CreateHeartbeatResponse(heartbeat=to_heartbeat(existing), created=False)
        return pb.CreateHeartbeatResponse(heartbeat=to_heartbeat(state), created=True)

    @guarded(READERS)
    def ListHeartbeats(  # noqa: N802
        self, request: pb.ListHeartbeatsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListHeartbeatsResponse:
        return pb.ListHeartbeatsResponse(
            heartbeats=[to_heartbeat(h) for h in self.app.list_heartbeats()]
        )

    @guarded(SENDERS)
    def PingHeartbeat(  # noqa: N802
        self, request: pb.PingHeartbeatRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PingHeartbeatResponse:
        if not heartbeat_module.NAME.match(request.name):
            raise InvalidCommandError(
                "name", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting alphanumeric"
            )
        self._write()
        events = self.app.ping_heartbeat(request.name)
        state = self._heartbeat(request.name)
        assert state is not None  # ping_heartbeat raised NotFoundError otherwise
        return pb.PingHeartbeatResponse(heartbeat=to_heartbeat(state), event_types=events)

    def _heartbeat(self, name: str) -> HeartbeatMonitor | None:
        return next((h for h in self.app.list_heartbeats() if h.name == name), None)

    # ------------------------------------------------------------------ samples

    @guarded(SENDERS)
    def PushSamples(  # noqa: N802
        self, request: pb.PushSamplesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.PushSamplesResponse:
        samples: list[dict[str, Any]] = []
        for index, sample in enumerate(request.samples):
            item: dict[str, Any] = {
                "name": sample.name,
                "labels": dict(sample.labels),
                "value": sample.value,
            }
            if sample.HasField("timestamp"):
                when = read_timestamp(sample.timestamp, f"samples[{index}].timestamp")
                item["timestamp"] = when.isoformat()
            samples.append(item)
        self._write()
        return pb.PushSamplesResponse(accepted=self.app.push_samples(samples))

    # ------------------------------------------------------------------ identity

    def _source(self, name: str, who: Principal) -> Integration:
        """Whose dedup-key namespace the alert lives in (see SendAlertRequest.integration)."""
        if not name:
            return _token_integration(who, self.app)
        if who.role is Role.INTEGRATION and name != who.name:
            # An integration token must not resolve or acknowledge another tool's alerts.
            raise ForeignIntegrationError(
                f"{who.name} has role integration and may send only as its own integration, "
                f"not as {name[:64]!r}"
            )
        found = next((i for i in self.app.list_integrations() if i.name == name), None)
        if found is None:
            raise NotFoundError(f"no integration named {name!r}")
        if not found.active:
            raise PreconditionFailedError(f"integration {name!r} was revoked")
        return found


class ForeignIntegrationError(StreamPermissionError):
    """An integration token naming another integration. Subclasses the log's permission
    error only because that is what apikit.rpc.abort_for maps to PERMISSION_DENIED
    (context.abort inside a guarded method would surface as INTERNAL)."""

    def __init__(self, message: str) -> None:
        EventLogError.__init__(self, message)  # not the log's "writer may not" wording


def _token_integration(who: Principal, app: DetectionApplication) -> Integration:
    # The same identity the HTTP endpoints give an API token, so an alert sent by
    # one path can be resolved by the other.
    return Integration(
        integration_id=f"token.{who.name}"[:63],
        name=who.name,
        kind=IntegrationKind.API,
        created_at=app.clock(),
    )


def _matcher(message: pb.Matcher, field: str) -> Matcher:
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


# ---------------------------------------------------------------------- processes


def _tls(settings: DetectionSettings) -> TlsFiles | None:
    if settings.detection_api_tls_cert and settings.detection_api_tls_key:
        return TlsFiles(settings.detection_api_tls_cert, settings.detection_api_tls_key)
    return None


def start_api(
    app: DetectionApplication,
    tokens: TokenRegistry,
    settings: DetectionSettings,
    *,
    writable: bool = True,
) -> RunningServer:
    """Serve AlertService (plus health and reflection) on `app`; returns once listening."""
    servicer = AlertServicer(app, tokens, writable=writable)
    register: list[Callable[[grpc.Server], None]] = [
        lambda server: pb_grpc.add_AlertServiceServicer_to_server(  # type: ignore[no-untyped-call]
            servicer, server
        )
    ]
    return start_server(
        host=settings.detection_api_host,
        port=settings.detection_api_port,
        register=register,
        service_names=[SERVICE_NAME],
        tls=_tls(settings),
    )


def serve(settings: DetectionSettings | None = None) -> None:
    """The read-only replica process, until SIGTERM/SIGINT: no ticker, writes refused."""
    import signal
    import threading

    from detection_service.routing import DetectionConfig, load_config
    from eventlog import open_store
    from eventlog.clock import system_clock

    settings = settings or DetectionSettings()
    tokens = (
        TokenRegistry(settings.tokens_file) if settings.tokens_file else TokenRegistry.from_env()
    )
    config = (
        load_config(settings.detection_config) if settings.detection_config else DetectionConfig()
    )
    # No writer name: this process must not append (rules files are the writer's job).
    store = open_store(settings.store_url)
    app = DetectionApplication(store, system_clock, config)
    running = start_api(app, tokens, settings, writable=False)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(
        f"detection api (read-only replica) listening on {settings.detection_api_host}:"
        f"{running.port} ({'TLS' if _tls(settings) else 'plaintext'}), log {settings.store_url}",
        flush=True,
    )
    stopping.wait()
    running.stop()
    store.close()


def main() -> None:
    serve()


if __name__ == "__main__":
    main()
