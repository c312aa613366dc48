"""The Schedule aggregate (stream `schedule-<id>`): layers of rotations, restrictions and
overrides, and the pure functions that say who is on call.

Owns the on-call rules:
- a layer is a rotation: users take turns of N hours, days or weeks (or at the
  occurrences of a custom RFC 5545 RRULE), starting at a local wall-clock handoff time
  in the layer's IANA zone;
- handoffs are computed in local wall time, never by adding fixed seconds, so a weekly
  09:00 handoff stays at 09:00 on both sides of a DST change (the turn that spans the
  change is an hour shorter or longer);
- a layer's restrictions (e.g. weekdays 09:00-17:00) limit when its people are on call;
- a higher layer (added later) overrides lower ones wherever it has someone on call;
- an override (this person, from, to) beats every layer; overrides never overlap.

`shifts(state, start, end)` and `who_is_on_call(state, at)` are pure functions of the
state: the application layer decides *which* state (today's, or as it stood at T).
"""

from __future__ import annotations

import bisect
import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from pydantic import Field, field_validator, model_validator

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from paging_service.common import (
    EVENTS,
    Command,
    Ident,
    Instant,
    Interval,
    Name,
    TimeWindow,
    TimeZoneName,
    Value,
    to_instant,
    to_local,
    zone,
)

STREAM_CATEGORY = "schedule"


def stream_for(schedule_id: str) -> str:
    return f"{STREAM_CATEGORY}-{schedule_id}"


# Rules are evaluated on naive wall-clock times (see Layer.handoff), so the probe is too.
_PROBE_START = datetime(2026, 1, 1)  # noqa: DTZ001


