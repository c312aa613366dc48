"""The CLI's vocabulary and its mapping to the API's: choices, instants, positions.

Owns the enums offered on the command line (P1, investigating, rollback, ...), their
protobuf values and back, and the parsing of `--as-of`, `--since`, `--applied-at` and
incident arguments. Parsers raise ValueError, which main.py turns into a usage error
(exit code 2) naming the option.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from firewatch.incident.v1 import incident_pb2 as pb

# `to_pb()` answers the protobuf enum value's *name*: generated constructors accept
# names, and the stubs type them, where an int would need a cast.


class Severity(enum.StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    def to_pb(self) -> str:
        return f"SEVERITY_{self.value}"


class Status(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"

    def to_pb(self) -> str:
        return f"STATUS_{self.name}"


class WorkingStatus(enum.StrEnum):
    """What `incidentctl status` may set: resolving needs a summary (`resolve`)."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"

    def to_pb(self) -> str:
        return f"STATUS_{self.name}"


class MitigationKind(enum.StrEnum):
    ROLLBACK = "rollback"
    RESTART = "restart"
    FAILOVER = "failover"
    TRAFFIC_SHIFT = "traffic_shift"
    FEATURE_FLAG = "feature_flag"
    RUNBOOK_STEP = "runbook_step"
    OTHER = "other"

    def to_pb(self) -> str:
        return f"MITIGATION_KIND_{self.name}"


def enum_name(wrapper: EnumTypeWrapper, prefix: str, value: int, *, lower: bool) -> str:
    """SEVERITY_P1 -> P1, STATUS_INVESTIGATING -> investigating; a value this client
    does not know yet (a newer server) shows as `unknown(<n>)` instead of failing."""
    try:
        name: str = wrapper.Name(value)
    except ValueError:
        return f"unknown({value})"
    short = name.removeprefix(prefix)
    return short.lower() if lower else short


def severity_name(value: int) -> str:
    return enum_name(pb.Severity, "SEVERITY_", value, lower=False)


def status_name(value: int) -> str:
    return enum_name(pb.Status, "STATUS_", value, lower=True)


def kind_name(value: int) -> str:
    return enum_name(pb.MitigationKind, "MITIGATION_KIND_", value, lower=True)


# ---------------------------------------------------------------------- instants


def parse_instant(text: str) -> datetime:
    """An ISO 8601 timestamp with a zone, e.g. 2026-11-27T02:17:00Z or ...+01:00.

    A timestamp without a zone is refused rather than guessed: "02:17" read in the
    wrong zone answers a different question about an incident."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 timestamp like 2026-11-27T02:17:00Z"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{text!r} has no time zone: add Z for UTC or an offset like +01:00")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class AsOf:
    """A past instant to read at: a wall-clock time or a log position."""

    time: datetime | None = None
    position: int | None = None

    def describe(self) -> str:
        if self.position is not None:
            return f"log position {self.position}"
        assert self.time is not None
        return format_instant(self.time)


def parse_as_of(text: str) -> AsOf:
    """`2026-11-27T02:17:00Z` (a time) or `@42` (a log position)."""
    stripped = text.strip()
    if stripped.startswith("@"):
        digits = stripped[1:]
        if not digits.isdigit() or int(digits) < 1:
            raise ValueError(f"{text!r}: a log position is written @<n> with n >= 1, e.g. @42")
        return AsOf(position=int(digits))
    return AsOf(time=parse_instant(stripped))


def to_timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def from_timestamp(stamp: timestamp_pb2.Timestamp) -> datetime:
    value: datetime = stamp.ToDatetime(tzinfo=UTC)
    return value


def format_instant(value: datetime) -> str:
    """UTC, ISO 8601, `Z`: the same form --as-of accepts, so output can be pasted back."""
    utc = value.astimezone(UTC)
    text = utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds")
    return text.replace("+00:00", "Z")


# ---------------------------------------------------------------------- incidents

_BARE_NUMBER = re.compile(r"^\d+$")


def incident_argument(text: str) -> str:
    """INC-42 or a uuid, passed on as given; a bare `42` is taken as INC-42.

    The server is the judge of well-formedness, so its INVALID_ARGUMENT message is what
    a malformed reference produces."""
    stripped = text.strip()
    if _BARE_NUMBER.match(stripped):
        return f"INC-{int(stripped)}"
    return stripped


# ---------------------------------------------------------------------- alerting


class AlertSeverity(enum.StrEnum):
    """PagerDuty's severities, as the alert API takes them."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def to_pb(self) -> str:
        return f"ALERT_SEVERITY_{self.name}"


class AlertAction(enum.StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"

    def to_pb(self) -> str:
        return f"ALERT_ACTION_{self.name}"


class AlertStatus(enum.StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"

    def to_pb(self) -> str:
        return f"ALERT_STATUS_{self.name}"


_PAIR = re.compile(r"^([^=]+)=(.*)$", re.DOTALL)


def parse_pair(text: str) -> tuple[str, str]:
    """`name=value` (a label or annotation); the server judges the name."""
    found = _PAIR.match(text)
    if found is None or not found.group(1).strip():
        raise ValueError(f"{text!r} is not name=value")
    return found.group(1).strip(), found.group(2)


# Alertmanager's matcher syntax, as amtool takes it: name, operator, optionally quoted value.
_MATCHER = re.compile(r'^\s*([^=!~\s]+)\s*(=~|!~|!=|=)\s*(?:"(.*)"|(.*?))\s*$', re.DOTALL)
_MATCH_OPS = {
    "=": "MATCH_OPERATOR_EQUAL",
    "!=": "MATCH_OPERATOR_NOT_EQUAL",
    "=~": "MATCH_OPERATOR_REGEX",
    "!~": "MATCH_OPERATOR_NOT_REGEX",
}
MATCH_OP_TEXT = {"MATCH_OPERATOR_UNSPECIFIED": "=", **{v: k for k, v in _MATCH_OPS.items()}}


@dataclass(frozen=True)
class MatcherText:
    name: str
    operator: str
    """The protobuf MatchOperator value's name."""
    value: str


def parse_matcher(text: str) -> MatcherText:
    """`service="checkout"`, `env!=dev`, `job=~"api|web"`; the server checks the name
    and compiles the regex, and names the matcher it refuses."""
    found = _MATCHER.match(text)
    if found is None:
        raise ValueError(f'{text!r} is not a matcher like service="checkout" (=, !=, =~, !~)')
    value = found.group(3) if found.group(3) is not None else found.group(4)
    return MatcherText(found.group(1), _MATCH_OPS[found.group(2)], value)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`30s`, `5m`, `2h`, `1d` (or plain seconds)."""
    stripped = text.strip()
    if stripped.replace(".", "", 1).isdigit():
        return timedelta(seconds=float(stripped))
    found = _DURATION.match(stripped)
    if found is None:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m, 2h or 1d")
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])


def to_duration(value: timedelta) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(value)
    return duration


def format_duration(duration: duration_pb2.Duration) -> str:
    seconds = duration.ToTimedelta().total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
