"""What the status page shows, as plain data: the Statuspage v2 JSON objects
(../shared/formats/statuspage-v2.md: page, status, component, incident, incident update,
scheduled maintenance) and the 90-day uptime bars, for the public or the internal page.
A component labelled on a synthetic check (`statuspage_component`) gets bars measured by
its checks (`contracts.checkseries`, ADR 0026); any other component's bars come from the
statuses set on the page (one sweep over them, ADR 0027).

Owns the one rule that keeps internal things internal: the public view contains only
published, not internal-only incidents, their updates (never internal notes), and
component statuses set directly or by such incidents. Pure functions of the read model
and an instant; the web process, the feeds and the subscriber webhooks all use them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from comms_service import status_incident as si
from comms_service import statuspage as sp
from comms_service.model import CommsModel
from contracts import checkseries

PAGE_ID = "firewatch"
UPTIME_DAYS = 90
_DAY = timedelta(days=1)

_IMPACT_ORDER = {si.Impact.NONE: 0, si.Impact.MINOR: 1, si.Impact.MAJOR: 2, si.Impact.CRITICAL: 3}
_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
}


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


@dataclass(frozen=True, slots=True)
class View:
    """One rendering of the page: public (what anyone sees) or internal (everything)."""

    model: CommsModel
    public: bool
    now: datetime

    @property
    def page(self) -> sp.Page:
        state: sp.Page = self.model.state(sp.PAGE_STREAM)[0]
        return state

    # ------------------------------------------------------------------ incidents

    def incidents(self) -> list[si.StatusIncident]:
        """Visible status-page incidents and maintenances, newest first."""
        found = []
        for _, state in self.model.streams(si.STREAM_CATEGORY):
            if state.drafted is None:
                continue
            if self.public and (not state.public or state.drafted.internal_only):
                continue
            found.append(state)
        found.sort(key=lambda s: s.drafted.drafted_at, reverse=True)
        return found

    def visible(self, stream: str) -> bool:
        if stream == sp.PAGE_STREAM:
            return True
        state: si.StatusIncident = self.model.state(stream)[0]
        if state.drafted is None:
            return False
        return not self.public or (state.public and not state.drafted.internal_only)

    def component_status(self, component_id: str) -> sp.ComponentStatus:
        status = sp.ComponentStatus.OPERATIONAL
        for _, new, source in self.model.ix.component_history.get(component_id, []):
            if self.visible(source):
                status = new
        return status

    def component_updated_at(self, component: sp.Component) -> datetime:
        latest = component.updated_at or component.created_at
        for at, _, source in self.model.ix.component_history.get(component.component_id, []):
            if self.visible(source):
                latest = max(latest, at)
        return latest

    # ------------------------------------------------------------------ JSON objects

    def page_json(self) -> dict[str, Any]:
        page = self.page
        updated = page.updated_at
        for incident in self.incidents():
            if incident.updated_at and (updated is None or incident.updated_at > updated):
                updated = incident.updated_at
        return {
            "id": PAGE_ID,
            "name": page.name,
            "url": page.url,
            "time_zone": page.time_zone,
            "updated_at": iso(updated or self.now),
        }

    def status_json(self) -> dict[str, str]:
        worst = si.Impact.NONE
        for incident in self.unresolved():
            if _IMPACT_ORDER[incident.impact] > _IMPACT_ORDER[worst]:
                worst = incident.impact
        return {"indicator": worst.value, "description": _DESCRIPTIONS[worst.value]}

    def components_json(self) -> list[dict[str, Any]]:
        page = self.page
        out: list[dict[str, Any]] = []
        for group in sorted(page.groups.values(), key=lambda g: g.position):
            children = sorted(
                (c for c in page.components.values() if c.group_id == group.group_id),
                key=lambda c: c.position,
            )
            statuses = [self.component_status(c.component_id) for c in children]
            worst = max(
                statuses, key=lambda s: sp.SEVERITY_ORDER[s], default=sp.ComponentStatus.OPERATIONAL
            )
            out.append(
                {
                    "id": group.group_id,
                    "name": group.name,
                    "status": worst.value,
                    "created_at": iso(group.created_at),
                    "updated_at": iso(
                        max(
                            [self.component_updated_at(c) for c in children],
                            default=group.created_at,
                        )
                    ),
                    "position": group.position,
                    "description": group.description or None,
                    "showcase": False,
                    "start_date": group.created_at.date().isoformat(),
                    "group_id": None,
                    "page_id": PAGE_ID,
                    "group": True,
                    "only_show_if_degraded": False,
                    "components": [c.component_id for c in children],
                }
            )
        for component in sorted(page.components.values(), key=lambda c: c.position):
            out.append(self.component_json(component))
        out.sort(key=lambda c: int(c["position"]))
        return out

    def component_json(self, component: sp.Component) -> dict[str, Any]:
        return {
            "id": component.component_id,
            "name": component.name,
            "status": self.component_status(component.component_id).value,
            "created_at": iso(component.created_at),
            "updated_at": iso(self.component_updated_at(component)),
            "position": component.position,
            "description": component.description or None,
            "showcase": component.showcase,
            "start_date": component.created_at.date().isoformat(),
            "group_id": component.group_id,
            "page_id": PAGE_ID,
            "group": False,
            "only_show_if_degraded": component.only_show_if_degraded,
        }

    def incident_json(self, incident: si.StatusIncident) -> dict[str, Any]:
        drafted = incident.drafted
        assert drafted is not None
        incident_id = str(drafted.status_incident_id)
        page = self.page
        updates = []
        monitoring_at = resolved_at = None
        for update in incident.updates:
            if update.status is si.IncidentStatus.MONITORING and monitoring_at is None:
                monitoring_at = update.posted_at
            if update.status in si.CLOSED:
                resolved_at = update.posted_at
            updates.append(
                {
                    "id": str(update.update_id),
                    "status": update.status.value,
                    "body": update.body,
                    "incident_id": incident_id,
                    "created_at": iso(update.posted_at),
                    "updated_at": iso(update.posted_at),
                    "display_at": iso(update.posted_at),
                    "affected_components": [
                        {
                            "code": change.component_id,
                            "name": page.components[change.component_id].name
                            if change.component_id in page.components
                            else change.component_id,
                            "old_status": change.old_status.value,
                            "new_status": change.new_status.value,
                        }
                        for change in update.affected_components
                    ]
                    or None,
                    "deliver_notifications": update.deliver_notifications,
                }
            )
        updates.reverse()
        components = [
            self.component_json(page.components[c])
            for c in drafted.component_ids
            if c in page.components
        ]
        body: dict[str, Any] = {
            "id": incident_id,
            "name": drafted.name,
            "status": (incident.status or si.IncidentStatus.INVESTIGATING).value,
            "impact": incident.impact.value,
            "created_at": iso(drafted.drafted_at),
            "updated_at": iso(incident.updated_at),
            "monitoring_at": iso(monitoring_at),
            "resolved_at": iso(resolved_at if incident.closed else None),
            "started_at": iso(drafted.scheduled_for or drafted.drafted_at),
            "shortlink": f"{page.url.rstrip('/')}/incidents/{incident_id}",
            "page_id": PAGE_ID,
            "incident_updates": updates,
            "components": components,
        }
        if drafted.kind is si.Kind.MAINTENANCE:
            body["scheduled_for"] = iso(drafted.scheduled_for)
            body["scheduled_until"] = iso(drafted.scheduled_until)
        if not self.public:
            body["internal_only"] = drafted.internal_only
            body["published"] = incident.public
            body["internal_notes"] = [
                {
                    "id": str(n.note_id),
                    "body": n.body,
                    "author": n.author,
                    "created_at": iso(n.added_at),
                }
                for n in incident.notes
            ]
        return body

    def of_kind(self, kind: si.Kind) -> list[si.StatusIncident]:
        return [i for i in self.incidents() if i.drafted is not None and i.drafted.kind is kind]

    # ------------------------------------------------------------------ endpoints

    def summary(self) -> dict[str, Any]:
        return {
            "page": self.page_json(),
            "status": self.status_json(),
            "components": self.components_json(),
            "incidents": [self.incident_json(i) for i in self.unresolved()],
            "scheduled_maintenances": [
                self.incident_json(m)
                for m in self.of_kind(si.Kind.MAINTENANCE)
                if m.status
                in (
                    si.IncidentStatus.SCHEDULED,
                    si.IncidentStatus.IN_PROGRESS,
                    si.IncidentStatus.VERIFYING,
                )
            ],
        }

    def unresolved(self) -> list[si.StatusIncident]:
        return [i for i in self.of_kind(si.Kind.INCIDENT) if not i.closed]

    def maintenances(self, which: str = "all") -> list[dict[str, Any]]:
        wanted = {
            "all": None,
            "upcoming": {si.IncidentStatus.SCHEDULED},
            "active": {si.IncidentStatus.IN_PROGRESS, si.IncidentStatus.VERIFYING},
        }[which]
        found = self.of_kind(si.Kind.MAINTENANCE)
        if wanted is not None:
            found = [m for m in found if m.status in wanted]
        return [self.incident_json(m) for m in found[:50]]

    # ------------------------------------------------------------------ uptime

    def checks_of(self, component_id: str) -> list[checkseries.CheckSeries]:
        """The synthetic checks labelled for this component (ADR 0026)."""
        return self.model.checks.for_component(component_id)

    def uptime(self, component_id: str, days: int = UPTIME_DAYS) -> list[tuple[str, float, str]]:
        """(date, uptime fraction, worst status) per day, oldest first, from the
        statuses set on the page (a component without a check)."""
        history = [
            (at, status)
            for at, status, source in self.model.ix.component_history.get(component_id, [])
            if self.visible(source)
        ]
        return status_bars(history, self.now, days)


def status_bars(
    history: Sequence[tuple[datetime, sp.ComponentStatus]], now: datetime, days: int = UPTIME_DAYS
) -> list[tuple[str, float, str]]:
    """(date, uptime fraction, worst status) for each of the `days` UTC days up to `now`,
    oldest first, from a component's status changes in log order. A day counts as down
    while the status is partial or major outage; today ends at `now`.

    One pass over the changes and one over the days (ADR 0027: the page draws 90 bars
    for every component on each render, so a rescan of the history per day was the
    cost of the page). The rules are those of a per-day scan, kept exactly, including
    for changes whose instants are out of log order (recorded by different streams,
    clocks): a day's starting status is the *last logged* change at or before its
    midnight, and its own changes are walked in log order.
    """
    if days <= 0:
        return []
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    origin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    # Each change inside the window goes to the day (midnight, next midnight] it falls in:
    # a change at midnight closes the day before and opens the next one with its status.
    in_day: list[list[tuple[datetime, sp.ComponentStatus]]] = [[] for _ in range(days)]
    for at, new in history:
        if origin < at <= now:
            whole, rest = divmod(at - origin, _DAY)
            in_day[whole if rest else whole - 1].append((at, new))
    # The changes by instant (stable: log order among equal instants); sweeping midnights
    # forward, the latest logged one passed so far gives the day's starting status.
    by_instant = sorted(range(len(history)), key=lambda i: history[i][0])
    passed = 0
    latest = -1
    out: list[tuple[str, float, str]] = []
    for index in range(days):
        day = first + timedelta(days=index)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        while passed < len(by_instant) and history[by_instant[passed]][0] <= start:
            latest = max(latest, by_instant[passed])
            passed += 1
        end = min(start + _DAY, now)
        if end <= start:
            out.append((day.isoformat(), 1.0, "operational"))
            continue
        status = history[latest][1] if latest >= 0 else sp.ComponentStatus.OPERATIONAL
        down = timedelta(0)
        worst = status
        cursor = start
        for at, new in in_day[index]:
            if _counts_down(status):
                down += at - cursor
            cursor, status = at, new
            if sp.SEVERITY_ORDER[new] > sp.SEVERITY_ORDER[worst]:
                worst = new
        if _counts_down(status):
            down += end - cursor
        total = (end - start).total_seconds()
        out.append((day.isoformat(), 1 - down.total_seconds() / total, worst.value))
    return out


@dataclass(frozen=True, slots=True)
class MeasuredBar:
    """One day of a component's uptime as its synthetic checks measured it."""

    day: str
    uptime: float | None
    """None: the checks knew nothing that day (not defined yet, or only checker errors)."""
    status: str
    """The colour class: a component status, or "no_data"."""
    title: str


