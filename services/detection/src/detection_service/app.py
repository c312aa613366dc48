"""The detection service's application layer: ingest, decide, append, and fire timers.

Owns the use cases every adapter (HTTP ingestion, nameko worker, a future gRPC API)
calls. It validates input through the pure format parsers, decides with the pure
aggregates, appends to detection's own streams with the version it read, and then
applies the policies that span aggregates: an alert that pages joins its group; a
group member that stops paging leaves it; an acknowledged member acknowledges its
group. Time comes from the injected clock only.

Concurrency and idempotency:
- commands run one at a time under a lock (one detection writer process; appends are
  also version-checked, so a second writer costs retries, never corruption);
- event ids derive from the stream, the version appended after and an input-derived
  cause (an Alertmanager alert's fingerprint+startsAt+status), so a retried delivery
  re-appends the same ids and the log drops them; most retries decide nothing anyway;
- cross-aggregate policies are re-derived from state (not from the new events), so if
  a crash falls between the alert's append and its group's, the next notification or
  `tick()` repairs the group.

Samples are kept in memory per series, not in the log: they are high-volume inputs,
not decisions, and the log records what they caused (pending, firing, resolved).
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.domain import DomainError, InvalidCommandError, NotFoundError
from contracts.events import DomainEvent
from detection_service import alert, group, heartbeat, integration, rule, silence
from detection_service.alert import Alert, AlertDetails, AlertStatus, SourceKind, Suppression
from detection_service.events import EVENTS
from detection_service.formats import alertmanager, pagerduty
from detection_service.formats.signal import Action, Signal, parse_time
from detection_service.labels import Matcher, canonical, check_labels
from detection_service.projections import FILTER as _FILTER
from detection_service.projections import DetectionReadModel, DueKind
from detection_service.routing import DetectionConfig, FiringAlert, group_key, inhibitor, route
from eventlog import ConcurrencyError, EventMetadata, EventStore, StreamState
from eventlog.clock import Clock

ID_NAMESPACE = uuid.UUID("2b7e54f0-7c1d-5a43-9e6b-d1f0a4c3b8e2")
"""Fixed forever: changing it would give retried deliveries new event ids."""
MAX_ATTEMPTS = 5
MAX_SAMPLES_PER_SERIES = 10_000
MAX_SAMPLES_PER_PUSH = 5_000
FUTURE_TOLERANCE = timedelta(minutes=5)
RULE_INTEGRATION = "rule"
HEARTBEAT_INTEGRATION = "heartbeat"


class InvalidPayloadError(InvalidCommandError):
    """Input that fails validation; `errors` lists every bad field (PagerDuty style)."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        field, _, problem = self.errors[0].partition(": ")
        super().__init__(field, problem or self.errors[0])


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


@dataclass(frozen=True, slots=True)
class TickReport:
    at: datetime
    event_types: tuple[str, ...]


class DetectionApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        config: DetectionConfig | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config or DetectionConfig()
        self.max_attempts = max_attempts
        self.model = DetectionReadModel()
        self._lock = threading.RLock()
        self._samples: dict[tuple[str, str], deque[rule.Sample]] = {}
        self._cleared_since: dict[str, datetime] = {}
        """When a firing rule alert's condition last became false (keep_firing_for);
        in memory like the samples it is computed from."""

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
            at=self.clock(),
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
        with self._lock:
            self._execute(
                stream, integration.decide, command, cause=f"create/{name}", actor=created_by
            )
            state, _ = self.model.state(stream)
        return CreatedIntegration(state, key)

    def revoke_integration(self, name: str, *, revoked_by: str) -> None:
        command = integration.RevokeIntegration(at=self.clock(), revoked_by=revoked_by)
        with self._lock:
            self._execute(
                integration.stream_for(name),
                integration.decide,
                command,
                cause="revoke",
                actor=revoked_by,
            )

    def authenticate(self, key: str | None) -> integration.Integration:
        """The active integration a key belongs to, or UnknownIntegrationError."""
        if not key:
            raise UnknownIntegrationError("no integration key was sent")
        with self._lock:
            self._catch_up()
            found = self.model.integration_by_digest.get(integration.key_digest(key))
            state: integration.Integration | None = None
            if found is not None:
                state, _ = self.model.state(integration.stream_for(found))
        if state is None:
            raise UnknownIntegrationError("unknown integration key")
        if not state.active:
            raise UnknownIntegrationError(f"integration {state.name!r} was revoked")
        return state

    # ------------------------------------------------------------------ ingestion

    def ingest_alertmanager(
        self, payload: Any, source: integration.Integration
    ) -> list[IngestResult]:
        """One Alertmanager webhook notification (version 4). Bad input appends nothing."""
        signals, errors = alertmanager.parse(payload)
        if errors:
            raise InvalidPayloadError(errors)
        with self._lock:
            return [self._ingest(s, source, SourceKind.ALERTMANAGER) for s in signals]

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
            signal = _with_dedup_key(signal, uuid.uuid4().hex)
        with self._lock:
            return self._ingest(signal, source, SourceKind.PAGERDUTY).dedup_key

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
        signal = event.signal
        signal = Signal(
            action=signal.action,
            dedup_key=signal.dedup_key or uuid.uuid4().hex,
            summary=signal.summary,
            severity=signal.severity,
            labels={**signal.labels, **extra_labels},
            annotations={**signal.annotations, **extra_annotations},
            started_at=signal.started_at,
            idempotency="grpc/" + signal.action.value,
        )
        with self._lock:
            return self._ingest(signal, source, SourceKind.GRPC)

    def _ingest(
        self, signal: Signal, source: integration.Integration, kind: SourceKind
    ) -> IngestResult:
        assert signal.dedup_key is not None
        at = self.clock()
        alert_id = alert.alert_id_for(source.integration_id, signal.dedup_key)
        stream = alert.stream_for(alert_id)
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
                suppression=self._suppression_for(details.labels, alert_id, at),
                auto_resolve_after=self.config.auto_resolve_for(kind),
                flapping=self.config.flap_policy,
            )
        elif signal.action is Action.RESOLVE:
            command = alert.Resolve(
                at=at, reason=alert.ResolveReason.SOURCE, flapping=self.config.flap_policy
            )
        else:
            command = alert.Acknowledge(at=at, acknowledged_by=source.name)
        events = self._execute(stream, alert.decide, command, cause=cause, actor=actor)
        events += self._sync_group(alert_id, at, actor)
        if signal.action is Action.ACKNOWLEDGE:
            events += self._acknowledge_group(alert_id, at, source.name, actor)
        return IngestResult(signal.dedup_key, alert_id, tuple(e.event_type() for e in events))

    # ------------------------------------------------------------------ silences

    def create_silence(
        self,
        matchers: Sequence[str | Matcher],
        *,
        ends_at: datetime,
        created_by: str,
        comment: str,
        starts_at: datetime | None = None,
        silence_id: str | None = None,
    ) -> silence.Silence:
        """`silence_id` lets a caller derive the id from an idempotency key, so a retried
        creation is refused as existing instead of muting twice."""
        at = self.clock()
        parsed: list[Matcher] = []
        for index, item in enumerate(matchers):
            try:
                parsed.append(item if isinstance(item, Matcher) else Matcher.parse(item))
            except ValueError as exc:
                raise InvalidCommandError(f"matchers[{index}]", str(exc)) from None
        silence_id = silence_id or str(uuid.uuid4())
        command = silence.CreateSilence(
            at=at,
            silence_id=silence_id,
            matchers=tuple(parsed),
            starts_at=starts_at or at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
        )
        stream = silence.stream_for(silence_id)
        with self._lock:
            self._execute(stream, silence.decide, command, cause="create", actor=created_by)
            state, _ = self.model.state(stream)
        return state  # type: ignore[no-any-return]

    def expire_silence(self, silence_id: str, *, expired_by: str) -> list[str]:
        """Expire a silence now; alerts it muted that still fire start paging."""
        with self._lock:
            self._catch_up()
            stream = silence.stream_for(_checked_id(silence_id, "silence_id"))
            if self.model.state(stream)[1] is None:
                raise NotFoundError(f"silence {silence_id} does not exist")
            at = self.clock()
            events = self._execute(
                stream,
                silence.decide,
                silence.ExpireSilence(at, expired_by),
                cause="expire",
                actor=expired_by,
            )
            events += self._review_suppressions(at)
            return [e.event_type() for e in events]

    # ------------------------------------------------------------------ heartbeats

    def create_heartbeat(
        self,
        name: str,
        *,
        interval: timedelta,
        grace: timedelta = timedelta(0),
        labels: Mapping[str, str] | None = None,
        created_by: str,
    ) -> heartbeat.HeartbeatMonitor:
        command = heartbeat.CreateMonitor(
            at=self.clock(),
            name=name,
            interval=interval,
            grace=grace,
            labels=dict(labels or {}),
            created_by=created_by,
        )
        if not heartbeat.NAME.match(name):
            raise InvalidCommandError(
                "name", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting alphanumeric"
            )
        stream = heartbeat.stream_for(name)
        with self._lock:
            self._execute(stream, heartbeat.decide, command, cause="create", actor=created_by)
            state, _ = self.model.state(stream)
        return state  # type: ignore[no-any-return]

    def ping_heartbeat(self, name: str) -> list[str]:
        """A check-in; if the monitor was missed, its alert resolves."""
        with self._lock:
            self._catch_up()
            stream = heartbeat.stream_for(_checked_id(name, "name"))
            state, version = self.model.state(stream)
            if version is None:
                raise NotFoundError(f"no heartbeat monitor named {name!r}")
            at = self.clock()
            events = self._execute(
                stream,
                heartbeat.decide,
                heartbeat.Ping(at),
                cause=f"ping/{at.isoformat()}",
                actor=f"heartbeat:{name}",
            )
            if state.missed:
                alert_id = alert.alert_id_for(HEARTBEAT_INTEGRATION, name)
                events += self._execute(
                    alert.stream_for(alert_id),
                    alert.decide,
                    alert.Resolve(
                        at, alert.ResolveReason.HEARTBEAT_RETURNED, self.config.flap_policy
                    ),
                    cause="heartbeat-returned",
                    actor=f"heartbeat:{name}",
                )
                events += self._sync_group(alert_id, at, f"heartbeat:{name}")
            return [e.event_type() for e in events]

    def _heartbeat_missed(self, name: str, at: datetime) -> list[DomainEvent]:
        stream = heartbeat.stream_for(name)
        events = self._execute(
            stream, heartbeat.decide, heartbeat.CheckDeadline(at), cause="deadline", actor="ticker"
        )
        if not events:
            return []
        state: heartbeat.HeartbeatMonitor = self.model.state(stream)[0]
        alert_id = alert.alert_id_for(HEARTBEAT_INTEGRATION, name)
        labels = {"alertname": "HeartbeatMissed", "heartbeat": name, **state.labels}
        details = AlertDetails(
            alert_id=alert_id,
            alert_key=name,
            integration=HEARTBEAT_INTEGRATION,
            source=SourceKind.HEARTBEAT,
            labels=labels,
            annotations={"interval_seconds": f"{state.interval.total_seconds():g}"},
            summary=f"heartbeat {name} missed: no ping since "
            + (state.last_ping_at.isoformat() if state.last_ping_at else "it was created"),
            severity=_severity_label(labels),
        )
        assert state.deadline is not None
        fire = alert.Fire(
            at=at,
            details=details,
            started_at=state.deadline,
            suppression=self._suppression_for(labels, alert_id, at),
            flapping=self.config.flap_policy,
        )
        events += self._execute(
            alert.stream_for(alert_id), alert.decide, fire, cause="heartbeat-missed", actor="ticker"
        )
        return events + self._sync_group(alert_id, at, "ticker")

    # ------------------------------------------------------------------ rules and samples

    def define_rule(self, spec: rule.RuleSpec, *, defined_by: str) -> bool:
        """Record a rule definition; False when the same definition is already active."""
        with self._lock:
            events = self._execute(
                rule.stream_for(spec.name),
                rule.decide,
                rule.DefineRule(self.clock(), spec, defined_by),
                cause="define",
                actor=defined_by,
            )
        return bool(events)

    def remove_rule(self, name: str, *, removed_by: str) -> None:
        with self._lock:
            self._execute(
                rule.stream_for(_checked_id(name, "name")),
                rule.decide,
                rule.RemoveRule(self.clock(), removed_by),
                cause="remove",
                actor=removed_by,
            )

    def load_rules(self, specs: Iterable[rule.RuleSpec], *, defined_by: str) -> int:
        """Define every rule of a validated file; returns how many changed."""
        return sum(self.define_rule(spec, defined_by=defined_by) for spec in specs)

    def push_samples(self, samples: Any) -> int:
        """Accept metric samples ([{name, labels, value, timestamp?}]); nothing is
        appended to the log. Bad input raises InvalidPayloadError listing every field."""
        now = self.clock()
        parsed = _parse_samples(samples, now)
        horizon = now - self._retention()
        with self._lock:
            for sample in parsed:
                key = (sample.name, canonical(sample.labels))
                series = self._samples.setdefault(key, deque(maxlen=MAX_SAMPLES_PER_SERIES))
                series.append(sample)
                while series and series[0].timestamp < horizon:
                    series.popleft()
        return len(parsed)

    def _retention(self) -> timedelta:
        windows = [r.spec.window for r in self.model.rules() if r.spec is not None]
        return max([timedelta(minutes=5), *windows])

    def _all_samples(self, horizon: datetime) -> list[rule.Sample]:
        found: list[rule.Sample] = []
        for series in self._samples.values():
            while series and series[0].timestamp < horizon:
                series.popleft()
            found.extend(series)
        return found

    def _evaluate_rules(self, at: datetime) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        samples = self._all_samples(at - self._retention())
        open_rule_alerts = {
            a.alert_id: a for a in self.model.alerts() if a.source is SourceKind.RULE and a.is_open
        }
        for state in list(self.model.rules()):
            spec = state.spec
            if not state.active or spec is None:
                continue
            seen: set[str] = set()
            for observation in rule.evaluate(spec, samples, at):
                key = observation.dedup_key(spec.name)
                alert_id = alert.alert_id_for(RULE_INTEGRATION, key)
                seen.add(alert_id)
                events += self._observe(spec, observation, key, alert_id, at)
            # Groups that vanished from the data count as no longer true.
            for alert_id, a in open_rule_alerts.items():
                if alert_id not in seen and a.labels.get("alertname") == spec.name:
                    events += self._condition_false(spec, alert_id, at)
        return events

    def _observe(
        self,
        spec: rule.RuleSpec,
        observation: rule.Observation,
        key: str,
        alert_id: str,
        at: datetime,
    ) -> list[DomainEvent]:
        if not observation.active:
            return self._condition_false(spec, alert_id, at)
        self._cleared_since.pop(alert_id, None)
        stream = alert.stream_for(alert_id)
        state: Alert = self.model.state(stream)[0]
        labels = {**observation.group_labels, **spec.labels, "alertname": spec.name}
        details = AlertDetails(
            alert_id=alert_id,
            alert_key=key,
            integration=RULE_INTEGRATION,
            source=SourceKind.RULE,
            labels=labels,
            annotations={**spec.annotations, "value": f"{observation.value:g}"},
            summary=spec.summary,
            severity=spec.severity,
        )
        events: list[DomainEvent] = []
        if state.status is AlertStatus.FIRING:
            return events
        if state.status is not AlertStatus.PENDING:
            events += self._execute(
                stream,
                alert.decide,
                alert.MarkPending(at, details),
                cause="rule-pending",
                actor=f"rule:{spec.name}",
            )
            state = self.model.state(stream)[0]
        assert state.pending_at is not None
        if at - state.pending_at >= spec.for_:
            fire = alert.Fire(
                at=at,
                details=details,
                started_at=state.pending_at,
                suppression=self._suppression_for(labels, alert_id, at),
                flapping=self.config.flap_policy,
            )
            events += self._execute(
                stream, alert.decide, fire, cause="rule-firing", actor=f"rule:{spec.name}"
            )
            events += self._sync_group(alert_id, at, f"rule:{spec.name}")
        return events

    def _condition_false(
        self, spec: rule.RuleSpec, alert_id: str, at: datetime
    ) -> list[DomainEvent]:
        stream = alert.stream_for(alert_id)
        state: Alert = self.model.state(stream)[0]
        if not state.is_open:
            return []
        if state.status is AlertStatus.FIRING:
            since = self._cleared_since.setdefault(alert_id, at)
            if at - since < spec.keep_firing_for:
                return []  # damping: a brief dip does not resolve (and re-page)
        self._cleared_since.pop(alert_id, None)
        events = self._execute(
            stream,
            alert.decide,
            alert.Resolve(at, alert.ResolveReason.RULE, self.config.flap_policy),
            cause="rule-resolved",
            actor=f"rule:{spec.name}",
        )
        return events + self._sync_group(alert_id, at, f"rule:{spec.name}")

    # ------------------------------------------------------------------ timers

    def tick(self) -> TickReport:
        """Fire everything due now: silence ends, heartbeat deadlines, rule `for`
        durations, auto-resolves and flapping ends. Safe to call as often as you
        like and from one place only (the HTTP process's ticker): each timer is
        decided from recorded state, so it fires once."""
        with self._lock:
            self._catch_up()
            at = self.clock()
            events: list[DomainEvent] = []
            for item in self.model.due(at):
                match item.kind:
                    case DueKind.SILENCE:
                        events += self._execute(
                            silence.stream_for(item.key),
                            silence.decide,
                            silence.ExpireSilence(at, None),
                            cause="ended",
                            actor="ticker",
                        )
                    case DueKind.HEARTBEAT:
                        events += self._heartbeat_missed(item.key, at)
                    case DueKind.ALERT:
                        events += self._execute(
                            alert.stream_for(item.key),
                            alert.decide,
                            alert.CheckTimers(at, self.config.flap_policy),
                            cause=f"timer/{at.isoformat()}",
                            actor="ticker",
                        )
                        events += self._sync_group(item.key, at, "ticker")
            events += self._evaluate_rules(at)
            events += self._review_suppressions(at)
            return TickReport(at, tuple(e.event_type() for e in events))

    # ------------------------------------------------------------------ policies

    def _suppression_for(
        self, labels: Mapping[str, str], alert_id: str, at: datetime
    ) -> Suppression | None:
        for s in self.model.silences():
            if s.mutes(labels, at):
                return Suppression(
                    reason=f"silence {s.silence_id} by {s.created_by}: {s.comment}",
                    suppressed_by=f"silence:{s.silence_id}",
                )
        if not self.config.inhibit_rules:
            return None
        firing = (
            FiringAlert(a.alert_id, a.alert_key, a.labels)
            for a in self.model.alerts()
            if a.status is AlertStatus.FIRING and not a.suppressed_by
        )
        source = inhibitor(self.config, labels, firing, target_id=alert_id)
        if source is None:
            return None
        return Suppression(
            reason=f"inhibited by {source.labels.get('alertname', source.alert_key)} "
            f"{canonical(source.labels)}",
            suppressed_by=f"alert:{source.alert_id}",
        )

    def _review_suppressions(self, at: datetime) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for a in list(self.model.alerts()):
            if a.status is not AlertStatus.FIRING:
                continue
            still = self._suppression_for(a.labels, a.alert_id, at)
            if (still.suppressed_by if still else None) == a.suppressed_by:
                continue
            events += self._execute(
                alert.stream_for(a.alert_id),
                alert.decide,
                alert.ReviewSuppression(at, still),
                cause=f"review/{at.isoformat()}",
                actor="ticker",
            )
            events += self._sync_group(a.alert_id, at, "ticker")
        return events

    def _sync_group(self, alert_id: str, at: datetime, actor: str) -> list[DomainEvent]:
        """Make group membership agree with the alert: paging alerts are members."""
        state: Alert = self.model.state(alert.stream_for(alert_id))[0]
        current = self.model.group_of_alert.get(alert_id)
        if state.pages and current is None:
            key, group_labels = group_key(self.config, state.labels)
            group_id = self.model.open_group_by_key.get(key)
            if group_id is not None:
                existing: group.AlertGroup = self.model.state(group.stream_for(group_id))[0]
                last = existing.last_joined_at or existing.opened_at
                if last is None or at - last > self.config.group_window:
                    group_id = None
            if group_id is None:
                group_id = group.group_id_for(key, at)
            command = group.AddAlert(
                at=at,
                group_id=group_id,
                group_key=key,
                group_labels=group_labels,
                routed=route(
                    self.config,
                    state.labels,
                    state.severity,
                    state.summary,
                    source=state.source,
                    annotations=state.annotations,
                ),
                alert_id=alert_id,
                alert_key=state.alert_key,
                summary=state.summary,
                labels=state.labels,
                severity=state.severity.value,
                fired_at=state.fired_at or at,
            )
            return self._execute(
                group.stream_for(group_id),
                group.decide,
                command,
                cause=f"add/{alert_id}/{state.occurrence}",
                actor=actor,
                correlation=group_id,
            )
        if not state.pages and current is not None:
            reason = (
                "resolved"
                if state.status is not AlertStatus.FIRING
                else "flapping"
                if state.flapping
                else f"suppressed: {state.suppression_reason}"
            )
            return self._execute(
                group.stream_for(current),
                group.decide,
                group.RemoveAlert(at, alert_id, reason),
                cause=f"remove/{alert_id}/{state.occurrence}",
                actor=actor,
                correlation=current,
            )
        return []

    def _acknowledge_group(
        self, alert_id: str, at: datetime, by: str, actor: str
    ) -> list[DomainEvent]:
        current = self.model.group_of_alert.get(alert_id)
        if current is None:
            return []
        return self._execute(
            group.stream_for(current),
            group.decide,
            group.AcknowledgeAlert(at, alert_id, by),
            cause=f"ack/{alert_id}",
            actor=actor,
            correlation=current,
        )

    # ------------------------------------------------------------------ plumbing

    def _catch_up(self) -> None:
        for recorded in self.store.read_all(from_position=self.model.position + 1, filter=_FILTER):
            self.model.apply(recorded)

    def _execute(
        self,
        stream: str,
        decide: Any,
        command: Any,
        *,
        cause: str,
        actor: str,
        correlation: str | None = None,
    ) -> list[DomainEvent]:
        """Load (from the caught-up model), decide, append with the version read."""
        for attempt in range(1, self.max_attempts + 1):
            self._catch_up()
            state, version = self.model.state(stream)
            events: list[DomainEvent] = list(decide(command, state))
            if not events:
                return []
            metadata = EventMetadata(
                correlation_id=correlation or stream.split("-", 1)[1],
                causation_id=cause[:200],
                actor=actor,
            )
            base = -1 if version is None else version
            new_events = [
                EVENTS.to_new_event(
                    event,
                    event_id=uuid.uuid5(ID_NAMESPACE, f"{stream}@{base}/{index}/{cause}"),
                    metadata=metadata,
                )
                for index, event in enumerate(events)
            ]
            try:
                self.store.append(
                    stream, new_events, StreamState.NO_STREAM if version is None else version
                )
            except ConcurrencyError:
                if attempt == self.max_attempts:
                    raise
                continue
            self._catch_up()
            return events
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ queries

    def list_alerts(self, *, status: str | None = None) -> list[Alert]:
        with self._lock:
            self._catch_up()
            found = [a for a in self.model.alerts() if status is None or a.status.value == status]
        return sorted(found, key=lambda a: (a.fired_at or a.pending_at or _EPOCH, a.alert_id))

    def get_alert(self, alert_id: str) -> Alert:
        with self._lock:
            self._catch_up()
            state, version = self.model.state(alert.stream_for(_checked_id(alert_id, "alert_id")))
        if version is None:
            raise NotFoundError(f"alert {alert_id} does not exist")
        return state  # type: ignore[no-any-return]

    def find_alert(self, integration_id: str, dedup_key: str) -> Alert:
        return self.get_alert(alert.alert_id_for(integration_id, dedup_key))

    def list_groups(self, *, open_only: bool = False) -> list[group.AlertGroup]:
        with self._lock:
            self._catch_up()
            found = [g for g in self.model.groups() if g.is_open or not open_only]
        return sorted(found, key=lambda g: (g.opened_at or _EPOCH, g.group_id))

    def get_group(self, group_id: str) -> group.AlertGroup:
        with self._lock:
            self._catch_up()
            state, version = self.model.state(group.stream_for(_checked_id(group_id, "group_id")))
        if version is None:
            raise NotFoundError(f"alert group {group_id} does not exist")
        return state  # type: ignore[no-any-return]

    def group_of(self, alert_id: str) -> str | None:
        with self._lock:
            self._catch_up()
            return self.model.group_of_alert.get(alert_id)

    def list_silences(self, *, active_only: bool = False) -> list[silence.Silence]:
        with self._lock:
            self._catch_up()
            at = self.clock()
            found = [s for s in self.model.silences() if s.active_at(at) or not active_only]
        return sorted(found, key=lambda s: (s.created_at or _EPOCH, s.silence_id))

    def list_rules(self) -> list[rule.RuleSpec]:
        with self._lock:
            self._catch_up()
            specs = [r.spec for r in self.model.rules() if r.active and r.spec is not None]
        return sorted(specs, key=lambda spec: spec.name)

    def list_heartbeats(self) -> list[heartbeat.HeartbeatMonitor]:
        with self._lock:
            self._catch_up()
            return sorted(self.model.heartbeats(), key=lambda h: h.name)

    def list_integrations(self) -> list[integration.Integration]:
        with self._lock:
            self._catch_up()
            return sorted(self.model.integrations(), key=lambda i: i.name)


