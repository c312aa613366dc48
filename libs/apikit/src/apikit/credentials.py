"""The credential aggregate: one API token's life as facts in the log.

Owns the events that are the authoritative record of every API token (docs/adr/0017):
`TokenIssued`, `TokenRevoked`, `TokenRotated`, one stream per token name
(`credential-<name>`), and the pure rules over them. An auditor answers "which
credentials could write at 02:17" by folding these streams up to that instant
(`firewatch-token list --as-of`).

Pure: no store, no clock, no file. It must never see a token: events carry only a
short SHA-256 fingerprint prefix, which identifies a token in logs and audit trails
without being enough to check a guess against.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import AwareDatetime

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent, EventRegistry

STREAM_CATEGORY = "credential"
WRITER = "credentials"
"""The log writer that owns the category (eventlog.ownership)."""

FINGERPRINT_LENGTH = 12
"""Hex digits of the token's SHA-256 kept in events and logs: enough to tell tokens
apart, far too few to test a stolen guess against."""

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+=-]{0,63}$")

EVENTS = EventRegistry(WRITER)


def stream_for(name: str) -> str:
    return f"{STREAM_CATEGORY}-{name}"


def check_name(name: str, field: str = "name") -> str:
    if not _NAME_RE.match(name):
        raise InvalidCommandError(
            field,
            f"{name[:80]!r} is not a token name: 1-64 letters, digits and . _ @ + = -, "
            "starting with a letter or digit",
        )
    return name


# ---------------------------------------------------------------------- events


@EVENTS.register
class TokenIssued(DomainEvent):
    """A token was created. `services`/`integrations` empty means unrestricted."""

    name: str
    role: str
    fingerprint: str
    user: str | None = None
    services: list[str] = []
    integrations: list[str] = []
    expires_at: AwareDatetime | None = None
    issued_at: AwareDatetime


@EVENTS.register
class TokenRevoked(DomainEvent):
    name: str
    fingerprint: str
    reason: str = ""
    revoked_at: AwareDatetime


@EVENTS.register
class TokenRotated(DomainEvent):
    """The token's secret was replaced; the old one stopped working at `rotated_at`."""

    name: str
    previous_fingerprint: str
    fingerprint: str
    expires_at: AwareDatetime | None = None
    rotated_at: AwareDatetime


# ---------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class Issue:
    name: str
    role: str
    fingerprint: str
    at: datetime
    user: str | None = None
    services: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Revoke:
    name: str
    at: datetime
    reason: str = ""
    unrecorded_fingerprint: str = ""
    """The file's fingerprint of a token issued before tokens were recorded: lets it be
    revoked on the record too."""


@dataclass(frozen=True, slots=True)
class Rotate:
    name: str
    fingerprint: str
    at: datetime
    expires_at: datetime | None = None


Command = Issue | Revoke | Rotate


# ---------------------------------------------------------------------- state


class Status(enum.StrEnum):
    NONE = "none"
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Credential:
    name: str = ""
    status: Status = Status.NONE
    role: str = ""
    fingerprint: str = ""
    user: str | None = None
    services: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    expires_at: datetime | None = None
    issued_at: datetime | None = None
    revoked_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def state_at(self, now: datetime) -> str:
        """What `list` shows: active, expired or revoked."""
        if self.status is Status.ACTIVE and self.expired(now):
            return "expired"
        return self.status.value


INITIAL = Credential()


def decide(command: Command, state: Credential) -> Sequence[DomainEvent]:
    check_name(command.name)
    match command:
        case Issue():
            if state.status is Status.ACTIVE:
                raise PreconditionFailedError(
                    f"token {command.name!r} exists and is not revoked; rotate it "
                    "(`firewatch-token rotate`) or revoke it first"
                )
            if command.expires_at is not None and command.expires_at <= command.at:
                raise InvalidCommandError("expires", "must be in the future")
            return [
                TokenIssued(
                    name=command.name,
                    role=command.role,
                    fingerprint=command.fingerprint,
                    user=command.user,
                    services=list(command.services),
                    integrations=list(command.integrations),
                    expires_at=command.expires_at,
                    issued_at=command.at,
                )
            ]
        case Revoke():
            if state.status is Status.NONE and not command.unrecorded_fingerprint:
                raise NotFoundError(f"no token named {command.name!r}")
            if state.status is Status.REVOKED:
                return []  # revoking twice is a retry, not a second fact
            return [
                TokenRevoked(
                    name=command.name,
                    fingerprint=state.fingerprint or command.unrecorded_fingerprint,
                    reason=command.reason,
                    revoked_at=command.at,
                )
            ]
        case Rotate():
            if state.status is Status.NONE:
                raise NotFoundError(f"no token named {command.name!r}")
            if state.status is Status.REVOKED:
                raise PreconditionFailedError(
                    f"token {command.name!r} was revoked; issue a new one instead"
                )
            if command.expires_at is not None and command.expires_at <= command.at:
                raise InvalidCommandError("expires", "must be in the future")
            return [
                TokenRotated(
                    name=command.name,
                    previous_fingerprint=state.fingerprint,
                    fingerprint=command.fingerprint,
                    expires_at=command.expires_at,
                    rotated_at=command.at,
                )
            ]
    raise AssertionError(f"unknown command {command!r}")  # pragma: no cover


def evolve(state: Credential, event: DomainEvent) -> Credential:
    match event:
        case TokenIssued():
            return Credential(
                name=event.name,
                status=Status.ACTIVE,
                role=event.role,
                fingerprint=event.fingerprint,
                user=event.user,
                services=tuple(event.services),
                integrations=tuple(event.integrations),
                expires_at=event.expires_at,
                issued_at=event.issued_at,
            )
        case TokenRevoked():
            return replace(
                state,
                name=event.name,
                status=Status.REVOKED,
                fingerprint=state.fingerprint or event.fingerprint,
                revoked_at=event.revoked_at,
            )
        case TokenRotated():
            return replace(state, fingerprint=event.fingerprint, expires_at=event.expires_at)
    return state