def measured_bars(
    series: list[checkseries.CheckSeries],
    now: datetime,
    days: int = UPTIME_DAYS,
    *,
    public: bool = True,
) -> tuple[list[MeasuredBar], float | None]:
    """The bars and the window's uptime (None when nothing was measured). Check names
    are internal identifiers: only the internal page names them."""
    bars = []
    up = known = 0.0
    names = "synthetic checks" if public else ", ".join(s.name for s in series)
    for bar in checkseries.daily_uptime(series, now, days):
        up += bar.up_seconds
        known += bar.known_seconds
        fraction = bar.uptime
        if fraction is None:
            bars.append(MeasuredBar(bar.day.isoformat(), None, "no_data", f"{bar.day}: no data"))
            continue
        parts = [f"{bar.day}: {fraction * 100:.2f}% up"]
        if bar.down_seconds:
            parts.append(f"{_minutes(bar.down_seconds)} down")
        if bar.first_failed_at is not None:
            parts.append(f"first failed {bar.first_failed_at.astimezone(UTC):%H:%M} UTC")
        if bar.runs:
            parts.append(f"{bar.runs:,} runs, {bar.failed_runs:,} failed")
        if bar.latency_p50_ms is not None:
            parts.append(f"median latency {bar.latency_p50_ms:.0f} ms")
        parts.append(f"measured by {names}")
        bars.append(MeasuredBar(bar.day.isoformat(), fraction, _colour(fraction), ", ".join(parts)))
    return bars, (up / known if known else None)


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes >= 1 else f"{seconds:.0f} s"