# ---------------------------------------------------------------------- helpers

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _with_dedup_key(signal: Signal, dedup_key: str) -> Signal:
    return Signal(
        action=signal.action,
        dedup_key=dedup_key,
        summary=signal.summary,
        severity=signal.severity,
        labels=signal.labels,
        annotations=signal.annotations,
        started_at=signal.started_at,
        idempotency=signal.idempotency,
    )


def _checked_labels(labels: Mapping[str, str] | None, field: str) -> dict[str, str]:
    try:
        return check_labels(labels or {})
    except ValueError as exc:
        raise InvalidCommandError(field, str(exc)) from None


def _checked_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(
        r"[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,150}", value
    ):
        raise InvalidCommandError(field, f"{str(value)[:64]!r} is not a valid id")
    return value


def _severity_label(labels: Mapping[str, str]) -> alert.SourceSeverity:
    return alertmanager.SEVERITY_LABEL_VALUES.get(
        labels.get("severity", "").lower(), alert.SourceSeverity.ERROR
    )


def _parse_samples(body: Any, now: datetime) -> list[rule.Sample]:
    """`{"samples": [...]}` or a bare list → samples; InvalidPayloadError otherwise."""
    items = body.get("samples") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise InvalidPayloadError(["samples: must be a non-empty list"])
    if len(items) > MAX_SAMPLES_PER_PUSH:
        raise InvalidPayloadError([f"samples: at most {MAX_SAMPLES_PER_PUSH} per request"])
    errors: list[str] = []
    samples: list[rule.Sample] = []
    for index, raw in enumerate(items):
        where = f"samples[{index}]"
        if not isinstance(raw, dict):
            errors.append(f"{where}: must be an object")
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not _METRIC.fullmatch(name):
            errors.append(f"{where}.name: must match [a-zA-Z_:][a-zA-Z0-9_:]*")
        labels_raw = raw.get("labels", {})
        labels: dict[str, str] = {}
        if not isinstance(labels_raw, dict):
            errors.append(f"{where}.labels: must be an object of strings")
        else:
            try:
                labels = check_labels(labels_raw)
            except ValueError as exc:
                errors.append(f"{where}.labels: {exc}")
        value = raw.get("value")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            errors.append(f"{where}.value: must be a number")
        timestamp = now
        if raw.get("timestamp") is not None:
            parsed = parse_time(raw["timestamp"], f"{where}.timestamp", errors)
            if parsed is not None:
                if parsed > now + FUTURE_TOLERANCE:
                    errors.append(f"{where}.timestamp: is more than 5 minutes in the future")
                timestamp = parsed
        if not errors and isinstance(name, str) and isinstance(value, int | float):
            samples.append(rule.Sample(name, labels, float(value), timestamp))
    if errors:
        raise InvalidPayloadError(errors)
    return samples


_METRIC = re.compile(rule.METRIC_NAME[1:-1])
