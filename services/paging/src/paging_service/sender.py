"""The Sender aggregate (stream `sender-<slot>`): which process instance currently
delivers pages for one paging worker slot.

Owns the fencing fact that lets a restarted worker resend its predecessor's pages
within seconds instead of waiting for their outcome deadline (ADR 0011). A *slot* is
a stable name for one running paging worker (`FIREWATCH_PAGING_SENDER`, by default the
host name; a Kubernetes StatefulSet pod name): at most one process runs per slot. Each
process start records SenderStarted with a fresh instance id; every attempt records
the slot and instance that sends it. An attempt recorded by an instance that is no
longer its slot's current one will never report an outcome, because that process is
gone.

Pure: commands carry `at`; this module reads no clock and no store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from contracts.domain import InvalidCommandError
from contracts.events import DomainEvent
from paging_service.common import EVENTS, Command

STREAM_CATEGORY = "sender"
_SLOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,99}$")


def slot_name(value: str) -> str:
    """A valid slot (it becomes part of a stream name); InvalidCommandError otherwise."""
    if not _SLOT.match(value):
        raise InvalidCommandError(
            "sender",
            f"{value!r} is not a valid sender slot: 1-100 letters, digits or ._:@+=- "
            "(e.g. the host or pod name)",
        )
    return value


def stream_for(slot: str) -> str:
    return f"{STREAM_CATEGORY}-{slot_name(slot)}"


@EVENTS.register
class SenderStarted(DomainEvent):
    """A paging worker process took over its slot; earlier instances are gone."""

    sender: str
    instance: str
    previous_instance: str | None
    started_at: datetime


class StartSender(Command):
    sender: str
    instance: str = Field(min_length=1, max_length=100)


@dataclass(frozen=True, slots=True)
class Sender:
    instance: str | None = None
    started_at: datetime | None = None


INITIAL = Sender()


def evolve(state: Sender, event: DomainEvent) -> Sender:
    if isinstance(event, SenderStarted):
        return Sender(event.instance, event.started_at)
    return state


def fold(events: Iterable[DomainEvent], state: Sender = INITIAL) -> Sender:
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: StartSender, state: Sender) -> Sequence[DomainEvent]:
    slot_name(command.sender)
    if state.instance == command.instance:
        return []  # a retried start of the same process
    return [
        SenderStarted(
            sender=command.sender,
            instance=command.instance,
            previous_instance=state.instance,
            started_at=command.at,
        )
    ]
