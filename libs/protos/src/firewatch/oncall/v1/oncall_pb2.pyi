from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContactKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_KIND_UNSPECIFIED: _ClassVar[ContactKind]
    CONTACT_KIND_EMAIL: _ClassVar[ContactKind]
    CONTACT_KIND_WEBHOOK: _ClassVar[ContactKind]
    CONTACT_KIND_SLACK: _ClassVar[ContactKind]

class Weekday(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEEKDAY_UNSPECIFIED: _ClassVar[Weekday]
    WEEKDAY_MONDAY: _ClassVar[Weekday]
    WEEKDAY_TUESDAY: _ClassVar[Weekday]
    WEEKDAY_WEDNESDAY: _ClassVar[Weekday]
    WEEKDAY_THURSDAY: _ClassVar[Weekday]
    WEEKDAY_FRIDAY: _ClassVar[Weekday]
    WEEKDAY_SATURDAY: _ClassVar[Weekday]
    WEEKDAY_SUNDAY: _ClassVar[Weekday]

class TurnUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TURN_UNIT_UNSPECIFIED: _ClassVar[TurnUnit]
    TURN_UNIT_HOURS: _ClassVar[TurnUnit]
    TURN_UNIT_DAYS: _ClassVar[TurnUnit]
    TURN_UNIT_WEEKS: _ClassVar[TurnUnit]
    TURN_UNIT_CUSTOM: _ClassVar[TurnUnit]

class AckChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACK_CHANNEL_UNSPECIFIED: _ClassVar[AckChannel]
    ACK_CHANNEL_GRPC: _ClassVar[AckChannel]
    ACK_CHANNEL_CLI: _ClassVar[AckChannel]

class PageStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAGE_STATUS_UNSPECIFIED: _ClassVar[PageStatus]
    PAGE_STATUS_OPEN: _ClassVar[PageStatus]
    PAGE_STATUS_ACKNOWLEDGED: _ClassVar[PageStatus]
    PAGE_STATUS_CANCELLED: _ClassVar[PageStatus]

class EscalationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ESCALATION_STATUS_UNSPECIFIED: _ClassVar[EscalationStatus]
    ESCALATION_STATUS_ACTIVE: _ClassVar[EscalationStatus]
    ESCALATION_STATUS_ACKNOWLEDGED: _ClassVar[EscalationStatus]
    ESCALATION_STATUS_CANCELLED: _ClassVar[EscalationStatus]
CONTACT_KIND_UNSPECIFIED: ContactKind
CONTACT_KIND_EMAIL: ContactKind
CONTACT_KIND_WEBHOOK: ContactKind
CONTACT_KIND_SLACK: ContactKind
WEEKDAY_UNSPECIFIED: Weekday
WEEKDAY_MONDAY: Weekday
WEEKDAY_TUESDAY: Weekday
WEEKDAY_WEDNESDAY: Weekday
WEEKDAY_THURSDAY: Weekday
WEEKDAY_FRIDAY: Weekday
WEEKDAY_SATURDAY: Weekday
WEEKDAY_SUNDAY: Weekday
TURN_UNIT_UNSPECIFIED: TurnUnit
TURN_UNIT_HOURS: TurnUnit
TURN_UNIT_DAYS: TurnUnit
TURN_UNIT_WEEKS: TurnUnit
TURN_UNIT_CUSTOM: TurnUnit
ACK_CHANNEL_UNSPECIFIED: AckChannel
ACK_CHANNEL_GRPC: AckChannel
ACK_CHANNEL_CLI: AckChannel
PAGE_STATUS_UNSPECIFIED: PageStatus
PAGE_STATUS_OPEN: PageStatus
PAGE_STATUS_ACKNOWLEDGED: PageStatus
PAGE_STATUS_CANCELLED: PageStatus
ESCALATION_STATUS_UNSPECIFIED: EscalationStatus
ESCALATION_STATUS_ACTIVE: EscalationStatus
ESCALATION_STATUS_ACKNOWLEDGED: EscalationStatus
ESCALATION_STATUS_CANCELLED: EscalationStatus

class CommandOutcome(_message.Message):
    __slots__ = ("stream", "version", "position", "event_types")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    stream: str
    version: int
    position: int
    event_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stream: _Optional[str] = ..., version: _Optional[int] = ..., position: _Optional[int] = ..., event_types: _Optional[_Iterable[str]] = ...) -> None: ...

