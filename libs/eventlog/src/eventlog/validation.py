"""Input rules every backend enforces before it touches storage.

Owning these rules in one place is what makes "bad input appends nothing" the same on
SQLite, PostgreSQL and EventStoreDB. Nothing here performs I/O.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from eventlog.errors import InvalidEventError
from eventlog.model import EventMetadata, ExpectedVersion, NewEvent, StreamState

MAX_EVENT_BYTES = 1024 * 1024
"""Largest encoded event (data plus metadata), 1 MiB: EventStoreDB's default limit."""
MAX_BATCH_EVENTS = 1000
MAX_STREAM_NAME_LENGTH = 200
MAX_TYPE_LENGTH = 128
MAX_METADATA_FIELD_LENGTH = 512

# A category is a lowercase word; the id after the first hyphen may use URL-safe
# punctuation so that dedup keys and uuids both fit. No whitespace, no '$' (EventStoreDB
# reserves it for system streams) and no '/' (keeps names safe in URLs and file paths).
_STREAM_RE = re.compile(r"^[a-z][a-z0-9_]*-[A-Za-z0-9][A-Za-z0-9._:@+=-]*$")
_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SCALARS = frozenset({str, int, float, bool, type(None)})


@functools.lru_cache(maxsize=4096)
def _known_good_stream(stream: str) -> bool:
    # Services append to the same streams again and again; remember names that passed.
    return len(stream) <= MAX_STREAM_NAME_LENGTH and _STREAM_RE.match(stream) is not None


def validate_stream_name(stream: object, field: str = "stream") -> str:
    if type(stream) is str and _known_good_stream(stream):
        return stream
    if not isinstance(stream, str):
        raise InvalidEventError(field, f"must be a string, got {type(stream).__name__}")
    if not stream:
        raise InvalidEventError(field, "must not be empty")
    if len(stream) > MAX_STREAM_NAME_LENGTH:
        raise InvalidEventError(
            field, f"is {len(stream)} characters long; the limit is {MAX_STREAM_NAME_LENGTH}"
        )
    if not _STREAM_RE.match(stream):
        raise InvalidEventError(
            field,
            f"{stream!r} is not a valid stream name: expected '<category>-<id>' where the "
            "category is lowercase letters, digits or '_' and the id uses letters, digits "
            "or ._:@+=-",
        )
    return stream


def validate_category(category: object, field: str = "category") -> str:
    if not isinstance(category, str) or not _CATEGORY_RE.match(category):
        raise InvalidEventError(
            field, f"{category!r} is not a valid category (lowercase letters, digits, '_')"
        )
    return category


def validate_expected_version(expected: object) -> ExpectedVersion:
    # bool is an int subclass; True as a version is always a caller bug.
    if isinstance(expected, bool) or not isinstance(expected, int | StreamState):
        raise InvalidEventError(
            "expected_version",
            f"must be an int >= 0 or a StreamState (ANY, NO_STREAM, EXISTS), "
            f"got {type(expected).__name__} {expected!r}",
        )
    if isinstance(expected, int) and expected < 0:
        raise InvalidEventError(
            "expected_version",
            f"must be >= 0 (the version of the stream's last event), got {expected}; "
            "use StreamState.NO_STREAM for a new stream",
        )
    return expected


