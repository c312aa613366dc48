"""Prometheus Alertmanager webhook payloads (version 4) → signals.

One POST carries a group of alerts; each alert is identified by its `fingerprint` (a
hash of its labels), which becomes the dedup key. A firing alert triggers, a resolved
one resolves. The idempotency key is fingerprint + startsAt + status, so Alertmanager's
retries and repeat notifications derive the same event ids.

Labels arrive as Prometheus set them and are kept unchanged; `named_service` says which
of them names the affected service.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from detection_service.alert import SourceSeverity
from detection_service.formats.signal import (
    MAX_SUMMARY,
    Action,
    Signal,
    parse_time,
    string_map,
)
from detection_service.labels import canonical

MAX_ALERTS = 1000

# Alertmanager has no fixed severity vocabulary; these are the common label values.
SEVERITY_LABEL_VALUES: dict[str, SourceSeverity] = {
    "critical": SourceSeverity.CRITICAL,
    "page": SourceSeverity.CRITICAL,
    "error": SourceSeverity.ERROR,
    "high": SourceSeverity.ERROR,
    "major": SourceSeverity.ERROR,
    "warning": SourceSeverity.WARNING,
    "warn": SourceSeverity.WARNING,
    "medium": SourceSeverity.WARNING,
    "minor": SourceSeverity.WARNING,
    "info": SourceSeverity.INFO,
    "informational": SourceSeverity.INFO,
    "low": SourceSeverity.INFO,
    "none": SourceSeverity.INFO,
}
DEFAULT_SEVERITY = SourceSeverity.ERROR
"""What Alertmanager's own PagerDuty integration sends when no severity is set."""
SERVICE_LABELS = ("service", "job")
"""Labels naming the affected service, most specific first: `service` by convention,
else the Prometheus scrape `job`, which every scraped series carries and which names
the service in most setups."""


def parse(body: Any) -> tuple[list[Signal], list[str]]:
    """(signals, []) for a valid notification, ([], errors) otherwise."""
    errors: list[str] = []
    if not isinstance(body, dict):
        return [], ["body: must be a JSON object (an Alertmanager webhook notification)"]
    if body.get("version") != "4":
        errors.append(f'version: must be "4", got {str(body.get("version"))[:20]!r}')
    status = body.get("status")
    if status not in ("firing", "resolved"):
        errors.append("status: must be one of firing, resolved")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        errors.append("alerts: must be a non-empty list")
        return [], errors
    if len(alerts) > MAX_ALERTS:
        errors.append(f"alerts: at most {MAX_ALERTS} alerts per notification")
        return [], errors
    common = string_map(body.get("commonAnnotations"), "commonAnnotations", errors, labels=False)
    signals = [
        signal
        for index, raw in enumerate(alerts)
        if (signal := _alert(raw, f"alerts[{index}]", common, errors)) is not None
    ]
    if errors:
        return [], errors
    return signals, []


def _alert(raw: Any, where: str, common: dict[str, str], errors: list[str]) -> Signal | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: must be an object")
        return None
    before = len(errors)
    status = raw.get("status")
    if status not in ("firing", "resolved"):
        errors.append(f"{where}.status: must be one of firing, resolved")
    labels = string_map(raw.get("labels"), f"{where}.labels", errors, labels=True)
    if not labels and not any(e.startswith(f"{where}.labels") for e in errors):
        errors.append(f"{where}.labels: must be a non-empty object")
    annotations = string_map(raw.get("annotations"), f"{where}.annotations", errors, labels=False)
    starts_at = parse_time(raw.get("startsAt"), f"{where}.startsAt", errors)
    ends_raw = raw.get("endsAt")
    ends_at = None
    if ends_raw is not None and not (isinstance(ends_raw, str) and ends_raw.startswith("0001-")):
        ends_at = parse_time(ends_raw, f"{where}.endsAt", errors)
    fingerprint = raw.get("fingerprint")
    if fingerprint is None:
        # Older senders omit it; the label set identifies the alert just as well.
        fingerprint = hashlib.sha256(canonical(labels).encode()).hexdigest()[:16]
    elif not isinstance(fingerprint, str) or not fingerprint.strip() or len(fingerprint) > 255:
        errors.append(f"{where}.fingerprint: must be a non-empty string of at most 255 characters")
    if len(errors) > before or starts_at is None:
        return None
    severity_label = labels.get("severity", "").lower()
    severity = SEVERITY_LABEL_VALUES.get(severity_label, DEFAULT_SEVERITY)
    merged = {**common, **annotations}
    summary = (
        merged.get("summary")
        or merged.get("description")
        or f"{labels.get('alertname', 'alert')} {canonical(labels)}"
    )[:MAX_SUMMARY]
    action = Action.TRIGGER if status == "firing" else Action.RESOLVE
    return Signal(
        action=action,
        dedup_key=str(fingerprint),
        summary=summary,
        severity=severity,
        labels=labels,
        annotations=merged,
        started_at=starts_at,
        ended_at=ends_at,
        idempotency=f"am/{fingerprint}/{raw.get('startsAt')}/{status}",
    )


def named_service(labels: Mapping[str, str], annotations: Mapping[str, str]) -> str:
    """The affected service an alert's labels name (see SERVICE_LABELS), "" when none."""
    del annotations  # Alertmanager says everything about an alert in its labels
    for name in SERVICE_LABELS:
        value = labels.get(name, "").strip()
        if value:
            return value
    return ""