def _colour(fraction: float) -> str:
    # The thresholds status pages commonly use: any failure shows, a bad day stands out.
    if fraction >= 1.0:
        return sp.ComponentStatus.OPERATIONAL.value
    if fraction >= 0.99:
        return sp.ComponentStatus.DEGRADED_PERFORMANCE.value
    if fraction >= 0.95:
        return sp.ComponentStatus.PARTIAL_OUTAGE.value
    return sp.ComponentStatus.MAJOR_OUTAGE.value


def _counts_down(status: sp.ComponentStatus) -> bool:
    return status in (sp.ComponentStatus.PARTIAL_OUTAGE, sp.ComponentStatus.MAJOR_OUTAGE)


def webhook_payload(
    view: View, status_incident_id: uuid.UUID, unsubscribe_url: str | None
) -> dict[str, Any]:
    """The Statuspage webhook body subscribers' tools already parse."""
    state: si.StatusIncident = view.model.state(si.stream_for(status_incident_id))[0]
    status = view.status_json()
    return {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/",
            "generated_at": iso(view.now),
        },
        "page": {
            "id": PAGE_ID,
            "status_indicator": status["indicator"],
            "status_description": status["description"],
        },
        "incident": view.incident_json(state),
    }


def component_payload(
    view: View, send_data: dict[str, str], unsubscribe_url: str | None
) -> dict[str, Any]:
    """The Statuspage component-update webhook body."""
    status = view.status_json()
    component = view.page.components.get(send_data["component_id"])
    return {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/",
            "generated_at": iso(view.now),
        },
        "page": {
            "id": PAGE_ID,
            "status_indicator": status["indicator"],
            "status_description": status["description"],
        },
        "component_update": {
            "id": str(
                uuid.uuid5(
                    uuid.NAMESPACE_URL, f"{send_data['component_id']}@{send_data['created_at']}"
                )
            ),
            "component_id": send_data["component_id"],
            "component_type": "Component",
            "old_status": send_data["old_status"],
            "new_status": send_data["new_status"],
            "created_at": send_data["created_at"],
        },
        "component": view.component_json(component) if component else None,
    }


def subscriber_payload(app: Any, send: Any) -> dict[str, Any] | None:
    """The webhook body of a subscriber notice or component update (read-model access:
    call it from the thread that owns the model)."""
    view = View(app.model, public=True, now=app.clock())
    if send.data is not None and "component_id" in send.data:
        return component_payload(view, send.data, send.target.unsubscribe_url)
    if send.source and send.source.startswith(f"{si.STREAM_CATEGORY}-"):
        status_id = uuid.UUID(send.source.split("-", 1)[1])
        return webhook_payload(view, status_id, send.target.unsubscribe_url)
    return None
