"""A runbook definition: what a responder submits, validated before anything is stored.

A runbook is Markdown text plus an ordered list of steps, each `manual` or an
automated action of a declared kind (`actions.KINDS`), attached to incidents by
services and label matchers (Alertmanager's syntax, `contracts.matchers`, the same as
detection's silences). `parse(document)` returns the normalised definition or raises
InvalidCommandError naming the field (`steps.2.action.url`, `matchers.0`, `steps.1.kind`).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contracts.domain import InvalidCommandError
from contracts.matchers import AnyMatcher, Matcher, matches_all
from runbooks_service import actions, templating
from runbooks_service.common import Severity, Slug

MANUAL = "manual"
MAX_STEPS = 50
MAX_TEXT = 50_000


class Guards(BaseModel):
    """The guard rails of an automated step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    severity_floor: Severity | None = None
    """Run only for incidents at least this severe (P1 is the most severe)."""
    max_runs: int = Field(default=3, ge=1, le=10_000)
    per_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    """At most `max_runs` runs of this step (any target) per `per_minutes`."""
    needs_approval: bool = False
    """The incident commander must approve each run (recorded as an event)."""
    dry_run: bool = False
    """Render and record the request, never send it."""


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    title: str = Field(min_length=1, max_length=200)
    kind: str = MANUAL
    text: str = Field(default="", max_length=MAX_TEXT)
    """Markdown instructions for the responder."""
    action: dict[str, Any] | None = None
    """The action's specification, by kind (validated against `actions.KINDS`)."""
    automatic: bool = False
    """Run when an incident matching the runbook is declared (only if the guards allow)."""
    idempotent: bool = False
    """Safe to send twice: retried with an idempotency key. False: never retried after
    an ambiguous failure; the incident shows 'outcome unknown, check by hand'."""
    target: str = Field(default="{{ incident.services[0] }}", min_length=1, max_length=500)
    """A template naming what the action acts on; never two runs at once per target."""
    guards: Guards = Guards()

    @model_validator(mode="after")
    def _kind(self) -> Step:
        if self.kind == MANUAL:
            if self.action is not None:
                raise ValueError("a manual step has no action")
            if self.automatic:
                raise ValueError("a manual step cannot run automatically")
            return self
        return self


class Definition(BaseModel):
    """A validated runbook document (what RunbookPublished stores)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=MAX_TEXT)
    """The runbook's Markdown."""
    services: tuple[Slug, ...] = Field(default=(), max_length=50)
    matchers: tuple[AnyMatcher, ...] = Field(default=(), max_length=20)
    steps: tuple[Step, ...] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            seen.add(step.id)
        return steps

    @model_validator(mode="after")
    def _attached(self) -> Definition:
        if not self.services and not self.matchers:
            raise ValueError("attach the runbook to at least one service or matcher")
        return self

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def action_spec(self, step: Step) -> BaseModel:
        """The step's action as its kind's model (already validated by `parse`)."""
        return actions.KINDS[step.kind].spec.model_validate(step.action or {})

    def document(self) -> dict[str, Any]:
        """The JSON form stored in the log (matchers as text)."""
        data = self.model_dump(mode="json")
        data["matchers"] = [str(m) for m in self.matchers]
        return data

    # ------------------------------------------------------------------ matching

    def specificity(self, services: tuple[str, ...], labels: Mapping[str, str]) -> int | None:
        """How specifically the runbook matches an incident, or None when it does not:
        one point for a named service, one per matcher."""
        if self.services and not set(self.services) & set(services):
            return None
        if self.matchers:
            label_sets = [{**labels, "service": s} for s in services] or [dict(labels)]
            if "service" in labels:
                label_sets.append(dict(labels))
            if not any(matches_all(list(self.matchers), ls) for ls in label_sets):
                return None
        return (1 if self.services else 0) + len(self.matchers)


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "runbook"


def parse(document: Any) -> Definition:
    """Validate a submitted runbook document; InvalidCommandError names the first bad
    field. Unknown step kinds, bad URLs, bad templates and missing fields are refused."""
    if not isinstance(document, Mapping):
        raise InvalidCommandError("runbook", "must be a mapping with id, title and steps")
    try:
        definition = Definition.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidCommandError(_field(tuple(first["loc"])), first["msg"]) from None
    for index, step in enumerate(definition.steps):
        field = f"steps.{index}"
        if step.kind == MANUAL:
            continue
        kind = actions.KINDS.get(step.kind)
        if kind is None:
            known = ", ".join(sorted([MANUAL, *actions.KINDS]))
            raise InvalidCommandError(
                f"{field}.kind", f"unknown step kind {step.kind!r}; known: {known}"
            )
        if step.action is None:
            raise InvalidCommandError(f"{field}.action", f"a {step.kind} step needs an action")
        try:
            spec = kind.spec.model_validate(step.action)
        except ValidationError as error:
            first = error.errors()[0]
            raise InvalidCommandError(
                _field((field, "action", *first["loc"])), first["msg"]
            ) from None
        kind.check(spec, f"{field}.action")
        templating.check(step.target, field=f"{field}.target")
    return definition


def matcher_text(matchers: tuple[Matcher, ...]) -> list[str]:
    return [str(m) for m in matchers]
