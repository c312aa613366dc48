"""The registry of HTTP endpoints: every path a service serves, and who may call it.

Owns the vocabulary (`Access`) and the record type (`Endpoint`). Each HTTP module of a
service declares its endpoints as a module-level `ENDPOINTS` tuple and builds its URL
map from it (`url_map`), so an endpoint cannot exist without saying who may call it;
tests/e2e/test_access_matrix.py calls every declared endpoint with every role,
an expired and a revoked token, and checks the documented answer (docs/access.md).

Declarations only: nothing here authenticates (apikit.auth does).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from werkzeug.routing import Map, Rule


class Access(enum.StrEnum):
    OPEN = "open"
    """Anyone: health, metrics, the public status page and its subscription links."""
    SIGNED_LINK = "signed-link"
    """The signed, expiring token in the URL is the credential (a page's ack link)."""
    INTEGRATION_KEY = "integration-key"
    """The integration key in the body is the credential (PagerDuty's `routing_key`);
    API tokens are not consulted, and a bad key is a 400, as PagerDuty answers."""
    SENDERS = "senders"
    """An integration key, or an API token of role admin or integration."""
    READERS = "readers"
    """An API token of role admin, responder or auditor."""
    DEPLOYMENT_SECRET = "deployment-secret"  # noqa: S105 - a label, not a secret
    """The service's own bearer secret when one is configured (open without it);
    API tokens are not consulted."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    """werkzeug rule syntax: `/ack/<token>`."""
    name: str
    access: Access
    methods: tuple[str, ...] | None = None
    """None: any method (werkzeug's default); the handler refuses what it does not do."""


def url_map(endpoints: Iterable[Endpoint]) -> Map:
    """The werkzeug URL map of a service's declared endpoints."""
    return Map(
        [
            Rule(e.path, endpoint=e.name, methods=list(e.methods) if e.methods else None)
            for e in endpoints
        ]
    )
