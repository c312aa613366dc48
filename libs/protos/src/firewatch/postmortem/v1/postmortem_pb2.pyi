from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PostmortemStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POSTMORTEM_STATUS_UNSPECIFIED: _ClassVar[PostmortemStatus]
    POSTMORTEM_STATUS_DRAFT: _ClassVar[PostmortemStatus]
    POSTMORTEM_STATUS_IN_REVIEW: _ClassVar[PostmortemStatus]
    POSTMORTEM_STATUS_PUBLISHED: _ClassVar[PostmortemStatus]

class ActionItemKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_ITEM_KIND_UNSPECIFIED: _ClassVar[ActionItemKind]
    ACTION_ITEM_KIND_TECHNICAL: _ClassVar[ActionItemKind]
    ACTION_ITEM_KIND_PROCESS: _ClassVar[ActionItemKind]
    ACTION_ITEM_KIND_MONITORING: _ClassVar[ActionItemKind]

class ActionItemStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_ITEM_STATUS_UNSPECIFIED: _ClassVar[ActionItemStatus]
    ACTION_ITEM_STATUS_OPEN: _ClassVar[ActionItemStatus]
    ACTION_ITEM_STATUS_IN_PROGRESS: _ClassVar[ActionItemStatus]
    ACTION_ITEM_STATUS_DONE: _ClassVar[ActionItemStatus]
    ACTION_ITEM_STATUS_WONT_DO: _ClassVar[ActionItemStatus]

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]
    PRIORITY_MEDIUM: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]

class RenderFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RENDER_FORMAT_UNSPECIFIED: _ClassVar[RenderFormat]
    RENDER_FORMAT_MARKDOWN: _ClassVar[RenderFormat]
    RENDER_FORMAT_HTML: _ClassVar[RenderFormat]
POSTMORTEM_STATUS_UNSPECIFIED: PostmortemStatus
POSTMORTEM_STATUS_DRAFT: PostmortemStatus
POSTMORTEM_STATUS_IN_REVIEW: PostmortemStatus
POSTMORTEM_STATUS_PUBLISHED: PostmortemStatus
ACTION_ITEM_KIND_UNSPECIFIED: ActionItemKind
ACTION_ITEM_KIND_TECHNICAL: ActionItemKind
ACTION_ITEM_KIND_PROCESS: ActionItemKind
ACTION_ITEM_KIND_MONITORING: ActionItemKind
ACTION_ITEM_STATUS_UNSPECIFIED: ActionItemStatus
ACTION_ITEM_STATUS_OPEN: ActionItemStatus
ACTION_ITEM_STATUS_IN_PROGRESS: ActionItemStatus
ACTION_ITEM_STATUS_DONE: ActionItemStatus
ACTION_ITEM_STATUS_WONT_DO: ActionItemStatus
PRIORITY_UNSPECIFIED: Priority
PRIORITY_HIGH: Priority
PRIORITY_MEDIUM: Priority
PRIORITY_LOW: Priority
RENDER_FORMAT_UNSPECIFIED: RenderFormat
RENDER_FORMAT_MARKDOWN: RenderFormat
RENDER_FORMAT_HTML: RenderFormat

class TimelineEntry(_message.Message):
    __slots__ = ("entry_id", "at", "source", "text", "generated", "annotations", "added_by")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    GENERATED_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    ADDED_BY_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    at: _timestamp_pb2.Timestamp
    source: str
    text: str
    generated: bool
    annotations: _containers.RepeatedCompositeFieldContainer[Annotation]
    added_by: str
    def __init__(self, entry_id: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., text: _Optional[str] = ..., generated: bool = ..., annotations: _Optional[_Iterable[_Union[Annotation, _Mapping]]] = ..., added_by: _Optional[str] = ...) -> None: ...

