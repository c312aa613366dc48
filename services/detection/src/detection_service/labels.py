"""Labels, label matchers and durations: the small vocabulary every aggregate shares.

Pure. Label names follow Prometheus (`[a-zA-Z_][a-zA-Z0-9_]*`) so what Alertmanager
sends round-trips unchanged; matchers use Alertmanager's four operators (=, !=, =~,
!~), with regular expressions anchored at both ends as Alertmanager anchors them.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_LABELS = 64
MAX_LABEL_VALUE = 1024

Labels = dict[str, str]


def label_problem(name: object, value: object) -> str | None:
    """Why a label is unacceptable, or None."""
    if not isinstance(name, str) or not LABEL_NAME.match(name):
        return f"label name {name!r} must match [a-zA-Z_][a-zA-Z0-9_]*"
    if not isinstance(value, str):
        return f"label {name!r} must have a string value"
    if len(value) > MAX_LABEL_VALUE:
        return f"label {name!r} is longer than {MAX_LABEL_VALUE} characters"
    return None


def stable_id(*parts: str, length: int = 32) -> str:
    """A stream-safe id from a hash of its parts (hex, so any input is a valid name)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:length]


def canonical(labels: Mapping[str, str]) -> str:
    """A deterministic text form of a label set, e.g. `{env="prod",service="checkout"}`."""
    inner = ",".join(f"{k}={v!r}" for k, v in sorted(labels.items()))
    return "{" + inner + "}"


class MatchOp(enum.StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


_MATCHER_TEXT = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


class Matcher(BaseModel):
    """One label condition. A missing label matches as the empty string (Alertmanager)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=LABEL_NAME.pattern)
    op: MatchOp = MatchOp.EQUAL
    value: str = Field(max_length=MAX_LABEL_VALUE)

    @model_validator(mode="after")
    def _regex_compiles(self) -> Matcher:
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(
                    f"{self.value!r} is not a valid regular expression: {exc}"
                ) from None
        return self

    @classmethod
    def parse(cls, text: str) -> Matcher:
        """`service="checkout"`, `env!=dev`, `job=~"api|web"`."""
        found = _MATCHER_TEXT.match(text)
        if found is None:
            raise ValueError(f'{text!r} is not a matcher like name="value" (=, !=, =~, !~)')
        return cls(name=found.group(1), op=MatchOp(found.group(2)), value=found.group(3))

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        match self.op:
            case MatchOp.EQUAL:
                return actual == self.value
            case MatchOp.NOT_EQUAL:
                return actual != self.value
            case MatchOp.REGEX:
                return re.fullmatch(self.value, actual) is not None
            case MatchOp.NOT_REGEX:
                return re.fullmatch(self.value, actual) is None

    def __str__(self) -> str:
        return f'{self.name}{self.op.value}"{self.value}"'


def _matcher_from_any(value: Any) -> Any:
    return Matcher.parse(value) if isinstance(value, str) else value


AnyMatcher = Annotated[Matcher, BeforeValidator(_matcher_from_any)]


def matches_all(matchers: tuple[Matcher, ...] | list[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> timedelta:
    """`90`, `90s`, `2m`, `1.5h`, `1d` or a timedelta → timedelta (never negative)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        # ValueError, not TypeError: pydantic reports only ValueErrors as field errors.
        raise ValueError("must be a duration like 30s, 2m or 1h")  # noqa: TRY004
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (found := _DURATION.match(value.strip())):
        seconds = float(found.group(1)) * _UNITS[found.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration like 30s, 2m or 1h")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class LabelSet(BaseModel):
    """Validates a label dict (used by config models)."""

    model_config = ConfigDict(frozen=True)

    labels: Labels = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _valid(cls, value: Labels) -> Labels:
        return check_labels(value)


def check_labels(value: Mapping[str, str]) -> Labels:
    if len(value) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels")
    for name, label_value in value.items():
        problem = label_problem(name, label_value)
        if problem:
            raise ValueError(problem)
    return dict(value)
