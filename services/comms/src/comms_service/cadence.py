"""The update cadence: when the next stakeholder update is promised.

Owns the one rule "next update by T": defaults by severity (P1 every 30 minutes, P2
every 60, P3 every 4 hours counted within business hours, P4 no promise), overridable
per service, and when the reminder goes out before the promise falls due. Pure: the
caller passes the instant; no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from comms_service.common import Severity


@dataclass(frozen=True, slots=True)
class Interval:
    """Every `every`; `business_hours` counts only time inside business hours."""

    every: timedelta
    business_hours: bool = False


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Weekdays (0 = Monday) between `start` and `end` local time in `zone`."""

    zone: str = "UTC"
    start: time = time(9, 0)
    end: time = time(17, 0)
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})

    def add(self, instant: datetime, duration: timedelta) -> datetime:
        """`instant` plus `duration` of business time (an instant outside business
        hours starts counting at the next opening)."""
        tz = ZoneInfo(self.zone)
        local = instant.astimezone(tz)
        remaining = duration
        for _ in range(3700):  # ten years of days: only a misconfiguration gets here
            day = local.date()
            opens = datetime.combine(day, self.start, tz)
            closes = datetime.combine(day, self.end, tz)
            if day.weekday() in self.days and local < closes:
                begin = max(local, opens)
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
            local = datetime.combine(day + timedelta(days=1), time(0, 0), tz)
        raise ValueError("business hours never open")


DEFAULT_INTERVALS: dict[Severity, Interval | None] = {
    Severity.P1: Interval(timedelta(minutes=30)),
    Severity.P2: Interval(timedelta(minutes=60)),
    Severity.P3: Interval(timedelta(hours=4), business_hours=True),
    Severity.P4: None,
}


@dataclass(frozen=True, slots=True)
class CadencePolicy:
    """Defaults by severity, with per-service overrides (deployment configuration)."""

    intervals: dict[Severity, Interval | None] = field(
        default_factory=lambda: dict(DEFAULT_INTERVALS)
    )
    per_service: dict[str, dict[Severity, Interval | None]] = field(default_factory=dict)
    business_hours: BusinessHours = BusinessHours()
    reminder_lead: float = 0.2
    """The reminder fires this fraction of the interval before the promise falls due
    (6 minutes for a P1), at least one minute before."""

    def interval(self, severity: Severity, service: str | None = None) -> Interval | None:
        overrides = self.per_service.get(service or "", {})
        if severity in overrides:
            return overrides[severity]
        return self.intervals.get(severity)

    def next_due(
        self, severity: Severity, at: datetime, service: str | None = None
    ) -> datetime | None:
        """When the update after one posted at `at` is due; None: no promise (P4)."""
        interval = self.interval(severity, service)
        if interval is None:
            return None
        if interval.business_hours:
            return self.business_hours.add(at, interval.every)
        return at + interval.every

    def reminder_at(self, made_at: datetime, due_by: datetime) -> datetime:
        lead = max(timedelta(minutes=1), (due_by - made_at) * self.reminder_lead)
        return max(made_at, due_by - lead)
