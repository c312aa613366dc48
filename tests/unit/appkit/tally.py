"""A tiny aggregate for the kit's tests: a tally that can be added to and closed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from appkit import Aggregate
from contracts.domain import InvalidCommandError, PreconditionFailedError
from contracts.events import DomainEvent, EventRegistry

EVENTS = EventRegistry("kit-tests")
CATEGORY = "tally"


@EVENTS.register
class TallyAdded(DomainEvent):
    amount: int
    total: int
    added_at: datetime


@EVENTS.register
class TallyClosed(DomainEvent):
    closed_at: datetime


@dataclass(frozen=True)
class Add:
    at: datetime
    amount: int


@dataclass(frozen=True)
class Close:
    at: datetime


@dataclass(frozen=True)
class Tally:
    total: int = 0
    closed: bool = False
    adds: int = 0


INITIAL = Tally()


def decide(command: Add | Close, state: Tally) -> Sequence[DomainEvent]:
    if state.closed:
        raise PreconditionFailedError("the tally is closed")
    if isinstance(command, Close):
        return [TallyClosed(closed_at=command.at)]
    if command.amount < 0:
        raise InvalidCommandError("amount", "must not be negative")
    if command.amount == 0:
        return []
    return [
        TallyAdded(amount=command.amount, total=state.total + command.amount, added_at=command.at)
    ]


def evolve(state: Tally, event: DomainEvent) -> Tally:
    match event:
        case TallyAdded():
            return replace(state, total=event.total, adds=state.adds + 1)
        case TallyClosed():
            return replace(state, closed=True)
    return state


TALLY = Aggregate(CATEGORY, INITIAL, decide, evolve)


def stream_for(name: str) -> str:
    return f"{CATEGORY}-{name}"