class TimeWindow(_message.Message):
    __slots__ = ("days", "start", "end")
    DAYS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedScalarFieldContainer[Weekday]
    start: str
    end: str
    def __init__(self, days: _Optional[_Iterable[_Union[Weekday, str]]] = ..., start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class ContactMethod(_message.Message):
    __slots__ = ("method_id", "kind", "address")
    METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    method_id: str
    kind: ContactKind
    address: str
    def __init__(self, method_id: _Optional[str] = ..., kind: _Optional[_Union[ContactKind, str]] = ..., address: _Optional[str] = ...) -> None: ...

class NotificationRule(_message.Message):
    __slots__ = ("method_id", "after_minutes")
    METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_MINUTES_FIELD_NUMBER: _ClassVar[int]
    method_id: str
    after_minutes: int
    def __init__(self, method_id: _Optional[str] = ..., after_minutes: _Optional[int] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("user_id", "name", "time_zone", "contact_methods", "notification_rules", "business_hours")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_METHODS_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_RULES_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_HOURS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    name: str
    time_zone: str
    contact_methods: _containers.RepeatedCompositeFieldContainer[ContactMethod]
    notification_rules: _containers.RepeatedCompositeFieldContainer[NotificationRule]
    business_hours: _containers.RepeatedCompositeFieldContainer[TimeWindow]
    def __init__(self, user_id: _Optional[str] = ..., name: _Optional[str] = ..., time_zone: _Optional[str] = ..., contact_methods: _Optional[_Iterable[_Union[ContactMethod, _Mapping]]] = ..., notification_rules: _Optional[_Iterable[_Union[NotificationRule, _Mapping]]] = ..., business_hours: _Optional[_Iterable[_Union[TimeWindow, _Mapping]]] = ...) -> None: ...

class Turn(_message.Message):
    __slots__ = ("unit", "length", "rrule")
    UNIT_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    RRULE_FIELD_NUMBER: _ClassVar[int]
    unit: TurnUnit
    length: int
    rrule: str
    def __init__(self, unit: _Optional[_Union[TurnUnit, str]] = ..., length: _Optional[int] = ..., rrule: _Optional[str] = ...) -> None: ...

class Layer(_message.Message):
    __slots__ = ("layer_id", "name", "users", "turn", "start", "time_zone", "restrictions")
    LAYER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    TURN_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    RESTRICTIONS_FIELD_NUMBER: _ClassVar[int]
    layer_id: str
    name: str
    users: _containers.RepeatedScalarFieldContainer[str]
    turn: Turn
    start: str
    time_zone: str
    restrictions: _containers.RepeatedCompositeFieldContainer[TimeWindow]
    def __init__(self, layer_id: _Optional[str] = ..., name: _Optional[str] = ..., users: _Optional[_Iterable[str]] = ..., turn: _Optional[_Union[Turn, _Mapping]] = ..., start: _Optional[str] = ..., time_zone: _Optional[str] = ..., restrictions: _Optional[_Iterable[_Union[TimeWindow, _Mapping]]] = ...) -> None: ...

class Override(_message.Message):
    __slots__ = ("override_id", "user_id", "start", "end")
    OVERRIDE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    override_id: str
    user_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, override_id: _Optional[str] = ..., user_id: _Optional[str] = ..., start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("schedule_id", "name", "time_zone", "layers", "overrides")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    name: str
    time_zone: str
    layers: _containers.RepeatedCompositeFieldContainer[Layer]
    overrides: _containers.RepeatedCompositeFieldContainer[Override]
    def __init__(self, schedule_id: _Optional[str] = ..., name: _Optional[str] = ..., time_zone: _Optional[str] = ..., layers: _Optional[_Iterable[_Union[Layer, _Mapping]]] = ..., overrides: _Optional[_Iterable[_Union[Override, _Mapping]]] = ...) -> None: ...

class Shift(_message.Message):
    __slots__ = ("user_id", "user_name", "start", "end", "layer_id", "override_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    LAYER_ID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    user_name: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    layer_id: str
    override_id: str
    def __init__(self, user_id: _Optional[str] = ..., user_name: _Optional[str] = ..., start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., layer_id: _Optional[str] = ..., override_id: _Optional[str] = ...) -> None: ...

class Level(_message.Message):
    __slots__ = ("targets", "delay_minutes")
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    DELAY_MINUTES_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedScalarFieldContainer[str]
    delay_minutes: int
    def __init__(self, targets: _Optional[_Iterable[str]] = ..., delay_minutes: _Optional[int] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("policy_id", "name", "levels", "repeat", "un_ack_timeout_minutes", "revision")
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    UN_ACK_TIMEOUT_MINUTES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    name: str
    levels: _containers.RepeatedCompositeFieldContainer[Level]
    repeat: int
    un_ack_timeout_minutes: int
    revision: int
    def __init__(self, policy_id: _Optional[str] = ..., name: _Optional[str] = ..., levels: _Optional[_Iterable[_Union[Level, _Mapping]]] = ..., repeat: _Optional[int] = ..., un_ack_timeout_minutes: _Optional[int] = ..., revision: _Optional[int] = ...) -> None: ...

class Escalation(_message.Message):
    __slots__ = ("incident_id", "status", "policy_id", "policy_revision", "severity", "urgency", "started_at", "round", "next_step_due_at", "acknowledged_by", "acknowledged_page_id", "acknowledged_via", "unack_timeout_due_at")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_REVISION_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    URGENCY_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEP_DUE_AT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_VIA_FIELD_NUMBER: _ClassVar[int]
    UNACK_TIMEOUT_DUE_AT_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    status: EscalationStatus
    policy_id: str
    policy_revision: int
    severity: str
    urgency: str
    started_at: _timestamp_pb2.Timestamp
    round: int
    next_step_due_at: _timestamp_pb2.Timestamp
    acknowledged_by: str
    acknowledged_page_id: str
    acknowledged_via: str
    unack_timeout_due_at: _timestamp_pb2.Timestamp
    def __init__(self, incident_id: _Optional[str] = ..., status: _Optional[_Union[EscalationStatus, str]] = ..., policy_id: _Optional[str] = ..., policy_revision: _Optional[int] = ..., severity: _Optional[str] = ..., urgency: _Optional[str] = ..., started_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., round: _Optional[int] = ..., next_step_due_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., acknowledged_by: _Optional[str] = ..., acknowledged_page_id: _Optional[str] = ..., acknowledged_via: _Optional[str] = ..., unack_timeout_due_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DeliveryMethod(_message.Message):
    __slots__ = ("method_id", "kind", "address", "attempts", "delivered", "exhausted")
    METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    method_id: str
    kind: ContactKind
    address: str
    attempts: int
    delivered: bool
    exhausted: bool
    def __init__(self, method_id: _Optional[str] = ..., kind: _Optional[_Union[ContactKind, str]] = ..., address: _Optional[str] = ..., attempts: _Optional[int] = ..., delivered: bool = ..., exhausted: bool = ...) -> None: ...

class Page(_message.Message):
    __slots__ = ("page_id", "incident_id", "step", "user_id", "title", "status", "paged_at", "acknowledged_by", "delivered", "undeliverable", "methods")
    PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGED_AT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    UNDELIVERABLE_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    page_id: str
    incident_id: str
    step: int
    user_id: str
    title: str
    status: PageStatus
    paged_at: _timestamp_pb2.Timestamp
    acknowledged_by: str
    delivered: bool
    undeliverable: bool
    methods: _containers.RepeatedCompositeFieldContainer[DeliveryMethod]
    def __init__(self, page_id: _Optional[str] = ..., incident_id: _Optional[str] = ..., step: _Optional[int] = ..., user_id: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[_Union[PageStatus, str]] = ..., paged_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., acknowledged_by: _Optional[str] = ..., delivered: bool = ..., undeliverable: bool = ..., methods: _Optional[_Iterable[_Union[DeliveryMethod, _Mapping]]] = ...) -> None: ...

class WhoIsOnCallRequest(_message.Message):
    __slots__ = ("target", "at")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    target: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, target: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WhoIsOnCallResponse(_message.Message):
    __slots__ = ("target", "at", "users", "configuration_as_of_at")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_AS_OF_AT_FIELD_NUMBER: _ClassVar[int]
    target: str
    at: _timestamp_pb2.Timestamp
    users: _containers.RepeatedScalarFieldContainer[str]
    configuration_as_of_at: bool
    def __init__(self, target: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., users: _Optional[_Iterable[str]] = ..., configuration_as_of_at: bool = ...) -> None: ...

class ListShiftsRequest(_message.Message):
    __slots__ = ("schedule_id", "start", "end")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, schedule_id: _Optional[str] = ..., start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListShiftsResponse(_message.Message):
    __slots__ = ("schedule_id", "shifts")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SHIFTS_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    shifts: _containers.RepeatedCompositeFieldContainer[Shift]
    def __init__(self, schedule_id: _Optional[str] = ..., shifts: _Optional[_Iterable[_Union[Shift, _Mapping]]] = ...) -> None: ...

class ExportScheduleRequest(_message.Message):
    __slots__ = ("schedule_id", "start", "end")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, schedule_id: _Optional[str] = ..., start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportScheduleResponse(_message.Message):
    __slots__ = ("ical", "content_type")
    ICAL_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ical: str
    content_type: str
    def __init__(self, ical: _Optional[str] = ..., content_type: _Optional[str] = ...) -> None: ...

class RegisterUserRequest(_message.Message):
    __slots__ = ("user_id", "name", "time_zone", "contact_methods", "notification_rules", "business_hours")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_METHODS_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_RULES_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_HOURS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    name: str
    time_zone: str
    contact_methods: _containers.RepeatedCompositeFieldContainer[ContactMethod]
    notification_rules: _containers.RepeatedCompositeFieldContainer[NotificationRule]
    business_hours: _containers.RepeatedCompositeFieldContainer[TimeWindow]
    def __init__(self, user_id: _Optional[str] = ..., name: _Optional[str] = ..., time_zone: _Optional[str] = ..., contact_methods: _Optional[_Iterable[_Union[ContactMethod, _Mapping]]] = ..., notification_rules: _Optional[_Iterable[_Union[NotificationRule, _Mapping]]] = ..., business_hours: _Optional[_Iterable[_Union[TimeWindow, _Mapping]]] = ...) -> None: ...

class RegisterUserResponse(_message.Message):
    __slots__ = ("outcome", "user")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    user: User
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class AddContactMethodRequest(_message.Message):
    __slots__ = ("user_id", "method")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    method: ContactMethod
    def __init__(self, user_id: _Optional[str] = ..., method: _Optional[_Union[ContactMethod, _Mapping]] = ...) -> None: ...

class AddContactMethodResponse(_message.Message):
    __slots__ = ("outcome", "user")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    user: User
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class RemoveContactMethodRequest(_message.Message):
    __slots__ = ("user_id", "method_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    method_id: str
    def __init__(self, user_id: _Optional[str] = ..., method_id: _Optional[str] = ...) -> None: ...

class RemoveContactMethodResponse(_message.Message):
    __slots__ = ("outcome", "user")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    user: User
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class SetBusinessHoursRequest(_message.Message):
    __slots__ = ("user_id", "business_hours")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_HOURS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    business_hours: _containers.RepeatedCompositeFieldContainer[TimeWindow]
    def __init__(self, user_id: _Optional[str] = ..., business_hours: _Optional[_Iterable[_Union[TimeWindow, _Mapping]]] = ...) -> None: ...

class SetBusinessHoursResponse(_message.Message):
    __slots__ = ("outcome", "user")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    user: User
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class ChangeTimeZoneRequest(_message.Message):
    __slots__ = ("user_id", "time_zone")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    time_zone: str
    def __init__(self, user_id: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class ChangeTimeZoneResponse(_message.Message):
    __slots__ = ("outcome", "user")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    user: User
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class Team(_message.Message):
    __slots__ = ("team_id", "name", "members", "schedule_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    name: str
    members: _containers.RepeatedScalarFieldContainer[str]
    schedule_id: str
    def __init__(self, team_id: _Optional[str] = ..., name: _Optional[str] = ..., members: _Optional[_Iterable[str]] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class CreateTeamRequest(_message.Message):
    __slots__ = ("team_id", "name", "members", "schedule_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    name: str
    members: _containers.RepeatedScalarFieldContainer[str]
    schedule_id: str
    def __init__(self, team_id: _Optional[str] = ..., name: _Optional[str] = ..., members: _Optional[_Iterable[str]] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class CreateTeamResponse(_message.Message):
    __slots__ = ("outcome", "team")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    team: Team
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., team: _Optional[_Union[Team, _Mapping]] = ...) -> None: ...

class ChangeTeamRequest(_message.Message):
    __slots__ = ("team_id", "name", "members", "schedule_id")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    name: str
    members: _containers.RepeatedScalarFieldContainer[str]
    schedule_id: str
    def __init__(self, team_id: _Optional[str] = ..., name: _Optional[str] = ..., members: _Optional[_Iterable[str]] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class ChangeTeamResponse(_message.Message):
    __slots__ = ("outcome", "team")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    team: Team
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., team: _Optional[_Union[Team, _Mapping]] = ...) -> None: ...

class CreateScheduleRequest(_message.Message):
    __slots__ = ("schedule_id", "name", "time_zone")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    name: str
    time_zone: str
    def __init__(self, schedule_id: _Optional[str] = ..., name: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class CreateScheduleResponse(_message.Message):
    __slots__ = ("outcome", "schedule")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    schedule: Schedule
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class AddLayerRequest(_message.Message):
    __slots__ = ("schedule_id", "layer")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    layer: Layer
    def __init__(self, schedule_id: _Optional[str] = ..., layer: _Optional[_Union[Layer, _Mapping]] = ...) -> None: ...

class AddLayerResponse(_message.Message):
    __slots__ = ("outcome", "schedule")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    schedule: Schedule
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class ChangeLayerRequest(_message.Message):
    __slots__ = ("schedule_id", "layer")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    layer: Layer
    def __init__(self, schedule_id: _Optional[str] = ..., layer: _Optional[_Union[Layer, _Mapping]] = ...) -> None: ...

class ChangeLayerResponse(_message.Message):
    __slots__ = ("outcome", "schedule")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    schedule: Schedule
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class RemoveLayerRequest(_message.Message):
    __slots__ = ("schedule_id", "layer_id")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    LAYER_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    layer_id: str
    def __init__(self, schedule_id: _Optional[str] = ..., layer_id: _Optional[str] = ...) -> None: ...

class RemoveLayerResponse(_message.Message):
    __slots__ = ("outcome", "schedule")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    schedule: Schedule
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class AddOverrideRequest(_message.Message):
    __slots__ = ("schedule_id", "user_id", "start", "end", "override_id")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    user_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    override_id: str
    def __init__(self, schedule_id: _Optional[str] = ..., user_id: _Optional[str] = ..., start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., override_id: _Optional[str] = ...) -> None: ...

class AddOverrideResponse(_message.Message):
    __slots__ = ("override_id", "schedule")
    OVERRIDE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    override_id: str
    schedule: Schedule
    def __init__(self, override_id: _Optional[str] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class RemoveOverrideRequest(_message.Message):
    __slots__ = ("schedule_id", "override_id")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDE_ID_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    override_id: str
    def __init__(self, schedule_id: _Optional[str] = ..., override_id: _Optional[str] = ...) -> None: ...

class RemoveOverrideResponse(_message.Message):
    __slots__ = ("outcome", "schedule")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    schedule: Schedule
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class GetScheduleRequest(_message.Message):
    __slots__ = ("schedule_id", "as_of")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, schedule_id: _Optional[str] = ..., as_of: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetScheduleResponse(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class CreatePolicyRequest(_message.Message):
    __slots__ = ("policy_id", "name", "levels", "repeat", "un_ack_timeout_minutes")
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    UN_ACK_TIMEOUT_MINUTES_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    name: str
    levels: _containers.RepeatedCompositeFieldContainer[Level]
    repeat: int
    un_ack_timeout_minutes: int
    def __init__(self, policy_id: _Optional[str] = ..., name: _Optional[str] = ..., levels: _Optional[_Iterable[_Union[Level, _Mapping]]] = ..., repeat: _Optional[int] = ..., un_ack_timeout_minutes: _Optional[int] = ...) -> None: ...

class CreatePolicyResponse(_message.Message):
    __slots__ = ("outcome", "policy")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    policy: Policy
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class RevisePolicyRequest(_message.Message):
    __slots__ = ("policy_id", "name", "levels", "repeat", "un_ack_timeout_minutes")
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    UN_ACK_TIMEOUT_MINUTES_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    name: str
    levels: _containers.RepeatedCompositeFieldContainer[Level]
    repeat: int
    un_ack_timeout_minutes: int
    def __init__(self, policy_id: _Optional[str] = ..., name: _Optional[str] = ..., levels: _Optional[_Iterable[_Union[Level, _Mapping]]] = ..., repeat: _Optional[int] = ..., un_ack_timeout_minutes: _Optional[int] = ...) -> None: ...

class RevisePolicyResponse(_message.Message):
    __slots__ = ("outcome", "policy")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    outcome: CommandOutcome
    policy: Policy
    def __init__(self, outcome: _Optional[_Union[CommandOutcome, _Mapping]] = ..., policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("policy_id", "as_of")
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, policy_id: _Optional[str] = ..., as_of: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class AcknowledgeRequest(_message.Message):
    __slots__ = ("incident_id", "page_id", "via")
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_ID_FIELD_NUMBER: _ClassVar[int]
    VIA_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    page_id: str
    via: AckChannel
    def __init__(self, incident_id: _Optional[str] = ..., page_id: _Optional[str] = ..., via: _Optional[_Union[AckChannel, str]] = ...) -> None: ...

class AcknowledgeResponse(_message.Message):
    __slots__ = ("escalation",)
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    escalation: Escalation
    def __init__(self, escalation: _Optional[_Union[Escalation, _Mapping]] = ...) -> None: ...

class ListPagesRequest(_message.Message):
    __slots__ = ("incident_id",)
    INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    incident_id: str
    def __init__(self, incident_id: _Optional[str] = ...) -> None: ...

class ListPagesResponse(_message.Message):
    __slots__ = ("escalation", "pages")
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    escalation: Escalation
    pages: _containers.RepeatedCompositeFieldContainer[Page]
    def __init__(self, escalation: _Optional[_Union[Escalation, _Mapping]] = ..., pages: _Optional[_Iterable[_Union[Page, _Mapping]]] = ...) -> None: ...
