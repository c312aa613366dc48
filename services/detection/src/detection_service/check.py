"""The Check aggregate (`check-<name>`): a synthetic transaction's definition and the
state changes of its results.

Pure. A check is an HTTP(S) transaction (one or more steps, values passed between
them), a TCP connect or a DNS resolution, run every `interval` by the detection
writer (ADR 0021). Its log is bounded on purpose: `CheckDefined` per definition,
`CheckStatusChanged` only when the outcome changes (up, down, checker error), and
`CheckSummaryRecorded` once per summary period; every probe becomes samples for the
rule engine and a point in an in-memory ring, never an event.

Owns the definition's schema and validation (every refusal names the field), the
events and the fold. It never opens a socket: probing lives in `probes.py`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts.domain import InvalidCommandError, NotFoundError
from contracts.events import DomainEvent
from detection_service.alert import SourceSeverity
from detection_service.labels import check_labels, parse_duration
from detection_service.registry import EVENTS

STREAM_CATEGORY = "check"
NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
MIN_INTERVAL = timedelta(seconds=1)
MAX_TIMEOUT = timedelta(seconds=60)
MAX_STEPS = 10


def stream_for(name: str) -> str:
    return f"{STREAM_CATEGORY}-{name}"


class Outcome(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    """The target failed: refused, timed out, wrong status or body, bad certificate."""
    CHECKER_ERROR = "checker_error"
    """The checker could not probe (its own resolver failed, a template could not be
    filled): says nothing about the target, so it never counts as the target down."""


# ---------------------------------------------------------------------- definition


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JsonEquals(_Strict):
    path: str = Field(min_length=1, description="dotted path: data.items.0.id")
    value: Any


class Assertion(_Strict):
    """Exactly one of the fields: one thing the response must satisfy."""

    status: int | None = Field(default=None, ge=100, le=599)
    body_contains: str | None = Field(default=None, min_length=1)
    body_matches: str | None = Field(default=None, min_length=1)
    json_equals: JsonEquals | None = None
    cert_valid_days: int | None = Field(default=None, ge=0)
    latency_below_ms: int | None = Field(default=None, gt=0)

    @field_validator("body_matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one(self) -> Assertion:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of status, body_contains, body_matches, json_equals, "
                f"cert_valid_days, latency_below_ms (got {', '.join(given) or 'none'})"
            )
        return self


class Extract(_Strict):
    """Where a step finds a value for later steps: exactly one of json/header/regex."""

    json_path: str | None = Field(default=None, alias="json")
    header: str | None = None
    regex: str | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one(self) -> Extract:
        given = [v for v in (self.json_path, self.header, self.regex) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of json, header, regex")
        if self.regex is not None:
            try:
                if re.compile(self.regex).groups < 1:
                    raise ValueError("regex needs one capturing group")
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return self


class HttpStep(_Strict):
    name: str = Field(default="", max_length=64)
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    url: str = Field(min_length=1, max_length=2048)
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = Field(default="", max_length=64 * 1024)
    timeout: float = Field(default=10.0, gt=0, le=MAX_TIMEOUT.total_seconds())
    tls_verify: bool = True
    ca_file: str = Field(default="", max_length=1024, description="PEM CAs to trust instead")
    assertions: tuple[Assertion, ...] = (Assertion(status=200),)
    extract: dict[str, Extract] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> float:
        return parse_duration(value).total_seconds()

    @field_validator("extract")
    @classmethod
    def _names(cls, value: dict[str, Extract]) -> dict[str, Extract]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"variable name {name!r} must match [A-Za-z_][A-Za-z0-9_]*")
        return value


class CheckSpec(_Strict):
    """A check as written in YAML/JSON (and stored in `CheckDefined.spec`)."""

    name: str = Field(pattern=NAME)
    kind: Literal["http", "tcp", "dns"]
    interval: float = Field(default=60.0, description="seconds between runs")
    steps: tuple[HttpStep, ...] = ()
    host: str = Field(default="", max_length=253)
    port: int = Field(default=0, ge=0, le=65535)
    timeout: float = Field(default=5.0, gt=0, le=MAX_TIMEOUT.total_seconds())
    expect_addresses: tuple[str, ...] = ()
    max_total_latency_ms: int | None = Field(default=None, gt=0)
    for_: float = Field(default=0.0, ge=0, alias="for", description="seconds failing")
    severity: SourceSeverity = SourceSeverity.ERROR
    labels: dict[str, str] = Field(default_factory=dict)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("interval", "for_", "timeout", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value).total_seconds()

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: float) -> float:
        if value < MIN_INTERVAL.total_seconds():
            raise ValueError("must be at least 1s")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value)

    @model_validator(mode="after")
    def _shape(self) -> CheckSpec:
        if self.kind == "http":
            if not self.steps:
                raise ValueError("an http check needs `steps` (at least one request)")
            if len(self.steps) > MAX_STEPS:
                raise ValueError(f"at most {MAX_STEPS} steps")
            known: set[str] = set()
            for index, step in enumerate(self.steps):
                texts = [step.url, step.body, *step.headers.values()]
                for text in texts:
                    for variable in VARIABLE.findall(text):
                        if variable not in known:
                            raise ValueError(
                                f"steps[{index}] uses {{{{{variable}}}}}, which no "
                                "earlier step extracts"
                            )
                known.update(step.extract)
        else:
            if self.steps:
                raise ValueError(f"a {self.kind} check takes host/port, not `steps`")
            if not self.host:
                raise ValueError(f"a {self.kind} check needs `host`")
            if self.kind == "tcp" and not self.port:
                raise ValueError("a tcp check needs `port` (1-65535)")
        return self

    def step_names(self) -> list[str]:
        if self.kind != "http":
            return [self.kind]
        return [s.name or f"step{i + 1}" for i, s in enumerate(self.steps)]


def parse_spec(raw: Any, prefix: str = "") -> CheckSpec:
    """Validate a definition; InvalidCommandError naming the first bad field
    (`steps.0.url`, `interval`, ...) and listing every problem in its message."""
    if not isinstance(raw, dict):
        raise InvalidCommandError(prefix or "check", "must be a mapping")
    try:
        return CheckSpec.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "check"
            message = error["msg"].removeprefix("Value error, ")
            problems.append((f"{prefix}{where}", message))
        field, message = problems[0]
        rest = "; ".join(f"{f}: {m}" for f, m in problems[1:])
        raise InvalidCommandError(field, message + (f" (also {rest})" if rest else "")) from None


# ---------------------------------------------------------------------- events


@EVENTS.register
class CheckDefined(DomainEvent):
    name: str
    kind: str
    spec: dict[str, Any]
    """The whole definition as `CheckSpec.model_dump(by_alias=True)`."""
    defined_by: str
    defined_at: datetime


@EVENTS.register
class CheckRemoved(DomainEvent):
    removed_by: str
    removed_at: datetime


@EVENTS.register
class CheckStatusChanged(DomainEvent):
    """The outcome differs from the last recorded one (or is the first)."""

    status: str
    previous: str | None = None
    at: datetime
    failing_step: str = ""
    detail: str = ""
    excerpt: str = ""


@EVENTS.register
class CheckSummaryRecorded(DomainEvent):
    """One period's probes in numbers: enough for uptime bars once the ring is gone."""

    period_start: datetime
    period_end: datetime
    runs: int
    up: int
    down: int
    checker_errors: int
    latency_p50_ms: float
    latency_max_ms: float


