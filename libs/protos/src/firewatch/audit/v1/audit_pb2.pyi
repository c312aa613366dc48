from firewatch.eventlog.v1 import event_pb2 as _event_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AsOf(_message.Message):
    __slots__ = ("time", "position")
    TIME_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    position: int
    def __init__(self, time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("kind", "stream", "version", "event_id", "detail")
    KIND_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    kind: str
    stream: str
    version: int
    event_id: str
    detail: str
    def __init__(self, kind: _Optional[str] = ..., stream: _Optional[str] = ..., version: _Optional[int] = ..., event_id: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class VerifyLogRequest(_message.Message):
    __slots__ = ("seals_jsonl", "trusted_key_ids")
    SEALS_JSONL_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_KEY_IDS_FIELD_NUMBER: _ClassVar[int]
    seals_jsonl: bytes
    trusted_key_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, seals_jsonl: _Optional[bytes] = ..., trusted_key_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class VerifyProgress(_message.Message):
    __slots__ = ("streams_done", "streams_total")
    STREAMS_DONE_FIELD_NUMBER: _ClassVar[int]
    STREAMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    streams_done: int
    streams_total: int
    def __init__(self, streams_done: _Optional[int] = ..., streams_total: _Optional[int] = ...) -> None: ...

class VerifyReport(_message.Message):
    __slots__ = ("ok", "streams_checked", "events_checked", "seals_checked", "findings", "head_position")
    OK_FIELD_NUMBER: _ClassVar[int]
    STREAMS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    EVENTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    SEALS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    HEAD_POSITION_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    streams_checked: int
    events_checked: int
    seals_checked: int
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    head_position: int
    def __init__(self, ok: bool = ..., streams_checked: _Optional[int] = ..., events_checked: _Optional[int] = ..., seals_checked: _Optional[int] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., head_position: _Optional[int] = ...) -> None: ...

class VerifyLogResponse(_message.Message):
    __slots__ = ("progress", "report")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    progress: VerifyProgress
    report: VerifyReport
    def __init__(self, progress: _Optional[_Union[VerifyProgress, _Mapping]] = ..., report: _Optional[_Union[VerifyReport, _Mapping]] = ...) -> None: ...

class SealLogRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SealLogResponse(_message.Message):
    __slots__ = ("record_json", "position")
    RECORD_JSON_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    record_json: str
    position: int
    def __init__(self, record_json: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class ReplayRequest(_message.Message):
    __slots__ = ("target", "as_of")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    target: str
    as_of: AsOf
    def __init__(self, target: _Optional[str] = ..., as_of: _Optional[_Union[AsOf, _Mapping]] = ...) -> None: ...

class ReplayResponse(_message.Message):
    __slots__ = ("stream", "kind", "state_json", "version", "position", "events", "renderer")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_JSON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    RENDERER_FIELD_NUMBER: _ClassVar[int]
    stream: str
    kind: str
    state_json: str
    version: int
    position: int
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.LogEvent]
    renderer: str
    def __init__(self, stream: _Optional[str] = ..., kind: _Optional[str] = ..., state_json: _Optional[str] = ..., version: _Optional[int] = ..., position: _Optional[int] = ..., events: _Optional[_Iterable[_Union[_event_pb2.LogEvent, _Mapping]]] = ..., renderer: _Optional[str] = ...) -> None: ...

class DiffStreamRequest(_message.Message):
    __slots__ = ("stream", "to")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    stream: str
    to: AsOf
    def __init__(self, stream: _Optional[str] = ..., to: _Optional[_Union[AsOf, _Mapping]] = ..., **kwargs) -> None: ...

class FieldChange(_message.Message):
    __slots__ = ("field", "before_json", "after_json")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_JSON_FIELD_NUMBER: _ClassVar[int]
    field: str
    before_json: str
    after_json: str
    def __init__(self, field: _Optional[str] = ..., before_json: _Optional[str] = ..., after_json: _Optional[str] = ...) -> None: ...

class DiffStreamResponse(_message.Message):
    __slots__ = ("stream", "events", "changes")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    stream: str
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.LogEvent]
    changes: _containers.RepeatedCompositeFieldContainer[FieldChange]
    def __init__(self, stream: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_event_pb2.LogEvent, _Mapping]]] = ..., changes: _Optional[_Iterable[_Union[FieldChange, _Mapping]]] = ...) -> None: ...

class GetIncidentTimelineRequest(_message.Message):
    __slots__ = ("incident", "as_of")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    incident: str
    as_of: AsOf
    def __init__(self, incident: _Optional[str] = ..., as_of: _Optional[_Union[AsOf, _Mapping]] = ...) -> None: ...

