from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AlertAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_ACTION_UNSPECIFIED: _ClassVar[AlertAction]
    ALERT_ACTION_TRIGGER: _ClassVar[AlertAction]
    ALERT_ACTION_ACKNOWLEDGE: _ClassVar[AlertAction]
    ALERT_ACTION_RESOLVE: _ClassVar[AlertAction]

class AlertSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_SEVERITY_UNSPECIFIED: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_CRITICAL: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_ERROR: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_WARNING: _ClassVar[AlertSeverity]
    ALERT_SEVERITY_INFO: _ClassVar[AlertSeverity]

class AlertStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_STATUS_UNSPECIFIED: _ClassVar[AlertStatus]
    ALERT_STATUS_PENDING: _ClassVar[AlertStatus]
    ALERT_STATUS_FIRING: _ClassVar[AlertStatus]
    ALERT_STATUS_RESOLVED: _ClassVar[AlertStatus]

class AlertSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ALERT_SOURCE_UNSPECIFIED: _ClassVar[AlertSource]
    ALERT_SOURCE_ALERTMANAGER: _ClassVar[AlertSource]
    ALERT_SOURCE_PAGERDUTY: _ClassVar[AlertSource]
    ALERT_SOURCE_GRPC: _ClassVar[AlertSource]
    ALERT_SOURCE_RULE: _ClassVar[AlertSource]
    ALERT_SOURCE_HEARTBEAT: _ClassVar[AlertSource]

class MatchOperator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_OPERATOR_UNSPECIFIED: _ClassVar[MatchOperator]
    MATCH_OPERATOR_EQUAL: _ClassVar[MatchOperator]
    MATCH_OPERATOR_NOT_EQUAL: _ClassVar[MatchOperator]
    MATCH_OPERATOR_REGEX: _ClassVar[MatchOperator]
    MATCH_OPERATOR_NOT_REGEX: _ClassVar[MatchOperator]

class RuleKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_KIND_UNSPECIFIED: _ClassVar[RuleKind]
    RULE_KIND_THRESHOLD: _ClassVar[RuleKind]
    RULE_KIND_RATIO: _ClassVar[RuleKind]

class Aggregation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGGREGATION_UNSPECIFIED: _ClassVar[Aggregation]
    AGGREGATION_SUM: _ClassVar[Aggregation]
    AGGREGATION_AVG: _ClassVar[Aggregation]
    AGGREGATION_MAX: _ClassVar[Aggregation]
    AGGREGATION_MIN: _ClassVar[Aggregation]
    AGGREGATION_LAST: _ClassVar[Aggregation]

