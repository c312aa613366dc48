"""The normalised alert signal every ingestion path produces (Alertmanager, PagerDuty,
gRPC), so the application handles one shape."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from detection_service.alert import SourceSeverity
from detection_service.labels import Labels, label_problem

MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


class Action(enum.StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class Signal:
    action: Action
    dedup_key: str | None
    """None only for a PagerDuty trigger without one: the application makes one."""
    summary: str = ""
    severity: SourceSeverity = SourceSeverity.ERROR
    labels: Labels = field(default_factory=dict)
    annotations: Labels = field(default_factory=dict)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    idempotency: str = ""
    """Derived from the input, so a retried delivery derives the same event ids."""


def parse_time(value: Any, where: str, errors: list[str]) -> datetime | None:
    """An RFC 3339 timestamp (Z or offset). Naive times are read as UTC."""
    if not isinstance(value, str):
        errors.append(f"{where}: must be an RFC 3339 timestamp string")
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        errors.append(f"{where}: {value[:64]!r} is not an RFC 3339 timestamp")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def string_map(value: Any, where: str, errors: list[str], *, labels: bool) -> Labels:
    """A JSON object of string values (label names checked when `labels`)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{where}: must be an object of strings")
        return {}
    result: Labels = {}
    for name, item in value.items():
        if labels:
            problem = label_problem(name, item)
            if problem:
                errors.append(f"{where}: {problem}")
                continue
        elif not isinstance(name, str) or not isinstance(item, str):
            errors.append(f"{where}.{str(name)[:64]}: must be a string")
            continue
        result[name] = item
    return result
