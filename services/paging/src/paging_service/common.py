"""Vocabulary shared by the paging aggregates: the event registry, command base, ids,
time zones and weekly time windows.

Owns the rules that several aggregates must apply identically (what a valid id or IANA
zone is, how a local wall-clock time becomes an instant across DST). Pure: no I/O, no
clock; it must never import the application layer or any adapter.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from contracts.domain import InvalidCommandError
from contracts.events import EventRegistry

EVENTS = EventRegistry("paging")
"""Every event the paging service publishes; the aggregate modules register into it."""

ID_NAMESPACE = uuid.UUID("3b8f0d52-6a1e-4c3b-9f57-0e2d9c4a7b11")


def derived_id(*parts: object) -> uuid.UUID:
    """A stable event id from its causes: a retry derives the same id, and the log's
    idempotent append drops the duplicate (DESIGN principle 2)."""
    return uuid.uuid5(ID_NAMESPACE, "/".join(str(part) for part in parts))


class Severity(enum.StrEnum):
    """Incident severity, as the incident service publishes it (kept local: services
    share contracts, not code)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Urgency(enum.StrEnum):
    HIGH = "high"
    """Page now, day or night."""
    LOW = "low"
    """Wait for the target's business hours."""


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be a timezone-aware timestamp")
    return value


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError naming it when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)"
        ) from None


def _valid_zone(name: str) -> str:
    zone(name)
    return name


Instant = Annotated[datetime, AfterValidator(_aware)]
Ident = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
]
"""User, team, schedule, policy, layer and contact-method ids: they end up in stream
names, so lowercase letters, digits and . _ - only."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TimeZoneName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_valid_zone)
]


def to_instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall-clock time in `tz` as an aware instant.

    Wall times that do not exist (the hour skipped in spring) resolve with the offset in
    force before the change, so 02:30 on a spring-forward night is 03:30 summer time;
    ambiguous ones (the hour repeated in autumn) take their first occurrence. Both rules
    are Python's `fold=0` semantics, which keeps every computation deterministic.

    The result is in UTC on purpose: Python compares two datetimes that share a tzinfo
    by wall time, ignoring `fold`, which would misorder instants in the repeated hour."""
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """The naive wall-clock time an aware instant shows in `tz`."""
    return instant.astimezone(tz).replace(tzinfo=None)


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """0 for Monday, as `date.weekday()` counts."""
        return list(Weekday).index(self)


WEEKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


def _clock_time(text: str) -> str:
    hours, sep, minutes = text.partition(":")
    if not sep or not (hours.isdigit() and minutes.isdigit()) or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time like 09:00")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59) and (h, m) != (24, 0):
        raise ValueError(f"{text!r} is not a time between 00:00 and 24:00")
    return f"{h:02d}:{m:02d}"


ClockTime = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_clock_time)]


class Value(BaseModel):
    """Immutable value objects carried inside commands and events."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeWindow(Value):
    """A weekly window of local wall-clock time, e.g. weekdays 09:00-17:00.

    `end` before `start` crosses midnight (22:00-06:00 on "mon" runs Monday night into
    Tuesday morning); "24:00" means the end of the day. Used for schedule restrictions
    and for business hours; the zone comes from whoever owns the window."""

    days: tuple[Weekday, ...] = Field(default=WEEKDAYS, min_length=1)
    start: ClockTime = "09:00"
    end: ClockTime = "17:00"

    @model_validator(mode="after")
    def _not_empty(self) -> TimeWindow:
        if self.start == self.end:
            raise ValueError("start and end are equal: the window would be empty")
        if self.start == "24:00":
            raise ValueError("start cannot be 24:00")
        return self

    def _offsets(self) -> tuple[timedelta, timedelta]:
        start = _minutes(self.start)
        end = _minutes(self.end)
        if end <= start:
            end += 24 * 60
        return timedelta(minutes=start), timedelta(minutes=end)

    def occurrences(self, tz: ZoneInfo, start: datetime, end: datetime) -> Iterator[Interval]:
        """The window's intervals (as instants) that overlap [start, end), in order."""
        begin_offset, end_offset = self._offsets()
        day_indexes = {d.number for d in self.days}
        first = to_local(start, tz).date() - timedelta(days=1)
        last = to_local(end, tz).date()
        day = first
        while day <= last:
            if day.weekday() in day_indexes:
                midnight = datetime.combine(day, time())
                a = to_instant(midnight + begin_offset, tz)
                b = to_instant(midnight + end_offset, tz)
                if b > start and a < end and b > a:
                    yield Interval(max(a, start), min(b, end))
            day += timedelta(days=1)

    def contains(self, tz: ZoneInfo, at: datetime) -> bool:
        return any(True for _ in self.occurrences(tz, at, at + _EPSILON))


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open span of time [start, end) between two aware instants."""

    start: datetime
    end: datetime


def next_open(windows: tuple[TimeWindow, ...], tz: ZoneInfo, at: datetime) -> datetime | None:
    """The first instant >= `at` inside any of `windows` (within two weeks), or None."""
    horizon = at + timedelta(days=15)
    starts = [
        interval.start for window in windows for interval in window.occurrences(tz, at, horizon)
    ]
    return min(starts) if starts else None


def day_of(instant: datetime, tz: ZoneInfo) -> date:
    return to_local(instant, tz).date()


class Command(BaseModel):
    """Commands are validated on construction; a bad field becomes InvalidCommandError
    naming it (`build`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: Instant
    """When the platform received the command (from the injected clock)."""


C = TypeVar("C", bound=BaseModel)


def build(command_type: type[C], **fields: Any) -> C:
    """Construct a command or value, turning pydantic's error into InvalidCommandError."""
    try:
        return command_type(**fields)
    except ValidationError as error:
        raise InvalidCommandError.from_validation(error) from None
