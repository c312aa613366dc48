"""PagerDuty Events API v2 request bodies (`POST /v2/enqueue`) → one signal.

`trigger` needs payload.summary, payload.source and payload.severity (critical, error,
warning, info); `acknowledge` and `resolve` need only routing_key and dedup_key. A
trigger without a dedup_key gets one from the application, which returns it.
PagerDuty's optional payload fields become labels (source, component, group, class)
and annotations (custom_details as JSON, links), so routing can match on them.

PagerDuty has no "service" field: `named_service` says which field names the affected
service (custom_details.service, then component, then group), for routing to put on
the incident.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from detection_service.alert import SourceSeverity
from detection_service.formats.signal import (
    MAX_DEDUP_KEY,
    MAX_SUMMARY,
    Action,
    Signal,
    parse_time,
)

SEVERITIES = ", ".join(s.value for s in SourceSeverity)
ACTIONS = ", ".join(a.value for a in Action)
OPTIONAL_LABELS = ("component", "group", "class")
SERVICE_ANNOTATION = "service"
"""Where a trigger's custom_details.service is kept: the details themselves are stored
as (possibly truncated) JSON, which routing should not have to parse."""
_ACTIONS = frozenset(a.value for a in Action)
_SEVERITIES = frozenset(s.value for s in SourceSeverity)


@dataclass(frozen=True, slots=True)
class PagerDutyEvent:
    routing_key: str
    signal: Signal


def parse(body: Any) -> tuple[PagerDutyEvent | None, list[str]]:
    """(event, []) for a valid request, (None, errors) otherwise."""
    if not isinstance(body, dict):
        return None, ["body: must be a JSON object"]
    errors: list[str] = []
    routing_key = body.get("routing_key")
    if not isinstance(routing_key, str) or not routing_key.strip():
        errors.append("routing_key: is missing or blank")
    action_raw = body.get("event_action")
    action = Action(action_raw) if isinstance(action_raw, str) and action_raw in _ACTIONS else None
    if action is None:
        errors.append(f"event_action: must be one of {ACTIONS}")
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and (
        not isinstance(dedup_key, str) or not dedup_key or len(dedup_key) > MAX_DEDUP_KEY
    ):
        errors.append(
            f"dedup_key: must be a non-empty string of at most {MAX_DEDUP_KEY} characters"
        )
        dedup_key = None
    if (
        action in (Action.ACKNOWLEDGE, Action.RESOLVE)
        and dedup_key is None
        and not any(e.startswith("dedup_key") for e in errors)
    ):
        errors.append(f"dedup_key: is required to {action.value if action else 'act'}")
    signal: Signal | None = None
    if action is Action.TRIGGER:
        signal = _trigger(body, dedup_key, errors)
    elif action is not None:
        signal = Signal(action=action, dedup_key=dedup_key, idempotency=f"pd/{action.value}")
    if errors or signal is None or not isinstance(routing_key, str):
        return None, errors
    return PagerDutyEvent(routing_key.strip(), signal), []


def _trigger(body: dict[str, Any], dedup_key: str | None, errors: list[str]) -> Signal | None:
    payload = body.get("payload")
    if not isinstance(payload, dict):
        errors.append("payload: is required for a trigger and must be an object")
        return None
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("payload.summary: is missing or blank")
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        errors.append("payload.source: is missing or blank")
    severity_raw = payload.get("severity")
    if not isinstance(severity_raw, str) or severity_raw not in _SEVERITIES:
        errors.append(f"payload.severity: must be one of {SEVERITIES}")
    started_at = None
    if payload.get("timestamp") is not None:
        started_at = parse_time(payload["timestamp"], "payload.timestamp", errors)
    labels: dict[str, str] = {}
    for name in OPTIONAL_LABELS:
        value = payload.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(f"payload.{name}: must be a string")
            continue
        labels[name] = value[:1024]
    annotations: dict[str, str] = {}
    details = payload.get("custom_details")
    if details is not None:
        try:
            annotations["custom_details"] = json.dumps(details, sort_keys=True)[:8192]
        except (TypeError, ValueError):
            errors.append("payload.custom_details: must be JSON")
        # Free-form details; only a string `service` means something to us.
        named = details.get("service") if isinstance(details, dict) else None
        if isinstance(named, str) and named.strip():
            annotations[SERVICE_ANNOTATION] = named.strip()[:1024]
    links = body.get("links")
    if links is not None:
        if not isinstance(links, list) or not all(
            isinstance(link, dict) and isinstance(link.get("href"), str) for link in links
        ):
            errors.append("links: must be a list of objects with an href")
        else:
            for index, link in enumerate(links[:10]):
                annotations[f"link_{index}"] = str(link["href"])[:2048]
    for name in ("client", "client_url"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(f"{name}: must be a string")
        elif isinstance(value, str):
            annotations[name] = value[:2048]
    if errors or not isinstance(summary, str) or not isinstance(source, str):
        return None
    labels["source"] = source[:1024]
    severity = SourceSeverity(str(severity_raw))
    labels["severity"] = severity.value
    return Signal(
        action=Action.TRIGGER,
        dedup_key=dedup_key,
        summary=summary.strip()[:MAX_SUMMARY],
        severity=severity,
        labels=labels,
        annotations=annotations,
        started_at=started_at,
        idempotency="pd/trigger",
    )


def named_service(labels: Mapping[str, str], annotations: Mapping[str, str]) -> str:
    """The affected service a trigger names, "" when it names none.

    In order: payload.custom_details.service (the sender calls it a service),
    payload.component ("the part of the source responsible", which is what a service is
    in most setups), then payload.group (a "logical grouping of components", the
    coarsest hint). Blank values count as absent: Alertmanager's pagerduty_configs send
    empty strings for fields left unset.
    """
    for value in (
        annotations.get(SERVICE_ANNOTATION, ""),
        labels.get("component", ""),
        labels.get("group", ""),
    ):
        if value.strip():
            return value.strip()
    return ""
