"""Why was someone paged, and why was someone not: answers read off the log.

Owns two pure walks over recorded events (no storage, no clock):
- `why_paged` follows a page's causation chain backwards (each event's `causation_id`
  names the event that caused it) to its root (the rule firing or external alert, the
  alert group, the incident), then the escalation that carried the policy snapshot and
  level, then the page's own events: notification rule, each delivery attempt, each
  receipt, the acknowledgement;
- `why_not` finds where a person fell out of an incident's paging chain: never among a
  fired level's responders, a step deferred to business hours, acknowledged by someone
  else first, or every contact method failing.
It reads only event types and fields from the paging and incident contracts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventlog import RecordedEvent


@dataclass(frozen=True)
class Step:
    what: str
    detail: str
    event: RecordedEvent | None


_SUMMARY_KEYS = (
    "title",
    "severity",
    "status",
    "rule",
    "level",
    "step",
    "responders",
    "user_id",
    "method_id",
    "kind",
    "address",
    "attempt",
    "reason",
    "by",
    "alert_key",
    "value",
    "values",
    "samples",
    "via",
    "until",
)


def summary(event: RecordedEvent) -> str:
    data = event.data
    parts = [f"{key}={data[key]}" for key in _SUMMARY_KEYS if key in data]
    policy = data.get("policy")
    if isinstance(policy, Mapping):
        parts.append(
            f"policy={policy.get('policy_id', policy.get('id', '?'))}"
            f" revision={policy.get('revision', '?')}"
        )
    return f"{event.stream}@{event.version}: " + (", ".join(parts) or "-")


def causation_chain(
    start: RecordedEvent, by_id: Mapping[str, RecordedEvent]
) -> list[RecordedEvent]:
    """`start` and every event that (transitively) caused it, root first."""
    chain = [start]
    seen = {str(start.id)}
    current = start
    while current.metadata.causation_id and current.metadata.causation_id not in seen:
        cause = by_id.get(current.metadata.causation_id)
        if cause is None:
            break
        seen.add(str(cause.id))
        chain.append(cause)
        current = cause
    return list(reversed(chain))


def why_paged(
    page_events: Sequence[RecordedEvent],
    by_id: Mapping[str, RecordedEvent],
    escalation_events: Sequence[RecordedEvent],
    alert_events: Sequence[RecordedEvent] = (),
) -> list[Step]:
    """The chain behind one page, cause first.

    `causation_id` links are followed backwards from the escalation's start (and from
    the page itself where they resolve); paging's scheduler fires steps without one, so
    the page is tied to its escalation by `incident_id` and `step`. `alert_events` are
    detection's AlertPending/AlertTriggered events; those of the firing group's alert
    key, up to the firing, show the rule's pending -> firing transition and samples."""
    if not page_events:
        return []
    first = page_events[0]
    started = next((e for e in escalation_events if e.type == "EscalationStarted"), None)
    fired = next(
        (
            e
            for e in escalation_events
            if e.type == "EscalationStepFired" and e.data.get("step") == first.data.get("step")
        ),
        None,
    )
    causes: list[RecordedEvent] = []
    for anchor in (started, first):
        if anchor is not None:
            causes += [c for c in causation_chain(anchor, by_id)[:-1] if c not in causes]
    causes = sorted(
        (c for c in causes if c is not started and c is not fired), key=lambda e: e.position
    )
    firing = next((c for c in causes if c.type == "AlertGroupFiring"), None)
    origin: list[RecordedEvent] = []
    if firing is not None:
        key = firing.data.get("alert_key")
        origin = [
            e
            for e in alert_events
            if e.data.get("alert_key") == key and e.position < firing.position and e not in causes
        ]
    steps = [Step(f"alert: {e.type}", summary(e), e) for e in origin]
    steps += [Step(f"cause: {e.type}", summary(e), e) for e in causes]
    if started is not None:
        steps.append(Step("policy in force", summary(started), started))
    if fired is not None:
        steps.append(Step("level fired", summary(fired), fired))
    steps += [Step(_page_step(e.type), summary(e), e) for e in page_events]
    page_id = first.stream.removeprefix("page-")
    for event in escalation_events:
        if event.type == "EscalationStopped" and (event.data.get("page_id") in (None, page_id)):
            steps.append(Step("acknowledged", summary(event), event))
    return steps


def _page_step(event_type: str) -> str:
    return {
        "ResponderPaged": "paged (level resolved to this person)",
        "PageNotificationScheduled": "notification rule",
        "PageDeliveryAttempted": "delivery attempt",
        "PageDelivered": "receipt: delivered",
        "PageFailed": "receipt: failed",
        "PageDeliveryUnconfirmed": "receipt: unknown",
        "PageDeliveryExhausted": "every contact method failed",
        "PageAcknowledged": "acknowledged",
        "PageCancelled": "cancelled",
    }.get(event_type, event_type)


def why_not(
    user: str,
    incident_events: Iterable[RecordedEvent],
    displaced: Sequence[tuple[RecordedEvent, str, str]] = (),
) -> tuple[str, list[Step]]:
    """A verdict and the events that support it. `displaced` lists the fired levels
    where an override replaced the person (oncall.displaced_by_override)."""
    events = list(incident_events)
    fired = [e for e in events if e.type == "EscalationStepFired"]
    deferred = [e for e in events if e.type == "EscalationDeferred"]
    pages = [e for e in events if e.type == "ResponderPaged" and e.data.get("user_id") == user]
    steps = [Step("level fired", summary(e), e) for e in fired]
    steps += [Step("deferred to business hours", summary(e), e) for e in deferred]
    if not pages:
        if any(user in (e.data.get("responders") or ()) for e in fired):
            return f"{user} was resolved as a responder but no page was created", steps
        if deferred and not fired:
            return f"{user} was not paged: the escalation was deferred to business hours", steps
        if displaced:
            step, schedule, by = displaced[0]
            steps.append(Step(f"overridden on {schedule}", f"{user} -> {by}", step))
            return (
                f"{user} was on call by {schedule}'s rotation, but an override put {by} "
                f"there when level {step.data.get('level')} fired",
                steps,
            )
        responders = sorted({r for e in fired for r in (e.data.get("responders") or ())})
        return (
            f"{user} was not on call for any level that fired (paged instead: "
            f"{', '.join(responders) or 'nobody'}); an override or the rotation put "
            "someone else there",
            steps,
        )
    page_streams = {e.stream for e in pages}
    page_events = [e for e in events if e.stream in page_streams]
    steps += [Step(_page_step(e.type), summary(e), e) for e in page_events]
    acked = [e for e in events if e.type == "PageAcknowledged"]
    if any(e.data.get("by") == user for e in acked):
        return f"{user} was paged and acknowledged", steps
    if acked:
        return (
            f"{user} was paged, but {acked[0].data.get('by', 'someone else')} acknowledged first",
            steps,
        )
    if any(e.type in ("PageDeliveryExhausted", "PageFailed") for e in page_events):
        return f"{user} was paged, but their contact methods failed", steps
    if any(e.type == "PageDelivered" for e in page_events):
        return f"{user} was paged and the page was delivered, but not acknowledged", steps
    return f"{user} was paged; no delivery receipt was recorded", steps


def index_by_id(events: Iterable[RecordedEvent]) -> dict[str, RecordedEvent]:
    return {str(e.id): e for e in events}


def as_dicts(steps: Sequence[Step]) -> list[dict[str, Any]]:
    return [{"what": s.what, "detail": s.detail} for s in steps]
