"""Vocabulary shared by the postmortem aggregates: the event registry, the command base,
text limits, severities and business days.

Pure: no I/O, no clock; it must never import the application layer or an adapter.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from contracts.domain import InvalidCommandError
from contracts.events import EventRegistry

EVENTS = EventRegistry("postmortem")
"""Every event the postmortem service publishes; the aggregate modules register into it."""

MAX_TEXT = 20_000
"""The longest narrative section, in characters (a long postmortem is ~5,000)."""


class Severity(enum.StrEnum):
    """Incident severity as the incident service publishes it (kept local: services
    share contracts, not code)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


HIGH_SEVERITIES = frozenset({Severity.P1, Severity.P2})


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be a timezone-aware timestamp")
    return value


def _printable(value: str) -> str:
    bad = next((ch for ch in value if ord(ch) < 32 and ch not in "\n\r\t"), None)
    if bad is not None:
        raise ValueError(f"contains the control character U+{ord(bad):04X}")
    return value


Instant = Annotated[datetime, AfterValidator(_aware)]
Person = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
]
"""A user id as the paging directory spells it."""
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    AfterValidator(_printable),
]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=2_000),
    AfterValidator(_printable),
]


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, UTC when the directory holds something unusable."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def add_business_days(start: date, days: int) -> date:
    """`days` working days (Monday-Friday) after `start`; holidays are not modelled."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


END_OF_BUSINESS = time(17, 0)


def business_due(at: datetime, days: int, tz_name: str) -> tuple[date, datetime]:
    """The day `days` business days after `at` in the zone, and 17:00 local that day
    as an instant (UTC): a due *date* people read, and the instant timers use."""
    tz = zone(tz_name)
    day = add_business_days(at.astimezone(tz).date(), days)
    return day, end_of_day(day, tz_name)


def end_of_day(day: date, tz_name: str) -> datetime:
    """17:00 on `day` in the zone, as a UTC instant (fold=0 across DST changes)."""
    tz = zone(tz_name)
    return datetime.combine(day, END_OF_BUSINESS).replace(tzinfo=tz, fold=0).astimezone(UTC)


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Command(BaseModel):
    """Commands are validated on construction; `build` turns a bad field into an
    InvalidCommandError naming it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: Instant
    """When the platform received the command (from the injected clock)."""


C = TypeVar("C", bound=BaseModel)


def build(command_type: type[C], **fields: Any) -> C:
    try:
        return command_type(**fields)
    except ValidationError as error:
        raise InvalidCommandError.from_validation(error) from None
