"""Vocabulary shared by the runbook aggregates: the event registry, the command base,
severities, text limits and the namespace of derived ids.

Pure: no I/O, no clock; it must never import the application layer or an adapter.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from contracts.domain import InvalidCommandError
from contracts.events import EventRegistry

EVENTS = EventRegistry("runbooks")
"""Every event the runbooks service publishes; the aggregate modules register into it."""

ID_NAMESPACE = uuid.UUID("4f0c7b7e-9d51-4a53-8c3e-2b6e1f5a9d27")
"""The namespace of the service's derived ids (event ids, run ids). Fixed forever."""

MAX_NOTE = 2_000


class Severity(enum.StrEnum):
    """Incident severity as the incident service publishes it (kept local: services
    share contracts, not code). P1 is the most severe."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    def at_least(self, floor: Severity) -> bool:
        """True when this severity is `floor` or more severe (P1 >= P2 >= ...)."""
        return int(self.value[1]) <= int(floor.value[1])


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
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_NOTE),
    AfterValidator(_printable),
]
Slug = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
]
"""Runbook and step ids: lowercase, stream-safe, stable across revisions."""


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Command(BaseModel):
    """Commands are validated on construction; `build` turns a bad field into an
    InvalidCommandError naming it."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    at: Instant
    """When the platform received the command (from the injected clock)."""


C = TypeVar("C", bound=BaseModel)


def build(command_type: type[C], **fields: Any) -> C:
    try:
        return command_type(**fields)
    except ValidationError as error:
        raise InvalidCommandError.from_validation(error) from None
