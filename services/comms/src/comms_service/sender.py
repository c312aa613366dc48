"""A sender slot (stream `commssender-<slot>`): which process instance sends for it.

Owns one fact: "instance I now sends for slot S" (CommsSenderStarted). Attempts record
their sender slot and instance; once a slot has a newer instance, every unanswered
attempt of an older one will never report, so it is resent at once, labelled as a
possible repeat (ADR 0011, ADR 0015). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from comms_service.common import EVENTS, Command
from contracts.events import DomainEvent

STREAM_CATEGORY = "commssender"


def stream_for(slot: str) -> str:
    return f"{STREAM_CATEGORY}-{slot}"


@EVENTS.register
class CommsSenderStarted(DomainEvent):
    sender: str
    instance: str
    previous_instance: str | None
    started_at: datetime


class StartSender(Command):
    sender: str
    instance: str


@dataclass(frozen=True, slots=True)
class Slot:
    instance: str | None = None


INITIAL = Slot()


def evolve(state: Slot, event: DomainEvent) -> Slot:
    if isinstance(event, CommsSenderStarted):
        return Slot(event.instance)
    return state


def decide(command: StartSender, state: Slot) -> Sequence[DomainEvent]:
    if state.instance == command.instance:
        return []
    return [
        CommsSenderStarted(
            sender=command.sender,
            instance=command.instance,
            previous_instance=state.instance,
            started_at=command.at,
        )
    ]
