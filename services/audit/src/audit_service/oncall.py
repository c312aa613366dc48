"""Who was on call at an instant, and why: replayed from the log.

Owns the audit answer to "who was on call for service X at T, and through which policy
level, schedule layer or override". Schedules are folded, as they stood at T, with the
paging service's own schedule domain (its published events and its pure `shifts`), so
the answer is the one paging would have computed then. A service's policy is the one
its latest escalation at or before T carried (the snapshot in EscalationStarted).
Reads only; never appends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from contracts.domain import InvalidCommandError, NotFoundError
from eventlog import EventFilter, EventStore, RecordedEvent
from paging_service import schedule as sch
from paging_service.common import EVENTS as PAGING_EVENTS


@dataclass(frozen=True)
class OnCallRow:
    level: int
    target: str
    user_id: str
    via: str


@dataclass(frozen=True)
class OnCallAnswer:
    policy_id: str
    policy_revision: int
    rows: list[OnCallRow]


def schedule_at(store: EventStore, schedule_id: str, at: datetime) -> list[tuple[str, str]]:
    """(user, layer:<id> | override:<id>) on call at `at`, configuration as of `at`."""
    recorded = store.read_stream(sch.stream_for(schedule_id), until=at)
    if not recorded:
        return []
    state = sch.fold(PAGING_EVENTS.from_recorded(e) for e in recorded)
    return [(s.user_id, s.source) for s in sch.shifts(state, at, at + timedelta(microseconds=1))]


def _levels_rows(store: EventStore, levels: list[Any], at: datetime) -> list[OnCallRow]:
    rows: list[OnCallRow] = []
    for index, level in enumerate(levels):
        for target in level.get("targets", []):
            kind, ident = str(target.get("kind")), str(target.get("id"))
            label = f"{kind}:{ident}"
            if kind == "user":
                rows.append(OnCallRow(index, label, ident, "direct"))
            elif kind == "schedule":
                rows.extend(
                    OnCallRow(index, label, user, via)
                    for user, via in schedule_at(store, ident, at)
                )
            else:
                rows.append(OnCallRow(index, label, "", "team (members not resolved)"))
    return rows


def who_was_on_call(store: EventStore, target: str, at: datetime) -> OnCallAnswer:
    kind, _, ident = target.strip().partition(":")
    if not ident:
        raise InvalidCommandError(
            "target", f"{target!r} is not service:<name>, policy:<id> or schedule:<id>"
        )
    if kind == "schedule":
        rows = [OnCallRow(-1, target, user, via) for user, via in schedule_at(store, ident, at)]
        return OnCallAnswer("", 0, rows)
    if kind == "policy":
        recorded = store.read_stream(f"policy-{ident}", until=at)
        if not recorded:
            raise NotFoundError(f"policy {ident} did not exist at {at.isoformat()}")
        levels: list[Any] = []
        for event in recorded:
            levels = list(event.data.get("levels", levels))
        return OnCallAnswer(ident, len(recorded) - 1, _levels_rows(store, levels, at))
    if kind == "service":
        started = [
            e
            for e in store.read_all(
                filter=EventFilter.of(event_types=["EscalationStarted"]), until=at
            )
            if e.data.get("service") == ident
        ]
        if not started:
            raise NotFoundError(f"no escalation for service {ident} started by {at.isoformat()}")
        policy = started[-1].data.get("policy") or {}
        return OnCallAnswer(
            str(policy.get("policy_id", "")),
            int(policy.get("revision", 0)),
            _levels_rows(store, list(policy.get("levels", [])), at),
        )
    raise InvalidCommandError("target", f"unknown kind {kind!r}: use service, policy or schedule")


def configuration_in_force(
    store: EventStore, incident_events: Sequence[RecordedEvent]
) -> list[dict[str, Any]]:
    """For an evidence bundle: each escalation's policy snapshot (id, revision, levels)
    and, for each level that fired, how its targets resolved at that moment (which
    person, through which layer or override)."""
    out: list[dict[str, Any]] = []
    for event in incident_events:
        if event.type == "EscalationStarted":
            policy = event.data.get("policy") or {}
            out.append(
                {
                    "what": "policy in force",
                    "escalation": event.stream,
                    "event_id": str(event.id),
                    "policy_id": policy.get("policy_id"),
                    "revision": policy.get("revision"),
                    "levels": policy.get("levels", []),
                }
            )
            levels = list(policy.get("levels", []))
            fired = [
                e
                for e in incident_events
                if e.stream == event.stream and e.type == "EscalationStepFired"
            ]
            for step in fired:
                index = int(step.data.get("level", 0))
                at = step.recorded_at
                rows = _levels_rows(store, levels[index : index + 1], at) if levels else []
                out.append(
                    {
                        "what": "schedule resolution",
                        "escalation": event.stream,
                        "event_id": str(step.id),
                        "level": index,
                        "at": at.isoformat(),
                        "resolved": [
                            {"target": r.target, "user_id": r.user_id, "via": r.via} for r in rows
                        ],
                    }
                )
    return out


def displaced_by_override(
    store: EventStore, incident_events: Sequence[RecordedEvent], user: str
) -> list[tuple[RecordedEvent, str, str]]:
    """Fired levels where `user` was on call by a schedule's layers but an override put
    someone else there: (the EscalationStepFired event, schedule:<id>, who and which
    override)."""
    found: list[tuple[RecordedEvent, str, str]] = []
    policies = {
        e.stream: list((e.data.get("policy") or {}).get("levels", []))
        for e in incident_events
        if e.type == "EscalationStarted"
    }
    for step in incident_events:
        if step.type != "EscalationStepFired":
            continue
        levels = policies.get(step.stream, [])
        index = int(step.data.get("level", 0))
        if index >= len(levels):
            continue
        at = step.recorded_at
        for target in levels[index].get("targets", []):
            if target.get("kind") != "schedule":
                continue
            recorded = store.read_stream(sch.stream_for(str(target.get("id"))), until=at)
            if not recorded:
                continue
            state = sch.fold(PAGING_EVENTS.from_recorded(e) for e in recorded)
            moment = (at, at + timedelta(microseconds=1))
            layered = sch.shifts(replace(state, overrides=()), *moment)
            final = sch.shifts(state, *moment)
            if any(s.user_id == user for s in layered) and not any(
                s.user_id == user for s in final
            ):
                by = ", ".join(f"{s.user_id} ({s.source})" for s in final) or "nobody"
                found.append((step, f"schedule:{target.get('id')}", by))
    return found
