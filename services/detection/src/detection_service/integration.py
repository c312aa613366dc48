"""The Integration aggregate (`integration-<id>`): a credential a tool sends alerts with.

Pure. Only the SHA-256 of the key is recorded, never the key: the log is replicated
and read by auditors. A PagerDuty `routing_key`, or the bearer token Alertmanager sends
(webhook_configs http_config.authorization.credentials), is hashed and looked up;
an unknown or revoked key is refused.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from contracts.events import DomainEvent
from detection_service.labels import Labels, label_problem
from detection_service.registry import EVENTS

STREAM_CATEGORY = "integration"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class IntegrationKind(enum.StrEnum):
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    API = "api"


def stream_for(integration_id: str) -> str:
    return f"{STREAM_CATEGORY}-{integration_id}"


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@EVENTS.register
class IntegrationCreated(DomainEvent):
    integration_id: str
    name: str
    kind: IntegrationKind
    key_sha256: str
    default_labels: Labels
    created_by: str
    created_at: datetime


@EVENTS.register
class IntegrationRevoked(DomainEvent):
    integration_id: str
    revoked_by: str
    revoked_at: datetime


@dataclass(frozen=True, slots=True)
class CreateIntegration:
    at: datetime
    integration_id: str
    name: str
    kind: IntegrationKind
    key_sha256: str
    default_labels: Labels
    created_by: str


@dataclass(frozen=True, slots=True)
class RevokeIntegration:
    at: datetime
    revoked_by: str


IntegrationCommand = CreateIntegration | RevokeIntegration


@dataclass(frozen=True, slots=True)
class Integration:
    integration_id: str = ""
    name: str = ""
    kind: IntegrationKind = IntegrationKind.API
    key_sha256: str = ""
    default_labels: Labels = field(default_factory=dict)
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.created_at is not None

    @property
    def active(self) -> bool:
        return self.exists and self.revoked_at is None


INITIAL = Integration()


def evolve(state: Integration, event: DomainEvent) -> Integration:
    match event:
        case IntegrationCreated():
            return replace(
                state,
                integration_id=event.integration_id,
                name=event.name,
                kind=event.kind,
                key_sha256=event.key_sha256,
                default_labels=dict(event.default_labels),
                created_at=event.created_at,
            )
        case IntegrationRevoked():
            return replace(state, revoked_at=event.revoked_at)
    return state


def fold(events: Iterable[DomainEvent], state: Integration = INITIAL) -> Integration:
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: IntegrationCommand, state: Integration) -> Sequence[DomainEvent]:
    match command:
        case CreateIntegration():
            if state.exists:
                raise PreconditionFailedError(f"integration {command.name!r} already exists")
            if not NAME.match(command.name):
                raise InvalidCommandError(
                    "name", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting alphanumeric"
                )
            for name, value in command.default_labels.items():
                problem = label_problem(name, value)
                if problem:
                    raise InvalidCommandError("default_labels", problem)
            return [
                IntegrationCreated(
                    integration_id=command.integration_id,
                    name=command.name,
                    kind=command.kind,
                    key_sha256=command.key_sha256,
                    default_labels=command.default_labels,
                    created_by=command.created_by,
                    created_at=command.at,
                )
            ]
        case RevokeIntegration():
            if not state.exists:
                raise NotFoundError("no such integration")
            if state.revoked_at is not None:
                return []
            return [
                IntegrationRevoked(
                    integration_id=state.integration_id,
                    revoked_by=command.revoked_by,
                    revoked_at=command.at,
                )
            ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")
