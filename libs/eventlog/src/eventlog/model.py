"""The event log's value types: what a caller appends and what the log gives back.

This module owns the shape of an event as the log sees it. It knows nothing about
storage, hashing or domain meaning; backends and the domain build on these types.
"""

from __future__ import annotations

import enum
import functools
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first event of every stream."""


class StreamState(enum.Enum):
    """Expected-version sentinels, with the meaning EventStoreDB gives them."""

    ANY = "any"
    """Append whatever the stream's current version is."""
    NO_STREAM = "no_stream"
    """Append only if the stream has no events yet."""
    EXISTS = "stream_exists"
    """Append only if the stream already has at least one event."""


ExpectedVersion = int | StreamState
"""An exact version (the version of the stream's last event, 0-based) or a sentinel."""


@dataclass(frozen=True, slots=True)
class EventMetadata:
    """Who and what caused an event.

    `correlation_id` ties every event of one incident together across services;
    `causation_id` names the event or command that caused this one; `occurred_at` is set
    only when the fact happened earlier than it was recorded (a mitigation applied at
    02:10 and recorded at 02:25). Corrections are new events, never edits.
    `actor` is who acted (a person when the API token is bound to one);
    `credential` names the API token the command came with, for audit (docs/adr/0017).
    """

    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    occurred_at: datetime | None = None
    credential: str | None = None


_MILLISECONDS_MASK = (1 << 48) - 1
_VERSION_VARIANT_CLEAR = ~((0xF << 76) | (0x3 << 62))
_VERSION_7_RFC_VARIANT = (0x7 << 76) | (0x2 << 62)
_new_object = object.__new__
_set_field = object.__setattr__


