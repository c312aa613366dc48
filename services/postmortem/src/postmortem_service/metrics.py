"""Incident metrics recomputed from the log, under a written, versioned definition
(docs/metrics.md). Nothing here is stored: every figure is a fold over recorded
events, so changing the definition recomputes history, and every figure says which
definition version produced it.

Definition v1 (docs/metrics.md has the full text):
- impact start: the postmortem's edited impact start (ImpactStartSet), else the first
  alert pending/firing instant of the alert occurrence that declared the incident (the
  one current when its group fired: a recurring alert's earlier occurrences belong to
  earlier incidents), else the declaration;
- TTD = declared - impact start; TTA = first human acknowledgement - triggered (first
  alert firing, else the declaration); TTM = first mitigation - impact start;
  TTR = last resolution - impact start;
- a reopened incident counts once, its clock running to its *last* resolution; an
  incident open now has no TTR; an incident nobody acknowledged has *no* TTA and is
  counted in `never_acknowledged` (never the close time as the acknowledgement: the
  Opsgenie trap);
- means, medians and p90s over the incidents that have the duration.

Pure: events in, figures out; no store, no clock (`now` is an argument).
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventlog import EventFilter, RecordedEvent

DEFINITION_VERSION = "1"

EVENT_TYPES = (
    "AlertPending",
    "AlertTriggered",
    "AlertGroupFiring",
    "IncidentDeclared",
    "SeverityChanged",
    "MitigationApplied",
    "IncidentResolved",
    "IncidentReopened",
    "SourceAlertAcknowledged",
    "PageAcknowledged",
    "ImpactStartSet",
    "ActionItemAdded",
    "ActionItemCompleted",
    "ActionItemDeclined",
    "ActionItemReopened",
    "ActionItemRescheduled",
)
FILTER = EventFilter.of(event_types=EVENT_TYPES)
"""The events the definition reads; everything else in the log is skipped unread."""


def _at(value: Any) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class IncidentClock:
    incident_id: str
    number: int = 0
    severity: str = "P4"
    services: tuple[str, ...] = ()
    declared_at: datetime | None = None
    first_alert_at: datetime | None = None
    impact_edited_at: datetime | None = None
    first_ack_at: datetime | None = None
    first_mitigation_at: datetime | None = None
    resolved_at: datetime | None = None
    reopened: int = 0

    @property
    def impact_start(self) -> datetime | None:
        return self.impact_edited_at or self.first_alert_at or self.declared_at

    @property
    def triggered_at(self) -> datetime | None:
        return self.first_alert_at or self.declared_at

    def seconds(self, metric: str) -> float | None:
        start = self.impact_start
        match metric:
            case "ttd":
                end = self.declared_at
            case "tta":
                end, start = self.first_ack_at, self.triggered_at
            case "ttm":
                end = self.first_mitigation_at
            case _:
                end = self.resolved_at
        if start is None or end is None:
            return None
        return max((end - start).total_seconds(), 0.0)


@dataclass
class ItemClock:
    status: str = "open"
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    metric: str
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None
    definition: str = DEFINITION_VERSION


@dataclass
class Report:
    definition: str
    computed_at: datetime
    events_read: int
    incidents: int
    summaries: dict[str, Summary]
    never_acknowledged: int
    unresolved: int
    reopened: int
    by_severity: dict[str, int]
    by_service: dict[str, int]
    by_month: dict[str, int]
    mttr_by_month: dict[str, float]
    action_items: int
    action_items_done: int
    action_items_wont_do: int
    action_items_overdue: int
    clocks: list[IncidentClock] = field(default_factory=list, repr=False)

    @property
    def completion_rate(self) -> float | None:
        counted = self.action_items - self.action_items_wont_do
        return self.action_items_done / counted if counted else None

    @property
    def overdue_rate(self) -> float | None:
        counted = self.action_items - self.action_items_wont_do
        return self.action_items_overdue / counted if counted else None


def _summary(metric: str, values: list[float]) -> Summary:
    if not values:
        return Summary(metric, 0, None, None, None)
    ordered = sorted(values)
    p90 = ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]
    return Summary(metric, len(values), statistics.fmean(values), statistics.median(ordered), p90)


class MetricsFold:
    """One pass over the log (in order); `report(now)` at any point."""

    def __init__(self) -> None:
        self.incidents: dict[str, IncidentClock] = {}
        self.items: dict[str, ItemClock] = {}
        self.alert_starts: dict[str, datetime] = {}
        """alert id -> the start of its current occurrence (an `alert-<id>` stream
        holds every occurrence of a recurring alert)."""
        self.pending: set[str] = set()
        """Alerts whose current occurrence is pending and has not fired yet."""
        self.firings: dict[str, datetime | None] = {}
        """AlertGroupFiring event id -> its alert's occurrence start at that moment."""
        self.events_read = 0

    def apply(self, event: RecordedEvent) -> None:
        self.events_read += 1
        kind = event.type
        stream = event.stream
        if kind in ("AlertPending", "AlertTriggered"):
            data = event.data
            key = stream.partition("-")[2]
            if kind == "AlertPending":
                # Detection refuses a pending while an occurrence is open: a new one.
                raw = data.get("pending_at")
                if raw:
                    self.alert_starts[key] = _at(raw)
                    self.pending.add(key)
            else:
                # Fired: from the pending recorded above (keep its start), or a new
                # occurrence that began firing (its own start).
                announced = key in self.pending
                self.pending.discard(key)
                raw = data.get("pending_at") or (None if announced else data.get("fired_at"))
                if raw:
                    self.alert_starts[key] = _at(raw)
            return
        if kind == "AlertGroupFiring":
            alert_id = event.data.get("alert_id")
            if alert_id:
                self.firings[str(event.id)] = self.alert_starts.get(str(alert_id))
            return
        category, _, key = stream.partition("-")
        if category == "incident":
            self._incident(key, event)
        elif category == "page" and kind == "PageAcknowledged":
            correlation = event.metadata.correlation_id
            clock = self.incidents.get(correlation or "")
            if clock is not None:
                self._ack(clock, _at(event.data["acknowledged_at"]))
        elif category == "postmortem" and kind == "ImpactStartSet":
            clock = self.incidents.get(key)
            if clock is not None:
                clock.impact_edited_at = _at(event.data["impact_started_at"])
        elif category == "action":
            self._item(key, event)

    def _incident(self, key: str, event: RecordedEvent) -> None:
        kind = event.type
        data = event.data
        if kind == "IncidentDeclared":
            declared = IncidentClock(
                key,
                int(data.get("number", 0)),
                str(data.get("severity", "P4")),
                tuple(data.get("services") or ()),
                _at(data["declared_at"]),
            )
            cause = event.metadata.causation_id
            if cause:
                declared.first_alert_at = self.firings.get(cause)
            self.incidents[key] = declared
            return
        clock = self.incidents.get(key)
        if clock is None:
            return
        if kind == "SeverityChanged":
            clock.severity = str(data.get("to_severity", clock.severity))
        elif kind == "MitigationApplied":
            at = _at(data["applied_at"])
            if clock.first_mitigation_at is None or at < clock.first_mitigation_at:
                clock.first_mitigation_at = at
        elif kind == "IncidentResolved":
            clock.resolved_at = _at(data["resolved_at"])
        elif kind == "IncidentReopened":
            clock.resolved_at = None
            clock.reopened += 1
        elif kind == "SourceAlertAcknowledged":
            self._ack(clock, _at(data["acknowledged_at"]))

    @staticmethod
    def _ack(clock: IncidentClock, at: datetime) -> None:
        if clock.first_ack_at is None or at < clock.first_ack_at:
            clock.first_ack_at = at

    def _item(self, key: str, event: RecordedEvent) -> None:
        kind = event.type
        if kind == "ActionItemAdded":
            self.items[key] = ItemClock("open", _at(event.data["due_at"]))
            return
        item = self.items.get(key)
        if item is None:
            return
        if kind == "ActionItemCompleted":
            item.status = "done"
        elif kind == "ActionItemDeclined":
            item.status = "wont_do"
        elif kind == "ActionItemReopened":
            item.status = "open"
        elif kind == "ActionItemRescheduled":
            item.due_at = _at(event.data["due_at"])

    def report(self, now: datetime, *, keep_clocks: bool = False) -> Report:
        clocks = list(self.incidents.values())
        values: dict[str, list[float]] = {m: [] for m in ("ttd", "tta", "ttm", "ttr")}
        by_severity: Counter[str] = Counter()
        by_service: Counter[str] = Counter()
        by_month: Counter[str] = Counter()
        ttr_by_month: dict[str, list[float]] = {}
        for clock in clocks:
            by_severity[clock.severity] += 1
            for service in clock.services:
                by_service[service] += 1
            month = clock.declared_at.strftime("%Y-%m") if clock.declared_at else "unknown"
            by_month[month] += 1
            for metric, found in values.items():
                seconds = clock.seconds(metric)
                if seconds is not None:
                    found.append(seconds)
                    if metric == "ttr":
                        ttr_by_month.setdefault(month, []).append(seconds)
        items = list(self.items.values())
        return Report(
            definition=DEFINITION_VERSION,
            computed_at=now,
            events_read=self.events_read,
            incidents=len(clocks),
            summaries={
                "MTTD": _summary("MTTD", values["ttd"]),
                "MTTA": _summary("MTTA", values["tta"]),
                "MTTM": _summary("MTTM", values["ttm"]),
                "MTTR": _summary("MTTR", values["ttr"]),
            },
            never_acknowledged=sum(1 for c in clocks if c.first_ack_at is None),
            unresolved=sum(1 for c in clocks if c.resolved_at is None),
            reopened=sum(1 for c in clocks if c.reopened),
            by_severity=dict(sorted(by_severity.items())),
            by_service=dict(by_service.most_common()),
            by_month=dict(sorted(by_month.items())),
            mttr_by_month={m: statistics.fmean(v) for m, v in sorted(ttr_by_month.items())},
            action_items=len(items),
            action_items_done=sum(1 for i in items if i.status == "done"),
            action_items_wont_do=sum(1 for i in items if i.status == "wont_do"),
            action_items_overdue=sum(
                1 for i in items if i.status == "open" and i.due_at is not None and i.due_at < now
            ),
            clocks=clocks if keep_clocks else [],
        )


def compute(events: Iterable[RecordedEvent], now: datetime) -> Report:
    fold = MetricsFold()
    for event in events:
        fold.apply(event)
    return fold.report(now)


def incident_ids(report: Report) -> list[uuid.UUID]:
    return [uuid.UUID(c.incident_id) for c in report.clocks]
