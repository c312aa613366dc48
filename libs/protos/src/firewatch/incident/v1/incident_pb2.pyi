from firewatch.eventlog.v1 import event_pb2 as _event_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_P1: _ClassVar[Severity]
    SEVERITY_P2: _ClassVar[Severity]
    SEVERITY_P3: _ClassVar[Severity]
    SEVERITY_P4: _ClassVar[Severity]

class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_UNSPECIFIED: _ClassVar[Status]
    STATUS_INVESTIGATING: _ClassVar[Status]
    STATUS_IDENTIFIED: _ClassVar[Status]
    STATUS_MONITORING: _ClassVar[Status]
    STATUS_RESOLVED: _ClassVar[Status]

class MitigationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MITIGATION_KIND_UNSPECIFIED: _ClassVar[MitigationKind]
    MITIGATION_KIND_ROLLBACK: _ClassVar[MitigationKind]
    MITIGATION_KIND_RESTART: _ClassVar[MitigationKind]
    MITIGATION_KIND_FAILOVER: _ClassVar[MitigationKind]
    MITIGATION_KIND_TRAFFIC_SHIFT: _ClassVar[MitigationKind]
    MITIGATION_KIND_FEATURE_FLAG: _ClassVar[MitigationKind]
    MITIGATION_KIND_RUNBOOK_STEP: _ClassVar[MitigationKind]
    MITIGATION_KIND_OTHER: _ClassVar[MitigationKind]
SEVERITY_UNSPECIFIED: Severity
SEVERITY_P1: Severity
SEVERITY_P2: Severity
SEVERITY_P3: Severity
SEVERITY_P4: Severity
STATUS_UNSPECIFIED: Status
STATUS_INVESTIGATING: Status
STATUS_IDENTIFIED: Status
STATUS_MONITORING: Status
STATUS_RESOLVED: Status
MITIGATION_KIND_UNSPECIFIED: MitigationKind
MITIGATION_KIND_ROLLBACK: MitigationKind
MITIGATION_KIND_RESTART: MitigationKind
MITIGATION_KIND_FAILOVER: MitigationKind
MITIGATION_KIND_TRAFFIC_SHIFT: MitigationKind
MITIGATION_KIND_FEATURE_FLAG: MitigationKind
MITIGATION_KIND_RUNBOOK_STEP: MitigationKind
MITIGATION_KIND_OTHER: MitigationKind

class Mitigation(_message.Message):
    __slots__ = ("kind", "description", "temporary", "applied_by", "applied_at")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TEMPORARY_FIELD_NUMBER: _ClassVar[int]
    APPLIED_BY_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    kind: MitigationKind
    description: str
    temporary: bool
    applied_by: str
    applied_at: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[MitigationKind, str]] = ..., description: _Optional[str] = ..., temporary: bool = ..., applied_by: _Optional[str] = ..., applied_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Incident(_message.Message):
    __slots__ = ("incident_id", "reference", "number", "title", "severity", "status", "services", "source_alerts", "commander", "declared_by", "declared_at", "resolved_at", "resolution_summary", "root_cause_pending", "mitigations", "reopen_count", "last_changed_at", "version", "position", "paging_alert")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ALERTS_FIELD_NUMBER: _ClassVar[int]
    COMMANDER_FIELD_NUMBER: _ClassVar[int]
    DECLARED_BY_FIELD_NUMBER: _ClassVar[int]
    DECLARED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ROOT_CAUSE_PENDING_FIELD_NUMBER: _ClassVar[int]
    MITIGATIONS_FIELD_NUMBER: _ClassVar[int]
    REOPEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    PAGING_ALERT_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    reference: str
    number: int
    title: str
    severity: Severity
    status: Status
    services: _containers.RepeatedScalarFieldContainer[str]
    source_alerts: _containers.RepeatedScalarFieldContainer[str]
    commander: str
    declared_by: str
    declared_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    resolution_summary: str
    root_cause_pending: bool
    mitigations: _containers.RepeatedCompositeFieldContainer[Mitigation]
    reopen_count: int
    last_changed_at: _timestamp_pb2.Timestamp
    version: int
    position: int
    paging_alert: str
    def __init__(self, incident_id: _Optional[str] = ..., reference: _Optional[str] = ..., number: _Optional[int] = ..., title: _Optional[str] = ..., severity: _Optional[_Union[Severity, str]] = ..., status: _Optional[_Union[Status, str]] = ..., services: _Optional[_Iterable[str]] = ..., source_alerts: _Optional[_Iterable[str]] = ..., commander: _Optional[str] = ..., declared_by: _Optional[str] = ..., declared_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., resolution_summary: _Optional[str] = ..., root_cause_pending: bool = ..., mitigations: _Optional[_Iterable[_Union[Mitigation, _Mapping]]] = ..., reopen_count: _Optional[int] = ..., last_changed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., position: _Optional[int] = ..., paging_alert: _Optional[str] = ...) -> None: ...

class CommandOutcome(_message.Message):
    __slots__ = ("incident_id", "reference", "version", "position", "event_types", "replayed")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    reference: str
    version: int
    position: int
    event_types: _containers.RepeatedScalarFieldContainer[str]
    replayed: bool
    def __init__(self, incident_id: _Optional[str] = ..., reference: _Optional[str] = ..., version: _Optional[int] = ..., position: _Optional[int] = ..., event_types: _Optional[_Iterable[str]] = ..., replayed: bool = ...) -> None: ...

