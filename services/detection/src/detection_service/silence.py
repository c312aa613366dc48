"""The Silence aggregate (`silence-<id>`): a maintenance window that mutes matching
alerts between `starts_at` and `ends_at`.

Pure. A silenced alert is still recorded (`AlertTriggered` + `AlertSuppressed`) but
never joins a group, so it does not page. A silence ends by `SilenceExpired`, either
on request or when the application's ticker finds it past `ends_at`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from detection_service.labels import Matcher, matches_all
from detection_service.registry import EVENTS

STREAM_CATEGORY = "silence"
MAX_COMMENT = 2000


def stream_for(silence_id: str) -> str:
    return f"{STREAM_CATEGORY}-{silence_id}"


class ExpiryReason(enum.StrEnum):
    MANUAL = "manual"
    ENDED = "ended"


@EVENTS.register
class SilenceCreated(DomainEvent):
    silence_id: str
    matchers: list[Matcher]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime


@EVENTS.register
class SilenceExpired(DomainEvent):
    silence_id: str
    reason: ExpiryReason
    expired_at: datetime
    expired_by: str | None = None


@dataclass(frozen=True, slots=True)
class CreateSilence:
    at: datetime
    silence_id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


@dataclass(frozen=True, slots=True)
class ExpireSilence:
    at: datetime
    expired_by: str | None
    """None when the ticker expires it at its end."""


SilenceCommand = CreateSilence | ExpireSilence


@dataclass(frozen=True, slots=True)
class Silence:
    silence_id: str = ""
    matchers: tuple[Matcher, ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    created_by: str = ""
    comment: str = ""
    created_at: datetime | None = None
    expired_at: datetime | None = None
    expired_by: str | None = None

    @property
    def exists(self) -> bool:
        return self.created_at is not None

    def active_at(self, at: datetime) -> bool:
        if not self.exists or self.expired_at is not None:
            return False
        assert self.starts_at is not None
        assert self.ends_at is not None
        return self.starts_at <= at < self.ends_at

    def mutes(self, labels: Mapping[str, str], at: datetime) -> bool:
        return self.active_at(at) and matches_all(self.matchers, labels)


INITIAL = Silence()


def evolve(state: Silence, event: DomainEvent) -> Silence:
    match event:
        case SilenceCreated():
            return replace(
                state,
                silence_id=event.silence_id,
                matchers=tuple(event.matchers),
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                created_by=event.created_by,
                comment=event.comment,
                created_at=event.created_at,
            )
        case SilenceExpired():
            return replace(state, expired_at=event.expired_at, expired_by=event.expired_by)
    return state


def fold(events: Iterable[DomainEvent], state: Silence = INITIAL) -> Silence:
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: SilenceCommand, state: Silence) -> Sequence[DomainEvent]:
    match command:
        case CreateSilence():
            if state.exists:
                raise PreconditionFailedError(f"silence {command.silence_id} already exists")
            if not command.matchers:
                raise InvalidCommandError(
                    "matchers", "needs at least one matcher; a silence muting everything is refused"
                )
            if command.ends_at <= command.starts_at:
                raise InvalidCommandError("ends_at", "must be after starts_at")
            if command.ends_at <= command.at:
                raise InvalidCommandError("ends_at", "is in the past")
            if not command.created_by.strip():
                raise InvalidCommandError("created_by", "must not be blank")
            if not command.comment.strip():
                raise InvalidCommandError("comment", "must say why (e.g. the maintenance ticket)")
            if len(command.comment) > MAX_COMMENT:
                raise InvalidCommandError("comment", f"is longer than {MAX_COMMENT} characters")
            return [
                SilenceCreated(
                    silence_id=command.silence_id,
                    matchers=list(command.matchers),
                    starts_at=command.starts_at,
                    ends_at=command.ends_at,
                    created_by=command.created_by,
                    comment=command.comment,
                    created_at=command.at,
                )
            ]
        case ExpireSilence():
            if not state.exists:
                raise NotFoundError("no such silence")
            if state.expired_at is not None:
                return []
            if command.expired_by is None:
                assert state.ends_at is not None
                if command.at < state.ends_at:
                    return []
                return [
                    SilenceExpired(
                        silence_id=state.silence_id,
                        reason=ExpiryReason.ENDED,
                        expired_at=state.ends_at,
                    )
                ]
            return [
                SilenceExpired(
                    silence_id=state.silence_id,
                    reason=ExpiryReason.MANUAL,
                    expired_at=command.at,
                    expired_by=command.expired_by,
                )
            ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")
