"""Vocabulary shared by the communications aggregates: the event registry, the command
base, validated field types (ids, addresses, URLs, bounded text) and severities.

Owns the rules several aggregates must apply identically (what a valid email address,
webhook URL or component id is, how long a body may be). Pure: no I/O, no clock; it
must never import the application layer or any adapter.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from contracts.domain import InvalidCommandError
from contracts.events import EventRegistry

EVENTS = EventRegistry("communications")
"""Every event the communications service publishes; the aggregate modules register here."""

ID_NAMESPACE = uuid.UUID("6f1c2a9e-0d4b-4b7a-8c35-2e9f1d7a5c40")

MAX_BODY = 20_000
"""Characters in an update body or template: a status update is a paragraph, not a file."""


def derived_id(*parts: object) -> uuid.UUID:
    """A stable id from its causes, so a retry derives the same one (DESIGN principle 2)."""
    return uuid.uuid5(ID_NAMESPACE, "/".join(str(part) for part in parts))


class Severity(enum.StrEnum):
    """Incident severity as the incident service publishes it (contracts, not code)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be a timezone-aware timestamp")
    return value


_EMAIL = re.compile(
    r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$"
)


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address (name@example.com)")
    return value


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if any(c.isspace() for c in value) or len(value) > 2000:
        raise ValueError("a URL has no spaces and at most 2000 characters")
    return value


Instant = Annotated[datetime, AfterValidator(_aware)]
Ident = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
]
"""Component, group, channel and template ids: lowercase letters, digits and . _ -."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]
Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_email)]
Url = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_url)]


class Value(BaseModel):
    """A frozen value object inside events and commands."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Command(BaseModel):
    """Every command says when it is issued (`at`, from the injected clock)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: Instant


C = TypeVar("C", bound=BaseModel)


def build(cls: type[C], **fields: Any) -> C:
    """Validate a command; a bad field becomes InvalidCommandError naming it."""
    try:
        return cls(**fields)
    except ValidationError as error:
        raise InvalidCommandError.from_validation(error) from None


def check_email(field: str, value: str) -> str:
    try:
        return _email(value.strip())
    except ValueError as error:
        raise InvalidCommandError(field, str(error)) from None


def check_url(field: str, value: str) -> str:
    try:
        return _url(value.strip())
    except ValueError as error:
        raise InvalidCommandError(field, str(error)) from None