class DeclareIncidentRequest(_message.Message):
    __slots__ = ("title", "severity", "services", "source_alerts", "idempotency_key")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ALERTS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    title: str
    severity: Severity
    services: _containers.RepeatedScalarFieldContainer[str]
    source_alerts: _containers.RepeatedScalarFieldContainer[str]
    idempotency_key: str
    def __init__(self, title: _Optional[str] = ..., severity: _Optional[_Union[Severity, str]] = ..., services: _Optional[_Iterable[str]] = ..., source_alerts: _Optional[_Iterable[str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class DeclareIncidentResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class AssignCommanderRequest(_message.Message):
    __slots__ = ("incident", "commander", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    COMMANDER_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    commander: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., commander: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AssignCommanderResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class ChangeSeverityRequest(_message.Message):
    __slots__ = ("incident", "severity", "reason", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    severity: Severity
    reason: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., severity: _Optional[_Union[Severity, str]] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ChangeSeverityResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class UpdateStatusRequest(_message.Message):
    __slots__ = ("incident", "status", "note", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    status: Status
    note: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., status: _Optional[_Union[Status, str]] = ..., note: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class UpdateStatusResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class AddNoteRequest(_message.Message):
    __slots__ = ("incident", "text", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    text: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., text: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AddNoteResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class RecordMitigationRequest(_message.Message):
    __slots__ = ("incident", "kind", "description", "temporary", "applied_at", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TEMPORARY_FIELD_NUMBER: _ClassVar[int]
    APPLIED_AT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    kind: MitigationKind
    description: str
    temporary: bool
    applied_at: _timestamp_pb2.Timestamp
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., kind: _Optional[_Union[MitigationKind, str]] = ..., description: _Optional[str] = ..., temporary: bool = ..., applied_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RecordMitigationResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class ResolveIncidentRequest(_message.Message):
    __slots__ = ("incident", "summary", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    summary: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., summary: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ResolveIncidentResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class ReopenIncidentRequest(_message.Message):
    __slots__ = ("incident", "reason", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    reason: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReopenIncidentResponse(_message.Message):
    __slots__ = ("outcome", "incident")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    incident: Incident
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class GetIncidentRequest(_message.Message):
    __slots__ = ("incident", "as_of_time", "as_of_position")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    AS_OF_POSITION_FIELD_NUMBER: _ClassVar[int]
    incident: str
    as_of_time: _timestamp_pb2.Timestamp
    as_of_position: int
    def __init__(self, incident: _Optional[str] = ..., as_of_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., as_of_position: _Optional[int] = ...) -> None: ...

class GetIncidentResponse(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: Incident
    def __init__(self, incident: _Optional[_Union[Incident, _Mapping]] = ...) -> None: ...

class ListIncidentsRequest(_message.Message):
    __slots__ = ("statuses", "severities", "service", "declared_after", "declared_before", "page_size", "page_token")
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SEVERITIES_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    DECLARED_AFTER_FIELD_NUMBER: _ClassVar[int]
    DECLARED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[Status]
    severities: _containers.RepeatedScalarFieldContainer[Severity]
    service: str
    declared_after: _timestamp_pb2.Timestamp
    declared_before: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, statuses: _Optional[_Iterable[_Union[Status, str]]] = ..., severities: _Optional[_Iterable[_Union[Severity, str]]] = ..., service: _Optional[str] = ..., declared_after: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., declared_before: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIncidentsResponse(_message.Message):
    __slots__ = ("incidents", "next_page_token")
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[Incident]
    next_page_token: str
    def __init__(self, incidents: _Optional[_Iterable[_Union[Incident, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetTimelineRequest(_message.Message):
    __slots__ = ("incident", "as_of_time", "as_of_position")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    AS_OF_POSITION_FIELD_NUMBER: _ClassVar[int]
    incident: str
    as_of_time: _timestamp_pb2.Timestamp
    as_of_position: int
    def __init__(self, incident: _Optional[str] = ..., as_of_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., as_of_position: _Optional[int] = ...) -> None: ...

class GetTimelineResponse(_message.Message):
    __slots__ = ("incident", "events")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    incident: Incident
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.LogEvent]
    def __init__(self, incident: _Optional[_Union[Incident, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_event_pb2.LogEvent, _Mapping]]] = ...) -> None: ...

class WatchIncidentRequest(_message.Message):
    __slots__ = ("incident", "from_position")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    FROM_POSITION_FIELD_NUMBER: _ClassVar[int]
    incident: str
    from_position: int
    def __init__(self, incident: _Optional[str] = ..., from_position: _Optional[int] = ...) -> None: ...

class WatchIncidentResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.LogEvent
    def __init__(self, event: _Optional[_Union[_event_pb2.LogEvent, _Mapping]] = ...) -> None: ...

class WatchAllRequest(_message.Message):
    __slots__ = ("from_position",)
    FROM_POSITION_FIELD_NUMBER: _ClassVar[int]
    from_position: int
    def __init__(self, from_position: _Optional[int] = ...) -> None: ...

class WatchAllResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.LogEvent
    def __init__(self, event: _Optional[_Union[_event_pb2.LogEvent, _Mapping]] = ...) -> None: ...