# ---------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True)
class DefineCheck:
    at: datetime
    spec: CheckSpec
    defined_by: str


@dataclass(frozen=True, slots=True)
class RemoveCheck:
    at: datetime
    removed_by: str


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    at: datetime
    status: Outcome
    failing_step: str = ""
    detail: str = ""
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class RecordSummary:
    period_start: datetime
    period_end: datetime
    runs: int
    up: int
    down: int
    checker_errors: int
    latency_p50_ms: float
    latency_max_ms: float


CheckCommand = DefineCheck | RemoveCheck | RecordOutcome | RecordSummary


# ---------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True)
class Check:
    name: str = ""
    spec: CheckSpec | None = None
    defined_at: datetime | None = None
    active: bool = False
    status: Outcome | None = None
    status_since: datetime | None = None
    first_failed_at: datetime | None = None
    """When the current failure began (None while up): "when did it first fail?"."""
    last_summary_end: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.defined_at is not None


INITIAL = Check()


def evolve(state: Check, event: DomainEvent) -> Check:
    match event:
        case CheckDefined():
            return replace(
                state,
                name=event.name,
                spec=CheckSpec.model_validate(event.spec),
                defined_at=state.defined_at or event.defined_at,
                active=True,
            )
        case CheckRemoved():
            return replace(state, active=False)
        case CheckStatusChanged():
            status = Outcome(event.status)
            failed = state.first_failed_at
            if status is Outcome.UP:
                failed = None
            elif status is Outcome.DOWN and failed is None:
                failed = event.at
            return replace(state, status=status, status_since=event.at, first_failed_at=failed)
        case CheckSummaryRecorded():
            return replace(state, last_summary_end=event.period_end)
    return state


def fold(events: Iterable[DomainEvent], state: Check = INITIAL) -> Check:
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: CheckCommand, state: Check) -> Sequence[DomainEvent]:
    match command:
        case DefineCheck():
            spec = command.spec
            if state.active and state.spec == spec:
                return []  # the same definition again is a retry, not a change
            return [
                CheckDefined(
                    name=spec.name,
                    kind=spec.kind,
                    spec=spec.model_dump(mode="json", by_alias=True),
                    defined_by=command.defined_by,
                    defined_at=command.at,
                )
            ]
        case RemoveCheck():
            if not state.active:
                raise NotFoundError(f"no check named {state.name or 'that'}")
            return [CheckRemoved(removed_by=command.removed_by, removed_at=command.at)]
        case RecordOutcome():
            if not state.active or state.status is command.status:
                return []
            return [
                CheckStatusChanged(
                    status=command.status.value,
                    previous=state.status.value if state.status else None,
                    at=command.at,
                    failing_step=command.failing_step,
                    detail=command.detail[:500],
                    excerpt=command.excerpt[:500],
                )
            ]
        case RecordSummary():
            if not state.exists or command.runs == 0:
                return []
            if state.last_summary_end is not None and command.period_end <= state.last_summary_end:
                return []
            return [
                CheckSummaryRecorded(
                    period_start=command.period_start,
                    period_end=command.period_end,
                    runs=command.runs,
                    up=command.up,
                    down=command.down,
                    checker_errors=command.checker_errors,
                    latency_p50_ms=command.latency_p50_ms,
                    latency_max_ms=command.latency_max_ms,
                )
            ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")
