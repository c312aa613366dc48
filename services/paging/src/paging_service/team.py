"""The Team aggregate (stream `team-<id>`): a named group of users, optionally with the
schedule that says which member is on call.

Owns team membership only. A team as an escalation target means "whoever is on call in
the team's schedule", or every member when it has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import Field

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from paging_service.common import EVENTS, Command, Ident, Name

STREAM_CATEGORY = "team"


def stream_for(team_id: str) -> str:
    return f"{STREAM_CATEGORY}-{team_id}"


@EVENTS.register
class TeamCreated(DomainEvent):
    team_id: str
    name: str
    members: tuple[str, ...]
    schedule_id: str | None
    created_at: datetime


@EVENTS.register
class TeamChanged(DomainEvent):
    """The team's whole definition after the change (simple to fold, simple to audit)."""

    name: str
    members: tuple[str, ...]
    schedule_id: str | None
    changed_at: datetime


class CreateTeam(Command):
    team_id: Ident
    name: Name
    members: tuple[Ident, ...] = Field(min_length=1, max_length=500)
    schedule_id: Ident | None = None


class ChangeTeam(Command):
    name: Name
    members: tuple[Ident, ...] = Field(min_length=1, max_length=500)
    schedule_id: Ident | None = None


TeamCommand = CreateTeam | ChangeTeam


@dataclass(frozen=True, slots=True)
class Team:
    created: bool = False
    team_id: str = ""
    name: str = ""
    members: tuple[str, ...] = ()
    schedule_id: str | None = None


INITIAL = Team()


def evolve(state: Team, event: DomainEvent) -> Team:
    match event:
        case TeamCreated():
            return Team(True, event.team_id, event.name, event.members, event.schedule_id)
        case TeamChanged():
            return replace(
                state, name=event.name, members=event.members, schedule_id=event.schedule_id
            )
    return state


def fold(events: Iterable[DomainEvent], state: Team = INITIAL) -> Team:
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: TeamCommand, state: Team) -> Sequence[DomainEvent]:
    members = tuple(dict.fromkeys(command.members))
    if isinstance(command, CreateTeam):
        if state.created:
            raise PreconditionFailedError(f"team {command.team_id!r} already exists")
        return [
            TeamCreated(
                team_id=command.team_id,
                name=command.name,
                members=members,
                schedule_id=command.schedule_id,
                created_at=command.at,
            )
        ]
    if not state.created:
        raise NotFoundError("no such team")
    if isinstance(command, ChangeTeam):
        if (command.name, members, command.schedule_id) == (
            state.name,
            state.members,
            state.schedule_id,
        ):
            return []
        return [
            TeamChanged(
                name=command.name,
                members=members,
                schedule_id=command.schedule_id,
                changed_at=command.at,
            )
        ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")
