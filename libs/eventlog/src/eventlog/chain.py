"""The per-stream SHA-256 hash chain: its canonical encoding and its verification.

Owns the one definition of what an event's hash covers (docs/adr/0002) and the pure
analysis that tells an auditor exactly which event was edited, deleted, inserted or
reordered. It never reads storage itself: backends hand it rows.

Canonical encoding of one event, hashed as UTF-8 bytes with SHA-256:

    JSON object, keys sorted, separators "," and ":", no insignificant whitespace,
    non-ASCII characters kept as UTF-8, NaN/Infinity refused, with exactly these keys:
      actor, causation_id, correlation_id   string or null
      credential                            string, present only when set (ADR 0017)
      data                                  the event's JSON object
      id                                    lowercase hyphenated uuid
      occurred_at                           "YYYY-MM-DDTHH:MM:SS.ffffffZ" or null
      prev_hash                             64 lowercase hex digits (GENESIS_HASH first)
      recorded_at                           "YYYY-MM-DDTHH:MM:SS.ffffffZ"
      schema_version                        integer
      stream                                string
      type                                  string

The stream version and global position are deliberately not hashed: the chain link
itself fixes an event's place in its stream, and positions are assigned by the backend
at commit time (EventStoreDB assigns them after the hash must already be known).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any

from eventlog.model import GENESIS_HASH, EventMetadata, RecordedEvent, parse_timestamp
from eventlog.validation import encode_json


def format_timestamp(value: datetime) -> str:
    """UTC with microseconds and a 'Z', the only timestamp form the chain hashes."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime on the append hot path.
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _json_string(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def canonical_encoding(
    *,
    event_id: str,
    stream: str,
    event_type: str,
    schema_version: int,
    data_json: str,
    metadata: EventMetadata,
    recorded_at: datetime,
    prev_hash: str,
) -> bytes:
    """The exact bytes an event's hash covers. `data_json` is the canonical data text.

    Written out field by field, in sorted key order, so the hot path encodes the data
    only once; tests/unit/eventlog/test_chain.py proves it equals encode_json() of the
    whole object.
    """
    prefix, occurred = _sealing_metadata(metadata)
    return (
        f"{prefix}"
        f'"data":{data_json},'
        f'"id":{encode_basestring(event_id)},'
        f'"occurred_at":{occurred},'
        f'"prev_hash":{encode_basestring(prev_hash)},'
        f'"recorded_at":"{format_timestamp(recorded_at)}",'
        f'"schema_version":{int(schema_version)},'
        f'"stream":{encode_basestring(stream)},'
        f'"type":{encode_basestring(event_type)}}}'
    ).encode()


def event_hash(
    *,
    event_id: str,
    stream: str,
    event_type: str,
    schema_version: int,
    data_json: str,
    metadata: EventMetadata,
    recorded_at: datetime,
    prev_hash: str,
) -> str:
    return hashlib.sha256(
        canonical_encoding(
            event_id=event_id,
            stream=stream,
            event_type=event_type,
            schema_version=schema_version,
            data_json=data_json,
            metadata=metadata,
            recorded_at=recorded_at,
            prev_hash=prev_hash,
        )
    ).hexdigest()


@functools.lru_cache(maxsize=4096)
def _sealing_metadata(metadata: EventMetadata) -> tuple[str, str]:
    """canonical_encoding()'s metadata parts for one EventMetadata: the prefix (actor
    through credential) and the occurred_at value. Cached by value (EventMetadata is
    immutable): the events a service appends share a handful of metadata values (its
    actor, an incident's correlation id), so the append path formats them once."""
    occurred = metadata.occurred_at
    # `credential` is hashed only when present, so every event recorded before it
    # existed keeps its hash (docs/adr/0017).
    credential = (
        ""
        if metadata.credential is None
        else f'"credential":{encode_basestring(metadata.credential)},'
    )
    return (
        f'{{"actor":{_json_string(metadata.actor)},'
        f'"causation_id":{_json_string(metadata.causation_id)},'
        f'"correlation_id":{_json_string(metadata.correlation_id)},'
        f"{credential}"
    ), _json_string(format_timestamp(occurred) if occurred else None)


@functools.lru_cache(maxsize=256)
def _json_name(value: str) -> str:
    """encode_basestring() of a stream name or event type; appends repeat them."""
    return encode_basestring(value)


def sealing_hash(
    *,
    event_id: str,
    stream: str,
    event_type: str,
    schema_version: int,
    data_json: str,
    metadata: EventMetadata,
    recorded_text: str,
    prev_hash: str,
) -> str:
    """event_hash() for the append path, where `recorded_text` is
    format_timestamp(recorded_at), formatted once per batch (`format_us`). The same
    bytes as canonical_encoding(); tests/unit/eventlog/test_chain.py proves it."""
    try:
        prefix, occurred = _sealing_metadata(metadata)
    except TypeError:  # an unhashable field: validation refuses those, but stay exact
        prefix, occurred = _sealing_metadata.__wrapped__(metadata)
    return hashlib.sha256(
        (
            f'{prefix}"data":{data_json},'
            f'"id":{encode_basestring(event_id)},'
            f'"occurred_at":{occurred},'
            f'"prev_hash":{encode_basestring(prev_hash)},'
            f'"recorded_at":"{recorded_text}",'
            f'"schema_version":{int(schema_version)},'
            f'"stream":{_json_name(stream)},'
            f'"type":{_json_name(event_type)}}}'
        ).encode()
    ).hexdigest()


_EPOCH_NAIVE = datetime(1970, 1, 1)  # noqa: DTZ001 - naive on purpose: formatted with a "Z"


@functools.lru_cache(maxsize=64)
def _second_text(seconds: int) -> str:
    return (_EPOCH_NAIVE + timedelta(seconds=seconds)).isoformat(timespec="seconds")


def format_us(microseconds: int) -> str:
    """format_timestamp() of a time given as microseconds since the epoch (UTC), for the
    append path: appends within one second share the formatted date and time."""
    seconds, fraction = divmod(microseconds, 1_000_000)
    return f"{_second_text(seconds)}.{fraction:06d}Z"


@functools.lru_cache(maxsize=4096)
def _format_us(microseconds: int) -> str:
    """format_timestamp() of a stored microsecond count; a batch shares one instant.

    A count (the stored type) is formatted as its second, shared by the events of that
    second, plus the microseconds: about a third of building a datetime per instant,
    which a log of single-event appends pays for nearly every event (docs/adr/0030).
    The same text and the same errors (tests/unit/eventlog/test_chain_pass.py)."""
    if type(microseconds) is int:
        seconds, fraction = divmod(microseconds, 1_000_000)
        return f"{_format_second(seconds)}.{fraction:06d}Z"
    return (_EPOCH_NAIVE + timedelta(microseconds=microseconds)).isoformat(
        timespec="microseconds"
    ) + "Z"


@functools.lru_cache(maxsize=4096)
def _format_second(seconds: int) -> str:
    return (_EPOCH_NAIVE + timedelta(seconds=seconds)).isoformat(timespec="seconds")


_METADATA_KEYS = frozenset(("actor", "causation_id", "correlation_id", "credential", "occurred_at"))
_NO_METADATA_FRAGMENTS = ('{"actor":null,"causation_id":null,"correlation_id":null,', "null")


@functools.lru_cache(maxsize=4096)
def _metadata_fragments(metadata_json: str) -> tuple[str, str] | None:
    """The canonical encoding's metadata parts for a stored metadata text: the prefix
    (actor through credential) and the occurred_at value; None when the text is not
    the plain form this library stores (then the slow path decides, with its errors).

    Events of one incident share their metadata text (correlation id, actor), so the
    few distinct texts of a verify run are decoded once, not once per event."""
    if metadata_json == "{}":
        return _NO_METADATA_FRAGMENTS
    try:
        raw = json.loads(metadata_json)
    except ValueError:
        return None
    if not isinstance(raw, dict) or not raw.keys() <= _METADATA_KEYS:
        return None
    values = [raw.get(key) for key in ("actor", "causation_id", "correlation_id", "credential")]
    if any(value is not None and not isinstance(value, str) for value in values):
        return None
    actor, causation, correlation, credential = values
    occurred = raw.get("occurred_at")
    try:
        # As the slow path does: EventMetadata.occurred_at, then the chain's format.
        occurred_text = _json_string(
            format_timestamp(parse_timestamp(occurred)) if occurred else None
        )
    except (TypeError, ValueError):
        return None
    prefix = (
        f'{{"actor":{_json_string(actor)},'
        f'"causation_id":{_json_string(causation)},'
        f'"correlation_id":{_json_string(correlation)},'
        + ("" if credential is None else f'"credential":{encode_basestring(credential)},')
    )
    return prefix, occurred_text


def unhashed_metadata_keys(metadata_json: str | None) -> list[str]:
    """Keys of a stored metadata text that this library never writes, so no hash
    covers them: their presence is itself an edit (someone added them behind the log's
    back). Empty for anything the library wrote, and for text that is not a JSON
    object (the hash comparison reports that)."""
    if metadata_json is None or metadata_json == "{}":
        return []
    try:
        raw = json.loads(metadata_json)
    except ValueError:
        return []
    if not isinstance(raw, dict):
        return []
    return sorted(key for key in raw if key not in _METADATA_KEYS)


def recompute_hash(event: RecordedEvent) -> str:
    """The hash the event's stored content implies, for comparison with `event.hash`.

    Events read from rows still hold their stored text: the data is hashed as stored
    (it was stored as the exact canonical text that was hashed, docs/adr/0002), so
    verification decodes and re-encodes nothing, which is most of its cost; any change
    to those bytes, even one that decodes to equal JSON, no longer matches. Metadata
    texts are decoded once per distinct text (`_metadata_fragments`)."""
    data_json = event._data_json
    metadata_json = event._metadata_json
    fragments = (
        None if data_json is None or metadata_json is None else _metadata_fragments(metadata_json)
    )
    if fragments is not None:
        return hashlib.sha256(
            (
                f'{fragments[0]}"data":{data_json},'
                f'"id":{encode_basestring(str(event._id))},'
                f'"occurred_at":{fragments[1]},'
                f'"prev_hash":{encode_basestring(event.prev_hash)},'
                f'"recorded_at":"{_format_us(event._recorded_at_us)}",'
                f'"schema_version":{int(event.schema_version)},'
                f'"stream":{encode_basestring(event.stream)},'
                f'"type":{encode_basestring(event.type)}}}'
            ).encode()
        ).hexdigest()
    extra = unhashed_metadata_keys(metadata_json)
    if extra:
        # Decoding would drop them and the hash would match: answer something no
        # SHA-256 hex digest can equal, so every verify path reports the event.
        return "metadata fields no hash covers: " + ", ".join(extra)
    return event_hash(
        event_id=str(event.id),
        stream=event.stream,
        event_type=event.type,
        schema_version=event.schema_version,
        data_json=data_json if data_json is not None else encode_json(event.data, "data"),
        metadata=event.metadata,
        recorded_at=event.recorded_at,
        prev_hash=event.prev_hash,
    )


def _escape_into(cache: Any, key: Any, text: str) -> str:
    """encode_basestring(text), kept in cache[key] (a ChainPass's per-stream and
    per-type escapes)."""
    encoded = cache[key] = encode_basestring(text)
    return encoded


_UNSEEN: Any = object()
_PASS_CACHE = 4096
"""Entries a ChainPass keeps per cache (distinct metadata texts, recorded instants)."""

StoredRow = tuple[Any, ...]
"""A stored event as a backend's query returns it, in `RecordedEvent.from_tuple`'s
order: (position, id, stream, version, type, schema_version, data_json, metadata_json,
recorded_at_us, prev_hash, hash)."""


class ChainPass:
    """`verify_all`'s one pass over the whole log in commit order (docs/adr/0025, 0030).

    Checks each stream's chain as its events arrive, holding only its last hash and
    version: an event passes when it links to the stream's last hash, its version is
    above the last one (positions increase along the pass, so that is the order
    check), its hash was not seen before, and its stored content hashes to its hash.
    A stream whose event fails is `suspect` and is not checked further here: the caller
    reads it again on its own for the full analysis (`verify_stream_events`).

    `chains` maps a stream to [last hash, last version, events seen]."""

    __slots__ = ("_types", "chains", "seen", "suspect")

    def __init__(self) -> None:
        self.chains: dict[Any, list[Any]] = {}
        self.suspect: set[Any] = set()
        self.seen: set[str] = set()
        self._types: dict[str, str] = {}

    def feed_events(self, events: Iterable[RecordedEvent]) -> None:
        """Events from a backend that does not hand out its rows (`recompute_hash`)."""
        chains, suspect, seen = self.chains, self.suspect, self.seen
        for event in events:
            stream = event.stream
            chain = chains.get(stream)
            if chain is None:
                chain = chains[stream] = [GENESIS_HASH, -1, 0]
            chain[2] += 1
            if stream in suspect:
                continue
            digest = event.hash
            if (
                event.prev_hash != chain[0]
                or event.version <= chain[1]
                or digest in seen
                or recompute_hash(event) != digest
            ):
                suspect.add(stream)
                continue
            seen.add(digest)
            chain[0] = digest
            chain[1] = event.version

    def feed_rows(self, rows: Iterable[StoredRow]) -> None:
        """The same checks over stored rows, without building an event per row: the
        event objects, a call per hash and four string escapes per event were about
        half of verify's own time on PostgreSQL (docs/adr/0030).

        The hash is `recompute_hash`'s fast path written out, with two escapes that
        cannot change anything left out: `prev_hash` is hashed only after it equalled
        the stream's last verified hash (64 hex digits, or the genesis hash), which
        quoting alone encodes exactly, and each stream's and type's escaped name is
        kept. A row whose metadata text is not the plain form this library stores goes
        through `recompute_hash` itself. tests/unit/eventlog/test_chain_pass.py proves
        the verdict equals `feed_events`'s for any row."""
        chains, suspect, seen, types = self.chains, self.suspect, self.seen, self._types
        # Per-pass caches in front of the module's LRU caches (a dict lookup is about
        # half of an LRU hit; both are bounded).
        fragments_seen: dict[Any, tuple[str, str] | None] = {}
        instants_seen: dict[Any, str] = {}
        sha256 = hashlib.sha256
        for row in rows:
            (
                _position,
                event_id,
                stream,
                version,
                kind,
                schema_version,
                data_json,
                metadata_json,
                recorded_at_us,
                prev_hash,
                digest,
            ) = row
            chain = chains.get(stream)
            if chain is None:
                chain = chains[stream] = [GENESIS_HASH, -1, 0, None]
            chain[2] += 1
            if stream in suspect:
                continue
            if prev_hash != chain[0] or version <= chain[1] or digest in seen:
                suspect.add(stream)
                continue
            if data_json is None or metadata_json is None:
                fragments = None
            else:
                fragments = fragments_seen.get(metadata_json, _UNSEEN)
                if fragments is _UNSEEN:
                    if len(fragments_seen) >= _PASS_CACHE:
                        fragments_seen.clear()
                    fragments = fragments_seen[metadata_json] = _metadata_fragments(metadata_json)
            if fragments is None:
                computed = recompute_hash(RecordedEvent.from_tuple(row))
            else:
                # Evaluated in recompute_hash's order, so a corrupt field fails alike.
                encoded_id = encode_basestring(str(event_id))
                instant = instants_seen.get(recorded_at_us)
                if instant is None:
                    if len(instants_seen) >= _PASS_CACHE:
                        instants_seen.clear()
                    instant = instants_seen[recorded_at_us] = _format_us(recorded_at_us)
                computed = sha256(
                    (
                        f'{fragments[0]}"data":{data_json},'
                        f'"id":{encoded_id},'
                        f'"occurred_at":{fragments[1]},'
                        f'"prev_hash":"{prev_hash}",'
                        f'"recorded_at":"{instant}",'
                        f'"schema_version":{int(schema_version)},'
                        f'"stream":{chain[3] or _escape_into(chain, 3, stream)},'
                        f'"type":{types.get(kind) or _escape_into(types, kind, kind)}}}'
                    ).encode()
                ).hexdigest()
            if computed != digest:
                suspect.add(stream)
                continue
            seen.add(digest)
            chain[0] = digest
            chain[1] = version


def metadata_to_json(metadata: EventMetadata) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if metadata.correlation_id is not None:
        out["correlation_id"] = metadata.correlation_id
    if metadata.causation_id is not None:
        out["causation_id"] = metadata.causation_id
    if metadata.actor is not None:
        out["actor"] = metadata.actor
    if metadata.occurred_at is not None:
        out["occurred_at"] = format_timestamp(metadata.occurred_at)
    if metadata.credential is not None:
        out["credential"] = metadata.credential
    return out


class Tampering(enum.Enum):
    EDITED = "edited"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected inconsistency, pinned to a stream version and (when known) event id."""

    kind: Tampering
    stream: str
    version: int
    event_id: str | None
    detail: str

    def __str__(self) -> str:
        who = f" (event {self.event_id})" if self.event_id else ""
        return f"{self.stream}@{self.version}{who}: {self.kind.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class StreamHead:
    """What the backend's own bookkeeping says the stream's end is, if it keeps one."""

    version: int
    hash: str


@dataclass(slots=True)
class VerificationReport:
    streams_checked: int = 0
    events_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def merge(self, other: VerificationReport) -> None:
        self.streams_checked += other.streams_checked
        self.events_checked += other.events_checked
        self.findings.extend(other.findings)


def verify_stream_events(
    stream: str, events: Sequence[RecordedEvent], head: StreamHead | None = None
) -> VerificationReport:
    """Check one stream's events (in stored version order) against the hash chain.

    The true order is rebuilt by following the links from the genesis hash, so the
    analysis does not trust stored versions or positions:
    - an event whose content no longer matches its hash was EDITED;
    - two events linking to the same predecessor is a fork: the branch that the rest of
      the chain continues from is genuine, the other one was INSERTED;
    - a link to a hash no stored event has means events were DELETED (or, if no version
      is missing, the predecessor was rewritten together with its hash: EDITED);
    - genuine events whose stored versions or positions do not increase along the chain
      were REORDERED.
    """
    report = VerificationReport(streams_checked=1, events_checked=len(events))
    if _is_intact(events, head):
        return report
    found = report.findings

    for event in events:
        if recompute_hash(event) != event.hash:
            extra = unhashed_metadata_keys(event._metadata_json)
            found.append(
                Finding(
                    Tampering.EDITED,
                    stream,
                    event.version,
                    str(event.id),
                    f"its metadata holds fields the log never writes ({', '.join(extra)})"
                    if extra
                    else "its content no longer matches its recorded hash",
                )
            )

    successors: dict[str, list[RecordedEvent]] = {}
    for event in events:
        successors.setdefault(event.prev_hash, []).append(event)
    stored_hashes = {event.hash for event in events}

    def genuine_successor(candidates: list[RecordedEvent]) -> RecordedEvent:
        # The genuine branch is the one later events build on; a forged event slipped
        # in has nothing chained after it. Ties (a fork at the tail) go to the event
        # committed first.
        return min(candidates, key=lambda e: (e.hash not in successors, e.position))

    chain: list[RecordedEvent] = []
    visited: set[int] = set()
    starts = sorted(
        (e for e in events if e.prev_hash == GENESIS_HASH or e.prev_hash not in stored_hashes),
        key=lambda e: (e.prev_hash != GENESIS_HASH, e.version),
    )
    for start_index, start in enumerate(starts):
        if id(start) in visited:
            continue
        if start.prev_hash != GENESIS_HASH or start_index > 0:
            _report_break(found, stream, chain[-1] if chain else None, start)
        current: RecordedEvent | None = start
        while current is not None and id(current) not in visited:
            visited.add(id(current))
            chain.append(current)
            following = successors.get(current.hash)
            if following is not None and len(following) == 1:
                # The honest case, by far the most common: one successor.
                current = following[0]
                continue
            candidates = [e for e in following or () if id(e) not in visited]
            if not candidates:
                current = None
                continue
            nxt = genuine_successor(candidates)
            for forged in candidates:
                if forged is not nxt:
                    visited.add(id(forged))
                    found.append(
                        Finding(
                            Tampering.INSERTED,
                            stream,
                            forged.version,
                            str(forged.id),
                            f"it forks the chain after version {current.version}; the "
                            "rest of the stream does not build on it",
                        )
                    )
            current = nxt
    for event in events:
        if id(event) not in visited:
            # Only reachable through a cycle, which an honest chain cannot contain.
            found.append(
                Finding(
                    Tampering.INSERTED,
                    stream,
                    event.version,
                    str(event.id),
                    "it is not reachable from the start of the chain",
                )
            )

    for index, event in enumerate(chain):
        before = chain[index - 1] if index else None
        after = chain[index + 1] if index + 1 < len(chain) else None
        out_of_order = (before is not None and event.version < before.version) or (
            after is not None and event.version > after.version
        )
        moved = (before is not None and event.position <= before.position) or (
            after is not None and event.position >= after.position
        )
        if out_of_order or moved:
            what = "stream version" if out_of_order else "global position"
            found.append(
                Finding(
                    Tampering.REORDERED,
                    stream,
                    event.version,
                    str(event.id),
                    f"its {what} does not follow its place in the chain",
                )
            )

    if head is not None and (not chain or head.hash != chain[-1].hash):
        # The head records the hash of the stream's last event at its last append; if
        # the chain does not end there, its tail was changed.
        last_version = max((e.version for e in events), default=-1)
        head_index = next((i for i, e in enumerate(chain) if e.hash == head.hash), None)
        if head_index is not None:
            for event in chain[head_index + 1 :]:
                found.append(
                    Finding(
                        Tampering.INSERTED,
                        stream,
                        event.version,
                        str(event.id),
                        f"it lies beyond the stream's recorded head (version {head.version})",
                    )
                )
        elif head.version > last_version:
            found.append(
                Finding(
                    Tampering.DELETED,
                    stream,
                    last_version + 1,
                    None,
                    f"{_describe_range(last_version + 1, head.version)} missing at the end "
                    f"of the stream (its recorded head is version {head.version})",
                )
            )
        elif not any(f.version == last_version for f in found):
            found.append(
                Finding(
                    Tampering.EDITED,
                    stream,
                    last_version,
                    str(chain[-1].id) if chain else None,
                    "the last event's hash differs from the one the stream head recorded",
                )
            )
    found.sort(key=lambda f: (f.version, f.kind.value))
    return report


def _is_intact(events: Sequence[RecordedEvent], head: StreamHead | None) -> bool:
    """True when the full analysis below would find nothing: the common case, checked
    in one pass (about a third of verify's time went to building the analysis's maps
    for honest streams). Every event's content matches its hash; the stored order is
    one chain from the genesis hash with distinct hashes, stored versions and positions
    strictly increasing along it; and the chain ends at the stream head, if there is
    one. Anything else, however harmless, gets the full analysis."""
    if not events:
        return False
    expected_prev = GENESIS_HASH
    last_version = last_position = -1
    for event in events:
        version = event.version
        position = event.position
        if (
            event.prev_hash != expected_prev
            or version <= last_version
            or position <= last_position
            or recompute_hash(event) != event.hash
        ):
            return False
        expected_prev = event.hash
        last_version = version
        last_position = position
    if head is not None and head.hash != expected_prev:
        return False
    return len({event.hash for event in events}) == len(events)


def _report_break(
    found: list[Finding], stream: str, before: RecordedEvent | None, start: RecordedEvent
) -> None:
    """The chain resumes at `start`, whose predecessor is not stored as it was."""
    first_missing = before.version + 1 if before is not None else 0
    if start.version > first_missing:
        found.append(
            Finding(
                Tampering.DELETED,
                stream,
                first_missing,
                None,
                f"{_describe_range(first_missing, start.version - 1)} missing before "
                f"the event at version {start.version} (event {start.id})",
            )
        )
    elif before is not None and not any(f.version == before.version for f in found):
        found.append(
            Finding(
                Tampering.EDITED,
                stream,
                before.version,
                str(before.id),
                f"it was rewritten together with its hash: the event at version "
                f"{start.version} was chained to a different predecessor",
            )
        )
    elif before is None:
        found.append(
            Finding(
                Tampering.DELETED,
                stream,
                0,
                None,
                f"the stream's first event is missing; the oldest stored event "
                f"(event {start.id}) was chained to another",
            )
        )
    else:
        found.append(
            Finding(
                Tampering.DELETED,
                stream,
                start.version,
                str(start.id),
                "the event it was chained to is gone and later versions were renumbered",
            )
        )


def _describe_range(first: int, last: int) -> str:
    return f"version {first} is" if first == last else f"versions {first}..{last} are"


def group_by_stream(events: Iterable[RecordedEvent]) -> dict[str, list[RecordedEvent]]:
    streams: dict[str, list[RecordedEvent]] = {}
    for event in events:
        streams.setdefault(event.stream, []).append(event)
    by_version = operator.attrgetter("version", "position")  # C, not a lambda per event
    for stream_events in streams.values():
        stream_events.sort(key=by_version)
    return streams
