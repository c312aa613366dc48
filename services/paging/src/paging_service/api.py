"""The paging service's public gRPC API (firewatch.oncall.v1.OnCallService).

A thin adapter: each method authenticates (apikit.rpc.guarded), converts the request
into a PagingApplication call and the result into protobuf. Business rules live in the
aggregate modules, loading and appending in app.py; errors map to status codes through
apikit's one table (ADR 0007). This process is plain threads, never eventlet (stock
grpcio hangs under eventlet).

Roles: managing users, schedules, layers and policies is an admin's job; overrides
("I'll take Saturday") and acknowledgements are what responders do at 2 a.m., so those
also accept a responder; every read accepts admin, responder and auditor. The
acknowledging user recorded in the log is the caller's token principal: a token's name
should be the user id it belongs to.

Errors in nested request fields are reported with the request's path
(`layer.time_zone`, `method.address`), so a client can point at what it sent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import grpc

from apikit.auth import READERS, WRITERS, Principal, Role, TokenRegistry
from apikit.rpc import (
    guarded,
    known_enum,
    optional_timestamp,
    read_timestamp,
    to_timestamp,
)
from contracts.domain import InvalidCommandError, NotFoundError, required_text
from firewatch.oncall.v1 import oncall_pb2 as pb
from firewatch.oncall.v1 import oncall_pb2_grpc as pb_grpc
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import policy as pol
from paging_service import schedule as sch
from paging_service import team as tm
from paging_service import user as usr
from paging_service.api_settings import PagingApiSettings
from paging_service.app import CommandResult, PagingApplication
from paging_service.common import TimeWindow, Weekday
from paging_service.schedule import TurnUnit
from paging_service.user import ContactKind

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OnCallService"].full_name

ADMINS = frozenset({Role.ADMIN})
"""Management: who may change whom the platform wakes up."""

_KIND_TO_PB = {k: pb.ContactKind.Value(f"CONTACT_KIND_{k.name}") for k in ContactKind}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
_DAY_NAMES = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_DAY_TO_PB = {d: pb.Weekday.Value(f"WEEKDAY_{_DAY_NAMES[d.number]}") for d in Weekday}
_DAY_FROM_PB = {v: k for k, v in _DAY_TO_PB.items()}
_UNIT_TO_PB = {u: pb.TurnUnit.Value(f"TURN_UNIT_{u.name}") for u in TurnUnit}
_UNIT_FROM_PB = {v: k for k, v in _UNIT_TO_PB.items()}
_VIA_FROM_PB: dict[int, pg.AckChannel] = {
    pb.ACK_CHANNEL_UNSPECIFIED: pg.AckChannel.GRPC,
    pb.ACK_CHANNEL_GRPC: pg.AckChannel.GRPC,
    pb.ACK_CHANNEL_CLI: pg.AckChannel.CLI,
}
_PAGE_STATUS_TO_PB = {
    pg.Status.OPEN: pb.PAGE_STATUS_OPEN,
    pg.Status.ACKNOWLEDGED: pb.PAGE_STATUS_ACKNOWLEDGED,
    pg.Status.CANCELLED: pb.PAGE_STATUS_CANCELLED,
}
_ESCALATION_STATUS_TO_PB = {
    esc.Status.ACTIVE: pb.ESCALATION_STATUS_ACTIVE,
    esc.Status.ACKNOWLEDGED: pb.ESCALATION_STATUS_ACKNOWLEDGED,
    esc.Status.CANCELLED: pb.ESCALATION_STATUS_CANCELLED,
}
ICAL_CONTENT_TYPE = "text/calendar; charset=utf-8"


class OnCallServicer(pb_grpc.OnCallServiceServicer):
    def __init__(self, app: PagingApplication, tokens: TokenRegistry) -> None:
        self.app = app
        self.tokens = tokens

    # ------------------------------------------------------------------ on call

    @guarded(READERS)
    def WhoIsOnCall(  # noqa: N802 - gRPC method names
        self, request: pb.WhoIsOnCallRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.WhoIsOnCallResponse:
        now = self.app.clock()
        at = optional_timestamp(request, "at")
        users = self.app.who_is_on_call(required_text(request.target, "target"), at)
        # The application reads the configuration as of `at` exactly when `at` is before
        # its clock's now; its now is read a moment after ours, so for a past `at` both
        # agree (an unset `at` means now: today's configuration).
        return pb.WhoIsOnCallResponse(
            target=request.target.strip(),
            at=to_timestamp(at or now),
            users=users,
            configuration_as_of_at=at is not None and at < now,
        )

    @guarded(READERS)
    def ListShifts(  # noqa: N802
        self, request: pb.ListShiftsRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListShiftsResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        start, end = _range(request)
        shifts = self.app.list_shifts(schedule_id, start, end)
        names = self._names({s.user_id for s in shifts})
        return pb.ListShiftsResponse(
            schedule_id=schedule_id, shifts=[_shift(s, names.get(s.user_id, "")) for s in shifts]
        )

    @guarded(READERS)
    def ExportSchedule(  # noqa: N802
        self, request: pb.ExportScheduleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ExportScheduleResponse:
        start, end = _range(request)
        feed = self.app.export_ical(required_text(request.schedule_id, "schedule_id"), start, end)
        return pb.ExportScheduleResponse(ical=feed.decode("utf-8"), content_type=ICAL_CONTENT_TYPE)

    # ------------------------------------------------------------------ users

    @guarded(ADMINS)
    def RegisterUser(  # noqa: N802
        self, request: pb.RegisterUserRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RegisterUserResponse:
        result = self.app.register_user(
            request.user_id,
            request.name,
            request.time_zone,
            contact_methods=[
                _method(m, f"contact_methods.{i}") for i, m in enumerate(request.contact_methods)
            ],
            # Empty lists mean "the default" (every method at once; weekdays 09-17), as
            # proto3 cannot tell an empty list from an absent one.
            notification_rules=[
                {"method_id": r.method_id, "after_minutes": r.after_minutes}
                for r in request.notification_rules
            ]
            or None,
            business_hours=_windows(request.business_hours, "business_hours") or None,
            actor=who.name,
        )
        return pb.RegisterUserResponse(
            outcome=_outcome(result), user=user_message(self.app.get_user(request.user_id.strip()))
        )

    @guarded(ADMINS)
    def AddContactMethod(  # noqa: N802
        self, request: pb.AddContactMethodRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddContactMethodResponse:
        user_id = required_text(request.user_id, "user_id")
        method = _method(request.method, "method")
        result = self.app.add_contact_method(
            user_id, method["method_id"], method["kind"], method["address"], actor=who.name
        )
        return pb.AddContactMethodResponse(
            outcome=_outcome(result), user=user_message(self.app.get_user(user_id))
        )

    @guarded(ADMINS)
    def RemoveContactMethod(  # noqa: N802
        self, request: pb.RemoveContactMethodRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveContactMethodResponse:
        user_id = required_text(request.user_id, "user_id")
        method_id = required_text(request.method_id, "method_id")
        result = self.app.remove_contact_method(user_id, method_id, actor=who.name)
        return pb.RemoveContactMethodResponse(
            outcome=_outcome(result), user=user_message(self.app.get_user(user_id))
        )

    @guarded(ADMINS)
    def SetBusinessHours(  # noqa: N802
        self, request: pb.SetBusinessHoursRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.SetBusinessHoursResponse:
        user_id = required_text(request.user_id, "user_id")
        windows = _windows(request.business_hours, "business_hours")
        if not windows:
            raise InvalidCommandError("business_hours", "give at least one window")
        with _renamed("windows", "business_hours"):
            result = self.app.set_business_hours(user_id, windows, actor=who.name)
        return pb.SetBusinessHoursResponse(
            outcome=_outcome(result), user=user_message(self.app.get_user(user_id))
        )

    @guarded(ADMINS)
    def ChangeTimeZone(  # noqa: N802
        self, request: pb.ChangeTimeZoneRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ChangeTimeZoneResponse:
        user_id = required_text(request.user_id, "user_id")
        time_zone = required_text(request.time_zone, "time_zone")
        result = self.app.change_time_zone(user_id, time_zone, actor=who.name)
        return pb.ChangeTimeZoneResponse(
            outcome=_outcome(result), user=user_message(self.app.get_user(user_id))
        )

    # ------------------------------------------------------------------ teams

    @guarded(ADMINS)
    def CreateTeam(  # noqa: N802
        self, request: pb.CreateTeamRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateTeamResponse:
        outcome, team = self._team(self.app.create_team, request, who)
        return pb.CreateTeamResponse(outcome=outcome, team=team)

    @guarded(ADMINS)
    def ChangeTeam(  # noqa: N802
        self, request: pb.ChangeTeamRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ChangeTeamResponse:
        outcome, team = self._team(self.app.change_team, request, who)
        return pb.ChangeTeamResponse(outcome=outcome, team=team)

    def _team(
        self,
        use_case: Callable[..., CommandResult[Any]],
        request: pb.CreateTeamRequest | pb.ChangeTeamRequest,
        who: Principal,
    ) -> tuple[pb.CommandOutcome, pb.Team]:
        """Create and change take the same whole definition of a team."""
        team_id = required_text(request.team_id, "team_id")
        result = use_case(
            team_id,
            request.name,
            list(request.members),
            schedule_id=request.schedule_id or None,
            actor=who.name,
        )
        return _outcome(result), team_message(self.app.get_team(team_id))

    # ------------------------------------------------------------------ schedules

    @guarded(ADMINS)
    def CreateSchedule(  # noqa: N802
        self, request: pb.CreateScheduleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreateScheduleResponse:
        result = self.app.create_schedule(
            request.schedule_id, request.name, request.time_zone, actor=who.name
        )
        return pb.CreateScheduleResponse(
            outcome=_outcome(result), schedule=self._schedule(request.schedule_id)
        )

    @guarded(ADMINS)
    def AddLayer(  # noqa: N802
        self, request: pb.AddLayerRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddLayerResponse:
        outcome, schedule = self._layer(self.app.add_layer, request, who)
        return pb.AddLayerResponse(outcome=outcome, schedule=schedule)

    @guarded(ADMINS)
    def ChangeLayer(  # noqa: N802
        self, request: pb.ChangeLayerRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ChangeLayerResponse:
        outcome, schedule = self._layer(self.app.change_layer, request, who)
        return pb.ChangeLayerResponse(outcome=outcome, schedule=schedule)

    def _layer(
        self,
        use_case: Callable[..., CommandResult[Any]],
        request: pb.AddLayerRequest | pb.ChangeLayerRequest,
        who: Principal,
    ) -> tuple[pb.CommandOutcome, pb.Schedule]:
        """Add and change take the same whole definition of a layer."""
        schedule_id = required_text(request.schedule_id, "schedule_id")
        if not request.HasField("layer"):
            raise InvalidCommandError("layer", "is required")
        layer = request.layer
        with _nested("layer"):
            turn = _turn(layer.turn) if layer.HasField("turn") else None
            restrictions = _windows(layer.restrictions, "restrictions")
            result = use_case(
                schedule_id,
                layer.layer_id,
                layer.name,
                list(layer.users),
                start=_wall_clock(layer.start, "start"),
                turn=turn,
                time_zone=layer.time_zone or None,
                restrictions=restrictions,
                actor=who.name,
            )
        return _outcome(result), self._schedule(schedule_id)

    @guarded(ADMINS)
    def RemoveLayer(  # noqa: N802
        self, request: pb.RemoveLayerRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveLayerResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        layer_id = required_text(request.layer_id, "layer_id")
        result = self.app.remove_layer(schedule_id, layer_id, actor=who.name)
        return pb.RemoveLayerResponse(
            outcome=_outcome(result), schedule=self._schedule(schedule_id)
        )

    @guarded(WRITERS)
    def AddOverride(  # noqa: N802
        self, request: pb.AddOverrideRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AddOverrideResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        override_id = self.app.add_override(
            schedule_id,
            request.user_id,
            _instant(request, "start"),
            _instant(request, "end"),
            override_id=request.override_id or None,
            actor=who.name,
        )
        return pb.AddOverrideResponse(override_id=override_id, schedule=self._schedule(schedule_id))

    @guarded(WRITERS)
    def RemoveOverride(  # noqa: N802
        self, request: pb.RemoveOverrideRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RemoveOverrideResponse:
        schedule_id = required_text(request.schedule_id, "schedule_id")
        result = self.app.remove_override(
            schedule_id, required_text(request.override_id, "override_id"), actor=who.name
        )
        return pb.RemoveOverrideResponse(
            outcome=_outcome(result), schedule=self._schedule(schedule_id)
        )

    @guarded(READERS)
    def GetSchedule(  # noqa: N802
        self, request: pb.GetScheduleRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetScheduleResponse:
        as_of = optional_timestamp(request, "as_of")
        return pb.GetScheduleResponse(
            schedule=self._schedule(required_text(request.schedule_id, "schedule_id"), as_of)
        )

    # ------------------------------------------------------------------ policies

    @guarded(ADMINS)
    def CreatePolicy(  # noqa: N802
        self, request: pb.CreatePolicyRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.CreatePolicyResponse:
        with _target_strings():
            result = self.app.create_policy(
                request.policy_id, request.name, actor=who.name, **_definition(request)
            )
        return pb.CreatePolicyResponse(
            outcome=_outcome(result), policy=policy_message(self.app.get_policy(request.policy_id))
        )

    @guarded(ADMINS)
    def RevisePolicy(  # noqa: N802
        self, request: pb.RevisePolicyRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.RevisePolicyResponse:
        policy_id = required_text(request.policy_id, "policy_id")
        with _target_strings():
            result = self.app.revise_policy(
                policy_id, request.name, actor=who.name, **_definition(request)
            )
        return pb.RevisePolicyResponse(
            outcome=_outcome(result), policy=policy_message(self.app.get_policy(policy_id))
        )

    @guarded(READERS)
    def GetPolicy(  # noqa: N802
        self, request: pb.GetPolicyRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.GetPolicyResponse:
        as_of = optional_timestamp(request, "as_of")
        policy = self.app.get_policy(required_text(request.policy_id, "policy_id"), as_of=as_of)
        return pb.GetPolicyResponse(policy=policy_message(policy))

    # ------------------------------------------------------------------ pages

    @guarded(WRITERS)
    def Acknowledge(  # noqa: N802
        self, request: pb.AcknowledgeRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.AcknowledgeResponse:
        which = request.WhichOneof("subject")
        if which is None:
            raise InvalidCommandError("incident_id", "name the incident_id or the page_id")
        via = known_enum(request.via, _VIA_FROM_PB, "via", "acknowledgement channel")
        subject = {which: _uuid(getattr(request, which), which)}
        # A token bound to a person acts as that person, who must have been paged;
        # an unbound one acts under its own name (docs/adr/0017).
        state = self.app.acknowledge(
            by=who.name, via=via.value, as_person=who.user is not None, **subject
        )
        return pb.AcknowledgeResponse(escalation=escalation_message(state))

    @guarded(READERS)
    def ListPages(  # noqa: N802
        self, request: pb.ListPagesRequest, context: grpc.ServicerContext, who: Principal
    ) -> pb.ListPagesResponse:
        incident_id = _uuid(request.incident_id, "incident_id")
        state = self.app.get_escalation(incident_id)
        pages = self.app.list_pages(incident_id)
        return pb.ListPagesResponse(
            escalation=escalation_message(state), pages=[page_message(p) for p in pages]
        )

    # ------------------------------------------------------------------ helpers

    def _schedule(self, schedule_id: str, as_of: datetime | None = None) -> pb.Schedule:
        return schedule_message(self.app.get_schedule(schedule_id.strip(), as_of=as_of))

    def _names(self, user_ids: set[str]) -> dict[str, str]:
        names = {}
        for user_id in user_ids:
            try:
                names[user_id] = self.app.get_user(user_id).name
            except NotFoundError:
                continue  # a shift's user is always registered; a name is cosmetic anyway
        return names


# ---------------------------------------------------------------------- requests


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(required_text(value, field))
    except ValueError:
        raise InvalidCommandError(field, f"{value!r} is not a uuid") from None


def _instant(request: Any, field: str) -> datetime:
    if not request.HasField(field):
        raise InvalidCommandError(field, "is required")
    return read_timestamp(getattr(request, field), field)


def _range(request: Any) -> tuple[datetime, datetime]:
    return _instant(request, "start"), _instant(request, "end")


def _wall_clock(text: str, field: str) -> datetime:
    """A layer's first handoff: naive local time (kept as is) or with an offset."""
    try:
        return datetime.fromisoformat(required_text(text, field))
    except ValueError:
        raise InvalidCommandError(
            field, f"{text!r} is not an ISO 8601 time like 2026-01-05T09:00"
        ) from None