class Annotation(_message.Message):
    __slots__ = ("text", "by", "at")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    text: str
    by: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, text: _Optional[str] = ..., by: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Durations(_message.Message):
    __slots__ = ("impact_started_at", "impact_start_source", "time_to_detect_seconds", "time_to_acknowledge_seconds", "time_to_mitigate_seconds", "time_to_resolve_seconds")
    IMPACT_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    IMPACT_START_SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_DETECT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_ACKNOWLEDGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_MITIGATE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_RESOLVE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    impact_started_at: _timestamp_pb2.Timestamp
    impact_start_source: str
    time_to_detect_seconds: float
    time_to_acknowledge_seconds: float
    time_to_mitigate_seconds: float
    time_to_resolve_seconds: float
    def __init__(self, impact_started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., impact_start_source: _Optional[str] = ..., time_to_detect_seconds: _Optional[float] = ..., time_to_acknowledge_seconds: _Optional[float] = ..., time_to_mitigate_seconds: _Optional[float] = ..., time_to_resolve_seconds: _Optional[float] = ...) -> None: ...

class BlamelessWarning(_message.Message):
    __slots__ = ("section", "code", "phrase", "suggestion")
    SECTION_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_FIELD_NUMBER: _ClassVar[int]
    section: str
    code: str
    phrase: str
    suggestion: str
    def __init__(self, section: _Optional[str] = ..., code: _Optional[str] = ..., phrase: _Optional[str] = ..., suggestion: _Optional[str] = ...) -> None: ...

class Amendment(_message.Message):
    __slots__ = ("section", "text", "reason", "by", "at")
    SECTION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    section: str
    text: str
    reason: str
    by: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, section: _Optional[str] = ..., text: _Optional[str] = ..., reason: _Optional[str] = ..., by: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Postmortem(_message.Message):
    __slots__ = ("incident_id", "reference", "title", "severity", "services", "status", "required", "owner", "due_on", "sections", "root_cause", "timeline", "responders", "durations", "reviewers", "signed_off", "open_warnings", "overridden_warnings", "override_reason", "published_at", "published_by", "amendments", "action_items", "root_cause_follow_up_open", "resolutions", "components")
    class SectionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    ROOT_CAUSE_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    RESPONDERS_FIELD_NUMBER: _ClassVar[int]
    DURATIONS_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    SIGNED_OFF_FIELD_NUMBER: _ClassVar[int]
    OPEN_WARNINGS_FIELD_NUMBER: _ClassVar[int]
    OVERRIDDEN_WARNINGS_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_REASON_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_BY_FIELD_NUMBER: _ClassVar[int]
    AMENDMENTS_FIELD_NUMBER: _ClassVar[int]
    ACTION_ITEMS_FIELD_NUMBER: _ClassVar[int]
    ROOT_CAUSE_FOLLOW_UP_OPEN_FIELD_NUMBER: _ClassVar[int]
    RESOLUTIONS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    reference: str
    title: str
    severity: str
    services: _containers.RepeatedScalarFieldContainer[str]
    status: PostmortemStatus
    required: bool
    owner: str
    due_on: str
    sections: _containers.ScalarMap[str, str]
    root_cause: str
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    responders: _containers.RepeatedScalarFieldContainer[str]
    durations: Durations
    reviewers: _containers.RepeatedScalarFieldContainer[str]
    signed_off: _containers.RepeatedScalarFieldContainer[str]
    open_warnings: _containers.RepeatedCompositeFieldContainer[BlamelessWarning]
    overridden_warnings: _containers.RepeatedCompositeFieldContainer[BlamelessWarning]
    override_reason: str
    published_at: _timestamp_pb2.Timestamp
    published_by: str
    amendments: _containers.RepeatedCompositeFieldContainer[Amendment]
    action_items: _containers.RepeatedCompositeFieldContainer[ActionItem]
    root_cause_follow_up_open: bool
    resolutions: int
    components: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, incident_id: _Optional[str] = ..., reference: _Optional[str] = ..., title: _Optional[str] = ..., severity: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[PostmortemStatus, str]] = ..., required: bool = ..., owner: _Optional[str] = ..., due_on: _Optional[str] = ..., sections: _Optional[_Mapping[str, str]] = ..., root_cause: _Optional[str] = ..., timeline: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., responders: _Optional[_Iterable[str]] = ..., durations: _Optional[_Union[Durations, _Mapping]] = ..., reviewers: _Optional[_Iterable[str]] = ..., signed_off: _Optional[_Iterable[str]] = ..., open_warnings: _Optional[_Iterable[_Union[BlamelessWarning, _Mapping]]] = ..., overridden_warnings: _Optional[_Iterable[_Union[BlamelessWarning, _Mapping]]] = ..., override_reason: _Optional[str] = ..., published_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., published_by: _Optional[str] = ..., amendments: _Optional[_Iterable[_Union[Amendment, _Mapping]]] = ..., action_items: _Optional[_Iterable[_Union[ActionItem, _Mapping]]] = ..., root_cause_follow_up_open: bool = ..., resolutions: _Optional[int] = ..., components: _Optional[_Iterable[str]] = ...) -> None: ...

