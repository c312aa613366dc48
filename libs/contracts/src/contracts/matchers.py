"""Label matchers: Alertmanager's four operators (=, !=, =~, !~), regular expressions
anchored at both ends as Alertmanager anchors them, a missing label matching as "".

Shared vocabulary: detection's silences and routes and the runbooks service's
attachments use the same syntax and the same semantics, so a matcher a responder
writes means one thing everywhere. Pure: no I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_LABEL_VALUE = 1024


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