@contextmanager
def _nested(prefix: str) -> Iterator[None]:
    """Report errors about a nested message's fields with the request's path."""
    try:
        yield
    except InvalidCommandError as error:
        # Cross-aggregate checks (unknown users) and the domain's own name fields
        # relative to the layer; ids outside the message (schedule_id) stay as they are.
        if error.field in {"schedule_id", "schedule"}:
            raise
        raise InvalidCommandError(f"{prefix}.{error.field}", error.problem) from None


@contextmanager
def _renamed(domain_field: str, request_field: str) -> Iterator[None]:
    """Report a domain error about `domain_field` under the request's own field name."""
    try:
        yield
    except InvalidCommandError as error:
        head, dot, rest = error.field.partition(".")
        if head != domain_field:
            raise
        raise InvalidCommandError(request_field + dot + rest, error.problem) from None


_TARGET_PART = re.compile(r"^(levels\.\d+\.targets\.\d+)\..+$")


@contextmanager
def _target_strings() -> Iterator[None]:
    """The domain validates a target as {kind, id}; on the wire it is one string, so a
    problem with its kind or id is reported against `levels.N.targets.M` itself."""
    try:
        yield
    except InvalidCommandError as error:
        match = _TARGET_PART.match(error.field)
        if match is None:
            raise
        raise InvalidCommandError(match.group(1), error.problem) from None


