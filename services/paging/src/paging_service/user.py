"""The User aggregate (stream `user-<id>`): a responder's time zone, contact methods,
notification rules and business hours.

Owns what it takes to reach one person: validated addresses (email syntax, http(s)
webhook URLs), the order and delay in which methods are used, and when that person's
working day is. It never sends anything and never reads a clock.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from paging_service.common import (
    EVENTS,
    Command,
    Ident,
    Name,
    TimeWindow,
    TimeZoneName,
    Value,
    next_open,
    zone,
)

STREAM_CATEGORY = "user"


def stream_for(user_id: str) -> str:
    return f"{STREAM_CATEGORY}-{user_id}"


class ContactKind(enum.StrEnum):
    EMAIL = "email"
    """SMTP email to `address`."""
    WEBHOOK = "webhook"
    """A generic JSON POST to an http(s) URL."""
    SLACK = "slack"
    """A Slack-compatible incoming-webhook URL (`{"text": ...}` payload)."""


# Deliberately a syntax check only (RFC 5322 "dot-atom" local part, a dotted domain):
# deliverability is proven by delivering, and a DNS lookup has no place in a pure domain.
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def check_address(kind: ContactKind, address: str) -> str:
    """The address if it suits `kind`; ValueError saying why not."""
    if kind is ContactKind.EMAIL:
        if len(address) > 254 or not _EMAIL.match(address):
            raise ValueError(f"{address!r} is not a valid email address")
        return address
    parts = urlsplit(address)
    if parts.scheme not in {"http", "https"}:
        raise ValueError(f"{address!r} is not an http(s) URL")
    if not parts.hostname:
        raise ValueError(f"{address!r} has no host")
    if any(c.isspace() for c in address):
        raise ValueError(f"{address!r} contains whitespace")
    return address


class ContactMethod(Value):
    method_id: Ident
    kind: ContactKind
    address: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _address_fits_kind(self) -> ContactMethod:
        check_address(self.kind, self.address)
        return self


class NotificationRule(Value):
    """Use `method_id` once a page has gone unacknowledged for `after_minutes`."""

    method_id: Ident
    after_minutes: int = Field(ge=0, le=24 * 60)


DEFAULT_BUSINESS_HOURS = (TimeWindow(),)
"""Weekdays 09:00-17:00 in the user's own zone."""

# ---------------------------------------------------------------------- events


@EVENTS.register
class UserRegistered(DomainEvent):
    user_id: str
    name: str
    time_zone: str
    registered_at: datetime


@EVENTS.register
class UserTimeZoneChanged(DomainEvent):
    time_zone: str
    changed_at: datetime


@EVENTS.register
class ContactMethodAdded(DomainEvent):
    method: ContactMethod
    added_at: datetime


@EVENTS.register
class ContactMethodRemoved(DomainEvent):
    method_id: str
    removed_at: datetime


@EVENTS.register
class NotificationRulesSet(DomainEvent):
    rules: tuple[NotificationRule, ...]
    set_at: datetime


@EVENTS.register
class BusinessHoursSet(DomainEvent):
    windows: tuple[TimeWindow, ...]
    set_at: datetime


# ---------------------------------------------------------------------- commands


class RegisterUser(Command):
    user_id: Ident
    name: Name
    time_zone: TimeZoneName
    contact_methods: tuple[ContactMethod, ...] = Field(default=(), max_length=20)
    notification_rules: tuple[NotificationRule, ...] | None = None
    """None: every contact method, in the order given, at minute 0."""
    business_hours: tuple[TimeWindow, ...] | None = None


class ChangeTimeZone(Command):
    time_zone: TimeZoneName


class AddContactMethod(Command):
    method: ContactMethod


class RemoveContactMethod(Command):
    method_id: Ident


class SetNotificationRules(Command):
    rules: tuple[NotificationRule, ...] = Field(min_length=1, max_length=50)


class SetBusinessHours(Command):
    windows: tuple[TimeWindow, ...] = Field(min_length=1, max_length=14)


UserCommand = (
    RegisterUser
    | ChangeTimeZone
    | AddContactMethod
    | RemoveContactMethod
    | SetNotificationRules
    | SetBusinessHours
)

# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class User:
    registered: bool = False
    user_id: str = ""
    name: str = ""
    time_zone: str = "UTC"
    contact_methods: tuple[ContactMethod, ...] = ()
    rules: tuple[NotificationRule, ...] | None = None
    business_hours: tuple[TimeWindow, ...] = DEFAULT_BUSINESS_HOURS

    def method(self, method_id: str) -> ContactMethod | None:
        return next((m for m in self.contact_methods if m.method_id == method_id), None)

    @property
    def effective_rules(self) -> tuple[NotificationRule, ...]:
        """The rules in force: explicit ones, else every method at once, in order."""
        if self.rules is not None:
            return tuple(sorted(self.rules, key=lambda r: r.after_minutes))
        return tuple(
            NotificationRule(method_id=m.method_id, after_minutes=0) for m in self.contact_methods
        )

    def next_business_start(self, at: datetime) -> datetime | None:
        """The first instant >= `at` within this user's business hours."""
        return next_open(self.business_hours, zone(self.time_zone), at)


INITIAL = User()


def evolve(state: User, event: DomainEvent) -> User:
    match event:
        case UserRegistered():
            return replace(
                state,
                registered=True,
                user_id=event.user_id,
                name=event.name,
                time_zone=event.time_zone,
            )
        case UserTimeZoneChanged():
            return replace(state, time_zone=event.time_zone)
        case ContactMethodAdded():
            return replace(state, contact_methods=(*state.contact_methods, event.method))
        case ContactMethodRemoved():
            # A rule about a method that no longer exists could never be honoured.
            rules = (
                None
                if state.rules is None
                else tuple(r for r in state.rules if r.method_id != event.method_id)
            )
            methods = tuple(m for m in state.contact_methods if m.method_id != event.method_id)
            return replace(state, contact_methods=methods, rules=rules)
        case NotificationRulesSet():
            return replace(state, rules=event.rules)
        case BusinessHoursSet():
            return replace(state, business_hours=event.windows)
    return state


def fold(events: Iterable[DomainEvent], state: User = INITIAL) -> User:
    for event in events:
        state = evolve(state, event)
    return state


# ---------------------------------------------------------------------- decider


def _check_rules(
    rules: Sequence[NotificationRule], methods: Sequence[ContactMethod], field: str
) -> None:
    known = {m.method_id for m in methods}
    for index, rule in enumerate(rules):
        if rule.method_id not in known:
            raise InvalidCommandError(
                f"{field}.{index}.method_id",
                f"{rule.method_id!r} is not one of this user's contact methods "
                f"({', '.join(sorted(known)) or 'none'})",
            )


def _check_unique_methods(methods: Sequence[ContactMethod]) -> None:
    seen: set[str] = set()
    for index, method in enumerate(methods):
        if method.method_id in seen:
            raise InvalidCommandError(
                f"contact_methods.{index}.method_id", f"{method.method_id!r} is used twice"
            )
        seen.add(method.method_id)


def decide(command: UserCommand, state: User) -> Sequence[DomainEvent]:
    if isinstance(command, RegisterUser):
        if state.registered:
            raise PreconditionFailedError(f"user {command.user_id!r} already exists")
        _check_unique_methods(command.contact_methods)
        events: list[DomainEvent] = [
            UserRegistered(
                user_id=command.user_id,
                name=command.name,
                time_zone=command.time_zone,
                registered_at=command.at,
            )
        ]
        events += [
            ContactMethodAdded(method=m, added_at=command.at) for m in command.contact_methods
        ]
        if command.notification_rules is not None:
            _check_rules(command.notification_rules, command.contact_methods, "notification_rules")
            events.append(NotificationRulesSet(rules=command.notification_rules, set_at=command.at))
        if command.business_hours is not None:
            events.append(BusinessHoursSet(windows=command.business_hours, set_at=command.at))
        return events
    if not state.registered:
        raise NotFoundError("no such user")
    match command:
        case ChangeTimeZone():
            if command.time_zone == state.time_zone:
                return []
            return [UserTimeZoneChanged(time_zone=command.time_zone, changed_at=command.at)]
        case AddContactMethod():
            if state.method(command.method.method_id) is not None:
                raise InvalidCommandError(
                    "method.method_id", f"{command.method.method_id!r} already exists"
                )
            return [ContactMethodAdded(method=command.method, added_at=command.at)]
        case RemoveContactMethod():
            if state.method(command.method_id) is None:
                raise NotFoundError(
                    f"user {state.user_id!r} has no contact method {command.method_id!r}"
                )
            return [ContactMethodRemoved(method_id=command.method_id, removed_at=command.at)]
        case SetNotificationRules():
            _check_rules(command.rules, state.contact_methods, "rules")
            return [NotificationRulesSet(rules=command.rules, set_at=command.at)]
        case SetBusinessHours():
            return [BusinessHoursSet(windows=command.windows, set_at=command.at)]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")
