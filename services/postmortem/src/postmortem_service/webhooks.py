"""Signed JSON change webhooks: every postmortem and action-item change, in log order,
to each configured receiver, so an external tracker can be kept in sync. The reminder
scheduler's bookkeeping (ReminderAttempted/Delivered/Failed/Unconfirmed) is not a change
and is left out: ReminderAttempted carries the owner's contact address.

The WebhookFeed aggregate (stream `pmhook-<receiver id>`) is the receiver's outbox
cursor, following ADR 0011's rule for deliveries: a batch is recorded as attempted
(ChangeWebhookAttempted, up to a log position) *before* it is posted, and as delivered
after the receiver answered 2xx. A crash in between leaves the batch attempted but not
delivered: it is posted again, each message flagged `X-Firewatch-Possible-Repeat: true`
and carrying the same `X-Firewatch-Event-Id`, so receivers drop duplicates.

Signature: `X-Firewatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<body>")>` (`sign`/`verify` below; the receiver rejects a stale t).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import Field

from contracts.events import DomainEvent
from eventlog import RecordedEvent
from postmortem_service.common import EVENTS, Command

STREAM_CATEGORY = "pmhook"
SCHEMA = "firewatch.postmortem-change/v1"
_NAMESPACE = uuid.UUID("0b7c6a2e-52d1-4f0e-b8a3-9f41c2d7e615")


def receiver_id(url: str) -> str:
    return uuid.uuid5(_NAMESPACE, url).hex


def stream_for(url: str) -> str:
    return f"{STREAM_CATEGORY}-{receiver_id(url)}"


@EVENTS.register
class ChangeWebhookAttempted(DomainEvent):
    url: str
    from_position: int
    to_position: int
    events: int
    attempted_at: datetime


@EVENTS.register
class ChangeWebhookDelivered(DomainEvent):
    to_position: int
    delivered_at: datetime


class AttemptBatch(Command):
    url: str
    from_position: int = Field(ge=0)
    to_position: int = Field(ge=0)
    events: int = Field(ge=1)


class RecordDelivered(Command):
    to_position: int = Field(ge=0)


@dataclass(frozen=True, slots=True)
class Feed:
    delivered: int = 0
    """The last log position the receiver acknowledged."""
    attempted: int = 0
    """The last log position ever posted (possibly not acknowledged)."""


INITIAL = Feed()


def evolve(state: Feed, event: DomainEvent) -> Feed:
    match event:
        case ChangeWebhookAttempted():
            return replace(state, attempted=max(state.attempted, event.to_position))
        case ChangeWebhookDelivered():
            return replace(state, delivered=max(state.delivered, event.to_position))
    return state


def decide(command: AttemptBatch | RecordDelivered, state: Feed) -> Sequence[DomainEvent]:
    match command:
        case AttemptBatch():
            return [
                ChangeWebhookAttempted(
                    url=command.url,
                    from_position=command.from_position,
                    to_position=command.to_position,
                    events=command.events,
                    attempted_at=command.at,
                )
            ]
        case RecordDelivered():
            if command.to_position <= state.delivered:
                return []
            return [
                ChangeWebhookDelivered(to_position=command.to_position, delivered_at=command.at)
            ]
    raise TypeError(type(command).__name__)  # pragma: no cover


def body(event: RecordedEvent) -> bytes:
    message: dict[str, Any] = {
        "schema": SCHEMA,
        "event_id": str(event.id),
        "type": event.type,
        "stream": event.stream,
        "position": event.position,
        "recorded_at": event.recorded_at.isoformat(),
        "incident_id": event.metadata.correlation_id,
        "actor": event.metadata.actor,
        "data": event.data,
    }
    return json.dumps(message, sort_keys=True).encode()


def sign(secret: bytes, payload: bytes, at: int) -> str:
    digest = hmac.new(secret, f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: bytes, header: str, payload: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver runs: the signature matches and is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - at) > tolerance:
        return False
    expected = sign(secret, payload, at).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def post(url: str, payload: bytes, headers: dict[str, str], timeout: float) -> tuple[bool, str]:
    """One POST; (accepted, reason). Never raises."""
    request = urllib.request.Request(  # noqa: S310 - configured http(s) URL
        url, data=payload, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return 200 <= response.status < 300, f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}"
    except OSError as error:
        return False, str(error)
