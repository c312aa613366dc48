"""Labels, label matchers and durations: the small vocabulary every aggregate shares.

Pure. Label names follow Prometheus (`[a-zA-Z_][a-zA-Z0-9_]*`) so what Alertmanager
sends round-trips unchanged; matchers use Alertmanager's four operators (=, !=, =~,
!~), with regular expressions anchored at both ends as Alertmanager anchors them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from contracts.matchers import (
    LABEL_NAME,
    MAX_LABEL_VALUE,
    AnyMatcher,
    Matcher,
    MatchOp,
    matches_all,
)

# Matchers moved to contracts (shared with the runbooks service); re-exported so
# detection's modules keep importing them from here.
__all__ = ["LABEL_NAME", "MAX_LABEL_VALUE", "AnyMatcher", "MatchOp", "Matcher", "matches_all"]

MAX_LABELS = 64

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
