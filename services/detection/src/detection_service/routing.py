"""Detection configuration and the pure decisions it drives: routing (alert labels →
incident severity P1-P4 and services), the group key, inhibition.

An incident's services come from, in order: the first matching route's `services`;
the alert's `service_label` label; the service its format names (`named_service` in
formats/alertmanager.py and formats/pagerduty.py); `default_services`.

`DetectionConfig` is one pydantic model loaded from YAML (`load_config`), with errors
that name the file and the field. Nothing here reads a clock or the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from detection_service.alert import FlapPolicy, SourceKind, SourceSeverity
from detection_service.formats import alertmanager, pagerduty
from detection_service.group import IncidentSeverity, Routed
from detection_service.labels import LABEL_NAME, AnyMatcher, canonical, matches_all, parse_duration
from detection_service.rule import Seconds


def _duration(value: Any) -> timedelta:
    return parse_duration(value)


def _label_names(value: Sequence[str]) -> Sequence[str]:
    for name in value:
        if not LABEL_NAME.match(name):
            raise ValueError(f"label name {name!r} must match [a-zA-Z_][a-zA-Z0-9_]*")
    return value


class Route(BaseModel):
    """First matching route wins; unset fields fall back to the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matchers: tuple[AnyMatcher, ...] = Field(min_length=1)
    incident_severity: IncidentSeverity | None = None
    services: tuple[str, ...] = ()


class InhibitRule(BaseModel):
    """A firing source alert mutes target alerts whose `equal` labels match its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_matchers: tuple[AnyMatcher, ...] = Field(min_length=1)
    target_matchers: tuple[AnyMatcher, ...] = Field(min_length=1)
    equal: tuple[str, ...] = ()

    @field_validator("equal")
    @classmethod
    def _equal(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_label_names(value))


class FlappingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    changes: int = Field(default=6, ge=0, description="0 disables flap detection")
    window: Seconds = timedelta(minutes=10)

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> timedelta:
        return _duration(value)


class RateLimitConfig(BaseModel):
    """A token bucket per integration (PagerDuty documents 120 events/min per key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    events_per_second: float = Field(default=2.0, gt=0)
    burst: int = Field(default=120, ge=1)


DEFAULT_SEVERITY_MAP: dict[SourceSeverity, IncidentSeverity] = {
    SourceSeverity.CRITICAL: IncidentSeverity.P1,
    SourceSeverity.ERROR: IncidentSeverity.P2,
    SourceSeverity.WARNING: IncidentSeverity.P3,
    SourceSeverity.INFO: IncidentSeverity.P4,
}


class DetectionConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    group_by: tuple[str, ...] = ("service", "env")
    group_window: Seconds = timedelta(hours=1)
    """An alert joins an open group with its key if the group's last alert joined less
    than this long ago; otherwise it opens a new group (a new incident)."""
    routes: tuple[Route, ...] = ()
    severity_map: dict[SourceSeverity, IncidentSeverity] = Field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_MAP)
    )
    service_label: str = "service"
    default_services: tuple[str, ...] = ("unknown",)
    inhibit_rules: tuple[InhibitRule, ...] = ()
    flapping: FlappingConfig = FlappingConfig()
    auto_resolve_after: Seconds | None = timedelta(hours=24)
    auto_resolve_sources: frozenset[SourceKind] = frozenset(
        {SourceKind.PAGERDUTY, SourceKind.GRPC, SourceKind.ALERTMANAGER}
    )
    rate_limit: RateLimitConfig = RateLimitConfig()
    rules_files: tuple[Path, ...] = ()

    @field_validator("group_window", mode="before")
    @classmethod
    def _group_window(cls, value: Any) -> timedelta:
        return _duration(value)

    @field_validator("auto_resolve_after", mode="before")
    @classmethod
    def _auto_resolve(cls, value: Any) -> timedelta | None:
        return None if value is None else _duration(value)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_label_names(value))

    @property
    def flap_policy(self) -> FlapPolicy:
        return FlapPolicy(self.flapping.changes, self.flapping.window)

    def auto_resolve_for(self, source: SourceKind) -> timedelta | None:
        if self.auto_resolve_after is None or source not in self.auto_resolve_sources:
            return None
        return self.auto_resolve_after


class ConfigError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def parse_config(text: str, source: str = "<config>") -> DetectionConfig:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: not valid YAML: {exc}"]) from None
    if not isinstance(document, dict):
        raise ConfigError([f"{source}: expected a mapping at the top level"])
    try:
        return DetectionConfig.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(
            [
                f"{source}: {'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}"
                for e in exc.errors()
            ]
        ) from None


def load_config(path: Path) -> DetectionConfig:
    """Load a YAML config; relative `rules_files` are resolved against its folder."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    config = parse_config(text, str(path))
    files = tuple(f if f.is_absolute() else path.parent / f for f in config.rules_files)
    return config.model_copy(update={"rules_files": files})


# ---------------------------------------------------------------------- decisions


NamedService = Callable[[Mapping[str, str], Mapping[str, str]], str]
NAMED_SERVICE: Mapping[SourceKind, NamedService] = {
    SourceKind.ALERTMANAGER: alertmanager.named_service,
    SourceKind.PAGERDUTY: pagerduty.named_service,
}
"""Per format, which of an alert's fields name its service. gRPC, rule and heartbeat
alerts carry labels chosen on this platform, so `service_label` is all they need."""


def route(
    config: DetectionConfig,
    labels: Mapping[str, str],
    severity: SourceSeverity,
    summary: str,
    *,
    source: SourceKind = SourceKind.GRPC,
    annotations: Mapping[str, str] | None = None,
) -> Routed:
    """Incident severity and services for the alert that opens a group."""
    incident_severity = config.severity_map.get(severity, DEFAULT_SEVERITY_MAP[severity])
    services: tuple[str, ...] = ()
    for candidate in config.routes:
        if matches_all(candidate.matchers, labels):
            incident_severity = candidate.incident_severity or incident_severity
            services = candidate.services
            break
    if not services:
        named = labels.get(config.service_label, "").strip()
        if not named and source in NAMED_SERVICE:
            named = NAMED_SERVICE[source](labels, annotations or {})
        services = (named,) if named else config.default_services
    return Routed(
        title=summary[:200] or "alert", incident_severity=incident_severity, services=services
    )


def group_key(config: DetectionConfig, labels: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The key that decides which alerts share a group, and the labels it is made of.
    With no group-by labels present, an alert groups alone (by all its labels)."""
    chosen = {name: labels[name] for name in config.group_by if labels.get(name)}
    if not chosen:
        return canonical(labels), dict(labels)
    return canonical(chosen), chosen


@dataclass(frozen=True, slots=True)
class FiringAlert:
    alert_id: str
    alert_key: str
    labels: Mapping[str, str]


def inhibitor(
    config: DetectionConfig,
    target: Mapping[str, str],
    firing: Iterable[FiringAlert],
    *,
    target_id: str = "",
) -> FiringAlert | None:
    """The firing alert that inhibits an alert with labels `target`, if any."""
    candidates = list(firing)
    for rule in config.inhibit_rules:
        if not matches_all(rule.target_matchers, target):
            continue
        for source in candidates:
            if source.alert_id == target_id or not matches_all(rule.source_matchers, source.labels):
                continue
            if all(source.labels.get(n, "") == target.get(n, "") for n in rule.equal):
                return source
    return None
