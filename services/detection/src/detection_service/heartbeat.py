"""The HeartbeatMonitor aggregate (`heartbeat-<name>`): a dead-man's switch.

Pure. A monitor expects a ping every `interval`; `grace` later than that it is missed
and the application raises an alert (source `heartbeat`); the next ping resolves it.

Every ping is recorded (`HeartbeatPinged`): the deadline is a durable timer, so it must
be rebuilt from the log after a restart, and "the backup job checked in at 02:00" is
worth keeping for an audit. Pings come once per interval (minutes, typically), so the
cost is one small event per interval per monitor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from detection_service.labels import Labels, label_problem
from detection_service.registry import EVENTS

STREAM_CATEGORY = "heartbeat"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MIN_INTERVAL = timedelta(seconds=1)


def stream_for(name: str) -> str:
    return f"{STREAM_CATEGORY}-{name}"


@EVENTS.register
class HeartbeatMonitorCreated(DomainEvent):
    name: str
    interval_seconds: float
    grace_seconds: float
    labels: Labels
    created_by: str
    created_at: datetime


@EVENTS.register
class HeartbeatPinged(DomainEvent):
    pinged_at: datetime
    deadline: datetime
    """When the monitor counts as missed unless pinged again."""


@EVENTS.register
class HeartbeatMissed(DomainEvent):
    deadline: datetime
    missed_at: datetime


@dataclass(frozen=True, slots=True)
class CreateMonitor:
    at: datetime
    name: str
    interval: timedelta
    grace: timedelta
    labels: Labels
    created_by: str


@dataclass(frozen=True, slots=True)
class Ping:
    at: datetime


@dataclass(frozen=True, slots=True)
class CheckDeadline:
    at: datetime


HeartbeatCommand = CreateMonitor | Ping | CheckDeadline


@dataclass(frozen=True, slots=True)
class HeartbeatMonitor:
    name: str = ""
    interval: timedelta = timedelta(0)
    grace: timedelta = timedelta(0)
    labels: Labels = field(default_factory=dict)
    created_at: datetime | None = None
    last_ping_at: datetime | None = None
    deadline: datetime | None = None
    missed: bool = False

    @property
    def exists(self) -> bool:
        return self.created_at is not None


INITIAL = HeartbeatMonitor()


def evolve(state: HeartbeatMonitor, event: DomainEvent) -> HeartbeatMonitor:
    match event:
        case HeartbeatMonitorCreated():
            interval = timedelta(seconds=event.interval_seconds)
            grace = timedelta(seconds=event.grace_seconds)
            return replace(
                state,
                name=event.name,
                interval=interval,
                grace=grace,
                labels=dict(event.labels),
                created_at=event.created_at,
                # A new monitor gives its job one interval (plus grace) to check in.
                deadline=event.created_at + interval + grace,
            )
        case HeartbeatPinged():
            return replace(
                state, last_ping_at=event.pinged_at, deadline=event.deadline, missed=False
            )
        case HeartbeatMissed():
            return replace(state, missed=True)
    return state


def fold(events: Iterable[DomainEvent], state: HeartbeatMonitor = INITIAL) -> HeartbeatMonitor:
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: HeartbeatCommand, state: HeartbeatMonitor) -> Sequence[DomainEvent]:
    match command:
        case CreateMonitor():
            if state.exists:
                raise PreconditionFailedError(f"heartbeat monitor {command.name!r} already exists")
            if not NAME.match(command.name):
                raise InvalidCommandError(
                    "name", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting alphanumeric"
                )
            if command.interval < MIN_INTERVAL:
                raise InvalidCommandError("interval", "must be at least 1 second")
            for name, value in command.labels.items():
                problem = label_problem(name, value)
                if problem:
                    raise InvalidCommandError("labels", problem)
            return [
                HeartbeatMonitorCreated(
                    name=command.name,
                    interval_seconds=command.interval.total_seconds(),
                    grace_seconds=command.grace.total_seconds(),
                    labels=command.labels,
                    created_by=command.created_by,
                    created_at=command.at,
                )
            ]
        case Ping():
            if not state.exists:
                raise NotFoundError(f"no heartbeat monitor named {state.name or 'that'}")
            return [
                HeartbeatPinged(
                    pinged_at=command.at, deadline=command.at + state.interval + state.grace
                )
            ]
        case CheckDeadline():
            if not state.exists or state.missed or state.deadline is None:
                return []
            if command.at < state.deadline:
                return []
            return [HeartbeatMissed(deadline=state.deadline, missed_at=command.at)]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")
