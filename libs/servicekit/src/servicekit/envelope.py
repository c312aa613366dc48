"""The wire format of one recorded event on RabbitMQ, both ways.

This module owns the envelope: the JSON body (every `RecordedEvent` field, so that a
consumer sees exactly what the log holds and can even re-verify the event's hash) and
the AMQP properties the relay sets on the message. It is pure: no kombu, no nameko, so
both the relay (threads) and the consumers (eventlet) share one definition and tests
need no broker.

Body (UTF-8 JSON object)::

    {"envelope": 1, "id": "<uuid>", "stream": "incident-42", "version": 0,
     "position": 17, "type": "IncidentDeclared", "schema_version": 1, "data": {...},
     "metadata": {"correlation_id": ..., "causation_id": ..., "actor": ...,
                  "occurred_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ" | null},
     "recorded_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "prev_hash": "<64 hex>",
     "hash": "<64 hex>"}

Properties: `message_id` = event id (consumers and RabbitMQ tooling deduplicate by it),
`type` = event type, `content_type` = application/json, persistent delivery, and headers
`x-stream`, `x-position`, `x-correlation-id`, `x-envelope` so that routing, tracing and
parking tools can read them without parsing the body, and `x-firewatch-platform`: the
id of the platform whose log holds the event (ADR 0012), which every consumer checks
against its own log's before acting.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventlog.chain import format_timestamp
from eventlog.model import EventMetadata, RecordedEvent, parse_timestamp

ENVELOPE_VERSION = 1
"""Bumped only for an incompatible change of the body; decode() refuses newer ones."""

CONTENT_TYPE = "application/json"
CONTENT_ENCODING = "utf-8"
PERSISTENT = 2
"""AMQP delivery_mode 2: the broker writes the message to disk (quorum: to its log)."""

HEADER_STREAM = "x-stream"
HEADER_POSITION = "x-position"
HEADER_CORRELATION_ID = "x-correlation-id"
HEADER_ENVELOPE = "x-envelope"
HEADER_PLATFORM = "x-firewatch-platform"


class EnvelopeError(ValueError):
    """A message body that is not a valid event envelope (a poison message)."""


@dataclass(frozen=True, slots=True)
class WireMessage:
    """An encoded event: the body plus the AMQP properties to publish it with."""

    body: bytes
    message_id: str
    type: str
    headers: Mapping[str, Any] = field(default_factory=dict)
    content_type: str = CONTENT_TYPE
    content_encoding: str = CONTENT_ENCODING
    delivery_mode: int = PERSISTENT

    def properties(self) -> dict[str, Any]:
        """The AMQP basic properties, as keyword arguments for a publish call."""
        return {
            "message_id": self.message_id,
            "type": self.type,
            "content_type": self.content_type,
            "content_encoding": self.content_encoding,
            "delivery_mode": self.delivery_mode,
            "headers": dict(self.headers),
        }


def event_to_dict(event: RecordedEvent) -> dict[str, Any]:
    """The envelope body as a JSON-ready dict."""
    metadata = event.metadata
    return {
        "envelope": ENVELOPE_VERSION,
        "id": str(event.id),
        "stream": event.stream,
        "version": event.version,
        "position": event.position,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": dict(event.data),
        "metadata": {
            "correlation_id": metadata.correlation_id,
            "causation_id": metadata.causation_id,
            "actor": metadata.actor,
            "occurred_at": format_timestamp(metadata.occurred_at)
            if metadata.occurred_at is not None
            else None,
        },
        "recorded_at": format_timestamp(event.recorded_at),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def encode(event: RecordedEvent, platform_id: str | None = None) -> WireMessage:
    """The message the relay publishes for `event`, from the log of `platform_id`."""
    # ensure_ascii=False keeps non-ASCII text as UTF-8 (smaller, and what the log
    # stores); allow_nan=False because the log never holds NaN, so one here is a bug.
    fields = event_to_dict(event)
    body = json.dumps(fields, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        CONTENT_ENCODING
    )
    headers: dict[str, Any] = {
        HEADER_STREAM: event.stream,
        HEADER_POSITION: event.position,
        HEADER_ENVELOPE: ENVELOPE_VERSION,
    }
    correlation_id = fields["metadata"]["correlation_id"]
    if correlation_id is not None:
        headers[HEADER_CORRELATION_ID] = correlation_id
    if platform_id is not None:
        headers[HEADER_PLATFORM] = platform_id
    return WireMessage(body=body, message_id=str(event.id), type=event.type, headers=headers)


def decode(body: bytes | str | Mapping[str, Any]) -> RecordedEvent:
    """The recorded event in a message body (raw bytes/text or already-parsed JSON).

    Raises EnvelopeError, naming the offending field, for anything that is not an
    envelope this version understands.
    """
    if isinstance(body, bytes | str):
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise EnvelopeError(f"body is not JSON: {exc}") from None
    else:
        raw = body
    if not isinstance(raw, Mapping):
        raise EnvelopeError(f"body must be a JSON object, got {type(raw).__name__}")
    return event_from_dict(raw)


def event_from_dict(raw: Mapping[str, Any]) -> RecordedEvent:
    version = _get(raw, "envelope", int)
    if version > ENVELOPE_VERSION:
        raise EnvelopeError(
            f"envelope version {version} is newer than this consumer understands "
            f"({ENVELOPE_VERSION}); upgrade servicekit"
        )
    metadata_raw = _get(raw, "metadata", Mapping)
    try:
        event_id = uuid.UUID(_get(raw, "id", str))
    except ValueError:
        raise EnvelopeError(f"field 'id' is not a UUID: {raw.get('id')!r}") from None
    return RecordedEvent(
        id=event_id,
        stream=_get(raw, "stream", str),
        version=_get(raw, "version", int),
        position=_get(raw, "position", int),
        type=_get(raw, "type", str),
        schema_version=_get(raw, "schema_version", int),
        data=_get(raw, "data", Mapping),
        metadata=EventMetadata(
            correlation_id=_optional(metadata_raw, "correlation_id", str),
            causation_id=_optional(metadata_raw, "causation_id", str),
            actor=_optional(metadata_raw, "actor", str),
            occurred_at=_timestamp(_optional(metadata_raw, "occurred_at", str), "occurred_at"),
        ),
        recorded_at=_timestamp(_get(raw, "recorded_at", str), "recorded_at"),  # type: ignore[arg-type]
        prev_hash=_get(raw, "prev_hash", str),
        hash=_get(raw, "hash", str),
    )


def _get(raw: Mapping[str, Any], key: str, kind: Any) -> Any:
    if key not in raw:
        raise EnvelopeError(f"field {key!r} is missing")
    value = raw[key]
    # bool is an int in Python; a boolean version or position is still malformed.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EnvelopeError(f"field {key!r} must be {getattr(kind, '__name__', kind)}")
    return value


def _optional(raw: Mapping[str, Any], key: str, kind: Any) -> Any:
    if raw.get(key) is None:
        return None
    return _get(raw, key, kind)


def _timestamp(text: str | None, key: str) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise EnvelopeError(
            f"field {key!r} must be YYYY-MM-DDTHH:MM:SS.ffffffZ, got {text!r}"
        ) from None
