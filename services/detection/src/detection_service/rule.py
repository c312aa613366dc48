"""The Rule aggregate (`rule-<name>`) and pure rule evaluation over pushed samples.

Rules come from YAML files (`rules:` list) or from commands; either way each
definition is recorded (`RuleDefined`, `RuleRemoved`). Two kinds:

    threshold   aggregation(series over window) <comparison> threshold
    ratio       sum(numerator over window) / sum(denominator over window) <cmp> threshold

grouped by `group_by` labels, one alert per group. The canonical example, 5xx
responses / all responses > 1% for two minutes, is a ratio rule with `for: 2m`.
Evaluation is a pure function of the samples in the window and the instant; the
application turns observations into pending → firing → resolved alert events, so
`pending_at` and `fired_at` record the true time to detect.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml  # type: ignore[import-untyped]
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from contracts.domain import InvalidCommandError, NotFoundError
from contracts.events import DomainEvent
from detection_service.alert import SourceSeverity
from detection_service.labels import LABEL_NAME, Labels, canonical, check_labels, parse_duration
from detection_service.registry import EVENTS

STREAM_CATEGORY = "rule"
RULE_NAME = r"^[A-Za-z][A-Za-z0-9_.:-]{0,99}$"
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"


def stream_for(name: str) -> str:
    return f"{STREAM_CATEGORY}-{name}"


Seconds = Annotated[
    timedelta,
    # Accept "2m"/"30s"/numbers on input; store plain seconds, which reload unchanged.
    Field(json_schema_extra={"description": "a duration: 30s, 2m, 1h or seconds"}),
    PlainSerializer(lambda d: d.total_seconds(), return_type=float),
]


class SeriesSelector(BaseModel):
    """Samples whose name equals `name` and whose labels include every `labels` pair."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=METRIC_NAME)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value)

    def selects(self, name: str, labels: Mapping[str, str]) -> bool:
        return name == self.name and all(labels.get(k) == v for k, v in self.labels.items())


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


class RuleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(pattern=RULE_NAME)
    kind: Literal["threshold", "ratio"]
    series: SeriesSelector | None = None
    numerator: SeriesSelector | None = None
    denominator: SeriesSelector | None = None
    aggregation: Literal["sum", "avg", "max", "min", "last"] = "sum"
    window: Seconds = timedelta(minutes=1)
    comparison: Literal[">", ">=", "<", "<=", "==", "!="]
    threshold: float
    for_: Seconds = Field(default=timedelta(0), alias="for")
    keep_firing_for: Seconds = timedelta(0)
    severity: SourceSeverity = SourceSeverity.WARNING
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    group_by: tuple[str, ...] = ()

    @field_validator("window", "for_", "keep_firing_for", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> timedelta:
        return parse_duration(value)

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        return check_labels(value)

    @field_validator("group_by")
    @classmethod
    def _group_by(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not LABEL_NAME.match(name):
                raise ValueError(f"label name {name!r} must match [a-zA-Z_][a-zA-Z0-9_]*")
        return value

    @model_validator(mode="after")
    def _shape(self) -> RuleSpec:
        if self.window <= timedelta(0):
            raise ValueError("window must be longer than 0s")
        if self.kind == "threshold":
            if self.series is None:
                raise ValueError("a threshold rule needs `series`")
            if self.numerator is not None or self.denominator is not None:
                raise ValueError("a threshold rule takes `series`, not numerator/denominator")
        else:
            if self.numerator is None or self.denominator is None:
                raise ValueError("a ratio rule needs `numerator` and `denominator`")
            if self.series is not None:
                raise ValueError("a ratio rule takes numerator/denominator, not `series`")
        return self

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or (
            f"{self.name}: {self.kind} {self.comparison} {self.threshold:g}"
        )


# ---------------------------------------------------------------------- YAML files


class RulesFileError(ValueError):
    """Every problem in one rules file, each naming the file, the rule and the field."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def parse_rules(text: str, source: str = "<rules>") -> list[RuleSpec]:
    """Parse a rules document; raise RulesFileError listing every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesFileError([f"{source}: not valid YAML: {exc}"]) from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RulesFileError([f"{source}: expected a mapping with a `rules:` list"])
    rules: list[RuleSpec] = []
    problems: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(document["rules"]):
        label = f"rules[{index}]"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            label += f" ({raw['name']})"
        try:
            spec = RuleSpec.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "rule"
                problems.append(f"{source}: {label}.{where}: {error['msg']}")
            continue
        if spec.name in seen:
            problems.append(f"{source}: {label}.name: {spec.name!r} is defined twice")
            continue
        seen.add(spec.name)
        rules.append(spec)
    if problems:
        raise RulesFileError(problems)
    return rules


def load_rules_file(path: Path) -> list[RuleSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesFileError([f"{path}: cannot read: {exc}"]) from None
    return parse_rules(text, str(path))


# ---------------------------------------------------------------------- events


@EVENTS.register
class RuleDefined(DomainEvent):
    rule: RuleSpec
    defined_by: str
    defined_at: datetime


@EVENTS.register
class RuleRemoved(DomainEvent):
    name: str
    removed_by: str
    removed_at: datetime


@dataclass(frozen=True, slots=True)
class DefineRule:
    at: datetime
    rule: RuleSpec
    defined_by: str


@dataclass(frozen=True, slots=True)
class RemoveRule:
    at: datetime
    removed_by: str


RuleCommand = DefineRule | RemoveRule


@dataclass(frozen=True, slots=True)
class Rule:
    spec: RuleSpec | None = None
    defined_at: datetime | None = None
    removed: bool = False

    @property
    def active(self) -> bool:
        return self.spec is not None and not self.removed


INITIAL = Rule()


def evolve(state: Rule, event: DomainEvent) -> Rule:
    match event:
        case RuleDefined():
            return replace(state, spec=event.rule, defined_at=event.defined_at, removed=False)
        case RuleRemoved():
            return replace(state, removed=True)
    return state


def fold(events: Iterable[DomainEvent], state: Rule = INITIAL) -> Rule:
    for event in events:
        state = evolve(state, event)
    return state


def decide(command: RuleCommand, state: Rule) -> Sequence[DomainEvent]:
    match command:
        case DefineRule():
            if state.active and state.spec == command.rule:
                return []  # loading the same file twice records nothing
            return [
                RuleDefined(rule=command.rule, defined_by=command.defined_by, defined_at=command.at)
            ]
        case RemoveRule():
            if not state.active:
                raise NotFoundError("no such rule")
            assert state.spec is not None
            return [
                RuleRemoved(
                    name=state.spec.name, removed_by=command.removed_by, removed_at=command.at
                )
            ]
    raise InvalidCommandError("command", f"unknown command {type(command).__name__}")


# ---------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: Labels
    value: float
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Observation:
    """One group's value at an instant, and whether the rule's condition holds."""

    group_labels: Labels
    value: float
    active: bool

    def dedup_key(self, rule_name: str) -> str:
        return f"{rule_name}{canonical(self.group_labels)}"


def _aggregate(how: str, values: list[float]) -> float:
    match how:
        case "sum":
            return math.fsum(values)
        case "avg":
            return math.fsum(values) / len(values)
        case "max":
            return max(values)
        case "min":
            return min(values)
    return values[-1]  # "last": samples arrive in timestamp order per group


def _grouped(
    selector: SeriesSelector, samples: Iterable[Sample], group_by: Sequence[str]
) -> dict[tuple[tuple[str, str], ...], list[float]]:
    groups: dict[tuple[tuple[str, str], ...], list[float]] = {}
    ordered = sorted(
        (s for s in samples if selector.selects(s.name, s.labels)), key=lambda s: s.timestamp
    )
    for sample in ordered:
        key = tuple((name, sample.labels.get(name, "")) for name in group_by)
        groups.setdefault(key, []).append(sample.value)
    return groups


def evaluate(spec: RuleSpec, samples: Iterable[Sample], at: datetime) -> list[Observation]:
    """Observations at `at` from samples in (at - window, at]. A group with no data (or
    a zero denominator) has no observation: the condition is not known to hold."""
    start = at - spec.window
    in_window = [s for s in samples if start < s.timestamp <= at]
    compare = _COMPARISONS[spec.comparison]
    observations: list[Observation] = []
    if spec.kind == "threshold":
        assert spec.series is not None
        for key, values in sorted(_grouped(spec.series, in_window, spec.group_by).items()):
            value = _aggregate(spec.aggregation, values)
            observations.append(Observation(dict(key), value, compare(value, spec.threshold)))
        return observations
    assert spec.numerator is not None
    assert spec.denominator is not None
    numerators = _grouped(spec.numerator, in_window, spec.group_by)
    denominators = _grouped(spec.denominator, in_window, spec.group_by)
    for key, below in sorted(denominators.items()):
        total = math.fsum(below)
        if total == 0:
            continue
        value = math.fsum(numerators.get(key, [])) / total
        observations.append(Observation(dict(key), value, compare(value, spec.threshold)))
    return observations