def time_ordered_uuid() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.

    Default event ids sort roughly by creation time, so every backend's unique index
    on event ids grows at its right edge instead of touching a random page per append
    (measured: about a third of a SQLite append's cost with random uuid4 ids)."""
    value = ((time.time_ns() // 1_000_000) & _MILLISECONDS_MASK) << 80 | int.from_bytes(
        os.urandom(10)
    )
    # What uuid.UUID(int=...) does after its argument checks, which cost as much as the
    # rest of this function; the value is in range by construction (docs/adr/0032).
    # tests/unit/eventlog/test_event_ids.py proves it equals uuid.UUID(int=...).
    made = _new_object(uuid.UUID)
    _set_field(made, "int", (value & _VERSION_VARIANT_CLEAR) | _VERSION_7_RFC_VARIANT)
    _set_field(made, "is_safe", uuid.SafeUUID.unknown)
    return made


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a writer wants to append. `id` makes a retry idempotent: keep it stable."""

    type: str
    data: Mapping[str, Any]
    id: uuid.UUID = field(default_factory=time_ordered_uuid)
    schema_version: int = 1
    metadata: EventMetadata = field(default_factory=EventMetadata)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNSET: Any = object()
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner behind `json.loads`, with json.loads's defaults. Called directly it
skips three Python frames and two whitespace regex matches per call, about half of
decoding a small stored payload (stored JSON is canonical: no surrounding space)."""


def _loads_stored(text: str) -> Any:
    """`json.loads` for stored JSON text, with its results and its errors.

    The fast path applies only when the scanner consumes the whole text from its first
    character; anything else (surrounding whitespace, trailing data, a syntax error, a
    BOM) goes through json.loads itself, so behaviour is exactly json.loads's."""
    try:
        value, end = _scan_json(text, 0)
    except (StopIteration, TypeError):
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


@functools.lru_cache(maxsize=4096)
def _metadata_from_json(text: str) -> EventMetadata:
    """The metadata a stored text holds. Cached by text: the events of one incident
    share theirs (correlation id, actor), EventMetadata is immutable so they can share
    one instance, and an `occurred_at` costs a strptime (docs/adr/0025). Errors are
    not cached, so an unreadable text raises on every access, as before."""
    raw = _loads_stored(text)
    occurred = raw.get("occurred_at")
    return EventMetadata(
        correlation_id=raw.get("correlation_id"),
        causation_id=raw.get("causation_id"),
        actor=raw.get("actor"),
        occurred_at=parse_timestamp(occurred) if occurred else None,
        credential=raw.get("credential"),
    )


class RecordedEvent:
    """An event as the log holds it: immutable, positioned and hash-chained.

    Backends that read many rows build events with `from_row`, which keeps the JSON
    text and decodes `data`, `metadata`, `id` and `recorded_at` only when first used:
    a projection that filters by type never pays for decoding data it skips.
    """

    __slots__ = (
        "_data",
        "_data_json",
        "_id",
        "_metadata",
        "_metadata_json",
        "_recorded_at",
        "_recorded_at_us",
        "hash",
        "position",
        "prev_hash",
        "schema_version",
        "stream",
        "type",
        "version",
    )

    stream: str
    version: int
    """0-based position within its stream, without gaps."""
    position: int
    """Global commit-order position; strictly increasing across the whole log."""
    type: str
    schema_version: int
    prev_hash: str
    hash: str

    def __init__(
        self,
        *,
        id: uuid.UUID,
        stream: str,
        version: int,
        position: int,
        type: str,
        schema_version: int,
        data: Mapping[str, Any],
        metadata: EventMetadata,
        recorded_at: datetime,
        prev_hash: str,
        hash: str,
    ) -> None:
        self._id: Any = id
        self.stream = stream
        self.version = version
        self.position = position
        self.type = type
        self.schema_version = schema_version
        self._data: Any = data
        self._data_json: str | None = None
        self._metadata: Any = metadata
        self._metadata_json: str | None = None
        self._recorded_at: Any = recorded_at
        self._recorded_at_us = 0
        self.prev_hash = prev_hash
        self.hash = hash

    @classmethod
    def from_row(
        cls,
        *,
        id: str,
        stream: str,
        version: int,
        position: int,
        type: str,
        schema_version: int,
        data_json: str,
        metadata_json: str,
        recorded_at_us: int,
        prev_hash: str,
        hash: str,
    ) -> RecordedEvent:
        event = cls.__new__(cls)
        event._id = id
        event.stream = stream
        event.version = version
        event.position = position
        event.type = type
        event.schema_version = schema_version
        event._data = _UNSET
        event._data_json = data_json
        event._metadata = _UNSET
        event._metadata_json = metadata_json
        event._recorded_at = _UNSET
        event._recorded_at_us = recorded_at_us
        event.prev_hash = prev_hash
        event.hash = hash
        return event

    @classmethod
    def from_tuple(cls, row: tuple[object, ...]) -> RecordedEvent:
        """Build from a row (position, id, stream, version, type, schema_version,
        data_json, metadata_json, recorded_at_us, prev_hash, hash): the read hot path."""
        event = cls.__new__(cls)
        (
            event.position,
            event._id,
            event.stream,
            event.version,
            event.type,
            event.schema_version,
            event._data_json,
            event._metadata_json,
            event._recorded_at_us,
            event.prev_hash,
            event.hash,
        ) = row  # type: ignore[assignment]
        event._data = _UNSET
        event._metadata = _UNSET
        event._recorded_at = _UNSET
        return event

    @classmethod
    def from_stream_tuple(cls, stream: str, row: tuple[object, ...]) -> RecordedEvent:
        """`from_tuple` for a row of one stream's read, which leaves out the stream:
        (position, id, version, type, schema_version, data_json, metadata_json,
        recorded_at_us, prev_hash, hash). The stream is the one asked for (names are
        compared exactly), so fetching it again per row only cost time (~10% of a
        SQLite row, docs/adr/0025)."""
        event = cls.__new__(cls)
        (
            event.position,
            event._id,
            event.version,
            event.type,
            event.schema_version,
            event._data_json,
            event._metadata_json,
            event._recorded_at_us,
            event.prev_hash,
            event.hash,
        ) = row  # type: ignore[assignment]
        event.stream = stream
        event._data = _UNSET
        event._metadata = _UNSET
        event._recorded_at = _UNSET
        return event

    @property
    def id(self) -> uuid.UUID:
        if isinstance(self._id, str):
            self._id = uuid.UUID(self._id)
        return self._id  # type: ignore[no-any-return]

    @property
    def data_json(self) -> str | None:
        """The payload's JSON text exactly as stored, for an event read from a store;
        None for one built in memory. Contracts validate it directly (pydantic's
        validate_json), which is about twice as fast as `json.loads` plus a dict
        validation on a long replay."""
        return self._data_json

    @property
    def data(self) -> Mapping[str, Any]:
        data = self._data
        if data is _UNSET:
            # _loads_stored() inlined: this is every rebuild's per-event call.
            text = self._data_json or "{}"
            try:
                data, end = _scan_json(text, 0)
            except (StopIteration, TypeError):
                end = -1
            if end != len(text):
                data = json.loads(text)
            self._data = data
        return data  # type: ignore[no-any-return]

    @property
    def metadata(self) -> EventMetadata:
        if self._metadata is _UNSET:
            self._metadata = _metadata_from_json(self._metadata_json or "{}")
        return self._metadata  # type: ignore[no-any-return]

    @property
    def recorded_at(self) -> datetime:
        if self._recorded_at is _UNSET:
            self._recorded_at = _EPOCH + timedelta(microseconds=self._recorded_at_us)
        return self._recorded_at  # type: ignore[no-any-return]

    @property
    def category(self) -> str:
        return category_of(self.stream)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedEvent):
            return NotImplemented
        return (
            self.position == other.position
            and self.hash == other.hash
            and self.stream == other.stream
            and self.version == other.version
            and self.id == other.id
        )

    def __hash__(self) -> int:
        return hash((self.position, self.hash))

    def __repr__(self) -> str:
        return (
            f"RecordedEvent(stream={self.stream!r}, version={self.version}, "
            f"position={self.position}, type={self.type!r}, id={self.id})"
        )


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an append landed. An idempotent retry returns the original positions."""

    stream: str
    versions: tuple[int, ...]
    positions: tuple[int, ...]
    replayed: bool = field(default=False, compare=False)
    """True when the batch was already stored (an exact retry) and nothing was appended
    now. Not part of equality: a retry's answer equals the original's."""

    @property
    def current_version(self) -> int:
        return self.versions[-1]

    @property
    def last_position(self) -> int:
        return self.positions[-1]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Selects events by stream category and/or event type; `None` means no constraint."""

    categories: frozenset[str] | None = None
    event_types: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        categories: list[str] | tuple[str, ...] | frozenset[str] | None = None,
        event_types: list[str] | tuple[str, ...] | frozenset[str] | None = None,
    ) -> EventFilter:
        return cls(
            frozenset(categories) if categories is not None else None,
            frozenset(event_types) if event_types is not None else None,
        )

    def matches(self, event: RecordedEvent) -> bool:
        if self.categories is not None and event.category not in self.categories:
            return False
        return self.event_types is None or event.type in self.event_types


def parse_timestamp(text: str) -> datetime:
    """Read the chain's timestamp form, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (see chain.py)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def category_of(stream: str) -> str:
    """The category is the part of a stream name before its first hyphen."""
    return stream.split("-", 1)[0]
