"""Action kinds: what an automated step can do, declared by kind.

An action kind is three pure things, registered in `KINDS`:

- `spec`: the pydantic model of the step's `action:` block (validated when the runbook
  is submitted; a bad field is refused with its path, e.g. `steps.2.action.url`);
- `check(spec, field)`: deeper checks (templates parse) that pydantic cannot express;
- `prepare(spec, variables)`: the request for one run, rendered from the incident
  (stored in ActionRunRequested, so what was sent never depends on today's runbook).

The adapter that performs a prepared request lives in `executors.py` (I/O), keyed by
the same kind name. Adding a kind (a Kubernetes API patch, an AWX job launch with job
polling, ...) is: a spec model, `check`, `prepare` here, an executor there, a line in
each registry, and a test; docs/adr/0018-runbooks.md walks through it.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contracts.domain import InvalidCommandError
from runbooks_service import templating

_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,100}$")
_SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,62}$")
_FORBIDDEN_HEADERS = {"host", "content-length", "idempotency-key", "x-firewatch-signature"}


class HttpAction(BaseModel):
    """An HTTP call to an existing automation system (Rundeck, AWX, Argo, a Kubernetes
    API, a home-grown endpoint)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str = Field(min_length=1, max_length=2048)
    """A template; it must render to an absolute http(s) URL."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Templates; values must not hold secrets (they are recorded)."""
    secret_headers: dict[str, str] = Field(default_factory=dict)
    """Header -> secret name, read by the executor from FIREWATCH_RUNBOOK_SECRET_<NAME>
    when it sends; never recorded."""
    body: str = Field(default="", max_length=templating.MAX_RENDERED)
    """A template (JSON usually)."""
    hmac_secret: str | None = None
    """A secret name: the body is signed with HMAC-SHA256 in X-Firewatch-Signature
    (`t=<unix>,v1=<hex>` over `<t>.<body>`, as comms' webhooks)."""
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if "{" not in value:
            _check_url(value)
        return value

    @field_validator("headers", "secret_headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a header name")
            if name.lower() in _FORBIDDEN_HEADERS:
                raise ValueError(f"{name!r} is set by the platform")
        return value

    @field_validator("secret_headers")
    @classmethod
    def _secret_names(cls, value: dict[str, str]) -> dict[str, str]:
        for secret in value.values():
            if not _SECRET_NAME.match(secret):
                raise ValueError(f"{secret!r} is not a secret name like AWX_TOKEN")
        return value

    @field_validator("hmac_secret")
    @classmethod
    def _hmac_name(cls, value: str | None) -> str | None:
        if value is not None and not _SECRET_NAME.match(value):
            raise ValueError(f"{value!r} is not a secret name like ROLLBACK_KEY")
        return value


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")


def check_http(spec: HttpAction, field: str) -> None:
    templating.check(spec.url, field=f"{field}.url")
    for name, value in spec.headers.items():
        templating.check(value, field=f"{field}.headers.{name}")
    templating.check(spec.body, field=f"{field}.body")
    if "{" in spec.url and "://" not in spec.url.split("{", 1)[0]:
        raise InvalidCommandError(
            f"{field}.url", "the scheme and host must be literal (http(s)://host/...)"
        )


def prepare_http(spec: HttpAction, variables: Mapping[str, object], field: str) -> dict[str, Any]:
    """The request for one run: every template rendered, secrets only named."""
    url = templating.render(spec.url, variables, field=f"{field}.url")
    try:
        _check_url(url)
    except ValueError as error:
        raise InvalidCommandError(f"{field}.url", str(error)) from None
    return {
        "method": spec.method,
        "url": url,
        "headers": {
            name: templating.render(value, variables, field=f"{field}.headers.{name}")
            for name, value in spec.headers.items()
        },
        "secret_headers": dict(spec.secret_headers),
        "body": templating.render(spec.body, variables, field=f"{field}.body"),
        "hmac_secret": spec.hmac_secret,
        "timeout_seconds": spec.timeout_seconds,
    }


class _Check(Protocol):
    def __call__(self, spec: Any, field: str) -> None: ...


class _Prepare(Protocol):
    def __call__(
        self, spec: Any, variables: Mapping[str, object], field: str
    ) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class ActionKind:
    name: str
    spec: type[BaseModel]
    check: _Check
    prepare: _Prepare


KINDS: dict[str, ActionKind] = {
    "http": ActionKind("http", HttpAction, check_http, prepare_http),
}
"""Every automated step kind; a step's `kind` is one of these or `manual`."""