def _method(method: pb.ContactMethod, field: str) -> dict[str, str]:
    kind = known_enum(method.kind, _KIND_FROM_PB, f"{field}.kind", "contact kind")
    return {"method_id": method.method_id, "kind": kind.value, "address": method.address}


def _windows(windows: Sequence[pb.TimeWindow], field: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, window in enumerate(windows):
        value: dict[str, Any] = {}
        if window.days:
            value["days"] = [
                known_enum(d, _DAY_FROM_PB, f"{field}.{i}.days.{j}", "weekday").value
                for j, d in enumerate(window.days)
            ]
        # Empty strings take the window's defaults (09:00, 17:00).
        if window.start:
            value["start"] = window.start
        if window.end:
            value["end"] = window.end
        out.append(value)
    return out


def _turn(turn: pb.Turn) -> dict[str, Any]:
    unit = known_enum(turn.unit, _UNIT_FROM_PB, "turn.unit", "turn unit")
    return {"unit": unit.value, "length": turn.length or 1, "rrule": turn.rrule or None}


def _definition(request: pb.CreatePolicyRequest | pb.RevisePolicyRequest) -> dict[str, Any]:
    levels: list[dict[str, Any]] = []
    for level in request.levels:
        item: dict[str, Any] = {"targets": list(level.targets)}
        if level.delay_minutes:  # 0 takes the domain's default delay
            item["delay_minutes"] = level.delay_minutes
        levels.append(item)
    return {
        "levels": levels,
        "repeat": request.repeat,
        "un_ack_timeout_minutes": request.un_ack_timeout_minutes or None,
    }


# ---------------------------------------------------------------------- answers
# The message builders are public: paging_service.rendering shows a replayed stream
# with exactly these (appkit.rendering, the audit service's replay).


def _outcome(result: CommandResult[Any]) -> pb.CommandOutcome:
    return pb.CommandOutcome(
        stream=result.stream,
        version=result.version if result.version is not None else 0,
        position=result.position,
        event_types=list(result.event_types),
    )


def _window(window: TimeWindow) -> pb.TimeWindow:
    return pb.TimeWindow(
        days=[_DAY_TO_PB[d] for d in window.days], start=window.start, end=window.end
    )


def user_message(state: usr.User) -> pb.User:
    return pb.User(
        user_id=state.user_id,
        name=state.name,
        time_zone=state.time_zone,
        contact_methods=[
            pb.ContactMethod(method_id=m.method_id, kind=_KIND_TO_PB[m.kind], address=m.address)
            for m in state.contact_methods
        ],
        notification_rules=[
            pb.NotificationRule(method_id=r.method_id, after_minutes=r.after_minutes)
            for r in state.effective_rules
        ],
        business_hours=[_window(w) for w in state.business_hours],
    )


def team_message(state: tm.Team) -> pb.Team:
    return pb.Team(
        team_id=state.team_id,
        name=state.name,
        members=list(state.members),
        schedule_id=state.schedule_id or "",
    )


def _layer(layer: sch.Layer) -> pb.Layer:
    return pb.Layer(
        layer_id=layer.layer_id,
        name=layer.name,
        users=list(layer.users),
        turn=pb.Turn(
            unit=_UNIT_TO_PB[layer.turn.unit],
            length=layer.turn.length,
            rrule=layer.turn.rrule or "",
        ),
        start=layer.start.isoformat(timespec="minutes"),
        time_zone=layer.time_zone,
        restrictions=[_window(w) for w in layer.restrictions],
    )


def schedule_message(state: sch.Schedule) -> pb.Schedule:
    return pb.Schedule(
        schedule_id=state.schedule_id,
        name=state.name,
        time_zone=state.time_zone,
        layers=[_layer(layer) for layer in state.layers],
        overrides=[
            pb.Override(
                override_id=o.override_id,
                user_id=o.user_id,
                start=to_timestamp(o.start),
                end=to_timestamp(o.end),
            )
            for o in state.overrides
        ],
    )


def _shift(shift: sch.Shift, name: str) -> pb.Shift:
    return pb.Shift(
        user_id=shift.user_id,
        user_name=name,
        start=to_timestamp(shift.start),
        end=to_timestamp(shift.end),
        layer_id=shift.layer_id or "",
        override_id=shift.override_id or "",
    )


def policy_message(state: pol.Policy) -> pb.Policy:
    return pb.Policy(
        policy_id=state.policy_id,
        name=state.name,
        levels=[
            pb.Level(targets=[str(t) for t in level.targets], delay_minutes=level.delay_minutes)
            for level in state.levels
        ],
        repeat=state.repeat,
        un_ack_timeout_minutes=state.un_ack_timeout_minutes or 0,
        revision=state.revision,
    )


def escalation_message(state: esc.Escalation) -> pb.Escalation:
    return pb.Escalation(
        incident_id=str(state.incident_id or ""),
        status=_ESCALATION_STATUS_TO_PB.get(state.status, pb.ESCALATION_STATUS_UNSPECIFIED),
        policy_id=state.policy.policy_id if state.policy else "",
        policy_revision=state.policy.revision if state.policy else 0,
        severity=state.severity.value if state.severity else "",
        urgency=state.urgency.value,
        started_at=to_timestamp(state.started_at),
        round=state.round,
        next_step_due_at=to_timestamp(state.pending.due_at if state.pending else None),
        acknowledged_by=state.acknowledged_by or "",
        acknowledged_page_id=str(state.acknowledged_page or ""),
        acknowledged_via=state.acknowledged_via,
        unack_timeout_due_at=to_timestamp(state.unack_due),
    )


def page_message(state: pg.Page) -> pb.Page:
    return pb.Page(
        page_id=str(state.page_id),
        incident_id=str(state.incident_id),
        step=state.step,
        user_id=state.user_id,
        title=state.title,
        status=_PAGE_STATUS_TO_PB.get(state.status, pb.PAGE_STATUS_UNSPECIFIED),
        paged_at=to_timestamp(state.paged_at),
        acknowledged_by=state.acknowledged_by or "",
        delivered=state.delivered,
        undeliverable=state.undeliverable,
        methods=[
            pb.DeliveryMethod(
                method_id=m.planned.method_id,
                kind=_KIND_TO_PB[m.planned.kind],
                address=m.planned.address,
                attempts=m.attempts,
                delivered=m.delivered,
                exhausted=m.exhausted,
            )
            for m in state.methods
        ],
    )


# ---------------------------------------------------------------------- process


def serve(settings: PagingApiSettings | None = None) -> None:
    """Run the API process until SIGTERM/SIGINT."""
    from apikit.rpc import serve_until_signalled, start_server, tls_files
    from eventlog import open_store
    from eventlog.clock import system_clock

    settings = settings or PagingApiSettings()
    store = open_store(settings.store_url, writer="paging")
    tokens = TokenRegistry(settings.tokens_file)
    # No scheduler here: the paging worker runs tick(); this process only answers calls.
    servicer = OnCallServicer(PagingApplication(store, system_clock), tokens)
    tls = tls_files(settings.paging_api_tls_cert, settings.paging_api_tls_key)
    register: list[Callable[[grpc.Server], None]] = [
        lambda server: pb_grpc.add_OnCallServiceServicer_to_server(  # type: ignore[no-untyped-call]
            servicer, server
        )
    ]
    running = start_server(
        host=settings.paging_api_host,
        port=settings.paging_api_port,
        register=register,
        service_names=[SERVICE_NAME],
        tls=tls,
    )
    serve_until_signalled(
        running,
        f"paging api listening on {settings.paging_api_host}:{running.port} "
        f"({'TLS' if tls else 'plaintext'}), log {settings.store_url}",
    )
    store.close()


def main() -> None:
    from servicekit.process import start as start_process

    start_process("paging-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
