"""Synthetic checks as use cases: defining them, recording each probe's result, and
answering "how has it been doing?".

Owns the path from a probe to an alert (ADR 0021): every result becomes samples
(`firewatch_check_up`, `firewatch_check_latency_seconds`, `firewatch_check_steps_reached`)
pushed into the SAME rule engine as metrics, and each check owns a threshold rule
(`synthetic:<name>`: last `firewatch_check_up` < 1, `for` as defined) that the ticker
evaluates like any other, so pending/firing/resolved, grouping, silences and the
incident come from the one existing path. The failing step, its detail and the
response excerpt reach the alert's annotations through `annotations_for`.

Also owns the bounded record: an in-memory ring of results per check (recent
per-probe detail, lost on restart), a `CheckStatusChanged` event only when the outcome
changes and a `CheckSummaryRecorded` per summary period (flushed on a clean stop); the
durable time series is a fold of those events (`history`, `contracts.checkseries`,
ADR 0026). Scheduling and threads are not here
(`synthetics.py`); this module never opens a socket except through `probes.run_probe`.
"""

from __future__ import annotations

import contextlib
import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contracts import checkseries
from contracts.domain import NotFoundError
from contracts.events import DomainEvent
from detection_service import check, rule
from detection_service.aggregates import CHECK
from detection_service.check import Check, CheckSpec, Outcome
from detection_service.core import Core, checked_id
from detection_service.evaluation import RuleEvaluation
from detection_service.probes import ProbeResult, run_probe

RING_SIZE = 1_000
"""Results kept per check: 2.7 hours at 10 s, 16 hours at a minute."""
SUMMARY_PERIOD = timedelta(hours=1)
RULE_PREFIX = "synthetic:"
UP_METRIC = "firewatch_check_up"
LATENCY_METRIC = "firewatch_check_latency_seconds"
STEPS_METRIC = "firewatch_check_steps_reached"


def rule_name(check_name: str) -> str:
    return f"{RULE_PREFIX}{check_name}"


def rule_for(spec: CheckSpec) -> rule.RuleSpec:
    """The threshold rule a check owns: its last `up` sample below 1 for `for`. The
    window covers three intervals, so one missed run (a checker error records no `up`)
    neither resolves nor fires anything."""
    return rule.RuleSpec.model_validate(
        {
            "name": rule_name(spec.name),
            "kind": "threshold",
            "series": {"name": UP_METRIC, "labels": {"check": spec.name}},
            "aggregation": "last",
            "window": max(3 * spec.interval, 30.0),
            "comparison": "<",
            "threshold": 1,
            "for": spec.for_,
            "severity": spec.severity,
            "labels": {**spec.labels, "check": spec.name, "source": "synthetic"},
            "annotations": {"summary": f"synthetic check {spec.name} failing"},
            "group_by": ["check"],
        }
    )


@dataclass(frozen=True, slots=True)
class CheckView:
    """A check as listed: its definition, recorded status and latest result."""

    state: Check
    last: ProbeResult | None


@dataclass(slots=True)
class _Period:
    """One summary period's runs so far (since the writer started, after a restart)."""

    runs: int = 0
    up: int = 0
    down: int = 0
    checker_errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, result: ProbeResult) -> None:
        self.runs += 1
        self.up += result.outcome is Outcome.UP
        self.down += result.outcome is Outcome.DOWN
        self.checker_errors += result.outcome is Outcome.CHECKER_ERROR
        self.latencies.append(result.total_ms)

    def summary(self, start: datetime, end: datetime) -> check.RecordSummary:
        return check.RecordSummary(
            period_start=start,
            period_end=end,
            runs=self.runs,
            up=self.up,
            down=self.down,
            checker_errors=self.checker_errors,
            latency_p50_ms=round(statistics.median(self.latencies), 3),
            latency_max_ms=round(max(self.latencies), 3),
        )


