"""The API credential behind the command being handled, for the events' metadata.

Owns one context variable. The API layer (apikit.rpc.guarded, and HTTP endpoints that
take an API token) sets it for the duration of one authenticated call; the command
runner stamps it into every event that call appends as `metadata.credential`, so each
servicer passes only the actor (the person the token is bound to) and the token's name
reaches the log for audit without being threaded through every use case
(docs/adr/0017). Workers, schedulers and tests that never set it append no credential.

It must never hold the token itself: only its name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CREDENTIAL: ContextVar[str | None] = ContextVar("firewatch_credential", default=None)


def current_credential() -> str | None:
    """The name of the API token of the call being handled, if any."""
    return _CREDENTIAL.get()


@contextmanager
def acting_with(credential: str | None) -> Iterator[None]:
    """Run a block on behalf of the API token named `credential`."""
    reset = _CREDENTIAL.set(credential)
    try:
        yield
    finally:
        _CREDENTIAL.reset(reset)
