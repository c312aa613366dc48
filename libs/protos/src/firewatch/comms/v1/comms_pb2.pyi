from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Audience(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIENCE_UNSPECIFIED: _ClassVar[Audience]
    AUDIENCE_INTERNAL: _ClassVar[Audience]
    AUDIENCE_EXECUTIVE: _ClassVar[Audience]
    AUDIENCE_PUBLIC: _ClassVar[Audience]

class UpdateStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UPDATE_STATUS_UNSPECIFIED: _ClassVar[UpdateStatus]
    UPDATE_STATUS_INVESTIGATING: _ClassVar[UpdateStatus]
    UPDATE_STATUS_IDENTIFIED: _ClassVar[UpdateStatus]
    UPDATE_STATUS_MONITORING: _ClassVar[UpdateStatus]
    UPDATE_STATUS_RESOLVED: _ClassVar[UpdateStatus]

class ComponentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPONENT_STATUS_UNSPECIFIED: _ClassVar[ComponentStatus]
    COMPONENT_STATUS_OPERATIONAL: _ClassVar[ComponentStatus]
    COMPONENT_STATUS_DEGRADED_PERFORMANCE: _ClassVar[ComponentStatus]
    COMPONENT_STATUS_PARTIAL_OUTAGE: _ClassVar[ComponentStatus]
    COMPONENT_STATUS_MAJOR_OUTAGE: _ClassVar[ComponentStatus]
    COMPONENT_STATUS_UNDER_MAINTENANCE: _ClassVar[ComponentStatus]

class Impact(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPACT_UNSPECIFIED: _ClassVar[Impact]
    IMPACT_NONE: _ClassVar[Impact]
    IMPACT_MINOR: _ClassVar[Impact]
    IMPACT_MAJOR: _ClassVar[Impact]
    IMPACT_CRITICAL: _ClassVar[Impact]

class StatusIncidentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_INCIDENT_KIND_UNSPECIFIED: _ClassVar[StatusIncidentKind]
    STATUS_INCIDENT_KIND_INCIDENT: _ClassVar[StatusIncidentKind]
    STATUS_INCIDENT_KIND_MAINTENANCE: _ClassVar[StatusIncidentKind]

class StatusIncidentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_INCIDENT_STATUS_UNSPECIFIED: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_INVESTIGATING: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_IDENTIFIED: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_MONITORING: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_RESOLVED: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_POSTMORTEM: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_SCHEDULED: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_IN_PROGRESS: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_VERIFYING: _ClassVar[StatusIncidentStatus]
    STATUS_INCIDENT_STATUS_COMPLETED: _ClassVar[StatusIncidentStatus]
AUDIENCE_UNSPECIFIED: Audience
AUDIENCE_INTERNAL: Audience
AUDIENCE_EXECUTIVE: Audience
AUDIENCE_PUBLIC: Audience
UPDATE_STATUS_UNSPECIFIED: UpdateStatus
UPDATE_STATUS_INVESTIGATING: UpdateStatus
UPDATE_STATUS_IDENTIFIED: UpdateStatus
UPDATE_STATUS_MONITORING: UpdateStatus
UPDATE_STATUS_RESOLVED: UpdateStatus
COMPONENT_STATUS_UNSPECIFIED: ComponentStatus
COMPONENT_STATUS_OPERATIONAL: ComponentStatus
COMPONENT_STATUS_DEGRADED_PERFORMANCE: ComponentStatus
COMPONENT_STATUS_PARTIAL_OUTAGE: ComponentStatus
COMPONENT_STATUS_MAJOR_OUTAGE: ComponentStatus
COMPONENT_STATUS_UNDER_MAINTENANCE: ComponentStatus
IMPACT_UNSPECIFIED: Impact
IMPACT_NONE: Impact
IMPACT_MINOR: Impact
IMPACT_MAJOR: Impact
IMPACT_CRITICAL: Impact
STATUS_INCIDENT_KIND_UNSPECIFIED: StatusIncidentKind
STATUS_INCIDENT_KIND_INCIDENT: StatusIncidentKind
STATUS_INCIDENT_KIND_MAINTENANCE: StatusIncidentKind
STATUS_INCIDENT_STATUS_UNSPECIFIED: StatusIncidentStatus
STATUS_INCIDENT_STATUS_INVESTIGATING: StatusIncidentStatus
STATUS_INCIDENT_STATUS_IDENTIFIED: StatusIncidentStatus
STATUS_INCIDENT_STATUS_MONITORING: StatusIncidentStatus
STATUS_INCIDENT_STATUS_RESOLVED: StatusIncidentStatus
STATUS_INCIDENT_STATUS_POSTMORTEM: StatusIncidentStatus
STATUS_INCIDENT_STATUS_SCHEDULED: StatusIncidentStatus
STATUS_INCIDENT_STATUS_IN_PROGRESS: StatusIncidentStatus
STATUS_INCIDENT_STATUS_VERIFYING: StatusIncidentStatus
STATUS_INCIDENT_STATUS_COMPLETED: StatusIncidentStatus

class Channel(_message.Message):
    __slots__ = ("channel_id", "role", "kind", "address", "link", "open_status")
    CHANNEL_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    OPEN_STATUS_FIELD_NUMBER: _ClassVar[int]
    channel_id: str
    role: str
    kind: str
    address: str
    link: str
    open_status: str
    def __init__(self, channel_id: _Optional[str] = ..., role: _Optional[str] = ..., kind: _Optional[str] = ..., address: _Optional[str] = ..., link: _Optional[str] = ..., open_status: _Optional[str] = ...) -> None: ...

class Promise(_message.Message):
    __slots__ = ("seq", "due_by", "remind_at", "reminded", "overdue")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    DUE_BY_FIELD_NUMBER: _ClassVar[int]
    REMIND_AT_FIELD_NUMBER: _ClassVar[int]
    REMINDED_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    due_by: _timestamp_pb2.Timestamp
    remind_at: _timestamp_pb2.Timestamp
    reminded: bool
    overdue: bool
    def __init__(self, seq: _Optional[int] = ..., due_by: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., remind_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reminded: bool = ..., overdue: bool = ...) -> None: ...

class GetIncidentCommsRequest(_message.Message):
    __slots__ = ("incident",)
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    incident: str
    def __init__(self, incident: _Optional[str] = ...) -> None: ...

class GetIncidentCommsResponse(_message.Message):
    __slots__ = ("reference", "incident_id", "title", "severity", "commander", "comms_lead", "channels", "promise", "updates_posted", "deliveries_delivered", "deliveries_pending", "deliveries_failed")
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    COMMANDER_FIELD_NUMBER: _ClassVar[int]
    COMMS_LEAD_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    PROMISE_FIELD_NUMBER: _ClassVar[int]
    UPDATES_POSTED_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_PENDING_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FAILED_FIELD_NUMBER: _ClassVar[int]
    reference: str
    incident_id: str
    title: str
    severity: str
    commander: str
    comms_lead: str
    channels: _containers.RepeatedCompositeFieldContainer[Channel]
    promise: Promise
    updates_posted: int
    deliveries_delivered: int
    deliveries_pending: int
    deliveries_failed: int
    def __init__(self, reference: _Optional[str] = ..., incident_id: _Optional[str] = ..., title: _Optional[str] = ..., severity: _Optional[str] = ..., commander: _Optional[str] = ..., comms_lead: _Optional[str] = ..., channels: _Optional[_Iterable[_Union[Channel, _Mapping]]] = ..., promise: _Optional[_Union[Promise, _Mapping]] = ..., updates_posted: _Optional[int] = ..., deliveries_delivered: _Optional[int] = ..., deliveries_pending: _Optional[int] = ..., deliveries_failed: _Optional[int] = ...) -> None: ...

class AssignCommsLeadRequest(_message.Message):
    __slots__ = ("incident", "comms_lead")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    COMMS_LEAD_FIELD_NUMBER: _ClassVar[int]
    incident: str
    comms_lead: str
    def __init__(self, incident: _Optional[str] = ..., comms_lead: _Optional[str] = ...) -> None: ...

class AssignCommsLeadResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class PreviewUpdateRequest(_message.Message):
    __slots__ = ("incident", "audience", "status", "message", "template")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    incident: str
    audience: Audience
    status: UpdateStatus
    message: str
    template: str
    def __init__(self, incident: _Optional[str] = ..., audience: _Optional[_Union[Audience, str]] = ..., status: _Optional[_Union[UpdateStatus, str]] = ..., message: _Optional[str] = ..., template: _Optional[str] = ...) -> None: ...

class PreviewUpdateResponse(_message.Message):
    __slots__ = ("body", "next_update_by", "warnings")
    BODY_FIELD_NUMBER: _ClassVar[int]
    NEXT_UPDATE_BY_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    body: str
    next_update_by: _timestamp_pb2.Timestamp
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, body: _Optional[str] = ..., next_update_by: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class PostUpdateRequest(_message.Message):
    __slots__ = ("incident", "audience", "status", "message", "template", "posted_by", "idempotency_key")
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    POSTED_BY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    incident: str
    audience: Audience
    status: UpdateStatus
    message: str
    template: str
    posted_by: str
    idempotency_key: str
    def __init__(self, incident: _Optional[str] = ..., audience: _Optional[_Union[Audience, str]] = ..., status: _Optional[_Union[UpdateStatus, str]] = ..., message: _Optional[str] = ..., template: _Optional[str] = ..., posted_by: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class PostUpdateResponse(_message.Message):
    __slots__ = ("body", "next_update_by", "promise_kept", "position", "replayed")
    BODY_FIELD_NUMBER: _ClassVar[int]
    NEXT_UPDATE_BY_FIELD_NUMBER: _ClassVar[int]
    PROMISE_KEPT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    body: str
    next_update_by: _timestamp_pb2.Timestamp
    promise_kept: bool
    position: int
    replayed: bool
    def __init__(self, body: _Optional[str] = ..., next_update_by: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., promise_kept: bool = ..., position: _Optional[int] = ..., replayed: bool = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Template(_message.Message):
    __slots__ = ("name", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    source: str
    def __init__(self, name: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[Template]
    def __init__(self, templates: _Optional[_Iterable[_Union[Template, _Mapping]]] = ...) -> None: ...

class GetReportRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PromiseCounts(_message.Message):
    __slots__ = ("name", "kept", "missed", "open")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    MISSED_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    kept: int
    missed: int
    open: int
    def __init__(self, name: _Optional[str] = ..., kept: _Optional[int] = ..., missed: _Optional[int] = ..., open: _Optional[int] = ...) -> None: ...

class GetReportResponse(_message.Message):
    __slots__ = ("incidents", "severities")
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    SEVERITIES_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[PromiseCounts]
    severities: _containers.RepeatedCompositeFieldContainer[PromiseCounts]
    def __init__(self, incidents: _Optional[_Iterable[_Union[PromiseCounts, _Mapping]]] = ..., severities: _Optional[_Iterable[_Union[PromiseCounts, _Mapping]]] = ...) -> None: ...

class ConfigurePageRequest(_message.Message):
    __slots__ = ("name", "url", "time_zone")
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    name: str
    url: str
    time_zone: str
    def __init__(self, name: _Optional[str] = ..., url: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class ConfigurePageResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class AddComponentGroupRequest(_message.Message):
    __slots__ = ("group_id", "name", "description")
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    group_id: str
    name: str
    description: str
    def __init__(self, group_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class AddComponentGroupResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class AddComponentRequest(_message.Message):
    __slots__ = ("component_id", "name", "description", "group_id", "only_show_if_degraded")
    COMPONENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    ONLY_SHOW_IF_DEGRADED_FIELD_NUMBER: _ClassVar[int]
    component_id: str
    name: str
    description: str
    group_id: str
    only_show_if_degraded: bool
    def __init__(self, component_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., group_id: _Optional[str] = ..., only_show_if_degraded: bool = ...) -> None: ...

class AddComponentResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class SetComponentStatusRequest(_message.Message):
    __slots__ = ("component_id", "status")
    COMPONENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    component_id: str
    status: ComponentStatus
    def __init__(self, component_id: _Optional[str] = ..., status: _Optional[_Union[ComponentStatus, str]] = ...) -> None: ...

class SetComponentStatusResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class ListComponentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Component(_message.Message):
    __slots__ = ("component_id", "name", "group_id", "status", "group")
    COMPONENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    component_id: str
    name: str
    group_id: str
    status: ComponentStatus
    group: bool
    def __init__(self, component_id: _Optional[str] = ..., name: _Optional[str] = ..., group_id: _Optional[str] = ..., status: _Optional[_Union[ComponentStatus, str]] = ..., group: bool = ...) -> None: ...

class ListComponentsResponse(_message.Message):
    __slots__ = ("components",)
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    components: _containers.RepeatedCompositeFieldContainer[Component]
    def __init__(self, components: _Optional[_Iterable[_Union[Component, _Mapping]]] = ...) -> None: ...

class ComponentChange(_message.Message):
    __slots__ = ("component_id", "status")
    COMPONENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    component_id: str
    status: ComponentStatus
    def __init__(self, component_id: _Optional[str] = ..., status: _Optional[_Union[ComponentStatus, str]] = ...) -> None: ...

class DraftStatusIncidentRequest(_message.Message):
    __slots__ = ("name", "body", "impact", "component_ids", "internal_only", "incident", "kind", "scheduled_for", "scheduled_until", "idempotency_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    IMPACT_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_IDS_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_FOR_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    body: str
    impact: Impact
    component_ids: _containers.RepeatedScalarFieldContainer[str]
    internal_only: bool
    incident: str
    kind: StatusIncidentKind
    scheduled_for: _timestamp_pb2.Timestamp
    scheduled_until: _timestamp_pb2.Timestamp
    idempotency_key: str
    def __init__(self, name: _Optional[str] = ..., body: _Optional[str] = ..., impact: _Optional[_Union[Impact, str]] = ..., component_ids: _Optional[_Iterable[str]] = ..., internal_only: bool = ..., incident: _Optional[str] = ..., kind: _Optional[_Union[StatusIncidentKind, str]] = ..., scheduled_for: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_until: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class DraftStatusIncidentResponse(_message.Message):
    __slots__ = ("status_incident_id", "position")
    STATUS_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    status_incident_id: str
    position: int
    def __init__(self, status_incident_id: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class PostStatusUpdateRequest(_message.Message):
    __slots__ = ("status_incident_id", "status", "body", "impact", "components", "silent", "idempotency_key")
    STATUS_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    IMPACT_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    SILENT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    status_incident_id: str
    status: StatusIncidentStatus
    body: str
    impact: Impact
    components: _containers.RepeatedCompositeFieldContainer[ComponentChange]
    silent: bool
    idempotency_key: str
    def __init__(self, status_incident_id: _Optional[str] = ..., status: _Optional[_Union[StatusIncidentStatus, str]] = ..., body: _Optional[str] = ..., impact: _Optional[_Union[Impact, str]] = ..., components: _Optional[_Iterable[_Union[ComponentChange, _Mapping]]] = ..., silent: bool = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class PostStatusUpdateResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class AddInternalNoteRequest(_message.Message):
    __slots__ = ("status_incident_id", "body")
    STATUS_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    status_incident_id: str
    body: str
    def __init__(self, status_incident_id: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class AddInternalNoteResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class PublishStatusIncidentRequest(_message.Message):
    __slots__ = ("status_incident_id",)
    STATUS_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    status_incident_id: str
    def __init__(self, status_incident_id: _Optional[str] = ...) -> None: ...

class PublishStatusIncidentResponse(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class ListStatusIncidentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatusIncident(_message.Message):
    __slots__ = ("status_incident_id", "name", "kind", "status", "impact", "published", "internal_only", "updates", "internal_notes")
    STATUS_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IMPACT_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    UPDATES_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_NOTES_FIELD_NUMBER: _ClassVar[int]
    status_incident_id: str
    name: str
    kind: StatusIncidentKind
    status: StatusIncidentStatus
    impact: Impact
    published: bool
    internal_only: bool
    updates: int
    internal_notes: int
    def __init__(self, status_incident_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[StatusIncidentKind, str]] = ..., status: _Optional[_Union[StatusIncidentStatus, str]] = ..., impact: _Optional[_Union[Impact, str]] = ..., published: bool = ..., internal_only: bool = ..., updates: _Optional[int] = ..., internal_notes: _Optional[int] = ...) -> None: ...

class ListStatusIncidentsResponse(_message.Message):
    __slots__ = ("incidents",)
    INCIDENTS_FIELD_NUMBER: _ClassVar[int]
    incidents: _containers.RepeatedCompositeFieldContainer[StatusIncident]
    def __init__(self, incidents: _Optional[_Iterable[_Union[StatusIncident, _Mapping]]] = ...) -> None: ...

class AddWebhookSubscriberRequest(_message.Message):
    __slots__ = ("url", "component_ids")
    URL_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_IDS_FIELD_NUMBER: _ClassVar[int]
    url: str
    component_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, url: _Optional[str] = ..., component_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AddWebhookSubscriberResponse(_message.Message):
    __slots__ = ("subscriber_id",)
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    def __init__(self, subscriber_id: _Optional[str] = ...) -> None: ...

class ListSubscribersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Subscriber(_message.Message):
    __slots__ = ("subscriber_id", "kind", "address", "status", "component_ids")
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_IDS_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    kind: str
    address: str
    status: str
    component_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, subscriber_id: _Optional[str] = ..., kind: _Optional[str] = ..., address: _Optional[str] = ..., status: _Optional[str] = ..., component_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListSubscribersResponse(_message.Message):
    __slots__ = ("subscribers",)
    SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    subscribers: _containers.RepeatedCompositeFieldContainer[Subscriber]
    def __init__(self, subscribers: _Optional[_Iterable[_Union[Subscriber, _Mapping]]] = ...) -> None: ...

class RemoveSubscriberRequest(_message.Message):
    __slots__ = ("subscriber", "reason")
    SUBSCRIBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    subscriber: str
    reason: str
    def __init__(self, subscriber: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RemoveSubscriberResponse(_message.Message):
    __slots__ = ("subscriber_id", "removed", "position")
    SUBSCRIBER_ID_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    subscriber_id: str
    removed: bool
    position: int
    def __init__(self, subscriber_id: _Optional[str] = ..., removed: bool = ..., position: _Optional[int] = ...) -> None: ...
