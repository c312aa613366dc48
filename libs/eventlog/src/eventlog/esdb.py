"""EventStoreDB / KurrentDB backend, over esdbclient 1.1 (gRPC).

Owns the mapping between the port's events and EventStoreDB's, and the protocol tricks
that keep the hash chain sound on a server that knows nothing about it
(docs/adr/0004-esdb-under-eventlet.md):

- event id, type and stream are EventStoreDB's own; `data` is the exact canonical JSON
  text the hash covers; versions are stream revisions and positions are commit
  positions (EventStoreDB 22.10 or later, which reports them on stream reads too);
- everything EventStoreDB does not carry itself lives in the event's metadata JSON:
  `schema_version`, our metadata fields (`correlation_id`, `causation_id`, `actor`,
  `occurred_at`), `recorded_at` (from the injected clock), `prev_hash` and `hash`;
- every append reads the stream's last event and appends with that exact revision as
  the expected version, even when the caller asked for ANY (then it retries a bounded
  number of times), so concurrent writers can never fork the chain;
- idempotency is checked against the stream itself, because an expected version of
  "the current revision" would make EventStoreDB store a repeated batch twice;
- `$all` is only ever read from positions that exist (EventStoreDB refuses others), so
  "from position p" starts at a known position at or below p and skips forward;
- system events (`$`-prefixed types and streams) are not part of our log.

In an eventlet-patched process (nameko workers) grpc is imported with the original
threading modules and every client call runs in a real OS thread (eventlog.greengrpc).
"""

from __future__ import annotations

import bisect
import json
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

from eventlog import greengrpc
from eventlog.chain import StreamHead, format_timestamp
from eventlog.clock import Clock, system_clock
from eventlog.errors import (
    BackendUnavailableError,
    ConcurrencyError,
    EventLogError,
    InvalidEventError,
    StreamPermissionError,
)
from eventlog.model import (
    GENESIS_HASH,
    AppendResult,
    EventFilter,
    ExpectedVersion,
    RecordedEvent,
    StreamState,
    parse_timestamp,
)
from eventlog.ownership import Ownership
from eventlog.port import READ_BATCH, EventStore, ExistingEvent, PreparedEvent, SealedEvent
from eventlog.validation import encode_json

with greengrpc.native_imports():
    from esdbclient import DEFAULT_EXCLUDE_FILTER, EventStoreDBClient
    from esdbclient import NewEvent as ESDBNewEvent
    from esdbclient import RecordedEvent as ESDBRecordedEvent
    from esdbclient import StreamState as ESDBStreamState
    from esdbclient.exceptions import (
        AccessDeniedError,
        DeadlineExceeded,
        DiscoveryFailed,
        EventStoreDBClientException,
        MaximumAppendSizeExceededError,
        NodeIsNotLeader,
        NotFound,
        ServiceUnavailable,
        StreamIsDeleted,
        WrongCurrentVersion,
    )

P = ParamSpec("P")
T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_METADATA_FIELDS = ("correlation_id", "causation_id", "actor", "occurred_at", "credential")
_ENVELOPE_KEYS = frozenset(
    (*_METADATA_FIELDS, "schema_version", "recorded_at", "prev_hash", "hash")
)
"""Every key `esdb_metadata` writes."""
_PROBE_REVISION = 2**62
"""An expected revision no stream can have: appending zero events with it makes the
server answer with the stream's revision from its own index, and write nothing."""
_MAX_ANY_ATTEMPTS = 100
_INDEX_AHEAD_LIMIT = 4
_HEAD_PAGE = 32
_KNOWN_POSITIONS = 65_536
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    ServiceUnavailable,
    DeadlineExceeded,
    DiscoveryFailed,
    NodeIsNotLeader,
)
_CURRENT_REVISION = re.compile(r"last event is (\d+)")

DEFAULT_TIMEOUT = 30.0
"""Seconds one call to the server may take before it counts as unavailable."""


class ServerPermissionError(StreamPermissionError):
    """EventStoreDB's ACLs refused an operation that the library's ownership check allowed."""

    def __init__(self, writer: str | None, stream: str, owned: frozenset[str], action: str) -> None:
        self.writer = writer
        self.stream = stream
        self.owned = owned
        EventLogError.__init__(
            self,
            f"EventStoreDB's access control denied this connection's user the right to "
            f"{action} ({stream!r}); a service's user needs read access to the log and write "
            "access to its own categories (docs/adr/0004-esdb-under-eventlet.md)",
        )


