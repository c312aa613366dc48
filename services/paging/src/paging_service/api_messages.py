"""Translation between OnCallService protobuf messages and paging's values.

Owns the enum tables, the conversion of requests into the application's arguments
(reporting a nested field's error with the request's own path: `layer.time_zone`,
`levels.0.targets.1`) and of the aggregates' states into the API's messages. The
message builders are public: paging_service.rendering shows a replayed stream with
exactly these (appkit.rendering, the audit service's replay). Pure: no application, no
store, no server.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from apikit.rpc import known_enum, read_timestamp, to_timestamp
from appkit import CommandResult
from contracts.domain import InvalidCommandError, required_text
from firewatch.oncall.v1 import oncall_pb2 as pb
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import policy as pol
from paging_service import schedule as sch
from paging_service import team as tm
from paging_service import user as usr
from paging_service.common import TimeWindow, Weekday
from paging_service.schedule import TurnUnit
from paging_service.user import ContactKind

_KIND_TO_PB = {k: pb.ContactKind.Value(f"CONTACT_KIND_{k.name}") for k in ContactKind}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
_DAY_NAMES = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_DAY_TO_PB = {d: pb.Weekday.Value(f"WEEKDAY_{_DAY_NAMES[d.number]}") for d in Weekday}
_DAY_FROM_PB = {v: k for k, v in _DAY_TO_PB.items()}
_UNIT_TO_PB = {u: pb.TurnUnit.Value(f"TURN_UNIT_{u.name}") for u in TurnUnit}
_UNIT_FROM_PB = {v: k for k, v in _UNIT_TO_PB.items()}
VIA_FROM_PB: dict[int, pg.AckChannel] = {
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


# ---------------------------------------------------------------------- requests


def uuid_field(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(required_text(value, field))
    except ValueError:
        raise InvalidCommandError(field, f"{value!r} is not a uuid") from None


def instant_field(request: Any, field: str) -> datetime:
    if not request.HasField(field):
        raise InvalidCommandError(field, "is required")
    return read_timestamp(getattr(request, field), field)


def time_range(request: Any) -> tuple[datetime, datetime]:
    return instant_field(request, "start"), instant_field(request, "end")


def wall_clock(text: str, field: str) -> datetime:
    """A layer's first handoff: naive local time (kept as is) or with an offset."""
    try:
        return datetime.fromisoformat(required_text(text, field))
    except ValueError:
        raise InvalidCommandError(
            field, f"{text!r} is not an ISO 8601 time like 2026-01-05T09:00"
        ) from None


@contextmanager
def nested(prefix: str) -> Iterator[None]:
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
def renamed(domain_field: str, request_field: str) -> Iterator[None]:
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
def target_strings() -> Iterator[None]:
    """The domain validates a target as {kind, id}; on the wire it is one string, so a
    problem with its kind or id is reported against `levels.N.targets.M` itself."""
    try:
        yield
    except InvalidCommandError as error:
        match = _TARGET_PART.match(error.field)
        if match is None:
            raise
        raise InvalidCommandError(match.group(1), error.problem) from None


def contact_method(method: pb.ContactMethod, field: str) -> dict[str, str]:
    kind = known_enum(method.kind, _KIND_FROM_PB, f"{field}.kind", "contact kind")
    return {"method_id": method.method_id, "kind": kind.value, "address": method.address}


def time_windows(windows: Sequence[pb.TimeWindow], field: str) -> list[dict[str, Any]]:
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


def turn_definition(turn: pb.Turn) -> dict[str, Any]:
    unit = known_enum(turn.unit, _UNIT_FROM_PB, "turn.unit", "turn unit")
    return {"unit": unit.value, "length": turn.length or 1, "rrule": turn.rrule or None}


def policy_definition(request: pb.CreatePolicyRequest | pb.RevisePolicyRequest) -> dict[str, Any]:
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


def outcome_message(result: CommandResult[Any]) -> pb.CommandOutcome:
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


def shift_message(shift: sch.Shift, name: str) -> pb.Shift:
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