def validate_position(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEventError(field, f"must be an int >= 0, got {value!r}")
    return value


def validate_limit(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidEventError("limit", f"must be None or an int >= 0, got {value!r}")
    return value


def validate_aware(value: object, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidEventError(field, f"must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEventError(field, "must be timezone-aware (naive datetimes are ambiguous)")
    return value


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


_FAST_CANONICAL = (
    c_make_encoder(
        None,  # no circular-reference markers: a cycle recurses, and then _CANONICAL says so
        _CANONICAL.default,
        encode_basestring,
        None,
        ":",
        ",",
        True,  # sort_keys
        False,  # skipkeys
        False,  # allow_nan
    )
    if c_make_encoder is not None
    else None
)


def encode_json(value: Any, field: str) -> str:
    """Canonical JSON text: sorted keys, no whitespace, UTF-8, no NaN/Infinity."""
    try:
        if _FAST_CANONICAL is not None:
            # The C encoder behind _CANONICAL, built once: JSONEncoder.encode() builds it
            # again on every call, which was half of encoding an event's data.
            try:
                return "".join(_FAST_CANONICAL(value, 0))
            except RecursionError:
                pass  # a cycle (or very deep data): _CANONICAL gives the exact error
        # One shared encoder: json.dumps() with non-default options builds a new
        # JSONEncoder per call, which showed up in append profiles.
        return _CANONICAL.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(field, f"is not JSON-serializable: {exc}") from None


def validate_events(events: object) -> list[NewEvent]:
    if type(events) is list and len(events) == 1:
        # The common append, one plain event: the same checks by exact type, without
        # the ABC isinstance checks and field names the general loop builds.
        event = events[0]
        if (
            type(event) is NewEvent
            and type(event.id) is uuid.UUID
            and type(event.type) is str
            and _known_good_type(event.type)
            and type(event.schema_version) is int
            and event.schema_version >= 1
            and type(event.data) is dict
            and type(event.metadata) is EventMetadata
            and _known_good_metadata(event.metadata)
        ):
            _check_json_keys(event.data, "events[0].data")
            return [event]
    if isinstance(events, NewEvent):
        raise InvalidEventError("events", "must be a list of NewEvent, got a single NewEvent")
    if not isinstance(events, Sequence) or isinstance(events, str | bytes):
        raise InvalidEventError("events", f"must be a list, got {type(events).__name__}")
    if not events:
        raise InvalidEventError("events", "must contain at least one event")
    if len(events) > MAX_BATCH_EVENTS:
        raise InvalidEventError(
            "events", f"has {len(events)} events; one append takes at most {MAX_BATCH_EVENTS}"
        )
    seen: set[uuid.UUID] = set()
    checked: list[NewEvent] = []
    for index, event in enumerate(events):
        field = f"events[{index}]"
        if not isinstance(event, NewEvent):
            raise InvalidEventError(field, f"must be a NewEvent, got {type(event).__name__}")
        if not isinstance(event.id, uuid.UUID):
            raise InvalidEventError(f"{field}.id", "must be a uuid.UUID")
        if event.id in seen:
            raise InvalidEventError(f"{field}.id", f"{event.id} appears twice in one append")
        seen.add(event.id)
        if not isinstance(event.type, str) or not event.type:
            raise InvalidEventError(f"{field}.type", "must be a non-empty string")
        if not _known_good_type(event.type):
            raise InvalidEventError(
                f"{field}.type",
                f"{event.type[:60]!r} is not a valid event type (a letter, then letters, "
                f"digits or _.:-, at most {MAX_TYPE_LENGTH} characters)",
            )
        if (
            isinstance(event.schema_version, bool)
            or not isinstance(event.schema_version, int)
            or event.schema_version < 1
        ):
            raise InvalidEventError(
                f"{field}.schema_version", f"must be an int >= 1, got {event.schema_version!r}"
            )
        if not isinstance(event.data, Mapping):
            raise InvalidEventError(
                f"{field}.data",
                f"must be a JSON object (a mapping), got {type(event.data).__name__}",
            )
        _check_json_keys(event.data, f"{field}.data")
        if type(event.metadata) is not EventMetadata or not _known_good_metadata(event.metadata):
            _validate_metadata(event.metadata, f"{field}.metadata")
        checked.append(event)
    return checked


@functools.lru_cache(maxsize=256)
def _known_good_type(event_type: str) -> bool:
    # A service appends a few event types again and again; remember those that passed.
    return len(event_type) <= MAX_TYPE_LENGTH and _TYPE_RE.match(event_type) is not None


@functools.lru_cache(maxsize=4096)
def _cached_metadata_check(metadata: EventMetadata) -> bool:
    _validate_metadata(metadata, "metadata")
    return True


def _known_good_metadata(metadata: EventMetadata) -> bool:
    """True when the metadata passed validation before. EventMetadata is immutable, so a
    value that passed once always passes; a failure is not cached and is then reported
    by `_validate_metadata` with the caller's field name."""
    try:
        return _cached_metadata_check(metadata)
    except (InvalidEventError, TypeError):  # TypeError: an unhashable (invalid) field
        return False


def _validate_metadata(metadata: object, field: str) -> None:
    if not isinstance(metadata, EventMetadata):
        raise InvalidEventError(field, f"must be an EventMetadata, got {type(metadata).__name__}")
    for name in ("correlation_id", "causation_id", "actor", "credential"):
        value = getattr(metadata, name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidEventError(
                f"{field}.{name}", f"must be a string, got {type(value).__name__}"
            )
        if len(value) > MAX_METADATA_FIELD_LENGTH:
            raise InvalidEventError(
                f"{field}.{name}", f"is longer than {MAX_METADATA_FIELD_LENGTH} characters"
            )
    validate_aware(metadata.occurred_at, f"{field}.occurred_at")


def _check_json_keys(value: Any, field: str) -> None:
    # json.dumps silently turns int keys into strings, which would make the stored event
    # differ from what the caller appended; refuse instead.
    if type(value) in _SCALARS:
        return
    if type(value) is dict:
        # The common flat event payload: nothing to recurse into. A plain loop, not
        # all() over a generator, which cost a frame switch per key.
        for key, item in value.items():
            if type(key) is not str or type(item) not in _SCALARS:
                break
        else:
            return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidEventError(
                    field, f"has a non-string key {key!r}; JSON keys are strings"
                )
            _check_json_keys(item, f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json_keys(item, f"{field}[{index}]")
