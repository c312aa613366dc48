"""Prefill: the postmortem's generated timeline, responders and key durations, read
from the log and never retyped.

The incident's cross-service timeline is every event carrying its id as
`metadata.correlation_id`, in log order (DESIGN "One logical log"), plus the detection
events of the alert that declared it (correlated with the alert group, and the alert's
own stream, where its pending and firing instants and sample values live), plus the
status changes of the synthetic checks that raised those alerts (ADR 0026): an alert
labelled `source=synthetic, check=<name>` brings in `check-<name>`'s changes from the
failure in force at detection to its recovery, worded relative to detection
("checkout first failed at step pay (status 503), 6 min before detection").

`TimelineIndex` is the projection that finds them; `prefill` turns them into entries
and durations. Generated entries are immutable (they are log events); they are
annotated by their event id. Durations follow docs/metrics.md (definition v1): every
clock starts at the impact start, which is editable (ImpactStartSet) and defaults to
the first alert pending/firing instant, else the declaration.

Pure except for reading the recorded events it is handed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import checkseries
from eventlog import EventFilter, RecordedEvent, category_of

ALERT_STARTS = {"AlertPending": "pending_at", "AlertTriggered": "fired_at"}
ACKS = {
    "PageAcknowledged": ("acknowledged_at", "by"),
    "SourceAlertAcknowledged": ("acknowledged_at", "acknowledged_by"),
    "AlertAcknowledged": ("acknowledged_at", "acknowledged_by"),
    "AlertGroupAcknowledged": ("acknowledged_at", "acknowledged_by"),
}
"""Acknowledgements: each acker is a responder."""
ACKS_COUNTED = frozenset({"PageAcknowledged", "SourceAlertAcknowledged"})
"""The ones the time to acknowledge counts, as metrics definition v1 does
(docs/metrics.md): paging's page acknowledgement, or the incident's record of an
acknowledgement at the alert's source. Detection's own AlertAcknowledged and
AlertGroupAcknowledged are on the timeline but reach the incident as its
SourceAlertAcknowledged, so the postmortem's TTA and the report's are the same figure."""
_TIME_FIELDS = (
    "applied_at",
    "pending_at",
    "fired_at",
    "acknowledged_at",
    "declared_at",
    "resolved_at",
    "reopened_at",
    "changed_at",
    "assigned_at",
    "added_at",
    "paged_at",
    "delivered_at",
    "attached_at",
    "required_at",
    "posted_at",
    "marked_at",
    "requested_at",
    "refused_at",
    "approved_at",
    "attempted_at",
    "recorded_at",
)
_PEOPLE_FIELDS = (
    "declared_by",
    "commander",
    "changed_by",
    "applied_by",
    "resolved_by",
    "reopened_by",
    "author",
    "by",
    "user_id",
    "acknowledged_by",
    "marked_by",
    "approved_by",
    "posted_by",
)
_SKIP_TYPES = frozenset({"IncidentNumberAllocated"})
_LABELLED = frozenset(
    {"AlertPending", "AlertTriggered", "AlertGroupFiring", "AlertGroupAlertAdded"}
)
MAX_CHECK_CHANGES = 20
"""Status changes of one check on one timeline: a flapping check must not drown it."""


class TimelineIndex:
    """Events by correlation id, and alert-group firings by their event id (the
    declaration's causation). Keeps the recorded events whole so a prefill needs no
    read per event."""

    name = "postmortem.timeline"
    filter: EventFilter | None = None

    def __init__(self) -> None:
        self.correlated: dict[str, list[RecordedEvent]] = {}
        self.firings: dict[str, tuple[str, str | None, int]] = {}
        """AlertGroupFiring event id -> (group id, alert id, the firing's log position)."""
        self.check_changes: dict[str, list[RecordedEvent]] = {}
        """check name -> its CheckStatusChanged events (one per change, never one per
        probe: bounded as the log is, ADR 0021)."""

    def apply(self, event: RecordedEvent) -> None:
        if event.type == "CheckStatusChanged" and category_of(event.stream) == "check":
            self.check_changes.setdefault(checkseries.check_name(event.stream), []).append(event)
            return
        correlation = event.metadata.correlation_id
        if correlation and event.type not in _SKIP_TYPES:
            self.correlated.setdefault(correlation, []).append(event)
        if event.type == "AlertGroupFiring":
            data = event.data
            self.firings[str(event.id)] = (
                str(data.get("group_id")),
                data.get("alert_id"),
                event.position,
            )


@dataclass(frozen=True, slots=True)
class GeneratedEntry:
    entry_id: str
    """The log event's id: what annotations name."""
    position: int
    at: datetime
    source: str
    """The stream category it came from (incident, page, alert, ...)."""
    event_type: str
    text: str
    actor: str | None


@dataclass(frozen=True, slots=True)
class Durations:
    impact_started_at: datetime | None
    impact_start_source: str
    """"edited", "alert" (first pending/firing) or "declared"."""
    detected_at: datetime | None
    first_alert_at: datetime | None
    acknowledged_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None


@dataclass(frozen=True, slots=True)
class Prefill:
    entries: tuple[GeneratedEntry, ...]
    responders: tuple[str, ...]
    durations: Durations
    components: tuple[str, ...] = field(default=())


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 instant as pydantic writes it; naive values are taken as UTC."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _time(data: dict[str, Any], fallback: datetime) -> datetime:
    for name in _TIME_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            try:
                return parse_timestamp(value)
            except ValueError:
                continue
    return fallback


def describe(event: RecordedEvent) -> str:
    d: dict[str, Any] = dict(event.data)
    match event.type:
        case "AlertPending":
            return f"Alert pending: {d.get('summary', '')} {_sample(d)}".strip()
        case "AlertTriggered":
            return f"Alert firing: {d.get('summary', '')} {_sample(d)}".strip()
        case "AlertGroupFiring":
            return f"Alert group firing: {d.get('title') or d.get('summary', '')}"
        case "IncidentDeclared":
            return f"Incident declared ({d.get('severity')}): {d.get('title', '')}"
        case "CommanderAssigned":
            return f"{d.get('commander')} became incident commander"
        case "SeverityChanged":
            return (
                f"Severity {d.get('from_severity')} → {d.get('to_severity')}: {d.get('reason', '')}"
            )
        case "StatusChanged":
            return f"Status {d.get('from_status')} → {d.get('to_status')}"
        case "MitigationApplied":
            temp = " (temporary)" if d.get("temporary") else ""
            return f"Mitigation{temp}, {d.get('kind')}: {d.get('description', '')}"
        case "TimelineNoteAdded":
            return f"Note by {d.get('author')}: {d.get('text', '')}"
        case "IncidentResolved":
            return f"Resolved: {d.get('summary', '')}"
        case "IncidentReopened":
            return f"Reopened: {d.get('reason', '')}"
        case "RootCauseFollowUpRequired":
            return "Root cause follow-up required (resolved on temporary mitigations)"
        case "ResponderPaged":
            return f"Paged {d.get('user_id')} (step {d.get('step')})"
        case "PageDelivered":
            return f"Page delivered via {d.get('method_id')}"
        case "PageAcknowledged":
            return f"Page acknowledged by {d.get('by')}"
        case "EscalationExhausted":
            return f"Escalation reached nobody: {d.get('reason', '')}"
        case "StakeholderUpdatePosted":
            return _stakeholder_update(d)
        case "CheckStatusChanged":
            return _check_text(event, first=False)
    runbook = _runbook_text(event.type, d)
    if runbook is not None:
        return runbook
    # Events of services this module does not know yet still appear, by type.
    return event.type


MAX_UPDATE_CHARS = 2000
"""A stakeholder update's body on a timeline row (the comms room keeps all of it)."""


def _stakeholder_update(d: dict[str, Any]) -> str:
    heading = ", ".join(
        str(d[name]).replace("_", " ") for name in ("audience", "status") if d.get(name)
    )
    text = f"Stakeholder update ({heading})" if heading else "Stakeholder update"
    body = " ".join(str(d.get("body") or "").split())
    if len(body) > MAX_UPDATE_CHARS:
        body = body[: MAX_UPDATE_CHARS - 1] + "…"
    return f"{text}: {body}" if body else text


def _step(d: dict[str, Any]) -> str:
    runbook, step = d.get("runbook_id"), d.get("step_id")
    return f"{runbook}, step {step}" if runbook and step else str(runbook or step or "")


_RESULTS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "retrying": "failed, will be retried",
    "unknown": "outcome unknown, to be checked by hand",
}


def _runbook_text(kind: str, d: dict[str, Any]) -> str | None:
    """The runbooks service's events (services/runbooks: incident_runbooks.py, run.py)
    as sentences; None for any other type."""
    match kind:
        case "RunbooksAttached":
            names = ", ".join(
                f"{r.get('runbook_id')} rev {r.get('revision')}"
                for r in d.get("runbooks") or ()
                if isinstance(r, dict)
            )
            return f"Runbooks attached: {names}" if names else "Runbooks attached"
        case "StepMarked":
            status = str(d.get("status") or "marked").replace("_", " ")
            text = f"Runbook {_step(d)} marked {status}"
            if d.get("note"):
                text += f": {d['note']}"
            mitigation = d.get("mitigation")
            if isinstance(mitigation, dict) and mitigation.get("description"):
                lasting = "temporary" if mitigation.get("temporary") else "permanent"
                text += f" ({lasting} mitigation: {mitigation['description']})"
            return text
        case "ActionRunRequested":
            found = d.get("request")
            request: dict[str, Any] = found if isinstance(found, dict) else {}
            how = "started automatically" if d.get("automatic") else "requested"
            call = " ".join(str(request.get(k)) for k in ("method", "url") if request.get(k))
            text = f"Runbook action {_step(d)} {how}" + (f": {call}" if call else "")
            if d.get("dry_run"):
                text += " (dry run)"
            if d.get("needs_approval"):
                text += ", awaiting the incident commander's approval"
            return text
        case "ActionRunRefused":
            return f"Runbook action {_step(d)} refused by a guard rail: {d.get('reason', '')}"
        case "ActionRunApproved":
            return f"Runbook action approved by {d.get('approved_by')}"
        case "ActionAttempted":
            text = f"Runbook action called (attempt {d.get('attempt')})"
            if d.get("repeat_of"):
                text += f", repeating attempt {d['repeat_of']} whose result was lost"
            return text
        case "ActionResultRecorded":
            outcome = str(d.get("outcome") or "")
            details = [
                f"HTTP {d['status_code']}" if d.get("status_code") else "",
                f"{d['duration_ms']} ms" if d.get("duration_ms") is not None else "",
                str(d.get("error") or ""),
            ]
            text = f"Runbook action {_RESULTS.get(outcome, outcome or 'result recorded')}"
            if d.get("timed_out"):
                text += " (timed out)"
            shown = ", ".join(part for part in details if part)
            return f"{text}: {shown}" if shown else text
        case "ActionOutcomeUnconfirmed":
            return f"Runbook action outcome unknown, to be checked by hand: {d.get('reason', '')}"
        case "ActionDryRunRecorded":
            return "Runbook action dry run recorded (nothing sent)"
    return None


def _check_text(event: RecordedEvent, *, first: bool) -> str:
    d: dict[str, Any] = dict(event.data)
    name = checkseries.check_name(event.stream)
    status = d.get("status")
    if status == checkseries.UP:
        return f"Synthetic check {name} recovered"
    if status == checkseries.CHECKER_ERROR:
        return f"Synthetic check {name} could not run (checker error: {d.get('detail', '')})"
    step = f" at step {d['failing_step']}" if d.get("failing_step") else ""
    detail = f" ({d['detail']})" if d.get("detail") else ""
    return f"Synthetic check {name} {'first failed' if first else 'failed'}{step}{detail}"


def _relative(at: datetime, detected: datetime) -> str:
    seconds = (at - detected).total_seconds()
    size = abs(seconds)
    amount = f"{size / 60:.0f} min" if size >= 60 else f"{size:.0f} s"
    if size < 1:
        return "at detection"
    return f"{amount} {'before' if seconds < 0 else 'after'} detection"


def _sample(d: dict[str, Any]) -> str:
    annotations = d.get("annotations") or {}
    value = annotations.get("value") if isinstance(annotations, dict) else None
    return f"(value {value})" if value else ""


def _iso(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            return None
    return None


def prefill(
    events: Iterable[RecordedEvent],
    *,
    impact_started_at: datetime | None = None,
) -> Prefill:
    """Entries, responders and durations from an incident's correlated events (any
    order; deduplicated by id, sorted by log position)."""
    unique = {event.id: event for event in events}
    ordered = sorted(unique.values(), key=lambda e: e.position)
    entries: list[GeneratedEntry] = []
    responders: dict[str, None] = {}
    components: dict[str, None] = {}
    first_alert: datetime | None = None
    declared: datetime | None = None
    acknowledged: datetime | None = None
    mitigated: datetime | None = None
    resolved: datetime | None = None
    check_entries: list[tuple[int, RecordedEvent]] = []
    for event in ordered:
        data: dict[str, Any] = dict(event.data)
        at = _time(data, event.recorded_at)
        if event.metadata.occurred_at is not None:
            at = event.metadata.occurred_at
        if event.type == "CheckStatusChanged":
            # The probe's due time, not when the writer appended it.
            at = _iso(data.get("at")) or at
            check_entries.append((len(entries), event))
        entries.append(
            GeneratedEntry(
                str(event.id),
                event.position,
                at,
                event.category,
                event.type,
                describe(event),
                event.metadata.actor,
            )
        )
        for name in _PEOPLE_FIELDS:
            value = data.get(name)
            if (
                isinstance(value, str)
                and value
                and ":" not in value
                and event.type != "ResponderPaged"
            ):
                responders[value] = None
        match event.type:
            case "AlertPending" | "AlertTriggered":
                began = _iso(data.get(ALERT_STARTS[event.type])) or at
                first_alert = began if first_alert is None else min(first_alert, began)
            case "AlertGroupFiring":
                began = _iso(data.get("fired_at")) or at
                first_alert = began if first_alert is None else min(first_alert, began)
            case "IncidentDeclared":
                declared = _iso(data.get("declared_at")) or at
                for service in data.get("services") or ():
                    components[str(service)] = None
            case "MitigationApplied":
                applied = _iso(data.get("applied_at")) or at
                mitigated = applied if mitigated is None else min(mitigated, applied)
            case "IncidentResolved":
                resolved = _iso(data.get("resolved_at")) or at  # the last one counts
            case "IncidentReopened":
                resolved = None
            case _ if event.type in ACKS:
                ack_field, by_field = ACKS[event.type]
                by = data.get(by_field)
                if isinstance(by, str) and by:
                    responders[by] = None
                if event.type in ACKS_COUNTED:
                    ack = _iso(data.get(ack_field)) or at
                    acknowledged = ack if acknowledged is None else min(acknowledged, ack)
    seen: set[str] = set()
    for index, event in check_entries:
        name = event.stream
        first = event.data.get("status") == checkseries.DOWN and name not in seen
        seen.update([name] if first else [])
        text = _check_text(event, first=first)
        if declared is not None:
            text += f", {_relative(entries[index].at, declared)}"
        entries[index] = replace(entries[index], text=text)
    start: datetime | None
    if impact_started_at is not None:
        start, source = impact_started_at, "edited"
    elif first_alert is not None:
        start, source = first_alert, "alert"
    else:
        start, source = declared, "declared"
    triggered = first_alert or declared

    def span(end: datetime | None, begin: datetime | None) -> timedelta | None:
        if end is None or begin is None:
            return None
        return max(end - begin, timedelta(0))

    durations = Durations(
        impact_started_at=start,
        impact_start_source=source,
        detected_at=declared,
        first_alert_at=first_alert,
        acknowledged_at=acknowledged,
        mitigated_at=mitigated,
        resolved_at=resolved,
        time_to_detect=span(declared, start),
        time_to_acknowledge=span(acknowledged, triggered),
        time_to_mitigate=span(mitigated, start),
        time_to_resolve=span(resolved, start),
    )
    return Prefill(tuple(entries), tuple(responders), durations, tuple(components))


def incident_events(
    index: TimelineIndex,
    incident_id: uuid.UUID,
    own: Sequence[RecordedEvent],
    alert_stream: Any,
) -> list[RecordedEvent]:
    """The incident's own events (`own`: pass them when they may lack the correlation
    id), every event correlated with it, and the events of the alert group and alert
    that declared it (`alert_stream(name)` reads a stream)."""
    correlated = index.correlated.get(str(incident_id), [])
    events = [*own, *correlated]
    declared = next((e for e in events if e.type == "IncidentDeclared"), None)
    cause = declared.metadata.causation_id if declared is not None else None
    if cause and cause in index.firings:
        group_id, alert_id, fired_at_position = index.firings[cause]
        events.extend(index.correlated.get(group_id, []))
        if alert_id:
            events.extend(
                alert_occurrence(
                    alert_stream(f"alert-{alert_id}"),
                    fired_at_position,
                    _resolved_position(events),
                )
            )
    events.extend(check_events(index, events))
    return events


_OCCURRENCE_STARTS = frozenset({"AlertPending", "AlertTriggered"})


def alert_occurrence(
    alert_events: Iterable[RecordedEvent], fired_at_position: int, resolved_position: int | None
) -> list[RecordedEvent]:
    """The part of an `alert-<id>` stream that belongs to one incident.

    The stream holds every occurrence of a recurring alert (detection's id is stable
    per dedup key), so an incident takes the occurrence that was current when its
    group fired (the last one to begin at or before `fired_at_position`) and the
    occurrences that began while it was still open (before `resolved_position`, the
    incident's last resolution; None while it is open). An occurrence begins with an
    AlertPending, or an AlertTriggered that no AlertPending announced."""
    taken: list[RecordedEvent] = []
    current: list[RecordedEvent] = []
    open_ = False
    for event in alert_events:
        begins = event.type in _OCCURRENCE_STARTS and not open_
        if begins:
            if event.position > fired_at_position and (
                resolved_position is not None and event.position > resolved_position
            ):
                break  # a later occurrence: another incident's
            if event.position <= fired_at_position:
                current = []  # an earlier occurrence: not this incident's
        if event.type in _OCCURRENCE_STARTS:
            open_ = True
        elif event.type == "AlertResolved":
            open_ = False
        (current if event.position <= fired_at_position else taken).append(event)
    return [*current, *taken]


def _resolved_position(events: Sequence[RecordedEvent]) -> int | None:
    """The log position of the incident's last resolution, None while it is open."""
    resolved: int | None = None
    for event in sorted(events, key=lambda e: e.position):
        if event.type == "IncidentResolved":
            resolved = event.position
        elif event.type == "IncidentReopened":
            resolved = None
    return resolved


def check_events(index: TimelineIndex, events: Sequence[RecordedEvent]) -> list[RecordedEvent]:
    """The status changes of the synthetic checks whose alerts are in `events`: from
    the failure in force at detection (or the last one before it) to the first recovery
    after the incident was resolved (or every later one while it is open)."""
    names: dict[str, None] = {}
    detected: datetime | None = None
    resolved: datetime | None = None
    for event in events:
        data = event.data
        if event.type in _LABELLED:
            labels = data.get("labels") or {}
            if labels.get("source") == "synthetic" and labels.get("check"):
                names[str(labels["check"])] = None
        elif event.type == "IncidentDeclared":
            detected = _iso(data.get("declared_at")) or event.recorded_at
        elif event.type == "IncidentResolved":
            resolved = _iso(data.get("resolved_at")) or event.recorded_at
        elif event.type == "IncidentReopened":
            resolved = None
    if detected is None:
        return []
    found: list[RecordedEvent] = []
    for name in names:
        recorded = index.check_changes.get(name, [])
        changes = [checkseries.StatusChange.from_recorded(e) for e in recorded]
        series = checkseries.CheckSeries(name, changes=changes)
        began = series.failure_at(detected)
        if began is None:
            continue
        taken: list[RecordedEvent] = []
        last: str | None = None
        for event, change in zip(recorded, changes, strict=True):
            if change.at < began.at:
                continue
            if resolved is not None and change.at > resolved and last == checkseries.UP:
                break  # recovered before the incident closed: later changes are not its
            taken.append(event)
            last = change.status
            if len(taken) >= MAX_CHECK_CHANGES:
                break
            if resolved is not None and change.at > resolved and last == checkseries.UP:
                break  # still failing when the incident closed: up to its recovery
        found.extend(taken)
    return found
