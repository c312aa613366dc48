"""The status page (stream `statuspage-<page id>`, one page: `statuspage-main`): its
identity, component groups, components and their statuses.

Owns the catalogue the public and internal pages show and which statuses a component
may have (the Statuspage v2 enum: operational, degraded_performance, partial_outage,
major_outage, under_maintenance). Status changes caused by a status-page incident are
recorded on that incident (status_incident.py); changes made directly are recorded here.
Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import Field

from comms_service.common import EVENTS, Command, Ident, Name, ShortText, Url
from contracts.domain import InvalidCommandError, NotFoundError
from contracts.events import DomainEvent

STREAM_CATEGORY = "statuspage"
PAGE_STREAM = f"{STREAM_CATEGORY}-main"


class ComponentStatus(enum.StrEnum):
    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


SEVERITY_ORDER = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}

# ---------------------------------------------------------------------- events


@EVENTS.register
class StatusPageConfigured(DomainEvent):
    name: str
    url: str
    time_zone: str
    configured_at: datetime


@EVENTS.register
class ComponentGroupAdded(DomainEvent):
    group_id: str
    name: str
    description: str
    position: int
    added_at: datetime


@EVENTS.register
class ComponentAdded(DomainEvent):
    component_id: str
    name: str
    description: str
    group_id: str | None
    position: int
    showcase: bool
    only_show_if_degraded: bool
    added_at: datetime


@EVENTS.register
class ComponentStatusChanged(DomainEvent):
    component_id: str
    old_status: ComponentStatus
    new_status: ComponentStatus
    changed_by: str
    changed_at: datetime


# ---------------------------------------------------------------------- commands


class ConfigurePage(Command):
    name: Name
    url: Url
    time_zone: str = "UTC"


class AddGroup(Command):
    group_id: Ident
    name: Name
    description: ShortText = ""


class AddComponent(Command):
    component_id: Ident
    name: Name
    description: ShortText = ""
    group_id: Ident | None = None
    showcase: bool = True
    only_show_if_degraded: bool = False


class SetComponentStatus(Command):
    component_id: Ident
    status: ComponentStatus
    changed_by: str = Field(min_length=1, max_length=100)
    current: ComponentStatus | None = None
    """The component's effective status, as the application reads it: a status-page
    incident's update may have set it since this stream last did (those changes are
    recorded on the incident). None: this stream's own."""


PageCommand = ConfigurePage | AddGroup | AddComponent | SetComponentStatus

# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Component:
    component_id: str
    name: str
    description: str
    group_id: str | None
    position: int
    showcase: bool
    only_show_if_degraded: bool
    created_at: datetime
    status: ComponentStatus = ComponentStatus.OPERATIONAL
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Group:
    group_id: str
    name: str
    description: str
    position: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    name: str = "Status"
    url: str = "http://127.0.0.1:8090"
    time_zone: str = "UTC"
    updated_at: datetime | None = None
    groups: Mapping[str, Group] = field(default_factory=dict)
    components: Mapping[str, Component] = field(default_factory=dict)


INITIAL = Page()


def evolve(state: Page, event: DomainEvent) -> Page:
    match event:
        case StatusPageConfigured():
            return replace(
                state,
                name=event.name,
                url=event.url,
                time_zone=event.time_zone,
                updated_at=event.configured_at,
            )
        case ComponentGroupAdded():
            group = Group(
                event.group_id, event.name, event.description, event.position, event.added_at
            )
            return replace(
                state, groups={**state.groups, event.group_id: group}, updated_at=event.added_at
            )
        case ComponentAdded():
            component = Component(
                event.component_id,
                event.name,
                event.description,
                event.group_id,
                event.position,
                event.showcase,
                event.only_show_if_degraded,
                event.added_at,
                updated_at=event.added_at,
            )
            return replace(
                state,
                components={**state.components, event.component_id: component},
                updated_at=event.added_at,
            )
        case ComponentStatusChanged():
            current = state.components.get(event.component_id)
            if current is None:
                return state
            changed = replace(current, status=event.new_status, updated_at=event.changed_at)
            return replace(
                state,
                components={**state.components, event.component_id: changed},
                updated_at=event.changed_at,
            )
    return state


def decide(command: PageCommand, state: Page) -> Sequence[DomainEvent]:
    if isinstance(command, ConfigurePage):
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(command.time_zone)
        except (ValueError, KeyError, OSError):
            raise InvalidCommandError(
                "time_zone", f"{command.time_zone!r} is not an IANA zone"
            ) from None
        if (command.name, command.url, command.time_zone) == (
            state.name,
            state.url,
            state.time_zone,
        ):
            return []
        return [
            StatusPageConfigured(
                name=command.name,
                url=command.url,
                time_zone=command.time_zone,
                configured_at=command.at,
            )
        ]
    if isinstance(command, AddGroup):
        if command.group_id in state.groups:
            existing = state.groups[command.group_id]
            if existing.name == command.name:
                return []
            raise InvalidCommandError("group_id", f"{command.group_id!r} already exists")
        if command.group_id in state.components:
            raise InvalidCommandError("group_id", "a component already has this id")
        return [
            ComponentGroupAdded(
                group_id=command.group_id,
                name=command.name,
                description=command.description,
                position=len(state.groups) + len(state.components) + 1,
                added_at=command.at,
            )
        ]
    if isinstance(command, AddComponent):
        if command.component_id in state.components:
            if state.components[command.component_id].name == command.name:
                return []
            raise InvalidCommandError("component_id", f"{command.component_id!r} already exists")
        if command.component_id in state.groups:
            raise InvalidCommandError("component_id", "a group already has this id")
        if command.group_id is not None and command.group_id not in state.groups:
            raise InvalidCommandError("group_id", f"no component group {command.group_id!r}")
        return [
            ComponentAdded(
                component_id=command.component_id,
                name=command.name,
                description=command.description,
                group_id=command.group_id,
                position=len(state.groups) + len(state.components) + 1,
                showcase=command.showcase,
                only_show_if_degraded=command.only_show_if_degraded,
                added_at=command.at,
            )
        ]
    if isinstance(command, SetComponentStatus):
        component = state.components.get(command.component_id)
        if component is None:
            raise InvalidCommandError("component_id", f"no component {command.component_id!r}")
        current = command.current or component.status
        if current is command.status:
            return []
        return [
            ComponentStatusChanged(
                component_id=command.component_id,
                old_status=current,
                new_status=command.status,
                changed_by=command.changed_by,
                changed_at=command.at,
            )
        ]
    raise NotFoundError(f"unknown command {type(command).__name__}")  # pragma: no cover
