"""Stakeholder update templates: one per audience, rendered in a sandbox.

Owns which templates exist (internal, executive, public by default; deployments may
add their own) and how a user-written template is rendered: jinja2's
SandboxedEnvironment (no attribute access to internals, no imports), StrictUndefined
(a misspelled variable is an error, not an empty string), no autoescape (the output is
plain text; every HTML surface escapes it again). A bad template is refused as an
InvalidCommandError naming the field. Pure: no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import UTC, datetime

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from comms_service.common import MAX_BODY
from contracts.domain import InvalidCommandError


class Audience(enum.StrEnum):
    INTERNAL = "internal"
    EXECUTIVE = "executive"
    PUBLIC = "public"


DEFAULT_TEMPLATES: dict[Audience, str] = {
    Audience.INTERNAL: (
        "[{{ reference }} {{ severity }}] {{ status | upper }}: {{ title }}\n"
        "{{ message }}\n"
        "Commander: {{ commander or 'unassigned' }}."
        "{% if next_update_by %} Next update by {{ next_update_by }}.{% endif %}"
    ),
    Audience.EXECUTIVE: (
        "{{ reference }} ({{ severity }}) is {{ status }}. {{ message }}"
        "{% if next_update_by %} Next update by {{ next_update_by }}.{% endif %}"
    ),
    Audience.PUBLIC: (
        "{{ message }}"
        "{% if next_update_by %} We will post another update by {{ next_update_by }}.{% endif %}"
    ),
}

SAMPLE_VARIABLES: dict[str, object] = {
    "reference": "INC-1",
    "title": "Checkout returns 5xx",
    "severity": "P1",
    "status": "investigating",
    "commander": "alice",
    "comms_lead": None,
    "message": "We are investigating.",
    "next_update_by": "10:30 UTC",
}
"""Every variable an update template is rendered with, and an example value: a
deployment's templates are rendered with these at start, so a misspelt variable stops
the process instead of the first update."""


def due_text(due_by: datetime, now: datetime) -> str:
    """A promise's time as people read it: "14:30 UTC" today, with the day otherwise
    ("Mon 30 Nov 12:00 UTC": a P3 promise made on Friday evening falls due on Monday)."""
    due, today = due_by.astimezone(UTC), now.astimezone(UTC)
    if due.date() == today.date():
        return due.strftime("%H:%M UTC")
    return due.strftime("%a %d %b %H:%M UTC")


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def render(source: str, variables: Mapping[str, object], *, field: str = "template") -> str:
    """Render `source` with `variables`; InvalidCommandError(field) when it cannot be."""
    if len(source) > MAX_BODY:
        raise InvalidCommandError(field, f"at most {MAX_BODY} characters")
    try:
        text = _ENV.from_string(source).render(**variables)
    except TemplateError as error:
        raise InvalidCommandError(field, f"cannot be rendered: {error}") from None
    text = text.strip()
    if not text:
        raise InvalidCommandError(field, "renders to an empty update")
    if len(text) > MAX_BODY:
        raise InvalidCommandError(field, f"renders to more than {MAX_BODY} characters")
    return text


def check(source: str, *, field: str = "template") -> None:
    """Refuse a template that does not parse (checked when it is saved)."""
    try:
        _ENV.parse(source)
    except TemplateError as error:
        raise InvalidCommandError(field, f"is not a valid template: {error}") from None