class TurnUnit(enum.StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    CUSTOM = "custom"
    """Handoffs at the occurrences of `rrule` (e.g. FREQ=WEEKLY;BYDAY=MO,TH)."""


class Turn(Value):
    unit: TurnUnit = TurnUnit.WEEKS
    length: int = Field(default=1, ge=1, le=1000)
    rrule: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _rrule_only_for_custom(self) -> Turn:
        if self.unit is TurnUnit.CUSTOM:
            if not self.rrule:
                raise ValueError("a custom turn needs an rrule, e.g. FREQ=WEEKLY;BYDAY=MO,TH")
            try:
                rrulestr(self.rrule, dtstart=_PROBE_START)
            except (ValueError, TypeError) as error:
                raise ValueError(
                    f"rrule {self.rrule!r} is not a valid RFC 5545 RRULE: {error}"
                ) from None
        elif self.rrule is not None:
            raise ValueError(f"rrule is only for custom turns, not {self.unit.value}")
        return self

    def step(self) -> timedelta:
        match self.unit:
            case TurnUnit.HOURS:
                return timedelta(hours=self.length)
            case TurnUnit.DAYS:
                return timedelta(days=self.length)
            case TurnUnit.WEEKS:
                return timedelta(weeks=self.length)
        raise ValueError("custom turns have no fixed step")


class Layer(Value):
    """One rotation. `start` is the first handoff as a naive wall-clock time in
    `time_zone`; users take turns in the order given."""

    layer_id: Ident
    name: Name
    users: tuple[Ident, ...] = Field(min_length=1, max_length=200)
    turn: Turn
    start: datetime
    time_zone: TimeZoneName
    restrictions: tuple[TimeWindow, ...] = Field(default=(), max_length=28)

    @field_validator("start")
    @classmethod
    def _naive(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("must be a wall-clock time without an offset (it is in time_zone)")
        return value

    @cached_property
    def _zone(self) -> ZoneInfo:
        return zone(self.time_zone)

    @cached_property
    def _rule(self) -> rrule | None:
        if self.turn.unit is not TurnUnit.CUSTOM or self.turn.rrule is None:
            return None
        rule = rrulestr(self.turn.rrule, dtstart=self.start, cache=True)
        assert isinstance(rule, rrule)
        return rule

    def handoff(self, index: int) -> datetime | None:
        """The instant turn `index` begins (None if a custom rule has run out)."""
        if self._rule is not None:
            try:
                local: datetime = self._rule[index]
            except IndexError:
                return None
        else:
            # Wall-clock arithmetic on the naive local time, then one conversion: this is
            # what keeps 09:00 at 09:00 across DST.
            local = self.start + index * self.turn.step()
        return to_instant(local, self._zone)

    def turn_at(self, at: datetime) -> int | None:
        """The index of the turn in force at `at`, None before the rotation starts."""
        first = self.handoff(0)
        if first is None or at < first:
            return None
        local_at = to_local(at, self._zone)
        if self._rule is not None:
            index = max(0, len(self._rule.between(self.start, local_at, inc=True)) - 1)
        else:
            index = max(0, (local_at - self.start) // self.turn.step())
        # The estimate can be one off around an ambiguous or skipped hour; settle it on
        # instants, which are unambiguous.
        while index > 0 and (h := self.handoff(index)) is not None and h > at:
            index -= 1
        while (h := self.handoff(index + 1)) is not None and h <= at:
            index += 1
        return index

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """This layer's on-call spans overlapping [start, end), restrictions applied."""
        index = self.turn_at(start)
        if index is None:
            index = 0
        spans: list[Shift] = []
        while (begin := self.handoff(index)) is not None and begin < end:
            finish = self.handoff(index + 1) or end
            a, b = max(begin, start), min(finish, end)
            if a < b:
                spans.append(Shift(self.users[index % len(self.users)], a, b, self.layer_id))
            index += 1
        if not self.restrictions:
            return spans
        allowed = _union(
            interval
            for window in self.restrictions
            for interval in window.occurrences(self._zone, start, end)
        )
        return [
            Shift(s.user_id, max(s.start, w.start), min(s.end, w.end), s.layer_id)
            for s in spans
            for w in allowed
            if w.start < s.end and s.start < w.end
        ]


class Override(Value):
    override_id: Ident
    user_id: Ident
    start: Instant
    end: Instant


@dataclass(frozen=True, slots=True)
class Shift:
    """Someone on call for [start, end), and why: a layer, or an override."""

    user_id: str
    start: datetime
    end: datetime
    layer_id: str | None = None
    override_id: str | None = None

    @property
    def source(self) -> str:
        return f"override:{self.override_id}" if self.override_id else f"layer:{self.layer_id}"


# ---------------------------------------------------------------------- events


@EVENTS.register
class ScheduleCreated(DomainEvent):
    schedule_id: str
    name: str
    time_zone: str
    created_at: datetime


@EVENTS.register
class LayerAdded(DomainEvent):
    layer: Layer
    added_at: datetime


@EVENTS.register
class LayerChanged(DomainEvent):
    """The layer's whole new definition."""

    layer: Layer
    changed_at: datetime


@EVENTS.register
class LayerRemoved(DomainEvent):
    layer_id: str
    removed_at: datetime


@EVENTS.register
class OverrideAdded(DomainEvent):
    override: Override
    added_at: datetime


@EVENTS.register
class OverrideRemoved(DomainEvent):
    override_id: str
    removed_at: datetime


# ---------------------------------------------------------------------- commands


class CreateSchedule(Command):
    schedule_id: Ident
    name: Name
    time_zone: TimeZoneName


class _LayerCommand(Command):
    layer_id: Ident
    name: Name
    users: tuple[Ident, ...] = Field(min_length=1, max_length=200)
    turn: Turn = Turn()
    start: datetime
    """The first handoff: a wall-clock time in `time_zone`, or an aware instant."""
    time_zone: TimeZoneName | None = None
    """Defaults to the schedule's zone."""
    restrictions: tuple[TimeWindow, ...] = Field(default=(), max_length=28)

    def to_layer(self, schedule_zone: str) -> Layer:
        tz_name = self.time_zone or schedule_zone
        start = self.start
        if start.tzinfo is not None:
            start = to_local(start, zone(tz_name))
        return Layer(
            layer_id=self.layer_id,
            name=self.name,
            users=tuple(dict.fromkeys(self.users)),
            turn=self.turn,
            start=start.replace(second=0, microsecond=0),
            time_zone=tz_name,
            restrictions=self.restrictions,
        )


class AddLayer(_LayerCommand):
    """Add a rotation on top of the existing ones (the newest layer wins)."""


class ChangeLayer(_LayerCommand):
    """Replace a layer's definition, keeping its place in the stack."""


class RemoveLayer(Command):
    layer_id: Ident


class AddOverride(Command):
    override_id: Ident
    user_id: Ident
    start: Instant
    end: Instant


class RemoveOverride(Command):
    override_id: Ident


ScheduleCommand = (
    CreateSchedule | AddLayer | ChangeLayer | RemoveLayer | AddOverride | RemoveOverride
)

# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Schedule:
    created: bool = False
    schedule_id: str = ""
    name: str = ""
    time_zone: str = "UTC"
    layers: tuple[Layer, ...] = ()
    """Lowest first: a later layer overrides an earlier one."""
    overrides: tuple[Override, ...] = ()

    def layer(self, layer_id: str) -> Layer | None:
        return next((layer for layer in self.layers if layer.layer_id == layer_id), None)

    @property
    def users(self) -> frozenset[str]:
        return frozenset(u for layer in self.layers for u in layer.users) | {
            o.user_id for o in self.overrides
        }

    @property
    def restricted(self) -> bool:
        return any(layer.restrictions for layer in self.layers)


INITIAL = Schedule()


def evolve(state: Schedule, event: DomainEvent) -> Schedule:
    match event:
        case ScheduleCreated():
            return Schedule(True, event.schedule_id, event.name, event.time_zone)
        case LayerAdded():
            return replace(state, layers=(*state.layers, event.layer))
        case LayerChanged():
            layers = tuple(
                event.layer if layer.layer_id == event.layer.layer_id else layer
                for layer in state.layers
            )
            return replace(state, layers=layers)
        case LayerRemoved():
            return replace(
                state, layers=tuple(x for x in state.layers if x.layer_id != event.layer_id)
            )
        case OverrideAdded():
            return replace(state, overrides=(*state.overrides, event.override))
        case OverrideRemoved():
            return replace(
                state,
                overrides=tuple(o for o in state.overrides if o.override_id != event.override_id),
            )
    return state


def fold(events: Iterable[DomainEvent], state: Schedule = INITIAL) -> Schedule:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def decide(command: ScheduleCommand, state: Schedule) -> Sequence[DomainEvent]:
    if isinstance(command, CreateSchedule):
        if state.created:
            raise PreconditionFailedError(f"schedule {command.schedule_id!r} already exists")
        return [
            ScheduleCreated(
                schedule_id=command.schedule_id,
                name=command.name,
                time_zone=command.time_zone,
                created_at=command.at,
            )
        ]
    if not state.created:
        raise NotFoundError("no such schedule")
    match command:
        case AddLayer():
            if state.layer(command.layer_id) is not None:
                raise InvalidCommandError("layer_id", f"{command.layer_id!r} already exists")
            return [LayerAdded(layer=command.to_layer(state.time_zone), added_at=command.at)]
        case ChangeLayer():
            if state.layer(command.layer_id) is None:
                raise NotFoundError(
                    f"schedule {state.schedule_id!r} has no layer {command.layer_id!r}"
                )
            return [LayerChanged(layer=command.to_layer(state.time_zone), changed_at=command.at)]
        case RemoveLayer():
            if state.layer(command.layer_id) is None:
                raise NotFoundError(
                    f"schedule {state.schedule_id!r} has no layer {command.layer_id!r}"
                )
            return [LayerRemoved(layer_id=command.layer_id, removed_at=command.at)]
        case AddOverride():
            return [_add_override(command, state)]
        case RemoveOverride():
            if not any(o.override_id == command.override_id for o in state.overrides):
                raise NotFoundError(
                    f"schedule {state.schedule_id!r} has no override {command.override_id!r}"
                )
            return [OverrideRemoved(override_id=command.override_id, removed_at=command.at)]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


MAX_OVERRIDE = timedelta(days=366)


def _add_override(command: AddOverride, state: Schedule) -> OverrideAdded:
    if command.end <= command.start:
        raise InvalidCommandError(
            "end",
            f"must be after start ({command.start.isoformat()}); got {command.end.isoformat()}",
        )
    if command.end - command.start > MAX_OVERRIDE:
        raise InvalidCommandError("end", "an override may last at most a year; change a layer")
    for existing in state.overrides:
        if existing.override_id == command.override_id:
            raise InvalidCommandError("override_id", f"{command.override_id!r} already exists")
        # Two overrides at once would make "who is on call" depend on which one wins;
        # refusing keeps the answer obvious to the people involved.
        if existing.start < command.end and command.start < existing.end:
            raise InvalidCommandError(
                "start",
                f"overlaps override {existing.override_id!r} for {existing.user_id} "
                f"({existing.start.isoformat()} to {existing.end.isoformat()}); "
                "delete it first",
            )
    override = Override(
        override_id=command.override_id,
        user_id=command.user_id,
        start=command.start,
        end=command.end,
    )
    return OverrideAdded(override=override, added_at=command.at)


# ---------------------------------------------------------------------- who is on call


def shifts(state: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final schedule over [start, end): overrides, then the highest layer with
    someone on call; adjacent spans of the same person from the same source merged."""
    if end <= start or not state.created:
        return []
    layer_spans = [layer.shifts(start, end) for layer in state.layers]
    overrides = [
        Shift(o.user_id, max(o.start, start), min(o.end, end), override_id=o.override_id)
        for o in state.overrides
        if o.start < end and start < o.end
    ]
    cuts = {start, end}
    for spans in [*layer_spans, overrides]:
        for span in spans:
            cuts.update((span.start, span.end))
    edges = sorted(cuts)
    result: list[Shift] = []
    for a, b in itertools.pairwise(edges):
        chosen = _covering(overrides, a)
        if chosen is None:
            for spans in reversed(layer_spans):
                chosen = _covering(spans, a)
                if chosen is not None:
                    break
        if chosen is None:
            continue
        last = result[-1] if result else None
        if (
            last is not None
            and last.end == a
            and (last.user_id, last.layer_id, last.override_id)
            == (chosen.user_id, chosen.layer_id, chosen.override_id)
        ):
            result[-1] = replace(last, end=b)
        else:
            result.append(replace(chosen, start=a, end=b))
    return result


def who_is_on_call(state: Schedule, at: datetime) -> list[str]:
    """The users on call at instant `at` under this state (empty if nobody is)."""
    return [s.user_id for s in shifts(state, at, at + timedelta(microseconds=1))]


def _covering(spans: Sequence[Shift], at: datetime) -> Shift | None:
    # Spans of one source never overlap and are in time order, so bisect finds the one.
    index = bisect.bisect_right([s.start for s in spans], at) - 1
    if index >= 0 and spans[index].start <= at < spans[index].end:
        return spans[index]
    return None


def _union(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged
