"""What-if back-testing: replay a period's recorded alerts through a proposed detection
and paging configuration, in memory, and compare with what really happened.

Owns the proposal format (`Proposal`, read from YAML or JSON) and the pure simulation.
It never appends and never touches the live log: the caller hands in the period's
recorded events, and schedules are resolved with the paging service's own schedule
domain (the same rotation and override arithmetic paging uses), built in memory.

The simulation is deliberately simple and documented here, so its numbers can be
judged: an alert pages when its severity is one that pages, it lasted at least
`min_duration_minutes`, no silence matches it when it fired and no inhibit rule's
source alert was firing with equal labels; paging alerts whose `group_by` labels are
equal and that fire within `group_wait_minutes` of the group's last alert open one
incident; each incident walks its service's policy level by level (cumulative delays),
paging every person the level's targets resolve to at that moment, until the assumed
acknowledgement time `ack_after_minutes` has passed. Acknowledgement load is pages times
`ack_minutes`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts.domain import InvalidCommandError
from eventlog import RecordedEvent
from eventlog.model import parse_timestamp
from paging_service import schedule as sch


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Silence(_Model):
    matchers: dict[str, str]
    start: datetime
    end: datetime


class Inhibit(_Model):
    source: dict[str, str]
    target: dict[str, str]
    equal: list[str] = Field(default_factory=list)


class Detection(_Model):
    group_by: list[str] = Field(default_factory=lambda: ["service"])
    group_wait_minutes: float = Field(default=30, ge=0)
    min_duration_minutes: float = Field(default=0, ge=0)
    paging_severities: list[str] = Field(default_factory=lambda: ["critical", "error"])
    silences: list[Silence] = Field(default_factory=list)
    inhibit: list[Inhibit] = Field(default_factory=list)


class LevelSpec(_Model):
    targets: list[str] = Field(min_length=1)
    delay_minutes: float = Field(default=30, gt=0)


class PolicySpec(_Model):
    levels: list[LevelSpec] = Field(min_length=1)


class LayerSpec(_Model):
    layer_id: str
    users: list[str] = Field(min_length=1)
    turn_hours: int = Field(default=168, ge=1)
    start: datetime


class OverrideSpec(_Model):
    user_id: str
    start: datetime
    end: datetime


class ScheduleSpec(_Model):
    time_zone: str = "UTC"
    layers: list[LayerSpec] = Field(default_factory=list)
    overrides: list[OverrideSpec] = Field(default_factory=list)


class BusinessHours(_Model):
    start_hour: int = Field(default=9, ge=0, le=23)
    end_hour: int = Field(default=17, ge=1, le=24)
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    time_zone: str = "UTC"


class Paging(_Model):
    policies: dict[str, PolicySpec] = Field(default_factory=dict)
    """By service name; "*" is the default policy."""
    schedules: dict[str, ScheduleSpec] = Field(default_factory=dict)
    business_hours: BusinessHours = BusinessHours()
    ack_after_minutes: float = Field(default=10, ge=0)
    ack_minutes: float = Field(default=15, ge=0)


class Proposal(_Model):
    detection: Detection = Detection()
    paging: Paging = Paging()


def parse_proposal(text: str) -> Proposal:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise InvalidCommandError("proposal", f"is not YAML or JSON: {error}") from None
    try:
        return Proposal.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidCommandError(f"proposal.{where}", first["msg"]) from None


@dataclass(frozen=True)
class RecordedAlert:
    alert_id: str
    labels: Mapping[str, str]
    severity: str
    fired_at: datetime
    resolved_at: datetime | None


def recorded_alerts(events: Iterable[RecordedEvent]) -> list[RecordedAlert]:
    """Each firing of each alert (AlertTriggered, closed by the stream's next
    AlertResolved), from detection's published events."""
    open_: dict[str, dict[str, Any]] = {}
    out: list[RecordedAlert] = []
    for event in events:
        if event.type == "AlertTriggered":
            open_[event.stream] = dict(event.data)
        elif event.type == "AlertResolved" and event.stream in open_:
            data = open_.pop(event.stream)
            out.append(_alert(data, _time(event.data.get("resolved_at"))))
    out.extend(_alert(data, None) for data in open_.values())
    return sorted(out, key=lambda a: a.fired_at)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return parse_timestamp(str(value))


def _alert(data: Mapping[str, Any], resolved: datetime | None) -> RecordedAlert:
    fired = _time(data.get("fired_at"))
    assert fired is not None
    return RecordedAlert(
        str(data.get("alert_id")),
        dict(data.get("labels") or {}),
        str(data.get("severity", "")),
        fired,
        resolved,
    )


def _matches(labels: Mapping[str, str], matchers: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in matchers.items())


@dataclass
class Outcome:
    incidents: int = 0
    pages_per_person: Counter[str] = field(default_factory=Counter)
    off_hours_pages: int = 0
    acknowledgements: int = 0
    suppressed_alerts: int = 0

    @property
    def pages(self) -> int:
        return sum(self.pages_per_person.values())


def is_off_hours(at: datetime, hours: BusinessHours) -> bool:
    local = at.astimezone(ZoneInfo(hours.time_zone))
    return local.weekday() not in hours.weekdays or not (
        hours.start_hour <= local.hour < hours.end_hour
    )


def _schedule(schedule_id: str, spec: ScheduleSpec, created: datetime) -> sch.Schedule:
    events: list[Any] = [
        sch.ScheduleCreated(
            schedule_id=schedule_id, name=schedule_id, time_zone=spec.time_zone, created_at=created
        )
    ]
    for layer in spec.layers:
        events.append(
            sch.LayerAdded(
                layer=sch.Layer(
                    layer_id=layer.layer_id,
                    name=layer.layer_id,
                    users=tuple(layer.users),
                    turn=sch.Turn(unit=sch.TurnUnit.HOURS, length=layer.turn_hours),
                    start=layer.start.replace(tzinfo=None),
                    time_zone=spec.time_zone,
                ),
                added_at=created,
            )
        )
    for number, override in enumerate(spec.overrides):
        events.append(
            sch.OverrideAdded(
                override=sch.Override(
                    override_id=f"o{number}",
                    user_id=override.user_id,
                    start=override.start,
                    end=override.end,
                ),
                added_at=created,
            )
        )
    return sch.fold(events)


def simulate(alerts: Sequence[RecordedAlert], proposal: Proposal) -> Outcome:
    detection, paging = proposal.detection, proposal.paging
    outcome = Outcome()
    epoch = min((a.fired_at for a in alerts), default=datetime.now().astimezone())
    schedules = {
        name: _schedule(name, spec, epoch - timedelta(days=3650))
        for name, spec in paging.schedules.items()
    }
    paging_alerts: list[RecordedAlert] = []
    for alert in alerts:
        lasted = (alert.resolved_at - alert.fired_at) if alert.resolved_at else None
        silenced = any(
            s.start <= alert.fired_at < s.end and _matches(alert.labels, s.matchers)
            for s in detection.silences
        )
        inhibited = any(
            _matches(alert.labels, rule.target)
            and any(
                other is not alert
                and _matches(other.labels, rule.source)
                and other.fired_at <= alert.fired_at
                and (other.resolved_at is None or alert.fired_at < other.resolved_at)
                and all(other.labels.get(k) == alert.labels.get(k) for k in rule.equal)
                for other in alerts
            )
            for rule in detection.inhibit
        )
        too_short = lasted is not None and lasted < timedelta(
            minutes=detection.min_duration_minutes
        )
        if alert.severity not in detection.paging_severities or too_short:
            continue
        if silenced or inhibited:
            outcome.suppressed_alerts += 1
            continue
        paging_alerts.append(alert)

    last_seen: dict[tuple[str, ...], datetime] = {}
    window = timedelta(minutes=detection.group_wait_minutes)
    for alert in paging_alerts:
        key = tuple(alert.labels.get(label, "") for label in detection.group_by)
        previous = last_seen.get(key)
        last_seen[key] = alert.fired_at
        if previous is not None and alert.fired_at - previous <= window:
            continue
        outcome.incidents += 1
        policy = paging.policies.get(alert.labels.get("service", "")) or paging.policies.get("*")
        if policy is None:
            continue
        offset = 0.0
        for level in policy.levels:
            if offset > paging.ack_after_minutes:
                break
            at = alert.fired_at + timedelta(minutes=offset)
            for person in _resolve(level.targets, schedules, at):
                outcome.pages_per_person[person] += 1
                outcome.off_hours_pages += is_off_hours(at, paging.business_hours)
            offset += level.delay_minutes
        outcome.acknowledgements += 1
    return outcome


def _resolve(
    targets: Sequence[str], schedules: Mapping[str, sch.Schedule], at: datetime
) -> list[str]:
    people: list[str] = []
    for target in targets:
        kind, _, ident = target.partition(":")
        if kind == "user":
            people.append(ident)
        elif kind == "schedule" and ident in schedules:
            people.extend(sch.who_is_on_call(schedules[ident], at))
    return list(dict.fromkeys(people))


def actual(events: Iterable[RecordedEvent], hours: BusinessHours) -> Outcome:
    """What really happened in the period, from the incident and paging events."""
    outcome = Outcome()
    for event in events:
        if event.type == "IncidentDeclared":
            outcome.incidents += 1
        elif event.type == "ResponderPaged":
            outcome.pages_per_person[str(event.data.get("user_id"))] += 1
            at = _time(event.data.get("paged_at")) or event.recorded_at
            outcome.off_hours_pages += is_off_hours(at, hours)
        elif event.type == "PageAcknowledged":
            outcome.acknowledgements += 1
        elif event.type == "AlertSuppressed":
            outcome.suppressed_alerts += 1
    return outcome


def report(proposed: Outcome, real: Outcome, ack_minutes: float) -> dict[str, Any]:
    def row(outcome: Outcome) -> dict[str, Any]:
        return {
            "incidents": outcome.incidents,
            "pages": outcome.pages,
            "pages_per_person": dict(sorted(outcome.pages_per_person.items())),
            "off_hours_pages": outcome.off_hours_pages,
            "suppressed_alerts": outcome.suppressed_alerts,
            "acknowledgement_load_minutes": outcome.pages * ack_minutes,
        }

    return {"proposed": row(proposed), "actual": row(real)}
