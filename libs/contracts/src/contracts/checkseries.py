"""The durable time series of a synthetic check, read from detection's `check-<name>`
streams (ADR 0026): what the status page's uptime bars and the postmortem's timeline
("when did the check first fail?") are built from.

Owns the *reading* of the published check events (`CheckDefined`, `CheckRemoved`,
`CheckStatusChanged`, `CheckSummaryRecorded`, ADR 0021) by services that may not import
detection: their JSON shape is the contract, so this module parses `RecordedEvent`s,
never detection's classes. Two facts come out of the log and nothing else:

- **intervals**: a `CheckStatusChanged` is appended only when the outcome changes, so
  consecutive changes bound exact up / down / checker-error intervals (a status lasts
  until the next change or the check's removal);
- **hourly numbers**: `CheckSummaryRecorded` gives runs, up, down, checker errors and
  latency per period.

Per-probe detail (the ring, `ListCheckResults`) stays in detection's memory and is not
here; everything here survives a restart because it is a fold over the log.

Uptime counts only time the check knew the answer: `down` is down, `up` is up, a
checker error (the prober's own fault) and time before the first result or after a
removal are "no data" and are left out of the fraction, never counted as up.

Pure: events in, numbers out; no clock (callers pass `now`), no store.
"""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eventlog import EventFilter, RecordedEvent, category_of

CATEGORY = "check"
UP, DOWN, CHECKER_ERROR = "up", "down", "checker_error"
STATUSPAGE_LABEL = "statuspage_component"
"""A check whose labels carry `statuspage_component: <component id>` feeds that
component's uptime bars on the status page."""
EVENT_TYPES = ("CheckDefined", "CheckRemoved", "CheckStatusChanged", "CheckSummaryRecorded")
FILTER = EventFilter.of(categories=[CATEGORY], event_types=EVENT_TYPES)
MAX_SUMMARIES = 24 * 100
"""Hourly summaries kept per check in memory: 100 days, enough for 90-day bars."""


def _instant(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def check_name(stream: str) -> str:
    return stream.split("-", 1)[1]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One `CheckStatusChanged`: from `at` the check's outcome was `status`."""

    at: datetime
    status: str
    previous: str | None
    failing_step: str
    detail: str
    event_id: str
    position: int

    @classmethod
    def from_recorded(cls, event: RecordedEvent) -> StatusChange:
        data = event.data
        return cls(
            at=_instant(data["at"]),
            status=str(data["status"]),
            previous=data.get("previous"),
            failing_step=str(data.get("failing_step") or ""),
            detail=str(data.get("detail") or ""),
            event_id=str(event.id),
            position=event.position,
        )


@dataclass(frozen=True, slots=True)
class Summary:
    period_start: datetime
    period_end: datetime
    runs: int
    up: int
    down: int
    checker_errors: int
    latency_p50_ms: float
    latency_max_ms: float

    @classmethod
    def from_data(cls, data: Any) -> Summary:
        return cls(
            period_start=_instant(data["period_start"]),
            period_end=_instant(data["period_end"]),
            runs=int(data["runs"]),
            up=int(data["up"]),
            down=int(data["down"]),
            checker_errors=int(data["checker_errors"]),
            latency_p50_ms=float(data["latency_p50_ms"]),
            latency_max_ms=float(data["latency_max_ms"]),
        )


@dataclass(slots=True)
class CheckSeries:
    """One check's history: its labels, when it was defined/removed, its status
    changes (an interval each) and its recent summaries."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    """When the check existed: (defined, removed or None), one per definition after a
    removal; time outside them is no data."""
    changes: list[StatusChange] = field(default_factory=list)
    summaries: deque[Summary] = field(default_factory=lambda: deque(maxlen=MAX_SUMMARIES))

    @property
    def active(self) -> bool:
        return bool(self.spans) and self.spans[-1][1] is None

    def apply(self, event: RecordedEvent, retention: timedelta | None = None) -> None:
        data = event.data
        match event.type:
            case "CheckDefined":
                self.labels = dict((data.get("spec") or {}).get("labels") or {})
                if not self.active:
                    self.spans.append((_instant(data["defined_at"]), None))
            case "CheckRemoved":
                if self.active:
                    self.spans[-1] = (self.spans[-1][0], _instant(data["removed_at"]))
            case "CheckStatusChanged":
                change = StatusChange.from_recorded(event)
                self.changes.append(change)
                if retention is not None:
                    self._prune(change.at - retention)
            case "CheckSummaryRecorded":
                self.summaries.append(Summary.from_data(data))

    def _prune(self, before: datetime) -> None:
        # Keep the change in force at `before`: it still says what the status was then.
        keep = 0
        while keep + 1 < len(self.changes) and self.changes[keep + 1].at <= before:
            keep += 1
        if keep:
            del self.changes[:keep]

    def status_at(self, at: datetime) -> str | None:
        """The outcome at `at`, or None when the check did not exist or had no result."""
        if not any(start <= at and (end is None or at < end) for start, end in self.spans):
            return None
        # Changes are appended in probe order, so a binary search finds the one in force.
        found = bisect.bisect_right(self.changes, at, key=lambda c: c.at)
        return self.changes[found - 1].status if found else None

    def segments(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, str | None]]:
        """[start, end) cut where the status changes: (from, to, status or None)."""
        cuts = {start, end}
        cuts.update(c.at for c in self.changes if start < c.at < end)
        for begin, finish in self.spans:
            cuts.update(t for t in (begin, finish) if t is not None and start < t < end)
        ordered = sorted(cuts)
        return [(a, b, self.status_at(a)) for a, b in itertools.pairwise(ordered)]

    def failure_at(self, at: datetime) -> StatusChange | None:
        """The change that began the failure in force at `at` (or, if the check was up
        by then, the last failure that began before it): "when did it first fail?".
        A checker error in the middle of a failure does not restart it."""
        first: StatusChange | None = None
        found: StatusChange | None = None
        for change in self.changes:
            if change.at > at:
                break
            if change.status == DOWN and first is None:
                first = change
            elif change.status == UP:
                if first is not None:
                    found = first
                first = None
        return first or found


def combined_segments(
    series: Sequence[CheckSeries], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str | None]]:
    """Several checks of one component as one: down while any is down, up while none is
    down and at least one is up, otherwise no data."""
    cuts = {start, end}
    for one in series:
        for a, _, _ in one.segments(start, end):
            cuts.add(a)
    ordered = sorted(cuts)
    out: list[tuple[datetime, datetime, str | None]] = []
    for a, b in itertools.pairwise(ordered):
        statuses = {one.status_at(a) for one in series}
        status = DOWN if DOWN in statuses else UP if UP in statuses else None
        out.append((a, b, status))
    return out


@dataclass(frozen=True, slots=True)
class DayBar:
    """One day of uptime for a component (or a check)."""

    day: date
    up_seconds: float
    down_seconds: float
    runs: int
    failed_runs: int
    latency_p50_ms: float | None
    """The median of the day's hourly medians (an approximation, said so in the title)."""
    first_failed_at: datetime | None
    """The day's first transition to down."""

    @property
    def known_seconds(self) -> float:
        return self.up_seconds + self.down_seconds

    @property
    def uptime(self) -> float | None:
        """up / (up + down); None when the checks knew nothing that day."""
        return self.up_seconds / self.known_seconds if self.known_seconds else None


def daily_uptime(series: Sequence[CheckSeries], now: datetime, days: int = 90) -> list[DayBar]:
    """One bar per UTC day, oldest first, the last one being today up to `now`."""
    today = now.astimezone(UTC).date()
    first_day = today - timedelta(days=days - 1)
    window_start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    up: dict[date, float] = {}
    down: dict[date, float] = {}
    for a, b, status in combined_segments(series, window_start, now) if now > window_start else []:
        if status is None:
            continue
        cursor = a
        while cursor < b:  # a segment may cross midnight
            day = cursor.date()
            midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            stop = min(b, midnight)
            seconds = (stop - cursor).total_seconds()
            bucket = up if status == UP else down
            bucket[day] = bucket.get(day, 0.0) + seconds
            cursor = stop
    runs: dict[date, int] = {}
    failed: dict[date, int] = {}
    medians: dict[date, list[float]] = {}
    for one in series:
        for summary in one.summaries:
            # A period belongs to the day its middle falls on (periods are an hour).
            middle = summary.period_start + (summary.period_end - summary.period_start) / 2
            day = middle.astimezone(UTC).date()
            if day < first_day:
                continue
            runs[day] = runs.get(day, 0) + summary.runs
            failed[day] = failed.get(day, 0) + summary.down
            medians.setdefault(day, []).append(summary.latency_p50_ms)
    firsts: dict[date, datetime] = {}
    for one in series:
        for change in one.changes:
            if change.status == DOWN and change.at >= window_start:
                day = change.at.astimezone(UTC).date()
                if day not in firsts or change.at < firsts[day]:
                    firsts[day] = change.at
    bars = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        day_medians = sorted(medians.get(day, []))
        bars.append(
            DayBar(
                day=day,
                up_seconds=up.get(day, 0.0),
                down_seconds=down.get(day, 0.0),
                runs=runs.get(day, 0),
                failed_runs=failed.get(day, 0),
                latency_p50_ms=day_medians[len(day_medians) // 2] if day_medians else None,
                first_failed_at=firsts.get(day),
            )
        )
    return bars


class CheckSeriesIndex:
    """Every check's series, fed from the log (a projection: `filter` and `apply`).

    `retention` bounds the status changes kept per check (counted back from its newest
    change); None keeps them all, as a postmortem of an old incident needs."""

    name = "checks.series"
    filter: EventFilter | None = FILTER

    def __init__(self, retention: timedelta | None = timedelta(days=100)) -> None:
        self.retention = retention
        self.series: dict[str, CheckSeries] = {}

    def apply(self, event: RecordedEvent) -> None:
        if category_of(event.stream) != CATEGORY or event.type not in EVENT_TYPES:
            return
        name = check_name(event.stream)
        one = self.series.get(name)
        if one is None:
            one = self.series[name] = CheckSeries(name)
        one.apply(event, self.retention)

    def for_component(self, component_id: str) -> list[CheckSeries]:
        """The checks labelled for a status-page component, by name."""
        return sorted(
            (s for s in self.series.values() if s.labels.get(STATUSPAGE_LABEL) == component_id),
            key=lambda s: s.name,
        )


def fold(events: Iterable[RecordedEvent], retention: timedelta | None = None) -> CheckSeriesIndex:
    index = CheckSeriesIndex(retention)
    for event in events:
        index.apply(event)
    return index