class Comparison(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPARISON_UNSPECIFIED: _ClassVar[Comparison]
    COMPARISON_GREATER: _ClassVar[Comparison]
    COMPARISON_GREATER_OR_EQUAL: _ClassVar[Comparison]
    COMPARISON_LESS: _ClassVar[Comparison]
    COMPARISON_LESS_OR_EQUAL: _ClassVar[Comparison]
    COMPARISON_EQUAL: _ClassVar[Comparison]
    COMPARISON_NOT_EQUAL: _ClassVar[Comparison]

class CheckOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECK_OUTCOME_UNSPECIFIED: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_UP: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_DOWN: _ClassVar[CheckOutcome]
    CHECK_OUTCOME_CHECKER_ERROR: _ClassVar[CheckOutcome]
ALERT_ACTION_UNSPECIFIED: AlertAction
ALERT_ACTION_TRIGGER: AlertAction
ALERT_ACTION_ACKNOWLEDGE: AlertAction
ALERT_ACTION_RESOLVE: AlertAction
ALERT_SEVERITY_UNSPECIFIED: AlertSeverity
ALERT_SEVERITY_CRITICAL: AlertSeverity
ALERT_SEVERITY_ERROR: AlertSeverity
ALERT_SEVERITY_WARNING: AlertSeverity
ALERT_SEVERITY_INFO: AlertSeverity
ALERT_STATUS_UNSPECIFIED: AlertStatus
ALERT_STATUS_PENDING: AlertStatus
ALERT_STATUS_FIRING: AlertStatus
ALERT_STATUS_RESOLVED: AlertStatus
ALERT_SOURCE_UNSPECIFIED: AlertSource
ALERT_SOURCE_ALERTMANAGER: AlertSource
ALERT_SOURCE_PAGERDUTY: AlertSource
ALERT_SOURCE_GRPC: AlertSource
ALERT_SOURCE_RULE: AlertSource
ALERT_SOURCE_HEARTBEAT: AlertSource
MATCH_OPERATOR_UNSPECIFIED: MatchOperator
MATCH_OPERATOR_EQUAL: MatchOperator
MATCH_OPERATOR_NOT_EQUAL: MatchOperator
MATCH_OPERATOR_REGEX: MatchOperator
MATCH_OPERATOR_NOT_REGEX: MatchOperator
RULE_KIND_UNSPECIFIED: RuleKind
RULE_KIND_THRESHOLD: RuleKind
RULE_KIND_RATIO: RuleKind
AGGREGATION_UNSPECIFIED: Aggregation
AGGREGATION_SUM: Aggregation
AGGREGATION_AVG: Aggregation
AGGREGATION_MAX: Aggregation
AGGREGATION_MIN: Aggregation
AGGREGATION_LAST: Aggregation
COMPARISON_UNSPECIFIED: Comparison
COMPARISON_GREATER: Comparison
COMPARISON_GREATER_OR_EQUAL: Comparison
COMPARISON_LESS: Comparison
COMPARISON_LESS_OR_EQUAL: Comparison
COMPARISON_EQUAL: Comparison
COMPARISON_NOT_EQUAL: Comparison
CHECK_OUTCOME_UNSPECIFIED: CheckOutcome
CHECK_OUTCOME_UP: CheckOutcome
CHECK_OUTCOME_DOWN: CheckOutcome
CHECK_OUTCOME_CHECKER_ERROR: CheckOutcome

class Alert(_message.Message):
    __slots__ = ("alert_id", "dedup_key", "integration", "source", "status", "occurrence", "labels", "annotations", "summary", "severity", "pending_at", "started_at", "fired_at", "resolved_at", "resolve_reason", "acknowledged_by", "acknowledged_at", "suppressed_by", "suppression_reason", "flapping", "auto_resolve_at", "group_id")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    DEDUP_KEY_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    PENDING_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FIRED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_REASON_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_BY_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    FLAPPING_FIELD_NUMBER: _ClassVar[int]
    AUTO_RESOLVE_AT_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    dedup_key: str
    integration: str
    source: AlertSource
    status: AlertStatus
    occurrence: int
    labels: _containers.ScalarMap[str, str]
    annotations: _containers.ScalarMap[str, str]
    summary: str
    severity: AlertSeverity
    pending_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    fired_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    resolve_reason: str
    acknowledged_by: str
    acknowledged_at: _timestamp_pb2.Timestamp
    suppressed_by: str
    suppression_reason: str
    flapping: bool
    auto_resolve_at: _timestamp_pb2.Timestamp
    group_id: str
    def __init__(self, alert_id: _Optional[str] = ..., dedup_key: _Optional[str] = ..., integration: _Optional[str] = ..., source: _Optional[_Union[AlertSource, str]] = ..., status: _Optional[_Union[AlertStatus, str]] = ..., occurrence: _Optional[int] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., summary: _Optional[str] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., pending_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., fired_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_reason: _Optional[str] = ..., acknowledged_by: _Optional[str] = ..., acknowledged_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., suppressed_by: _Optional[str] = ..., suppression_reason: _Optional[str] = ..., flapping: bool = ..., auto_resolve_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., group_id: _Optional[str] = ...) -> None: ...

class SendAlertRequest(_message.Message):
    __slots__ = ("action", "dedup_key", "summary", "severity", "origin", "labels", "annotations", "started_at", "integration", "idempotency_key")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DEDUP_KEY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    action: AlertAction
    dedup_key: str
    summary: str
    severity: AlertSeverity
    origin: str
    labels: _containers.ScalarMap[str, str]
    annotations: _containers.ScalarMap[str, str]
    started_at: _timestamp_pb2.Timestamp
    integration: str
    idempotency_key: str
    def __init__(self, action: _Optional[_Union[AlertAction, str]] = ..., dedup_key: _Optional[str] = ..., summary: _Optional[str] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., origin: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., integration: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SendAlertResponse(_message.Message):
    __slots__ = ("dedup_key", "alert_id", "event_types", "alert")
    DEDUP_KEY_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    dedup_key: str
    alert_id: str
    event_types: _containers.RepeatedScalarFieldContainer[str]
    alert: Alert
    def __init__(self, dedup_key: _Optional[str] = ..., alert_id: _Optional[str] = ..., event_types: _Optional[_Iterable[str]] = ..., alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...

class GetAlertRequest(_message.Message):
    __slots__ = ("alert_id", "dedup_key", "integration")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    DEDUP_KEY_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    dedup_key: str
    integration: str
    def __init__(self, alert_id: _Optional[str] = ..., dedup_key: _Optional[str] = ..., integration: _Optional[str] = ...) -> None: ...

class GetAlertResponse(_message.Message):
    __slots__ = ("alert",)
    ALERT_FIELD_NUMBER: _ClassVar[int]
    alert: Alert
    def __init__(self, alert: _Optional[_Union[Alert, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("statuses", "severities", "integration", "labels", "paging_only", "page_size", "page_token")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SEVERITIES_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PAGING_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[AlertStatus]
    severities: _containers.RepeatedScalarFieldContainer[AlertSeverity]
    integration: str
    labels: _containers.ScalarMap[str, str]
    paging_only: bool
    page_size: int
    page_token: str
    def __init__(self, statuses: _Optional[_Iterable[_Union[AlertStatus, str]]] = ..., severities: _Optional[_Iterable[_Union[AlertSeverity, str]]] = ..., integration: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., paging_only: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts", "next_page_token")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    next_page_token: str
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Matcher(_message.Message):
    __slots__ = ("name", "operator", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    operator: MatchOperator
    value: str
    def __init__(self, name: _Optional[str] = ..., operator: _Optional[_Union[MatchOperator, str]] = ..., value: _Optional[str] = ...) -> None: ...

class Silence(_message.Message):
    __slots__ = ("silence_id", "matchers", "starts_at", "ends_at", "created_by", "comment", "created_at", "expired_at", "expired_by", "active")
    SILENCE_ID_FIELD_NUMBER: _ClassVar[int]
    MATCHERS_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_BY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    silence_id: str
    matchers: _containers.RepeatedCompositeFieldContainer[Matcher]
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    created_by: str
    comment: str
    created_at: _timestamp_pb2.Timestamp
    expired_at: _timestamp_pb2.Timestamp
    expired_by: str
    active: bool
    def __init__(self, silence_id: _Optional[str] = ..., matchers: _Optional[_Iterable[_Union[Matcher, _Mapping]]] = ..., starts_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., comment: _Optional[str] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expired_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expired_by: _Optional[str] = ..., active: bool = ...) -> None: ...

class CreateSilenceRequest(_message.Message):
    __slots__ = ("matchers", "starts_at", "ends_at", "duration", "comment", "idempotency_key")
    MATCHERS_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    matchers: _containers.RepeatedCompositeFieldContainer[Matcher]
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    comment: str
    idempotency_key: str
    def __init__(self, matchers: _Optional[_Iterable[_Union[Matcher, _Mapping]]] = ..., starts_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., comment: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreateSilenceResponse(_message.Message):
    __slots__ = ("silence", "replayed")
    SILENCE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    silence: Silence
    replayed: bool
    def __init__(self, silence: _Optional[_Union[Silence, _Mapping]] = ..., replayed: bool = ...) -> None: ...

class ListSilencesRequest(_message.Message):
    __slots__ = ("active_only",)
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    def __init__(self, active_only: bool = ...) -> None: ...

class ListSilencesResponse(_message.Message):
    __slots__ = ("silences",)
    SILENCES_FIELD_NUMBER: _ClassVar[int]
    silences: _containers.RepeatedCompositeFieldContainer[Silence]
    def __init__(self, silences: _Optional[_Iterable[_Union[Silence, _Mapping]]] = ...) -> None: ...

class ExpireSilenceRequest(_message.Message):
    __slots__ = ("silence_id",)
    SILENCE_ID_FIELD_NUMBER: _ClassVar[int]
    silence_id: str
    def __init__(self, silence_id: _Optional[str] = ...) -> None: ...

class ExpireSilenceResponse(_message.Message):
    __slots__ = ("silence", "event_types")
    SILENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    silence: Silence
    event_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, silence: _Optional[_Union[Silence, _Mapping]] = ..., event_types: _Optional[_Iterable[str]] = ...) -> None: ...

class SeriesSelector(_message.Message):
    __slots__ = ("name", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Rule(_message.Message):
    __slots__ = ("name", "kind", "series", "numerator", "denominator", "aggregation", "window", "comparison", "threshold", "for_duration", "keep_firing_for", "severity", "labels", "annotations", "group_by")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FOR_DURATION_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIRING_FOR_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: RuleKind
    series: SeriesSelector
    numerator: SeriesSelector
    denominator: SeriesSelector
    aggregation: Aggregation
    window: _duration_pb2.Duration
    comparison: Comparison
    threshold: float
    for_duration: _duration_pb2.Duration
    keep_firing_for: _duration_pb2.Duration
    severity: AlertSeverity
    labels: _containers.ScalarMap[str, str]
    annotations: _containers.ScalarMap[str, str]
    group_by: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[RuleKind, str]] = ..., series: _Optional[_Union[SeriesSelector, _Mapping]] = ..., numerator: _Optional[_Union[SeriesSelector, _Mapping]] = ..., denominator: _Optional[_Union[SeriesSelector, _Mapping]] = ..., aggregation: _Optional[_Union[Aggregation, str]] = ..., window: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., comparison: _Optional[_Union[Comparison, str]] = ..., threshold: _Optional[float] = ..., for_duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., keep_firing_for: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., severity: _Optional[_Union[AlertSeverity, str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., annotations: _Optional[_Mapping[str, str]] = ..., group_by: _Optional[_Iterable[str]] = ...) -> None: ...

class DefineRuleRequest(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: Rule
    def __init__(self, rule: _Optional[_Union[Rule, _Mapping]] = ...) -> None: ...

class DefineRuleResponse(_message.Message):
    __slots__ = ("rule", "changed")
    RULE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    rule: Rule
    changed: bool
    def __init__(self, rule: _Optional[_Union[Rule, _Mapping]] = ..., changed: bool = ...) -> None: ...

class RemoveRuleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveRuleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[Rule]
    def __init__(self, rules: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ...) -> None: ...

class ValidateRulesRequest(_message.Message):
    __slots__ = ("yaml", "source")
    YAML_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    yaml: str
    source: str
    def __init__(self, yaml: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class RuleProblem(_message.Message):
    __slots__ = ("rule_index", "rule_name", "field", "message")
    RULE_INDEX_FIELD_NUMBER: _ClassVar[int]
    RULE_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    rule_index: int
    rule_name: str
    field: str
    message: str
    def __init__(self, rule_index: _Optional[int] = ..., rule_name: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ValidateRulesResponse(_message.Message):
    __slots__ = ("valid", "problems", "rules")
    VALID_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    problems: _containers.RepeatedCompositeFieldContainer[RuleProblem]
    rules: _containers.RepeatedCompositeFieldContainer[Rule]
    def __init__(self, valid: bool = ..., problems: _Optional[_Iterable[_Union[RuleProblem, _Mapping]]] = ..., rules: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("name", "interval", "grace", "labels", "created_at", "last_ping_at", "deadline", "missed")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    GRACE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_PING_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    name: str
    interval: _duration_pb2.Duration
    grace: _duration_pb2.Duration
    labels: _containers.ScalarMap[str, str]
    created_at: _timestamp_pb2.Timestamp
    last_ping_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    missed: bool
    def __init__(self, name: _Optional[str] = ..., interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., grace: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_ping_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., missed: bool = ...) -> None: ...

class CreateHeartbeatRequest(_message.Message):
    __slots__ = ("name", "interval", "grace", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    GRACE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    interval: _duration_pb2.Duration
    grace: _duration_pb2.Duration
    labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., grace: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateHeartbeatResponse(_message.Message):
    __slots__ = ("heartbeat", "created")
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    heartbeat: Heartbeat
    created: bool
    def __init__(self, heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., created: bool = ...) -> None: ...

class ListHeartbeatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListHeartbeatsResponse(_message.Message):
    __slots__ = ("heartbeats",)
    HEARTBEATS_FIELD_NUMBER: _ClassVar[int]
    heartbeats: _containers.RepeatedCompositeFieldContainer[Heartbeat]
    def __init__(self, heartbeats: _Optional[_Iterable[_Union[Heartbeat, _Mapping]]] = ...) -> None: ...

class PingHeartbeatRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class PingHeartbeatResponse(_message.Message):
    __slots__ = ("heartbeat", "event_types")
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    heartbeat: Heartbeat
    event_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., event_types: _Optional[_Iterable[str]] = ...) -> None: ...

class Sample(_message.Message):
    __slots__ = ("name", "labels", "value", "timestamp")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    value: float
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., value: _Optional[float] = ..., timestamp: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PushSamplesRequest(_message.Message):
    __slots__ = ("samples",)
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    samples: _containers.RepeatedCompositeFieldContainer[Sample]
    def __init__(self, samples: _Optional[_Iterable[_Union[Sample, _Mapping]]] = ...) -> None: ...

class PushSamplesResponse(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    def __init__(self, accepted: _Optional[int] = ...) -> None: ...

class CheckStep(_message.Message):
    __slots__ = ("name", "ok", "duration_ms", "detail", "excerpt", "status_code")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    EXCERPT_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    name: str
    ok: bool
    duration_ms: float
    detail: str
    excerpt: str
    status_code: int
    def __init__(self, name: _Optional[str] = ..., ok: bool = ..., duration_ms: _Optional[float] = ..., detail: _Optional[str] = ..., excerpt: _Optional[str] = ..., status_code: _Optional[int] = ...) -> None: ...

class CheckResult(_message.Message):
    __slots__ = ("check", "outcome", "at", "total_ms", "steps", "steps_reached")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    STEPS_REACHED_FIELD_NUMBER: _ClassVar[int]
    check: str
    outcome: CheckOutcome
    at: _timestamp_pb2.Timestamp
    total_ms: float
    steps: _containers.RepeatedCompositeFieldContainer[CheckStep]
    steps_reached: int
    def __init__(self, check: _Optional[str] = ..., outcome: _Optional[_Union[CheckOutcome, str]] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., total_ms: _Optional[float] = ..., steps: _Optional[_Iterable[_Union[CheckStep, _Mapping]]] = ..., steps_reached: _Optional[int] = ...) -> None: ...

class Check(_message.Message):
    __slots__ = ("name", "kind", "interval", "definition_json", "status", "status_since", "first_failed_at", "last_result")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_JSON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_SINCE_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAILED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RESULT_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    interval: _duration_pb2.Duration
    definition_json: str
    status: CheckOutcome
    status_since: _timestamp_pb2.Timestamp
    first_failed_at: _timestamp_pb2.Timestamp
    last_result: CheckResult
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., definition_json: _Optional[str] = ..., status: _Optional[_Union[CheckOutcome, str]] = ..., status_since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., first_failed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_result: _Optional[_Union[CheckResult, _Mapping]] = ...) -> None: ...

class DefineCheckRequest(_message.Message):
    __slots__ = ("definition",)
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    definition: str
    def __init__(self, definition: _Optional[str] = ...) -> None: ...

class DefineCheckResponse(_message.Message):
    __slots__ = ("check", "changed")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    check: Check
    changed: bool
    def __init__(self, check: _Optional[_Union[Check, _Mapping]] = ..., changed: bool = ...) -> None: ...

class RemoveCheckRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveCheckResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListChecksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListChecksResponse(_message.Message):
    __slots__ = ("checks",)
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[Check]
    def __init__(self, checks: _Optional[_Iterable[_Union[Check, _Mapping]]] = ...) -> None: ...

class RunCheckRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RunCheckResponse(_message.Message):
    __slots__ = ("result", "recorded")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    result: CheckResult
    recorded: bool
    def __init__(self, result: _Optional[_Union[CheckResult, _Mapping]] = ..., recorded: bool = ...) -> None: ...

class ListCheckResultsRequest(_message.Message):
    __slots__ = ("name", "limit", "history")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    name: str
    limit: int
    history: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., limit: _Optional[int] = ..., history: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListCheckResultsResponse(_message.Message):
    __slots__ = ("check", "results", "intervals", "summaries")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    check: Check
    results: _containers.RepeatedCompositeFieldContainer[CheckResult]
    intervals: _containers.RepeatedCompositeFieldContainer[CheckInterval]
    summaries: _containers.RepeatedCompositeFieldContainer[CheckSummary]
    def __init__(self, check: _Optional[_Union[Check, _Mapping]] = ..., results: _Optional[_Iterable[_Union[CheckResult, _Mapping]]] = ..., intervals: _Optional[_Iterable[_Union[CheckInterval, _Mapping]]] = ..., summaries: _Optional[_Iterable[_Union[CheckSummary, _Mapping]]] = ...) -> None: ...

class CheckInterval(_message.Message):
    __slots__ = ("outcome", "start", "end", "failing_step", "detail")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    FAILING_STEP_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    outcome: CheckOutcome
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    failing_step: str
    detail: str
    def __init__(self, outcome: _Optional[_Union[CheckOutcome, str]] = ..., start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., failing_step: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class CheckSummary(_message.Message):
    __slots__ = ("period_start", "period_end", "runs", "up", "down", "checker_errors", "latency_p50_ms", "latency_max_ms")
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    UP_FIELD_NUMBER: _ClassVar[int]
    DOWN_FIELD_NUMBER: _ClassVar[int]
    CHECKER_ERRORS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MAX_MS_FIELD_NUMBER: _ClassVar[int]
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    runs: int
    up: int
    down: int
    checker_errors: int
    latency_p50_ms: float
    latency_max_ms: float
    def __init__(self, period_start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., runs: _Optional[int] = ..., up: _Optional[int] = ..., down: _Optional[int] = ..., checker_errors: _Optional[int] = ..., latency_p50_ms: _Optional[float] = ..., latency_max_ms: _Optional[float] = ...) -> None: ...