@dataclass(frozen=True, slots=True)
class _Head:
    """What an append needs to know about a stream's last event."""

    version: int
    hash: str
    recorded_at: datetime


@dataclass(slots=True)
class _StreamScan:
    """Everything read of one stream so far, for appends that must look at all of it."""

    next_version: int = 0
    head: _Head | None = None
    found: dict[str, ExistingEvent] | None = None


def esdb_metadata(
    *,
    schema_version: int,
    metadata_json: str,
    recorded_at: datetime,
    prev_hash: str,
    hash: str,
) -> bytes:
    """The EventStoreDB metadata JSON of one of our events (canonical text, UTF-8)."""
    fields: dict[str, Any] = json.loads(metadata_json) if metadata_json != "{}" else {}
    fields.update(
        schema_version=schema_version,
        recorded_at=format_timestamp(recorded_at),
        prev_hash=prev_hash,
        hash=hash,
    )
    return encode_json(fields, "metadata").encode()


def _us(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def client_uri(url: str) -> str:
    """The esdbclient connection string for one of our store URLs (kurrentdb:// is
    esdb://, kurrentdb+discover:// is esdb+discover://)."""
    scheme, _, rest = url.partition("://")
    if scheme == "kurrentdb":
        return f"esdb://{rest}"
    if scheme == "kurrentdb+discover":
        return f"esdb+discover://{rest}"
    return url


def redact(url: str) -> str:
    """The URL without its password, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class _KnownPositions:
    """Commit positions this handle has seen exist, so `$all` reads can start at one."""

    def __init__(self) -> None:
        self._positions: list[int] = []
        self._lock = threading.Lock()

    def add(self, positions: Sequence[int]) -> None:
        with self._lock:
            for position in positions:
                index = bisect.bisect_left(self._positions, position)
                if index == len(self._positions) or self._positions[index] != position:
                    self._positions.insert(index, position)
            if len(self._positions) > _KNOWN_POSITIONS:
                del self._positions[: len(self._positions) - _KNOWN_POSITIONS // 2]

    def discard(self, position: int) -> None:
        with self._lock:
            index = bisect.bisect_left(self._positions, position)
            if index < len(self._positions) and self._positions[index] == position:
                del self._positions[index]

    def floor(self, position: int) -> int | None:
        with self._lock:
            index = bisect.bisect_right(self._positions, position)
            return self._positions[index - 1] if index else None


class EventStoreDBEventStore(EventStore):
    """The event log in an EventStoreDB/KurrentDB cluster. Safe to share between threads
    (and greenthreads); open one per process and writer."""

    def __init__(
        self,
        url: str,
        *,
        writer: str | None = None,
        ownership: Ownership | None = None,
        clock: Clock = system_clock,
        timeout: float = DEFAULT_TIMEOUT,
        root_certificates: str | bytes | None = None,
    ) -> None:
        """`url`: esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://, with
        esdbclient's connection-string options (`?Tls=false`, `DefaultDeadline=10`, ...).
        `timeout`: seconds one server call may take (unless DefaultDeadline is given)."""
        super().__init__(writer=writer, ownership=ownership, clock=clock)
        self.url = url
        self._display = redact(url)
        self._timeout = timeout
        self._known = _KnownPositions()
        greengrpc.ensure_native_grpc()
        try:
            self._client: EventStoreDBClient = greengrpc.call(
                EventStoreDBClient, client_uri(url), root_certificates=root_certificates
            )
        except (EventStoreDBClientException, ValueError, OSError) as exc:
            raise BackendUnavailableError(
                f"cannot connect to EventStoreDB at {self._display}: {exc}"
            ) from exc
        deadline = self._client.connection_spec.options.DefaultDeadline
        if deadline is not None:  # ?DefaultDeadline=<seconds> in the URL wins
            self._timeout = float(deadline)

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            greengrpc.call(client.close)

    # ------------------------------------------------------------------ calls

    def _call(
        self,
        action: str,
        stream: str | None,
        function: Callable[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """One round trip to the server (in a real thread under eventlet), with
        esdbclient's failures mapped to ours. NotFound, WrongCurrentVersion and
        MaximumAppendSizeExceededError pass through: callers decide what they mean."""
        try:
            return greengrpc.call(function, *args, **kwargs)
        except (NotFound, WrongCurrentVersion, MaximumAppendSizeExceededError):
            raise
        except AccessDeniedError as exc:
            raise ServerPermissionError(self.writer, stream or "$all", self._owned, action) from exc
        except _TRANSPORT_ERRORS as exc:
            raise BackendUnavailableError(
                f"EventStoreDB at {self._display} is unavailable ({action}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        except StreamIsDeleted as exc:
            raise BackendUnavailableError(
                f"stream {stream!r} was deleted on the EventStoreDB server at "
                f"{self._display}; the event log never deletes streams ({action})"
            ) from exc
        except EventStoreDBClientException as exc:
            raise BackendUnavailableError(
                f"EventStoreDB at {self._display} failed to {action}: {type(exc).__name__}: {exc}"
            ) from exc

    def _get_stream(
        self,
        stream: str,
        *,
        from_version: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
    ) -> list[ESDBRecordedEvent]:
        """A stream's events as stored, [] if the stream does not exist."""

        def read() -> list[ESDBRecordedEvent]:
            return list(
                self._client.get_stream(
                    stream,
                    stream_position=from_version,
                    backwards=backwards,
                    limit=sys.maxsize if limit is None else limit,
                    timeout=self._timeout,
                )
            )

        try:
            events = self._call("read a stream", stream, read)
        except NotFound:
            return []
        self._known.add([e.commit_position for e in events if e.commit_position is not None])
        return events

    # ------------------------------------------------------------------ conversion

    def _convert(self, event: ESDBRecordedEvent) -> RecordedEvent:
        if event.commit_position is None:
            raise BackendUnavailableError(
                f"EventStoreDB at {self._display} did not report the commit position of "
                f"{event.stream_name}@{event.stream_position}; the event log needs "
                "EventStoreDB 22.10 or later (KurrentDB)"
            )
        try:
            raw = json.loads(event.metadata) if event.metadata else {}
        except ValueError:
            raw = {}
        if not isinstance(raw, dict):
            raw = {}
        ours = {key: raw[key] for key in _METADATA_FIELDS if raw.get(key) is not None}
        # Keys neither ours nor the envelope's were added behind the log's back: keep
        # them, so that verify reports the event (chain.unhashed_metadata_keys).
        ours.update((key, value) for key, value in raw.items() if key not in _ENVELOPE_KEYS)
        recorded = raw.get("recorded_at")
        try:
            recorded_at_us = _us(parse_timestamp(recorded)) if recorded else None
        except (TypeError, ValueError):
            recorded_at_us = None
        if recorded_at_us is None:
            # Not written by this library: fall back on the server's own time. The
            # missing hash makes `verify` report the event.
            server_time = event.recorded_at or _EPOCH
            recorded_at_us = _us(server_time)
        schema_version = raw.get("schema_version", 1)
        return RecordedEvent.from_row(
            position=event.commit_position,
            id=str(event.id),
            stream=event.stream_name,
            version=event.stream_position,
            type=event.type,
            schema_version=schema_version if isinstance(schema_version, int) else 1,
            data_json=event.data.decode("utf-8", errors="replace") or "{}",
            metadata_json=encode_json(ours, "metadata") if ours else "{}",
            recorded_at_us=recorded_at_us,
            prev_hash=str(raw.get("prev_hash", "")),
            hash=str(raw.get("hash", "")),
        )

    def _head_of(self, event: ESDBRecordedEvent) -> _Head:
        recorded = self._convert(event)
        return _Head(recorded.version, recorded.hash, recorded.recorded_at)

    @staticmethod
    def _new_event(sealed: SealedEvent) -> ESDBNewEvent:
        event = sealed.event
        return ESDBNewEvent(
            id=uuid.UUID(event.id),
            type=event.type,
            data=event.data_json.encode(),
            metadata=esdb_metadata(
                schema_version=event.schema_version,
                metadata_json=event.metadata_json,
                recorded_at=sealed.recorded_at,
                prev_hash=sealed.prev_hash,
                hash=sealed.hash,
            ),
            content_type="application/json",
        )

    # ------------------------------------------------------------------ writing

    def _append(
        self, stream: str, prepared: list[PreparedEvent], expected: ExpectedVersion
    ) -> AppendResult:
        wanted = {event.id for event in prepared}
        # ANY and EXISTS do not pin a version, so a retried batch could land again at
        # the end of the stream: those appends look at the whole stream for the ids.
        scan = _StreamScan(found={}) if expected in (StreamState.ANY, StreamState.EXISTS) else None
        index_ahead = 0
        for attempt in range(1, _MAX_ANY_ATTEMPTS + 1):
            if scan is not None:
                self._scan(stream, wanted, scan)
                if scan.found:
                    retry = self._resolve_retry(stream, prepared, list(scan.found.values()))
                    if retry is not None:
                        return retry
                head = scan.head
            else:
                head = self._last(stream)
            current = None if head is None else head.version
            try:
                self._check_expected(stream, expected, current)
            except ConcurrencyError:
                retry = self._resolve_retry(stream, prepared, self._existing(stream, wanted))
                if retry is not None:
                    return retry
                raise
            sealed = self._seal(
                stream,
                prepared,
                next_version=0 if current is None else current + 1,
                prev_hash=GENESIS_HASH if head is None else head.hash,
                recorded_at=self._recorded_at(None if head is None else head.recorded_at),
            )
            try:
                commit_position = self._call(
                    "append",
                    stream,
                    self._client.append_to_stream,
                    stream,
                    current_version=ESDBStreamState.NO_STREAM if current is None else current,
                    events=[self._new_event(item) for item in sealed],
                    timeout=self._timeout,
                )
            except WrongCurrentVersion as exc:
                # Another writer got there first: the next round sees its events. Unless
                # the server's index stays ahead of the events it lets us read (a moment
                # of that is normal: a write is indexed just before it becomes readable).
                server = _server_revision(exc)
                if (
                    server is not None
                    and (current is None or server > current)
                    and self._last_version(stream) == current
                ):
                    index_ahead += 1
                    if index_ahead < _INDEX_AHEAD_LIMIT:
                        time.sleep(0.01 * index_ahead)  # sleep-ok: backoff for the index
                        continue
                    raise BackendUnavailableError(
                        f"stream {stream!r}: EventStoreDB's index says its last revision is "
                        f"{server}, but its last readable event is "
                        f"{'none' if current is None else current}; events were removed "
                        "behind the server's back (run verify)"
                    ) from exc
                if attempt > 3:
                    # Jittered backoff between conflicting appends.
                    delay = random.uniform(0, min(0.05, 0.002 * attempt))  # noqa: S311
                    time.sleep(delay)  # sleep-ok: backoff, not waiting for async work
                continue
            except MaximumAppendSizeExceededError as exc:
                raise InvalidEventError(
                    "events",
                    f"the batch is larger than the EventStoreDB server accepts in one append "
                    f"({exc}); append fewer or smaller events at a time",
                ) from exc
            positions = self._positions(stream, sealed, commit_position)
            return AppendResult(stream, tuple(s.version for s in sealed), positions)
        raise ConcurrencyError(stream, expected, self._last_version(stream))

    def _positions(
        self, stream: str, sealed: list[SealedEvent], commit_position: int
    ) -> tuple[int, ...]:
        """Each appended event's commit position. The server returns only the last one."""
        if len(sealed) == 1:
            self._known.add([commit_position])
            return (commit_position,)
        stored = self._get_stream(stream, from_version=sealed[0].version, limit=len(sealed))
        if [str(e.id) for e in stored] != [s.event.id for s in sealed] or any(
            e.commit_position is None for e in stored
        ):
            raise BackendUnavailableError(
                f"stream {stream!r}: the batch was appended, but reading it back from "
                f"EventStoreDB at {self._display} returned other events"
            )
        return tuple(int(e.commit_position or 0) for e in stored)

    def _last(self, stream: str) -> _Head | None:
        events = self._get_stream(stream, backwards=True, limit=1)
        return self._head_of(events[0]) if events else None

    def _last_version(self, stream: str) -> int | None:
        events = self._get_stream(stream, backwards=True, limit=1)
        return events[0].stream_position if events else None

    def _scan(self, stream: str, wanted: set[str], scan: _StreamScan) -> None:
        """Read the stream from where the last scan stopped: its head, and which of
        `wanted` it already holds."""
        assert scan.found is not None
        for event in self._get_stream(stream, from_version=scan.next_version):
            scan.next_version = event.stream_position + 1
            if str(event.id) in wanted:
                scan.found[str(event.id)] = ExistingEvent(
                    str(event.id), stream, event.stream_position, int(event.commit_position or 0)
                )
            scan.head = self._head_of(event)

    def _existing(self, stream: str, wanted: set[str]) -> list[ExistingEvent]:
        scan = _StreamScan(found={})
        self._scan(stream, wanted, scan)
        assert scan.found is not None
        return list(scan.found.values())

    # ------------------------------------------------------------------ reading

    def _read_stream(
        self,
        stream: str,
        from_version: int | None,
        backwards: bool,
        limit: int | None,
        to_position: int | None,
        until: datetime | None,
    ) -> list[RecordedEvent]:
        if limit == 0:
            return []
        cut = to_position is not None or until is not None
        stored = self._get_stream(
            stream, from_version=from_version, backwards=backwards, limit=None if cut else limit
        )
        events = [self._convert(e) for e in stored]
        if cut:
            events = [e for e in events if _within(e, to_position, until)]
            if limit is not None:
                events = events[:limit]
        return events

    def _read_all_batch(
        self,
        from_position: int,
        event_filter: EventFilter | None,
        to_position: int | None,
        until: datetime | None,
        limit: int,
    ) -> list[RecordedEvent]:
        if limit == 0:
            return []
        if event_filter is not None and (
            event_filter.categories == frozenset() or event_filter.event_types == frozenset()
        ):
            return []
        server_filter = _server_filter(event_filter)
        out: list[RecordedEvent] = []
        for event in self._scan_all(from_position, server_filter, limit):
            if to_position is not None and int(event.commit_position or 0) > to_position:
                break
            if event.stream_name.startswith("$"):
                continue
            recorded = self._convert(event)
            if event_filter is not None and not event_filter.matches(recorded):
                continue
            if not _within(recorded, None, until):
                continue
            out.append(recorded)
            if len(out) >= limit:
                break
        return out

    def _scan_all(
        self, from_position: int, server_filter: dict[str, Any], page: int
    ) -> Iterator[ESDBRecordedEvent]:
        """`$all` from `from_position` (inclusive) on, in commit order, fetched in pages,
        each page starting at a position that exists (EventStoreDB refuses others)."""
        page = max(1, min(page, READ_BATCH))
        candidates = self._read_start(from_position)
        while True:
            # One more than a page: a page starting at a known position repeats it.
            events = self._read_all_page(candidates, server_filter, page + 1)
            yield from (e for e in events if (e.commit_position or 0) >= from_position)
            if len(events) < page + 1:
                return
            last = int(events[-1].commit_position or 0)
            candidates = [last]
            from_position = last + 1

    def _read_start(self, from_position: int) -> list[int | None]:
        """Where a forward `$all` read for `from_position` may start, best first: a
        position known to exist at or below it, the position just below it (a
        checkpoint + 1), the position itself, and finally the start of the log."""
        if from_position <= 0:
            return [None]
        candidates: list[int | None] = []
        known = self._known.floor(from_position)
        if known is not None:
            candidates.append(known)
        for guess in (from_position - 1, from_position):
            if guess > 0 and guess not in candidates:
                candidates.append(guess)
        candidates.append(None)
        return candidates

    def _read_all_page(
        self, candidates: list[int | None], server_filter: dict[str, Any], count: int
    ) -> list[ESDBRecordedEvent]:
        last_error: BaseException | None = None
        for start in candidates:

            def read(start: int | None = start) -> list[ESDBRecordedEvent]:
                return list(
                    self._client.read_all(
                        commit_position=start,
                        limit=count,
                        timeout=self._timeout,
                        **server_filter,
                    )
                )

            try:
                events = self._call("read $all", None, read)
            except BackendUnavailableError as exc:
                if isinstance(exc.__cause__, _TRANSPORT_ERRORS):
                    raise
                # Not a position the server can read from (it was a guess, or the event
                # there is gone): try the next candidate.
                last_error = exc
                if start is not None:
                    self._known.discard(start)
                continue
            self._known.add([e.commit_position for e in events if e.commit_position is not None])
            return events
        assert last_error is not None
        raise last_error

    def _current_version(self, stream: str) -> int | None:
        return self._last_version(stream)

    def _head_position(self) -> int:
        before: int | None = None
        while True:

            def read(before: int | None = before) -> list[ESDBRecordedEvent]:
                return list(
                    self._client.read_all(
                        commit_position=before,
                        backwards=True,
                        filter_exclude=DEFAULT_EXCLUDE_FILTER,
                        limit=_HEAD_PAGE,
                        timeout=self._timeout,
                    )
                )

            events = self._call("read the head of $all", None, read)
            for event in events:
                if not event.stream_name.startswith("$") and event.commit_position is not None:
                    self._known.add([event.commit_position])
                    return event.commit_position
            if len(events) < _HEAD_PAGE:
                return 0
            before = events[-1].commit_position

    def _wait_for_append(self, known_head: int, timeout: float) -> None:
        """A catch-up subscription from the known head, with `timeout` as its gRPC
        deadline: returns at the first newer event of ours, or when the deadline ends
        the call. Never polls."""
        if timeout <= 0:
            return

        def wait() -> None:
            try:
                subscription = self._client.subscribe_to_all(
                    commit_position=known_head if known_head > 0 else None,
                    filter_exclude=DEFAULT_EXCLUDE_FILTER,
                    timeout=timeout,
                )
            except DeadlineExceeded:
                return
            except (NotFound, EventStoreDBClientException) as exc:
                if isinstance(exc, _TRANSPORT_ERRORS):
                    raise
                # The head moved out from under us (it was removed): follow the end.
                subscription = self._client.subscribe_to_all(
                    from_end=True, filter_exclude=DEFAULT_EXCLUDE_FILTER, timeout=timeout
                )
            try:
                for event in subscription:
                    position = event.commit_position or 0
                    if position > known_head and not event.stream_name.startswith("$"):
                        return
            except DeadlineExceeded:
                return
            finally:
                subscription.stop()

        self._call("wait for new events", None, wait)

    # ------------------------------------------------------------------ auditing

    def _stream_head(self, stream: str) -> StreamHead | None:
        """The server's own record of the stream's end: its index's last revision (asked
        with a zero-event append that cannot match, which writes nothing), with the hash
        of the event stored there. If that event is gone, the hash is empty, so `verify`
        reports the missing tail. None when the server knows no such stream, or this
        connection's user may not write to it (ACLs)."""

        def probe() -> int | None:
            try:
                self._client.append_to_stream(
                    stream,
                    current_version=_PROBE_REVISION,
                    events=[],
                    timeout=self._timeout,
                )
            except WrongCurrentVersion as exc:
                return _server_revision(exc)
            return None  # pragma: no cover - no stream has 2**62 events

        try:
            revision = self._call("read the stream's revision", stream, probe)
        except StreamPermissionError:
            return None
        if revision is None:
            return None
        at = self._get_stream(stream, from_version=revision, limit=1)
        if at and at[0].stream_position == revision:
            return StreamHead(revision, self._convert(at[0]).hash)
        return StreamHead(revision, "")


def _server_revision(exc: WrongCurrentVersion) -> int | None:
    """The stream revision a WrongCurrentVersion reports (None: no stream)."""
    match = _CURRENT_REVISION.search(str(exc))
    return int(match.group(1)) if match else None


def _within(event: RecordedEvent, to_position: int | None, until: datetime | None) -> bool:
    if to_position is not None and event.position > to_position:
        return False
    return until is None or event.recorded_at <= until


def _server_filter(event_filter: EventFilter | None) -> dict[str, Any]:
    """esdbclient read_all arguments that let the server do most of the filtering. A
    category filter runs on stream names (the more selective one); a type filter runs
    on types when there is no category filter; the client checks everything again."""
    if event_filter is not None and event_filter.categories is not None:
        names = "|".join(re.escape(c) for c in sorted(event_filter.categories))
        return {"filter_include": (f"(?:{names})-.*",), "filter_by_stream_name": True}
    if event_filter is not None and event_filter.event_types is not None:
        types = "|".join(re.escape(t) for t in sorted(event_filter.event_types))
        return {"filter_include": (f"(?:{types})",), "filter_by_stream_name": False}
    return {"filter_exclude": DEFAULT_EXCLUDE_FILTER}