class Checks:
    def __init__(
        self,
        core: Core,
        rules: RuleEvaluation,
        *,
        summary_period: timedelta = SUMMARY_PERIOD,
    ) -> None:
        self.core = core
        self.rules = rules
        self.summary_period = summary_period
        self._rings: dict[str, deque[ProbeResult]] = {}
        self._periods: dict[str, _Period] = {}
        rules.annotators.append(self.annotations_for)

    # ------------------------------------------------------------------ definitions

    def define_check(
        self, raw: Mapping[str, Any] | CheckSpec, *, defined_by: str
    ) -> tuple[CheckSpec, bool]:
        """Validate and record a definition (and its rule); False when unchanged.
        A bad definition raises InvalidCommandError naming the field; nothing appended."""
        spec = raw if isinstance(raw, CheckSpec) else check.parse_spec(dict(raw))
        with self.core.lock:
            self.core.caught_up()
            result = self.core.run(
                CHECK,
                check.stream_for(spec.name),
                check.DefineCheck(self.core.clock(), spec, defined_by),
                cause="define",
                actor=defined_by,
            )
            # Idempotent: also repairs a crash between the check's append and the rule's.
            self.rules.define_rule(rule_for(spec), defined_by=f"check:{spec.name}")
        return spec, result.appended

    def remove_check(self, name: str, *, removed_by: str) -> None:
        with self.core.lock:
            stream = check.stream_for(checked_id(name, "name"))
            if self.core.caught_up().state(stream)[1] is None:
                raise NotFoundError(f"no check named {name!r}")
            self.core.run(
                CHECK,
                stream,
                check.RemoveCheck(self.core.clock(), removed_by),
                cause="remove",
                actor=removed_by,
            )
            state: Check = self.core.model.state(stream)[0]
            if state.spec is not None:
                # Its alert would otherwise stay open: no rule evaluates it any more.
                self.rules.resolve_open_alerts(rule_for(state.spec), self.core.clock())
            with contextlib.suppress(NotFoundError):  # the rule was removed by hand
                self.rules.remove_rule(rule_name(name), removed_by=f"check:{name}")
            self._rings.pop(name, None)
            self._periods.pop(name, None)

    def active_specs(self, *, wait: bool = True) -> list[CheckSpec] | None:
        """The active checks' specs. `wait=False`: None instead of waiting while the
        writer's lock is held (a tick or an ingest), for a caller that has a recent list
        and must not be late for it (the scheduler)."""
        if not self.core.lock.acquire(blocking=wait):
            return None
        try:
            checks = list(self.core.caught_up().checks())
        finally:
            self.core.lock.release()
        return [c.spec for c in checks if c.active and c.spec is not None]

    def get(self, name: str) -> Check:
        stream = check.stream_for(checked_id(name, "name"))
        with self.core.lock:
            state: Check = self.core.caught_up().state(stream)[0]
        if not state.exists:
            raise NotFoundError(f"no check named {name!r}")
        return state

    def list_checks(self) -> list[CheckView]:
        with self.core.lock:
            checks = sorted(self.core.caught_up().checks(), key=lambda c: c.name)
        return [CheckView(c, self.latest(c.name)) for c in checks if c.active]

    # ------------------------------------------------------------------ probing

    def run_once(
        self, name: str, at: datetime | None = None, *, record: bool = True
    ) -> ProbeResult:
        """Probe a check now (on the calling thread) and, on the writer, record it."""
        spec = self.get(name).spec
        assert spec is not None
        result = run_probe(spec, at or self.core.clock())
        if record:
            self.record(result)
        return result

    def record(self, result: ProbeResult) -> list[DomainEvent]:
        """A probe's result: samples for the rule engine, the ring, and an event only
        if the outcome changed (or a summary period ended)."""
        samples: list[dict[str, Any]] = []
        labels = {"check": result.check}
        stamp = result.at.isoformat()
        if result.outcome is not Outcome.CHECKER_ERROR:
            # A checker error says nothing about the target: no `up` sample at all.
            samples.append(
                {
                    "name": UP_METRIC,
                    "labels": labels,
                    "value": 1.0 if result.outcome is Outcome.UP else 0.0,
                    "timestamp": stamp,
                }
            )
            samples.append(
                {
                    "name": LATENCY_METRIC,
                    "labels": labels,
                    "value": result.total_ms / 1000.0,
                    "timestamp": stamp,
                }
            )
        samples.append(
            {
                "name": STEPS_METRIC,
                "labels": labels,
                "value": float(result.steps_reached),
                "timestamp": stamp,
            }
        )
        self.rules.push_samples(samples)
        with self.core.lock:
            stream = check.stream_for(result.check)
            state: Check = self.core.caught_up().state(stream)[0]
            if not state.active:
                return []  # removed while the probe ran
            ring = self._rings.setdefault(result.check, deque(maxlen=RING_SIZE))
            ring.append(result)
            failing = result.failing
            events = list(
                self.core.run(
                    CHECK,
                    stream,
                    check.RecordOutcome(
                        result.at,
                        result.outcome,
                        failing.name if failing else "",
                        failing.detail if failing else "",
                        failing.excerpt if failing else "",
                    ),
                    cause=f"outcome/{stamp}",
                    actor=f"check:{result.check}",
                ).events
            )
            events += self._summarise(state, result)
        return events

    def _summarise(self, state: Check, result: ProbeResult) -> list[DomainEvent]:
        # Counted as results arrive, not read back from the ring: at a 1 s interval an
        # hour is 3,600 runs, more than the ring keeps.
        period = self._periods.setdefault(state.name, _Period())
        period.add(result)
        start = state.last_summary_end or (state.defined_at or result.at)
        if result.at - start < self.summary_period or not period.runs:
            return []
        command = period.summary(start, result.at)
        self._periods[state.name] = _Period()
        return list(
            self.core.run(
                CHECK,
                check.stream_for(state.name),
                command,
                cause=f"summary/{result.at.isoformat()}",
                actor=f"check:{state.name}",
            ).events
        )

    def flush_summaries(self, at: datetime) -> list[DomainEvent]:
        """Record every check's unfinished period up to `at` (a clean shutdown calls
        this), so a restart loses no counted run; after a crash only the runs since the
        last summary are lost, never a status change (ADR 0026)."""
        events: list[DomainEvent] = []
        with self.core.lock:
            model = self.core.caught_up()
            for name, period in list(self._periods.items()):
                state: Check = model.state(check.stream_for(name))[0]
                if not state.exists or not period.runs:
                    continue
                start = state.last_summary_end or (state.defined_at or at)
                if at <= start:
                    continue
                events += self.core.run(
                    CHECK,
                    check.stream_for(name),
                    period.summary(start, at),
                    cause=f"summary/{at.isoformat()}",
                    actor=f"check:{name}",
                ).events
                self._periods[name] = _Period()
        return events

    def history(self, name: str) -> checkseries.CheckSeries:
        """The check's durable time series (status intervals and hourly summaries),
        folded from its stream: what a restart keeps, unlike `results` (ADR 0026)."""
        self.get(name)
        stream = check.stream_for(name)
        index = checkseries.fold(self.core.store.read_stream(stream), retention=None)
        return index.series.get(name) or checkseries.CheckSeries(name)

    # ------------------------------------------------------------------ reads

    def latest(self, name: str) -> ProbeResult | None:
        ring = self._rings.get(name)
        return ring[-1] if ring else None

    def results(self, name: str, limit: int = 100) -> list[ProbeResult]:
        """The most recent results, oldest first (the in-memory ring)."""
        self.get(name)
        ring = self._rings.get(name, deque())
        return list(ring)[-limit:] if limit > 0 else list(ring)

    def annotations_for(self, labels: Mapping[str, str]) -> dict[str, str]:
        """What a `synthetic:<name>` rule alert should say about the latest failure."""
        if labels.get("source") != "synthetic" or "check" not in labels:
            return {}
        last = self.latest(labels["check"])
        failing = last.failing if last is not None else None
        if last is None or failing is None:
            return {}
        return {
            "failing_step": failing.name,
            "detail": failing.detail[:300],
            "excerpt": failing.excerpt[:300],
            "outcome": last.outcome.value,
        }
