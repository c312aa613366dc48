from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Step(_message.Message):
    __slots__ = ("id", "title", "kind", "text", "automatic", "idempotent", "needs_approval", "dry_run", "severity_floor")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENT_FIELD_NUMBER: _ClassVar[int]
    NEEDS_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FLOOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    kind: str
    text: str
    automatic: bool
    idempotent: bool
    needs_approval: bool
    dry_run: bool
    severity_floor: str
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., kind: _Optional[str] = ..., text: _Optional[str] = ..., automatic: bool = ..., idempotent: bool = ..., needs_approval: bool = ..., dry_run: bool = ..., severity_floor: _Optional[str] = ...) -> None: ...

class Runbook(_message.Message):
    __slots__ = ("id", "revision", "title", "text", "services", "matchers", "steps", "retired", "document_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    MATCHERS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    revision: int
    title: str
    text: str
    services: _containers.RepeatedScalarFieldContainer[str]
    matchers: _containers.RepeatedScalarFieldContainer[str]
    steps: _containers.RepeatedCompositeFieldContainer[Step]
    retired: bool
    document_json: str
    def __init__(self, id: _Optional[str] = ..., revision: _Optional[int] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., matchers: _Optional[_Iterable[str]] = ..., steps: _Optional[_Iterable[_Union[Step, _Mapping]]] = ..., retired: bool = ..., document_json: _Optional[str] = ...) -> None: ...

class PublishRunbookRequest(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: str
    def __init__(self, document: _Optional[str] = ...) -> None: ...

class PublishRunbookResponse(_message.Message):
    __slots__ = ("runbook", "new_revision")
    RUNBOOK_FIELD_NUMBER: _ClassVar[int]
    NEW_REVISION_FIELD_NUMBER: _ClassVar[int]
    runbook: Runbook
    new_revision: bool
    def __init__(self, runbook: _Optional[_Union[Runbook, _Mapping]] = ..., new_revision: bool = ...) -> None: ...

class GetRunbookRequest(_message.Message):
    __slots__ = ("id", "revision")
    ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    id: str
    revision: int
    def __init__(self, id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class GetRunbookResponse(_message.Message):
    __slots__ = ("runbook",)
    RUNBOOK_FIELD_NUMBER: _ClassVar[int]
    runbook: Runbook
    def __init__(self, runbook: _Optional[_Union[Runbook, _Mapping]] = ...) -> None: ...

class ListRunbooksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRunbooksResponse(_message.Message):
    __slots__ = ("runbooks",)
    RUNBOOKS_FIELD_NUMBER: _ClassVar[int]
    runbooks: _containers.RepeatedCompositeFieldContainer[Runbook]
    def __init__(self, runbooks: _Optional[_Iterable[_Union[Runbook, _Mapping]]] = ...) -> None: ...

class RetireRunbookRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RetireRunbookResponse(_message.Message):
    __slots__ = ("runbook",)
    RUNBOOK_FIELD_NUMBER: _ClassVar[int]
    runbook: Runbook
    def __init__(self, runbook: _Optional[_Union[Runbook, _Mapping]] = ...) -> None: ...

class StepState(_message.Message):
    __slots__ = ("step_id", "title", "kind", "status", "note", "by", "at")
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    step_id: str
    title: str
    kind: str
    status: str
    note: str
    by: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, step_id: _Optional[str] = ..., title: _Optional[str] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., note: _Optional[str] = ..., by: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AttachedRunbook(_message.Message):
    __slots__ = ("id", "revision", "title", "specificity", "text", "steps")
    ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SPECIFICITY_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    id: str
    revision: int
    title: str
    specificity: int
    text: str
    steps: _containers.RepeatedCompositeFieldContainer[StepState]
    def __init__(self, id: _Optional[str] = ..., revision: _Optional[int] = ..., title: _Optional[str] = ..., specificity: _Optional[int] = ..., text: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[StepState, _Mapping]]] = ...) -> None: ...

class ActionRun(_message.Message):
    __slots__ = ("run_id", "runbook_id", "step_id", "target", "status", "automatic", "attempts", "status_code", "duration_ms", "response_excerpt", "error", "method", "url", "requested_at", "requested_by", "approved_by")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUNBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_EXCERPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    runbook_id: str
    step_id: str
    target: str
    status: str
    automatic: bool
    attempts: int
    status_code: int
    duration_ms: int
    response_excerpt: str
    error: str
    method: str
    url: str
    requested_at: _timestamp_pb2.Timestamp
    requested_by: str
    approved_by: str
    def __init__(self, run_id: _Optional[str] = ..., runbook_id: _Optional[str] = ..., step_id: _Optional[str] = ..., target: _Optional[str] = ..., status: _Optional[str] = ..., automatic: bool = ..., attempts: _Optional[int] = ..., status_code: _Optional[int] = ..., duration_ms: _Optional[int] = ..., response_excerpt: _Optional[str] = ..., error: _Optional[str] = ..., method: _Optional[str] = ..., url: _Optional[str] = ..., requested_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., requested_by: _Optional[str] = ..., approved_by: _Optional[str] = ...) -> None: ...

class GetIncidentRunbooksRequest(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    def __init__(self, incident: _Optional[str] = ...) -> None: ...

class GetIncidentRunbooksResponse(_message.Message):
    __slots__ = ("incident_id", "reference", "runbooks", "external_links", "runs")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RUNBOOKS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_LINKS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    reference: str
    runbooks: _containers.RepeatedCompositeFieldContainer[AttachedRunbook]
    external_links: _containers.RepeatedScalarFieldContainer[str]
    runs: _containers.RepeatedCompositeFieldContainer[ActionRun]
    def __init__(self, incident_id: _Optional[str] = ..., reference: _Optional[str] = ..., runbooks: _Optional[_Iterable[_Union[AttachedRunbook, _Mapping]]] = ..., external_links: _Optional[_Iterable[str]] = ..., runs: _Optional[_Iterable[_Union[ActionRun, _Mapping]]] = ...) -> None: ...

class AttachRunbookRequest(_message.Message):
    __slots__ = ("incident", "runbook_id")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    RUNBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    incident: str
    runbook_id: str
    def __init__(self, incident: _Optional[str] = ..., runbook_id: _Optional[str] = ...) -> None: ...

class AttachRunbookResponse(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: GetIncidentRunbooksResponse
    def __init__(self, incident: _Optional[_Union[GetIncidentRunbooksResponse, _Mapping]] = ...) -> None: ...

class MarkStepRequest(_message.Message):
    __slots__ = ("incident", "runbook_id", "step_id", "status", "note", "mitigation", "temporary", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    RUNBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    MITIGATION_FIELD_NUMBER: _ClassVar[int]
    TEMPORARY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    runbook_id: str
    step_id: str
    status: str
    note: str
    mitigation: str
    temporary: bool
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., runbook_id: _Optional[str] = ..., step_id: _Optional[str] = ..., status: _Optional[str] = ..., note: _Optional[str] = ..., mitigation: _Optional[str] = ..., temporary: bool = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class MarkStepResponse(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: GetIncidentRunbooksResponse
    def __init__(self, incident: _Optional[_Union[GetIncidentRunbooksResponse, _Mapping]] = ...) -> None: ...

class StartActionRequest(_message.Message):
    __slots__ = ("incident", "runbook_id", "step_id", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    RUNBOOK_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    runbook_id: str
    step_id: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., runbook_id: _Optional[str] = ..., step_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class StartActionResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: ActionRun
    def __init__(self, run: _Optional[_Union[ActionRun, _Mapping]] = ...) -> None: ...

class ApproveActionRequest(_message.Message):
    __slots__ = ("incident", "run_id")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    incident: str
    run_id: str
    def __init__(self, incident: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class ApproveActionResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: ActionRun
    def __init__(self, run: _Optional[_Union[ActionRun, _Mapping]] = ...) -> None: ...
