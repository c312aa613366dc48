"""The platform's own alerting rules: their definitions, the metric samples pushed to
them, and evaluating them into pending, firing and resolved alerts.

Owns the rule use cases and the in-memory state they compute from: samples per series
(high-volume inputs, not decisions; the log records what they caused: pending, firing,
resolved, ADR 0008) and `keep_firing_for` damping. Both are lost on restart, which can
only delay a firing, never invent one. The ticker calls `evaluate(at)`.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from contracts.events import DomainEvent
from detection_service import alert, rule
from detection_service.aggregates import ALERT, RULE
from detection_service.alert import Alert, AlertDetails, AlertStatus, SourceKind
from detection_service.core import Core, InvalidPayloadError, checked_id
from detection_service.formats.signal import parse_time
from detection_service.labels import canonical, check_labels
from detection_service.policies import Policies

MAX_SAMPLES_PER_SERIES = 10_000
MAX_SAMPLES_PER_PUSH = 5_000
FUTURE_TOLERANCE = timedelta(minutes=5)
RULE_INTEGRATION = "rule"


class RuleEvaluation:
    def __init__(self, core: Core, policies: Policies) -> None:
        self.core = core
        self.policies = policies
        self._samples: dict[tuple[str, str], deque[rule.Sample]] = {}
        self._cleared_since: dict[str, datetime] = {}
        """When a firing rule alert's condition last became false (keep_firing_for);
        in memory like the samples it is computed from."""
        self.annotators: list[Callable[[Mapping[str, str]], dict[str, str]]] = []
        """Extra annotations for a rule alert from its labels: a synthetic check's
        failing step and response excerpt (checks.py) ride on the rule's alert."""

    # ------------------------------------------------------------------ definitions

    def define_rule(self, spec: rule.RuleSpec, *, defined_by: str) -> bool:
        """Record a rule definition; False when the same definition is already active."""
        with self.core.lock:
            defined = self.core.run(
                RULE,
                rule.stream_for(spec.name),
                rule.DefineRule(self.core.clock(), spec, defined_by),
                cause="define",
                actor=defined_by,
            )
        return defined.appended

    def remove_rule(self, name: str, *, removed_by: str) -> None:
        with self.core.lock:
            self.core.run(
                RULE,
                rule.stream_for(checked_id(name, "name")),
                rule.RemoveRule(self.core.clock(), removed_by),
                cause="remove",
                actor=removed_by,
            )

    def resolve_open_alerts(self, spec: rule.RuleSpec, at: datetime) -> list[DomainEvent]:
        """Resolve every open alert of a rule that is going away (a removed synthetic
        check, whose rule has no `keep_firing_for`): nothing will evaluate it again."""
        with self.core.lock:
            open_ids = [
                a.alert_id
                for a in self.core.caught_up().alerts()
                if a.source is SourceKind.RULE
                and a.is_open
                and a.labels.get("alertname") == spec.name
            ]
            events: list[DomainEvent] = []
            for alert_id in open_ids:
                events += self._condition_false(spec, alert_id, at)
            return events

    def load_rules(self, specs: Iterable[rule.RuleSpec], *, defined_by: str) -> int:
        """Define every rule of a validated file; returns how many changed."""
        return sum(self.define_rule(spec, defined_by=defined_by) for spec in specs)

    # ------------------------------------------------------------------ samples

    def push_samples(self, samples: Any) -> int:
        """Accept metric samples ([{name, labels, value, timestamp?}]); nothing is
        appended to the log. Bad input raises InvalidPayloadError listing every field."""
        now = self.core.clock()
        parsed = _parse_samples(samples, now)
        horizon = now - self._retention()
        with self.core.lock:
            for sample in parsed:
                key = (sample.name, canonical(sample.labels))
                series = self._samples.setdefault(key, deque(maxlen=MAX_SAMPLES_PER_SERIES))
                series.append(sample)
                while series and series[0].timestamp < horizon:
                    series.popleft()
        return len(parsed)

    def _retention(self) -> timedelta:
        windows = [r.spec.window for r in self.core.model.rules() if r.spec is not None]
        return max([timedelta(minutes=5), *windows])

    def _all_samples(self, horizon: datetime) -> list[rule.Sample]:
        found: list[rule.Sample] = []
        for series in self._samples.values():
            while series and series[0].timestamp < horizon:
                series.popleft()
            found.extend(series)
        return found

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, at: datetime) -> list[DomainEvent]:
        """Every active rule over the samples in its window, at `at` (the ticker's)."""
        events: list[DomainEvent] = []
        samples = self._all_samples(at - self._retention())
        open_rule_alerts = {
            a.alert_id: a
            for a in self.core.model.alerts()
            if a.source is SourceKind.RULE and a.is_open
        }
        for state in list(self.core.model.rules()):
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
        state: Alert = self.core.model.state(stream)[0]
        labels = {**observation.group_labels, **spec.labels, "alertname": spec.name}
        extra: dict[str, str] = {}
        for annotator in self.annotators:
            extra.update(annotator(labels))
        details = AlertDetails(
            alert_id=alert_id,
            alert_key=key,
            integration=RULE_INTEGRATION,
            source=SourceKind.RULE,
            labels=labels,
            annotations={**spec.annotations, **extra, "value": f"{observation.value:g}"},
            summary=spec.summary,
            severity=spec.severity,
        )
        events: list[DomainEvent] = []
        if state.status is AlertStatus.FIRING:
            return events
        actor = f"rule:{spec.name}"
        if state.status is not AlertStatus.PENDING:
            pending = alert.MarkPending(at, details)
            events += self.core.run(
                ALERT, stream, pending, cause="rule-pending", actor=actor
            ).events
            state = self.core.model.state(stream)[0]
        assert state.pending_at is not None
        if at - state.pending_at >= spec.for_:
            fire = alert.Fire(
                at=at,
                details=details,
                started_at=state.pending_at,
                suppression=self.policies.suppression_for(labels, alert_id, at),
                flapping=self.core.config.flap_policy,
            )
            events += self.core.run(ALERT, stream, fire, cause="rule-firing", actor=actor).events
            events += self.policies.sync_group(alert_id, at, actor)
        return events

    def _condition_false(
        self, spec: rule.RuleSpec, alert_id: str, at: datetime
    ) -> list[DomainEvent]:
        stream = alert.stream_for(alert_id)
        state: Alert = self.core.model.state(stream)[0]
        if not state.is_open:
            return []
        if state.status is AlertStatus.FIRING:
            since = self._cleared_since.setdefault(alert_id, at)
            if at - since < spec.keep_firing_for:
                return []  # damping: a brief dip does not resolve (and re-page)
        self._cleared_since.pop(alert_id, None)
        actor = f"rule:{spec.name}"
        resolve = alert.Resolve(at, alert.ResolveReason.RULE, self.core.config.flap_policy)
        events = list(
            self.core.run(ALERT, stream, resolve, cause="rule-resolved", actor=actor).events
        )
        return events + self.policies.sync_group(alert_id, at, actor)


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
