"""The log's identity: which platform a log (and so every message relayed from it) is.

This module owns the identity record and nothing else: the reserved stream
`platform-identity`, its one event `PlatformInitialized {"platform_id": "<uuid>"}`, and
reading it back. `EventStore.platform_identity()` creates it on first use.

Why it lives in the log: two platforms that share a RabbitMQ vhost must never act on each
other's messages (ADR 0012). The log is the one thing every process of a platform shares
and two platforms never do, so an identity recorded in it is one that the relay, every
worker and the deploy step agree on without any configuration.

Rules it must keep:
- the `platform` category belongs to no service (`Ownership` refuses to give it out), so
  only `platform_identity()` writes it, and only its first event;
- creation uses expected version NO_STREAM: when several processes start together, one
  append wins and the others re-read the winner's identity, so all agree;
- the first event of the stream *is* the identity, forever. Anything appended after it
  (which only a backend bypassing the library could do) is ignored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from eventlog.errors import EventLogError
from eventlog.model import RecordedEvent

IDENTITY_CATEGORY = "platform"
IDENTITY_STREAM = f"{IDENTITY_CATEGORY}-identity"
INITIALIZED = "PlatformInitialized"
SCHEMA_VERSION = 1


class PlatformIdentityError(EventLogError):
    """The log's identity stream holds something that is not a valid identity."""


@dataclass(frozen=True, slots=True)
class PlatformIdentity:
    """Which platform a log belongs to, as its identity event recorded it."""

    platform_id: uuid.UUID
    initialized_at: datetime
    position: int
    """Where the identity sits in the log: 1 on a fresh log, later on an upgraded one."""

    @property
    def short_id(self) -> str:
        """The first 12 hex digits (48 bits): enough to tell platforms on one broker
        apart, short enough to read in `rabbitmqctl list_queues`."""
        return self.platform_id.hex[:12]

    def __str__(self) -> str:
        return str(self.platform_id)


def new_identity_data() -> dict[str, str]:
    """The data of a new PlatformInitialized event: a fresh random platform id."""
    return {"platform_id": str(uuid.uuid4())}


def identity_from_event(event: RecordedEvent) -> PlatformIdentity:
    """The identity an event of the identity stream records; names the bad field."""
    where = f"{IDENTITY_STREAM} version {event.version}"
    if event.type != INITIALIZED:
        raise PlatformIdentityError(f"{where}: type {event.type!r} is not {INITIALIZED!r}")
    if event.schema_version > SCHEMA_VERSION:
        raise PlatformIdentityError(
            f"{where}: schema_version {event.schema_version} is newer than this library "
            f"understands ({SCHEMA_VERSION}); upgrade eventlog"
        )
    raw = event.data.get("platform_id")
    try:
        platform_id = uuid.UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        platform_id = None
    if platform_id is None:
        raise PlatformIdentityError(f"{where}: field 'platform_id' is not a UUID: {raw!r}")
    return PlatformIdentity(platform_id, event.recorded_at, event.position)
