"""Alerts arriving from outside: integrations (who may send) and the three ingestion
paths (Alertmanager webhook v4, PagerDuty Events v2, the gRPC AlertService).

Owns turning a parsed signal into an alert command (trigger, acknowledge, resolve)
with the integration's default labels, the routing config's auto-resolve and flapping
policy and any suppression in force, then keeping the alert's group in step. Input is
validated by the pure format parsers first, so bad input appends nothing, and each
request's alerts and their groups are appended in one transaction (the kit's unit of
work, ADR 0024) where the log allows it. It never parses HTTP or protobuf itself.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.domain import DomainError, InvalidCommandError
from detection_service import alert, integration
from detection_service.aggregates import ALERT, INTEGRATION
from detection_service.alert import AlertDetails, SourceKind
from detection_service.core import Core, InvalidPayloadError
from detection_service.formats import alertmanager, pagerduty
from detection_service.formats.signal import Action, Signal
from detection_service.labels import check_labels
from detection_service.policies import Policies


class UnknownIntegrationError(DomainError):
    """An unknown or revoked integration key."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    dedup_key: str
    alert_id: str
    event_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CreatedIntegration:
    integration: integration.Integration
    key: str
    """Shown once; only its SHA-256 is recorded."""


class Ingestion:
    def __init__(self, core: Core, policies: Policies) -> None:
        self.core = core
        self.policies = policies

    # ------------------------------------------------------------------ integrations

    def create_integration(
        self,
        name: str,
        kind: str,
        *,
        created_by: str,
        default_labels: Mapping[str, str] | None = None,
    ) -> CreatedIntegration:
        try:
            kind_value = integration.IntegrationKind(kind)
        except ValueError:
            raise InvalidCommandError(
                "kind", f"must be one of {', '.join(k.value for k in integration.IntegrationKind)}"
            ) from None
        # 32 characters, like a PagerDuty routing key, so PD clients accept it as one.
        key = secrets.token_hex(16)
        command = integration.CreateIntegration(
            at=self.core.clock(),
            integration_id=name,
            name=name,
            kind=kind_value,
            key_sha256=integration.key_digest(key),
            default_labels=dict(default_labels or {}),
            created_by=created_by,
        )
        if not integration.NAME.match(name):
            raise InvalidCommandError(
                "name", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting alphanumeric"
            )
        stream = integration.stream_for(name)
        with self.core.lock:
            self.core.run(INTEGRATION, stream, command, cause=f"create/{name}", actor=created_by)
            state, _ = self.core.model.state(stream)
        return CreatedIntegration(state, key)

    def revoke_integration(self, name: str, *, revoked_by: str) -> None:
        command = integration.RevokeIntegration(at=self.core.clock(), revoked_by=revoked_by)
        with self.core.lock:
            self.core.run(
                INTEGRATION,
                integration.stream_for(name),
                command,
                cause="revoke",
                actor=revoked_by,
            )

    def authenticate(self, key: str | None) -> integration.Integration:
        """The active integration a key belongs to, or UnknownIntegrationError."""
        if not key:
            raise UnknownIntegrationError("no integration key was sent")
        with self.core.lock:
            model = self.core.caught_up()
            found = model.integration_by_digest.get(integration.key_digest(key))
            state: integration.Integration | None = None
            if found is not None:
                state, _ = model.state(integration.stream_for(found))
        if state is None:
            raise UnknownIntegrationError("unknown integration key")
        if not state.active:
            raise UnknownIntegrationError(f"integration {state.name!r} was revoked")
        return state

    # ------------------------------------------------------------------ alerts

    def ingest_alertmanager(
        self, payload: Any, source: integration.Integration
    ) -> list[IngestResult]:
        """One Alertmanager webhook notification (version 4). Bad input appends nothing."""
        signals, errors = alertmanager.parse(payload)
        if errors:
            raise InvalidPayloadError(errors)
        with self.core.lock:
            # One transaction for the whole notification: every alert and group it
            # touches, or nothing (ADR 0024).
            return self.core.atomically(
                lambda: [self._ingest(s, source, SourceKind.ALERTMANAGER) for s in signals]
            )

    def ingest_pagerduty(self, payload: Any, source: integration.Integration | None = None) -> str:
        """One PagerDuty Events v2 request; returns its dedup_key (made up when a
        trigger has none). With `source` None the routing_key authenticates."""
        event, errors = pagerduty.parse(payload)
        if errors or event is None:
            raise InvalidPayloadError(errors or ["body: invalid event"])
        if source is None:
            source = self.authenticate(event.routing_key)
        signal = event.signal
        if signal.dedup_key is None:
            signal = replace(signal, dedup_key=uuid.uuid4().hex)
        with self.core.lock:
            return self.core.atomically(
                lambda: self._ingest(signal, source, SourceKind.PAGERDUTY)
            ).dedup_key

    def send_alert(
        self,
        source: integration.Integration,
        *,
        action: str = "trigger",
        dedup_key: str | None = None,
        summary: str = "",
        severity: str = "error",
        origin: str = "api",
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        started_at: datetime | None = None,
    ) -> IngestResult:
        """The gRPC AlertService path: PagerDuty semantics, typed arguments."""
        body: dict[str, Any] = {"routing_key": "-", "event_action": action}
        if dedup_key is not None:
            body["dedup_key"] = dedup_key
        if action == "trigger":
            body["payload"] = {"summary": summary, "source": origin, "severity": severity}
            if started_at is not None:
                body["payload"]["timestamp"] = started_at.isoformat()
        event, errors = pagerduty.parse(body)
        extra_labels = _checked_labels(labels, "labels")
        extra_annotations = dict(annotations or {})
        if errors or event is None:
            raise InvalidPayloadError(errors or ["body: invalid alert"])
        signal = replace(
            event.signal,
            dedup_key=event.signal.dedup_key or uuid.uuid4().hex,
            labels={**event.signal.labels, **extra_labels},
            annotations={**event.signal.annotations, **extra_annotations},
            idempotency="grpc/" + event.signal.action.value,
        )
        with self.core.lock:
            return self.core.atomically(lambda: self._ingest(signal, source, SourceKind.GRPC))

    def _ingest(
        self, signal: Signal, source: integration.Integration, kind: SourceKind
    ) -> IngestResult:
        assert signal.dedup_key is not None
        at = self.core.clock()
        config = self.core.config
        alert_id = alert.alert_id_for(source.integration_id, signal.dedup_key)
        cause = f"{kind.value}/{signal.idempotency}"
        actor = f"integration:{source.name}"
        if signal.action is Action.TRIGGER:
            details = AlertDetails(
                alert_id=alert_id,
                alert_key=signal.dedup_key,
                integration=source.integration_id,
                source=kind,
                labels={**source.default_labels, **signal.labels},
                annotations=dict(signal.annotations),
                summary=signal.summary,
                severity=signal.severity,
            )
            command: alert.AlertCommand = alert.Fire(
                at=at,
                details=details,
                started_at=signal.started_at or at,
                suppression=self.policies.suppression_for(details.labels, alert_id, at),
                auto_resolve_after=config.auto_resolve_for(kind),
                flapping=config.flap_policy,
            )
        elif signal.action is Action.RESOLVE:
            command = alert.Resolve(
                at=at, reason=alert.ResolveReason.SOURCE, flapping=config.flap_policy
            )
        else:
            command = alert.Acknowledge(at=at, acknowledged_by=source.name)
        stream = alert.stream_for(alert_id)
        events = list(self.core.run(ALERT, stream, command, cause=cause, actor=actor).events)
        events += self.policies.sync_group(alert_id, at, actor)
        if signal.action is Action.ACKNOWLEDGE:
            events += self.policies.acknowledge_group(alert_id, at, source.name, actor)
        return IngestResult(signal.dedup_key, alert_id, tuple(e.event_type() for e in events))


def _checked_labels(labels: Mapping[str, str] | None, field: str) -> dict[str, str]:
    try:
        return check_labels(labels or {})
    except ValueError as exc:
        raise InvalidCommandError(field, str(exc)) from None