class ActionItem(_message.Message):
    __slots__ = ("action_id", "incident_id", "kind", "title", "owner", "due_on", "priority", "status", "tracker_url", "declined_reason", "overdue")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRACKER_URL_FIELD_NUMBER: _ClassVar[int]
    DECLINED_REASON_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    incident_id: str
    kind: ActionItemKind
    title: str
    owner: str
    due_on: str
    priority: Priority
    status: ActionItemStatus
    tracker_url: str
    declined_reason: str
    overdue: bool
    def __init__(self, action_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., kind: _Optional[_Union[ActionItemKind, str]] = ..., title: _Optional[str] = ..., owner: _Optional[str] = ..., due_on: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., status: _Optional[_Union[ActionItemStatus, str]] = ..., tracker_url: _Optional[str] = ..., declined_reason: _Optional[str] = ..., overdue: bool = ...) -> None: ...

class OpenPostmortemRequest(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    def __init__(self, incident: _Optional[str] = ...) -> None: ...

class OpenPostmortemResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class GetPostmortemRequest(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    def __init__(self, incident: _Optional[str] = ...) -> None: ...

class GetPostmortemResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class ListPostmortemsRequest(_message.Message):
    __slots__ = ("owner", "team", "status")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    owner: str
    team: str
    status: PostmortemStatus
    def __init__(self, owner: _Optional[str] = ..., team: _Optional[str] = ..., status: _Optional[_Union[PostmortemStatus, str]] = ...) -> None: ...

class ListPostmortemsResponse(_message.Message):
    __slots__ = ("postmortems",)
    POSTMORTEMS_FIELD_NUMBER: _ClassVar[int]
    postmortems: _containers.RepeatedCompositeFieldContainer[Postmortem]
    def __init__(self, postmortems: _Optional[_Iterable[_Union[Postmortem, _Mapping]]] = ...) -> None: ...

class EditSectionRequest(_message.Message):
    __slots__ = ("incident", "section", "text")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    section: str
    text: str
    def __init__(self, incident: _Optional[str] = ..., section: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class EditSectionResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class RecordRootCauseRequest(_message.Message):
    __slots__ = ("incident", "text")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    text: str
    def __init__(self, incident: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class RecordRootCauseResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class SetImpactStartRequest(_message.Message):
    __slots__ = ("incident", "impact_started_at")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    IMPACT_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    impact_started_at: _timestamp_pb2.Timestamp
    def __init__(self, incident: _Optional[str] = ..., impact_started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetImpactStartResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class AddTimelineEntryRequest(_message.Message):
    __slots__ = ("incident", "occurred_at", "text")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    occurred_at: _timestamp_pb2.Timestamp
    text: str
    def __init__(self, incident: _Optional[str] = ..., occurred_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., text: _Optional[str] = ...) -> None: ...

class AddTimelineEntryResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class AnnotateTimelineEntryRequest(_message.Message):
    __slots__ = ("incident", "entry_id", "text")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    entry_id: str
    text: str
    def __init__(self, incident: _Optional[str] = ..., entry_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class AnnotateTimelineEntryResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class AssignOwnerRequest(_message.Message):
    __slots__ = ("incident", "owner")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    incident: str
    owner: str
    def __init__(self, incident: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class AssignOwnerResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class RequestReviewRequest(_message.Message):
    __slots__ = ("incident", "reviewers")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    incident: str
    reviewers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, incident: _Optional[str] = ..., reviewers: _Optional[_Iterable[str]] = ...) -> None: ...

class RequestReviewResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class SignOffRequest(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    def __init__(self, incident: _Optional[str] = ...) -> None: ...

class SignOffResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("incident", "override_reason")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_REASON_FIELD_NUMBER: _ClassVar[int]
    incident: str
    override_reason: str
    def __init__(self, incident: _Optional[str] = ..., override_reason: _Optional[str] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class AmendRequest(_message.Message):
    __slots__ = ("incident", "section", "text", "reason")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    SECTION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    incident: str
    section: str
    text: str
    reason: str
    def __init__(self, incident: _Optional[str] = ..., section: _Optional[str] = ..., text: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AmendResponse(_message.Message):
    __slots__ = ("postmortem",)
    POSTMORTEM_FIELD_NUMBER: _ClassVar[int]
    postmortem: Postmortem
    def __init__(self, postmortem: _Optional[_Union[Postmortem, _Mapping]] = ...) -> None: ...

class RenderPostmortemRequest(_message.Message):
    __slots__ = ("incident", "format")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    format: RenderFormat
    def __init__(self, incident: _Optional[str] = ..., format: _Optional[_Union[RenderFormat, str]] = ...) -> None: ...

class RenderPostmortemResponse(_message.Message):
    __slots__ = ("content_type", "content")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    content: str
    def __init__(self, content_type: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class AddActionItemRequest(_message.Message):
    __slots__ = ("incident", "kind", "title", "owner", "due_on", "priority", "tracker_url", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TRACKER_URL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    kind: ActionItemKind
    title: str
    owner: str
    due_on: str
    priority: Priority
    tracker_url: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., kind: _Optional[_Union[ActionItemKind, str]] = ..., title: _Optional[str] = ..., owner: _Optional[str] = ..., due_on: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., tracker_url: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AddActionItemResponse(_message.Message):
    __slots__ = ("action_item",)
    ACTION_ITEM_FIELD_NUMBER: _ClassVar[int]
    action_item: ActionItem
    def __init__(self, action_item: _Optional[_Union[ActionItem, _Mapping]] = ...) -> None: ...

class UpdateActionItemRequest(_message.Message):
    __slots__ = ("action_id", "change", "reason", "owner", "due_on", "title", "priority", "tracker_url")
    ACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TRACKER_URL_FIELD_NUMBER: _ClassVar[int]
    action_id: str
    change: str
    reason: str
    owner: str
    due_on: str
    title: str
    priority: Priority
    tracker_url: str
    def __init__(self, action_id: _Optional[str] = ..., change: _Optional[str] = ..., reason: _Optional[str] = ..., owner: _Optional[str] = ..., due_on: _Optional[str] = ..., title: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., tracker_url: _Optional[str] = ...) -> None: ...

class UpdateActionItemResponse(_message.Message):
    __slots__ = ("action_item",)
    ACTION_ITEM_FIELD_NUMBER: _ClassVar[int]
    action_item: ActionItem
    def __init__(self, action_item: _Optional[_Union[ActionItem, _Mapping]] = ...) -> None: ...

class ListActionItemsRequest(_message.Message):
    __slots__ = ("incident", "owner", "team", "status", "overdue_only")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    owner: str
    team: str
    status: ActionItemStatus
    overdue_only: bool
    def __init__(self, incident: _Optional[str] = ..., owner: _Optional[str] = ..., team: _Optional[str] = ..., status: _Optional[_Union[ActionItemStatus, str]] = ..., overdue_only: bool = ...) -> None: ...

class ListActionItemsResponse(_message.Message):
    __slots__ = ("action_items",)
    ACTION_ITEMS_FIELD_NUMBER: _ClassVar[int]
    action_items: _containers.RepeatedCompositeFieldContainer[ActionItem]
    def __init__(self, action_items: _Optional[_Iterable[_Union[ActionItem, _Mapping]]] = ...) -> None: ...

class GetMetricsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MetricSummary(_message.Message):
    __slots__ = ("metric", "count", "mean_seconds", "median_seconds", "p90_seconds", "definition")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P90_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    metric: str
    count: int
    mean_seconds: float
    median_seconds: float
    p90_seconds: float
    definition: str
    def __init__(self, metric: _Optional[str] = ..., count: _Optional[int] = ..., mean_seconds: _Optional[float] = ..., median_seconds: _Optional[float] = ..., p90_seconds: _Optional[float] = ..., definition: _Optional[str] = ...) -> None: ...

class GetMetricsResponse(_message.Message):
    __slots__ = ("definition", "computed_at", "events_read", "incidents", "summaries", "never_acknowledged", "unresolved", "reopened", "by_severity", "by_service", "by_month", "mttr_seconds_by_month", "action_items", "action_items_done", "action_items_wont_do", "action_items_overdue", "completion_rate", "overdue_rate")
    class BySeverityEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByServiceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByMonthEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MttrSecondsByMonthEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    DEFINITION_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_READ_FIELD_NUMBER: _ClassVar[int]
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    NEVER_ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    UNRESOLVED_FIELD_NUMBER: _ClassVar[int]
    REOPENED_FIELD_NUMBER: _ClassVar[int]
    BY_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    BY_SERVICE_FIELD_NUMBER: _ClassVar[int]
    BY_MONTH_FIELD_NUMBER: _ClassVar[int]
    MTTR_SECONDS_BY_MONTH_FIELD_NUMBER: _ClassVar[int]
    ACTION_ITEMS_FIELD_NUMBER: _ClassVar[int]
    ACTION_ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    ACTION_ITEMS_WONT_DO_FIELD_NUMBER: _ClassVar[int]
    ACTION_ITEMS_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_RATE_FIELD_NUMBER: _ClassVar[int]
    definition: str
    computed_at: _timestamp_pb2.Timestamp
    events_read: int
    incidents: int
    summaries: _containers.RepeatedCompositeFieldContainer[MetricSummary]
    never_acknowledged: int
    unresolved: int
    reopened: int
    by_severity: _containers.ScalarMap[str, int]
    by_service: _containers.ScalarMap[str, int]
    by_month: _containers.ScalarMap[str, int]
    mttr_seconds_by_month: _containers.ScalarMap[str, float]
    action_items: int
    action_items_done: int
    action_items_wont_do: int
    action_items_overdue: int
    completion_rate: float
    overdue_rate: float
    def __init__(self, definition: _Optional[str] = ..., computed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., events_read: _Optional[int] = ..., incidents: _Optional[int] = ..., summaries: _Optional[_Iterable[_Union[MetricSummary, _Mapping]]] = ..., never_acknowledged: _Optional[int] = ..., unresolved: _Optional[int] = ..., reopened: _Optional[int] = ..., by_severity: _Optional[_Mapping[str, int]] = ..., by_service: _Optional[_Mapping[str, int]] = ..., by_month: _Optional[_Mapping[str, int]] = ..., mttr_seconds_by_month: _Optional[_Mapping[str, float]] = ..., action_items: _Optional[int] = ..., action_items_done: _Optional[int] = ..., action_items_wont_do: _Optional[int] = ..., action_items_overdue: _Optional[int] = ..., completion_rate: _Optional[float] = ..., overdue_rate: _Optional[float] = ...) -> None: ...