class GetIncidentTimelineResponse(_message.Message):
    __slots__ = ("incident_id", "reference", "events")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    reference: str
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.LogEvent]
    def __init__(self, incident_id: _Optional[str] = ..., reference: _Optional[str] = ..., events: _Optional[_Iterable[_Union[_event_pb2.LogEvent, _Mapping]]] = ...) -> None: ...

class ExportBundleRequest(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    def __init__(self, incident: _Optional[str] = ...) -> None: ...

class ExportBundleResponse(_message.Message):
    __slots__ = ("bundle", "file_name")
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    bundle: bytes
    file_name: str
    def __init__(self, bundle: _Optional[bytes] = ..., file_name: _Optional[str] = ...) -> None: ...

class Step(_message.Message):
    __slots__ = ("what", "detail", "event")
    WHAT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    what: str
    detail: str
    event: _event_pb2.LogEvent
    def __init__(self, what: _Optional[str] = ..., detail: _Optional[str] = ..., event: _Optional[_Union[_event_pb2.LogEvent, _Mapping]] = ...) -> None: ...

class ExplainPageRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: str
    def __init__(self, page: _Optional[str] = ...) -> None: ...

class ExplainPageResponse(_message.Message):
    __slots__ = ("steps",)
    STEPS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedCompositeFieldContainer[Step]
    def __init__(self, steps: _Optional[_Iterable[_Union[Step, _Mapping]]] = ...) -> None: ...

class ExplainNotPagedRequest(_message.Message):
    __slots__ = ("user", "incident")
    USER_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    user: str
    incident: str
    def __init__(self, user: _Optional[str] = ..., incident: _Optional[str] = ...) -> None: ...

class ExplainNotPagedResponse(_message.Message):
    __slots__ = ("verdict", "steps")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    verdict: str
    steps: _containers.RepeatedCompositeFieldContainer[Step]
    def __init__(self, verdict: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[Step, _Mapping]]] = ...) -> None: ...

class WhoWasOnCallRequest(_message.Message):
    __slots__ = ("target", "at")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    target: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, target: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OnCallRow(_message.Message):
    __slots__ = ("level", "target", "user_id", "via")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    level: int
    target: str
    user_id: str
    via: str
    def __init__(self, level: _Optional[int] = ..., target: _Optional[str] = ..., user_id: _Optional[str] = ..., via: _Optional[str] = ...) -> None: ...

class WhoWasOnCallResponse(_message.Message):
    __slots__ = ("policy_id", "policy_revision", "rows")
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_REVISION_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    policy_revision: int
    rows: _containers.RepeatedCompositeFieldContainer[OnCallRow]
    def __init__(self, policy_id: _Optional[str] = ..., policy_revision: _Optional[int] = ..., rows: _Optional[_Iterable[_Union[OnCallRow, _Mapping]]] = ...) -> None: ...

class BacktestRequest(_message.Message):
    __slots__ = ("to", "proposal")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    proposal: str
    def __init__(self, to: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., proposal: _Optional[str] = ..., **kwargs) -> None: ...

class BacktestResponse(_message.Message):
    __slots__ = ("report_json",)
    REPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    report_json: str
    def __init__(self, report_json: _Optional[str] = ...) -> None: ...

class ListCredentialsRequest(_message.Message):
    __slots__ = ("as_of", "writers_only")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    WRITERS_ONLY_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    writers_only: bool
    def __init__(self, as_of: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., writers_only: bool = ...) -> None: ...

class CredentialRow(_message.Message):
    __slots__ = ("name", "role", "status", "fingerprint", "user", "services", "integrations", "issued_at", "expires_at", "revoked_at", "writes_through", "could_write")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    WRITES_THROUGH_FIELD_NUMBER: _ClassVar[int]
    COULD_WRITE_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: str
    status: str
    fingerprint: str
    user: str
    services: _containers.RepeatedScalarFieldContainer[str]
    integrations: _containers.RepeatedScalarFieldContainer[str]
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    writes_through: _containers.RepeatedScalarFieldContainer[str]
    could_write: bool
    def __init__(self, name: _Optional[str] = ..., role: _Optional[str] = ..., status: _Optional[str] = ..., fingerprint: _Optional[str] = ..., user: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., integrations: _Optional[_Iterable[str]] = ..., issued_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., writes_through: _Optional[_Iterable[str]] = ..., could_write: bool = ...) -> None: ...

class ListCredentialsResponse(_message.Message):
    __slots__ = ("as_of", "credentials")
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    as_of: _timestamp_pb2.Timestamp
    credentials: _containers.RepeatedCompositeFieldContainer[CredentialRow]
    def __init__(self, as_of: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., credentials: _Optional[_Iterable[_Union[CredentialRow, _Mapping]]] = ...) -> None: ...
