"""Action templates: jinja2 in a sandbox, for URLs, headers, bodies and targets.

SandboxedEnvironment (no access to internals, no imports), StrictUndefined (a
misspelled variable is an error, not an empty string), no autoescape (bodies are JSON
or text, never HTML). A template that does not parse is refused when the runbook is
submitted; one that cannot be rendered for an incident refuses that run. Pure: no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from contracts.domain import InvalidCommandError

MAX_RENDERED = 64 * 1024

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_ENV.filters["json"] = lambda value: __import__("json").dumps(value)


def check(source: str, *, field: str) -> None:
    """Refuse a template that does not parse, naming the field."""
    try:
        _ENV.parse(source)
    except TemplateError as error:
        raise InvalidCommandError(field, f"is not a valid template: {error}") from None


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    # Compiling is most of a render's cost; a step's templates are rendered per run.
    return _ENV.from_string(source)


def render(source: str, variables: Mapping[str, object], *, field: str) -> str:
    """`source` rendered with `variables`; InvalidCommandError(field) when it cannot be."""
    try:
        text = _compiled(source).render(**variables)
    except TemplateError as error:
        raise InvalidCommandError(field, f"cannot be rendered: {error}") from None
    if len(text) > MAX_RENDERED:
        raise InvalidCommandError(field, f"renders to more than {MAX_RENDERED} characters")
    return text
