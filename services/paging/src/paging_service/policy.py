"""The EscalationPolicy aggregate (stream `policy-<id>`), and urgency by severity.

Owns the definition of "whom to page, in which order, how long to wait": ordered levels,
each with one or more targets (users, schedules, teams) and a delay before the next
level, the whole policy repeated N more times if nobody acknowledges, and an optional
un-acknowledged timeout that re-triggers an acknowledged but unresolved incident.

Snapshot rule: a running escalation follows the policy *as it was when the incident
was declared*. The escalation copies `snapshot()` into its first event, so a later
revision (or deletion) of the policy changes only escalations started afterwards.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import Field

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from paging_service.common import EVENTS, Command, Ident, Name, Severity, Urgency, Value

STREAM_CATEGORY = "policy"
MAX_REPEAT = 9


def stream_for(policy_id: str) -> str:
    return f"{STREAM_CATEGORY}-{policy_id}"


class TargetKind(enum.StrEnum):
    USER = "user"
    SCHEDULE = "schedule"
    TEAM = "team"


class Target(Value):
    kind: TargetKind
    id: Ident

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Target:
        """`user:alice`, `schedule:primary`, `team:sre`."""
        kind, sep, ident = text.partition(":")
        if not sep:
            raise ValueError(f"{text!r} is not a target like user:alice or schedule:primary")
        return cls(kind=TargetKind(kind.strip()), id=ident.strip())


class Level(Value):
    targets: tuple[Target, ...] = Field(min_length=1, max_length=20)
    delay_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """How long to wait for an acknowledgement before the next level (or, after the
    last level, before the next pass)."""


class PolicySnapshot(Value):
    """The policy as it stood when an escalation started: all the escalation needs."""

    policy_id: str
    revision: int
    levels: tuple[Level, ...]
    repeat: int
    un_ack_timeout_minutes: int | None


@dataclass(frozen=True, slots=True)
class Step:
    """One planned escalation step: level `level` of pass `repeat`, `offset` minutes
    after the round began."""

    index: int
    level: int
    repeat: int
    offset_minutes: int


def plan(snapshot: PolicySnapshot) -> list[Step]:
    """Every step of one round, in order: each level of each pass (1 + repeat passes)."""
    steps: list[Step] = []
    offset = 0
    for repeat in range(snapshot.repeat + 1):
        for level_index, level in enumerate(snapshot.levels):
            steps.append(Step(len(steps), level_index, repeat, offset))
            offset += level.delay_minutes
    return steps


# ---------------------------------------------------------------------- events


@EVENTS.register
class PolicyCreated(DomainEvent):
    policy_id: str
    name: str
    levels: tuple[Level, ...]
    repeat: int
    un_ack_timeout_minutes: int | None
    created_at: datetime


@EVENTS.register
class PolicyRevised(DomainEvent):
    """The whole new definition; running escalations keep their snapshot."""

    name: str
    levels: tuple[Level, ...]
    repeat: int
    un_ack_timeout_minutes: int | None
    revised_at: datetime


# ---------------------------------------------------------------------- commands


class _Definition(Command):
    name: Name
    levels: tuple[Level, ...] = Field(min_length=1, max_length=20)
    repeat: int = Field(default=0, ge=0, le=MAX_REPEAT)
    """How many more times the whole policy runs if nobody acknowledges (0: once)."""
    un_ack_timeout_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    """After an acknowledgement, re-trigger the escalation if the incident is still open
    this long afterwards. None: never."""


class CreatePolicy(_Definition):
    policy_id: Ident


class RevisePolicy(_Definition):
    pass


PolicyCommand = CreatePolicy | RevisePolicy


# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Policy:
    created: bool = False
    policy_id: str = ""
    name: str = ""
    levels: tuple[Level, ...] = ()
    repeat: int = 0
    un_ack_timeout_minutes: int | None = None
    revision: int = 0
    """1 when created, +1 per revision."""

    def snapshot(self) -> PolicySnapshot:
        return PolicySnapshot(
            policy_id=self.policy_id,
            revision=self.revision,
            levels=self.levels,
            repeat=self.repeat,
            un_ack_timeout_minutes=self.un_ack_timeout_minutes,
        )

    @property
    def targets(self) -> tuple[Target, ...]:
        return tuple(dict.fromkeys(t for level in self.levels for t in level.targets))


INITIAL = Policy()


def evolve(state: Policy, event: DomainEvent) -> Policy:
    match event:
        case PolicyCreated():
            return Policy(
                True,
                event.policy_id,
                event.name,
                event.levels,
                event.repeat,
                event.un_ack_timeout_minutes,
                1,
            )
        case PolicyRevised():
            return Policy(
                True,
                state.policy_id,
                event.name,
                event.levels,
                event.repeat,
                event.un_ack_timeout_minutes,
                state.revision + 1,
            )
    return state


def fold(events: Iterable[DomainEvent], state: Policy = INITIAL) -> Policy:
    for event in events:
        state = evolve(state, event)
    return state


def _dedupe_targets(levels: Sequence[Level]) -> tuple[Level, ...]:
    return tuple(
        Level(targets=tuple(dict.fromkeys(level.targets)), delay_minutes=level.delay_minutes)
        for level in levels
    )


def decide(command: PolicyCommand, state: Policy) -> Sequence[DomainEvent]:
    levels = _dedupe_targets(command.levels)
    if isinstance(command, CreatePolicy):
        if state.created:
            raise PreconditionFailedError(f"policy {command.policy_id!r} already exists")
        return [
            PolicyCreated(
                policy_id=command.policy_id,
                name=command.name,
                levels=levels,
                repeat=command.repeat,
                un_ack_timeout_minutes=command.un_ack_timeout_minutes,
                created_at=command.at,
            )
        ]
    if not state.created:
        raise NotFoundError("no such policy")
    if isinstance(command, RevisePolicy):
        if (command.name, levels, command.repeat, command.un_ack_timeout_minutes) == (
            state.name,
            state.levels,
            state.repeat,
            state.un_ack_timeout_minutes,
        ):
            return []
        return [
            PolicyRevised(
                name=command.name,
                levels=levels,
                repeat=command.repeat,
                un_ack_timeout_minutes=command.un_ack_timeout_minutes,
                revised_at=command.at,
            )
        ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


# ---------------------------------------------------------------------- urgency

DEFAULT_URGENCY: Mapping[Severity, Urgency] = {
    Severity.P1: Urgency.HIGH,
    Severity.P2: Urgency.HIGH,
    Severity.P3: Urgency.LOW,
    Severity.P4: Urgency.LOW,
}


@dataclass(frozen=True, slots=True)
class UrgencyRules:
    """Severity -> urgency, with per-service exceptions (deployment configuration).

    The urgency an escalation used is recorded in its events, so replaying an old
    escalation never depends on today's configuration."""

    default: Mapping[Severity, Urgency] = field(default_factory=lambda: dict(DEFAULT_URGENCY))
    per_service: Mapping[str, Mapping[Severity, Urgency]] = field(default_factory=dict)

    def urgency(self, severity: Severity, service: str | None = None) -> Urgency:
        if service is not None and severity in self.per_service.get(service, {}):
            return self.per_service[service][severity]
        return self.default.get(severity, DEFAULT_URGENCY[severity])
