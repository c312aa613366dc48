"""The event-log port: the one interface every backend implements.

`EventStore` owns everything that must behave identically on every backend: input
validation, stream ownership, the canonical encoding and hash chain, idempotent
retries, as-of reads and catch-up-then-live subscriptions. A backend subclass supplies
only a handful of storage primitives (the `_`-prefixed abstract methods), so the
conformance suite in tests/contract holds all backends to the same behaviour.

Semantics (EventStoreDB's):
- versions are 0-based and gap-free per stream; `current_version` of an empty stream is
  None;
- positions are global, strictly increasing in commit order, and `from_position` is
  inclusive, so a consumer resumes with `from_position=checkpoint + 1`;
- appending a batch whose ids are already in the stream returns the original
  positions and writes nothing, even if the expected version is now stale;
- `append_many` appends to several streams in one transaction (all or nothing), each
  stream with its own expected version and exactly the checks of `append`, on the
  backends that can (`atomic_append_many`; ADR 0024).
"""

from __future__ import annotations

import abc
import contextlib
import functools
import operator
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import ClassVar, NamedTuple

from eventlog.chain import (
    ChainPass,
    StoredRow,
    StreamHead,
    VerificationReport,
    format_timestamp,
    metadata_to_json,
    sealing_hash,
    verify_stream_events,
)
from eventlog.clock import Clock, system_clock
from eventlog.errors import (
    AtomicAppendUnsupportedError,
    ConcurrencyError,
    DuplicateEventIdError,
    InvalidEventError,
    StreamPermissionError,
)
from eventlog.identity import (
    IDENTITY_STREAM,
    INITIALIZED,
    SCHEMA_VERSION,
    PlatformIdentity,
    PlatformIdentityError,
    identity_from_event,
    new_identity_data,
)
from eventlog.model import (
    AppendResult,
    EventFilter,
    EventMetadata,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamState,
)
from eventlog.ownership import Ownership
from eventlog.validation import (
    MAX_EVENT_BYTES,
    encode_json,
    validate_aware,
    validate_events,
    validate_expected_version,
    validate_limit,
    validate_position,
    validate_stream_name,
)

READ_BATCH = 1000
_BY_VERSION = operator.attrgetter("version", "position")
_NO_METADATA = EventMetadata()


@functools.lru_cache(maxsize=4096)
def _metadata_json(metadata: EventMetadata) -> str:
    """The stored metadata text of an EventMetadata. Cached by value (it is immutable):
    a service's appends share a few metadata values, so each is encoded once."""
    if metadata == _NO_METADATA:
        return "{}"
    return encode_json(metadata_to_json(metadata), "metadata")


class PreparedEvent(NamedTuple):
    """A validated event, encoded once, waiting for its place in the chain.

    A NamedTuple rather than a frozen dataclass, as SealedEvent: just as immutable, and
    built several times faster (a frozen dataclass sets each field through
    object.__setattr__), which is a few microseconds of every append (docs/adr/0032)."""

    id: str
    type: str
    schema_version: int
    data_json: str
    metadata: EventMetadata
    metadata_json: str


class SealedEvent(NamedTuple):
    """A prepared event with its chain link and hash, ready for a backend to store."""

    event: PreparedEvent
    version: int
    recorded_at: datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ExistingEvent:
    """Where an already-stored event id lives, for idempotency checks."""

    id: str
    stream: str
    version: int
    position: int


class StreamAppend(NamedTuple):
    """One stream's part of an `append_many`: a plain tuple works as well."""

    stream: str
    expected_version: ExpectedVersion
    events: Sequence[NewEvent]


Batch = tuple[str, list[PreparedEvent], ExpectedVersion]
"""A validated, encoded append to one stream, as the backends receive it."""


class AppendWatch:
    """Says, without blocking and without reading the log, whether anything may have
    been committed since it last said so: for a reader that would otherwise read the
    log's head on every request (a web page). A yes may be wrong (read the log and find
    nothing); a no never is, once the append's call has returned in any process. This
    base answers yes every time: a backend with no cheap signal reads the log, as
    before. Not thread-safe: callers serialise their calls (and read the log under the
    same lock, so nobody concludes "nothing new" while another caller's read is still
    in flight)."""

    def appended(self) -> bool:
        return True

    def close(self) -> None:
        """Release what the watch holds."""


class EventStore(abc.ABC):
    """A handle on the log, opened for one writer (or read-only when writer is None)."""

    atomic_append_many: ClassVar[bool] = False
    """True when `append_many` commits several streams in one transaction here."""

    def __init__(
        self,
        *,
        writer: str | None = None,
        ownership: Ownership | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.writer = writer
        self.ownership = ownership or Ownership.platform()
        if writer is not None and not self.ownership.knows(writer):
            raise InvalidEventError("writer", f"{writer!r} is not a known writer")
        self._owned = self.ownership.categories_for(writer)
        self.clock = clock
        self._identity: PlatformIdentity | None = None

    def wakeups_deferred(self) -> contextlib.AbstractContextManager[None]:
        """Within the block, this thread's commits wake other processes' subscribers
        once, when the block ends, instead of at each commit. For a caller whose next
        step after committing is latency-bound I/O (the runbooks worker's call, ADR
        0029): a woken relay would compete with it for the CPU. Only a hint is
        deferred: appends are committed and visible as always, and subscribers keep
        their fallback poll. But a reader in another process that reads only when rung
        (`DoorbellWatch`, ADR 0031) sees these appends from the block's end, not from
        the append's return: use it only for appends nobody reads that way at once.
        Backends whose wake-up is part of the commit (PostgreSQL's NOTIFY) or that have
        none do nothing here."""
        return contextlib.nullcontext()

    # ------------------------------------------------------------------ writing

    def append(
        self,
        stream: str,
        events: Sequence[NewEvent],
        expected_version: ExpectedVersion,
    ) -> AppendResult:
        """Append atomically; raises ConcurrencyError, InvalidEventError, permission errors."""
        return self._append(*self._batch(stream, events, expected_version))

    def append_many(
        self, appends: Sequence[StreamAppend | tuple[str, ExpectedVersion, Sequence[NewEvent]]]
    ) -> list[AppendResult]:
        """Append to several streams in ONE transaction: all of them or none.

        Each `(stream, expected_version, events)` gets exactly what `append` would do
        to it alone (validation, ownership, its own expected-version check, the chain,
        idempotent retry: a stream whose batch is already stored answers with the
        original positions and writes nothing). Any other failure (a wrong expected
        version, a partial duplicate, bad input) appends nothing at all. Streams are
        written in the order given, so positions ascend in that order. A stream may
        appear once. Results come in the order of `appends`.

        One stream is an ordinary append on every backend; several raise
        `AtomicAppendUnsupportedError` where `atomic_append_many` is False.
        """
        if not isinstance(appends, list | tuple):
            raise InvalidEventError("appends", f"must be a list, got {type(appends).__name__}")
        if not appends:
            raise InvalidEventError("appends", "must name at least one stream")
        batches: list[Batch] = []
        streams: dict[str, int] = {}
        ids: dict[str, int] = {}
        for index, item in enumerate(appends):
            field = f"appends[{index}]"
            if not isinstance(item, tuple) or len(item) != 3:
                raise InvalidEventError(
                    field, "must be a StreamAppend or a (stream, expected_version, events) tuple"
                )
            stream, expected_version, events = item
            try:
                batch = self._batch(stream, events, expected_version)
            except InvalidEventError as exc:
                raise InvalidEventError(f"{field}.{exc.field}", exc.problem) from None
            if stream in streams:
                raise InvalidEventError(
                    f"{field}.stream",
                    f"{stream!r} is also appends[{streams[stream]}]; name each stream once "
                    "and put all its events in one batch",
                )
            streams[stream] = index
            for position, event in enumerate(batch[1]):
                other = ids.setdefault(event.id, index)
                if other != index:
                    raise InvalidEventError(
                        f"{field}.events[{position}].id",
                        f"{event.id} is also in appends[{other}]; event ids are unique "
                        "across the log",
                    )
            batches.append(batch)
        if len(batches) == 1:
            return [self._append(*batches[0])]
        if not self.atomic_append_many:
            raise AtomicAppendUnsupportedError(
                f"{type(self).__name__} cannot append to {len(batches)} streams in one "
                "transaction; nothing was appended. Append stream by stream instead "
                "(see EventStore.atomic_append_many, ADR 0024)"
            )
        return self._append_many(batches)

    def _batch(
        self, stream: str, events: Sequence[NewEvent], expected_version: ExpectedVersion
    ) -> Batch:
        validate_stream_name(stream)
        expected = validate_expected_version(expected_version)
        checked = validate_events(events)
        category = stream.split("-", 1)[0]
        if category not in self._owned:
            raise StreamPermissionError(self.writer, stream, self._owned)
        prepared = [self._prepare(index, event) for index, event in enumerate(checked)]
        return stream, prepared, expected

    def _prepare(self, index: int, event: NewEvent) -> PreparedEvent:
        data_json = encode_json(event.data, f"events[{index}].data")
        metadata = event.metadata
        try:
            metadata_json = _metadata_json(metadata)
        except InvalidEventError as exc:
            raise InvalidEventError(f"events[{index}].{exc.field}", exc.problem) from None
        except TypeError:  # unhashable: validation refuses those, but keep the exact error
            metadata_json = _metadata_json.__wrapped__(metadata)
        # Characters are bytes in ASCII text, the common case: skip encoding it to count.
        size = (len(data_json) if data_json.isascii() else len(data_json.encode())) + (
            len(metadata_json) if metadata_json.isascii() else len(metadata_json.encode())
        )
        if size > MAX_EVENT_BYTES:
            raise InvalidEventError(
                f"events[{index}]",
                f"encodes to {size} bytes; an event may be at most {MAX_EVENT_BYTES} bytes "
                "(1 MiB) of data and metadata",
            )
        return PreparedEvent(
            str(event.id), event.type, event.schema_version, data_json, metadata, metadata_json
        )

    def _seal(
        self,
        stream: str,
        prepared: Sequence[PreparedEvent],
        *,
        next_version: int,
        prev_hash: str,
        recorded_at: datetime,
        recorded_text: str | None = None,
    ) -> list[SealedEvent]:
        """Chain a batch onto a stream whose last hash is `prev_hash`. Backends call this
        while they hold whatever lock makes the stream's head stable. `recorded_text`,
        when given, is format_timestamp(recorded_at), already formatted."""
        if recorded_text is None:
            recorded_text = format_timestamp(recorded_at)
        sealed: list[SealedEvent] = []
        for offset, event in enumerate(prepared):
            digest = sealing_hash(
                event_id=event.id,
                stream=stream,
                event_type=event.type,
                schema_version=event.schema_version,
                data_json=event.data_json,
                metadata=event.metadata,
                recorded_text=recorded_text,
                prev_hash=prev_hash,
            )
            sealed.append(SealedEvent(event, next_version + offset, recorded_at, prev_hash, digest))
            prev_hash = digest
        return sealed

    @staticmethod
    def _check_expected(stream: str, expected: ExpectedVersion, current: int | None) -> None:
        if expected is StreamState.ANY:
            return
        if expected is StreamState.NO_STREAM:
            if current is not None:
                raise ConcurrencyError(stream, expected, current)
            return
        if expected is StreamState.EXISTS:
            if current is None:
                raise ConcurrencyError(stream, expected, current)
            return
        if expected != current:
            raise ConcurrencyError(stream, expected, current)

    @staticmethod
    def _resolve_retry(
        stream: str, prepared: Sequence[PreparedEvent], existing: Sequence[ExistingEvent]
    ) -> AppendResult | None:
        """None when no id was stored before; the original result for an exact retry;
        otherwise a DuplicateEventIdError naming the clash."""
        if not existing:
            return None
        by_id = {row.id: row for row in existing}
        elsewhere = [row for row in existing if row.stream != stream]
        if elsewhere:
            row = elsewhere[0]
            raise DuplicateEventIdError(
                f"event id {row.id} is already recorded in stream {row.stream!r} "
                f"(version {row.version}); event ids are unique across the log"
            )
        rows = [by_id.get(event.id) for event in prepared]
        if any(row is None for row in rows):
            present = ", ".join(event.id for event in prepared if event.id in by_id)
            raise DuplicateEventIdError(
                f"stream {stream!r}: events {present} were already appended but others in "
                "this batch were not; a retry must resend exactly the original batch"
            )
        ordered = [row for row in rows if row is not None]
        versions = [row.version for row in ordered]
        if versions != list(range(versions[0], versions[0] + len(versions))):
            raise DuplicateEventIdError(
                f"stream {stream!r}: these event ids were appended, but not as one batch "
                "in this order; a retry must resend exactly the original batch"
            )
        return AppendResult(
            stream, tuple(versions), tuple(row.position for row in ordered), replayed=True
        )

    def _recorded_at(self, not_before: datetime | None) -> datetime:
        """The clock's time, never earlier than `not_before`.

        SQL backends pass the log's last recorded time, so reading "as of time T" is a
        prefix of the whole log; EventStoreDB can only pass the stream's last time
        (it has no global lock), so there the guarantee holds per stream."""
        now = validate_aware(self.clock(), "clock()")
        assert now is not None
        if not_before is not None and now < not_before:
            return not_before
        return now

    # ------------------------------------------------------------------ reading

    def read_stream(
        self,
        stream: str,
        *,
        from_version: int | None = None,
        backwards: bool = False,
        limit: int | None = None,
        to_position: int | None = None,
        until: datetime | None = None,
    ) -> list[RecordedEvent]:
        """A stream's events by version. `to_position`/`until` cut it as it stood then."""
        validate_stream_name(stream)
        if from_version is not None:
            validate_position(from_version, "from_version")
        limit = validate_limit(limit)
        if to_position is not None:
            validate_position(to_position, "to_position")
        until = validate_aware(until, "until")
        return self._read_stream(stream, from_version, backwards, limit, to_position, until)

    def read_all(
        self,
        *,
        from_position: int = 0,
        filter: EventFilter | None = None,
        to_position: int | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[RecordedEvent]:
        """The whole log in commit order, lazily, in pages."""
        validate_position(from_position, "from_position")
        if to_position is not None:
            validate_position(to_position, "to_position")
        until = validate_aware(until, "until")
        limit = validate_limit(limit)
        return self._iterate_all(from_position, filter, to_position, until, limit)

    def _iterate_all(
        self,
        from_position: int,
        event_filter: EventFilter | None,
        to_position: int | None,
        until: datetime | None,
        limit: int | None,
    ) -> Iterator[RecordedEvent]:
        remaining = limit
        position = from_position
        while remaining is None or remaining > 0:
            batch_size = READ_BATCH if remaining is None else min(READ_BATCH, remaining)
            batch = self._read_all_batch(position, event_filter, to_position, until, batch_size)
            if not batch:
                return
            yield from batch
            if remaining is not None:
                remaining -= len(batch)
            position = batch[-1].position + 1
            if len(batch) < batch_size:
                return

    def current_version(self, stream: str) -> int | None:
        validate_stream_name(stream)
        return self._current_version(stream)

    def head_position(self) -> int:
        """The position of the newest committed event, 0 for an empty log."""
        return self._head_position()

    def position_at(self, instant: datetime) -> int:
        """The head position as it stood at `instant` (0 if the log was empty then)."""
        instant = validate_aware(instant, "instant")  # type: ignore[assignment]
        return self._position_at(instant)

    def subscribe(
        self,
        *,
        from_position: int = 0,
        filter: EventFilter | None = None,
        poll_interval: float = 0.5,
    ) -> Subscription:
        """Catch up from `from_position` (inclusive), then follow new events live."""
        validate_position(from_position, "from_position")
        return Subscription(self, from_position, filter, poll_interval)

    # ------------------------------------------------------------------ identity

    def platform_identity(self) -> PlatformIdentity:
        """The identity of the platform this log belongs to (see `eventlog.identity`).

        Any handle, read-only ones included, creates it on first use: the identity is
        the log's own record, not a service's fact, so it bypasses stream ownership
        for this one stream and this one event. Concurrent first calls from several
        processes agree: the NO_STREAM append lets exactly one win, the others re-read.
        The answer never changes, so it is kept after the first read.
        """
        if self._identity is None:
            first = self._read_stream(IDENTITY_STREAM, None, False, 1, None, None)
            if not first:
                first = self._create_identity()
            self._identity = identity_from_event(first[0])
        return self._identity

    def _create_identity(self) -> list[RecordedEvent]:
        event = NewEvent(
            INITIALIZED,
            new_identity_data(),
            schema_version=SCHEMA_VERSION,
            metadata=EventMetadata(actor=self.writer or "firewatch"),
        )
        try:
            self._append(IDENTITY_STREAM, [self._prepare(0, event)], StreamState.NO_STREAM)
        except ConcurrencyError:
            pass  # another process created it between our read and our append: theirs wins
        except StreamPermissionError as exc:
            # EventStoreDB ACLs may forbid this user the stream (ADR 0012).
            raise PlatformIdentityError(
                f"this log has no platform identity yet and this process may not create "
                f"{IDENTITY_STREAM!r} ({exc}); start a process whose user may write "
                f"{IDENTITY_STREAM!r} (the relay) first"
            ) from exc
        return self._read_stream(IDENTITY_STREAM, None, False, 1, None, None)

    # ------------------------------------------------------------------ auditing

    def verify(self, stream: str) -> VerificationReport:
        return self.read_verified(stream)[1]

    def read_verified(self, stream: str) -> tuple[list[RecordedEvent], VerificationReport]:
        """The stream's events and their verification, from ONE read: what a caller
        exports is exactly what was verified, and the stream is not read twice."""
        validate_stream_name(stream)
        events = self._read_stream(stream, None, False, None, None, None)
        return events, verify_stream_events(stream, events, self._stream_head(stream))

    def verify_all(self, progress: Callable[[int, int], None] | None = None) -> VerificationReport:
        """Verify every stream. `progress(done, total)` is called once per stream.

        One pass in commit order checks each stream's chain as its events arrive, under
        the conditions of `chain._is_intact` (content matches hash, links from the
        genesis hash, versions increasing, distinct hashes, ends at the head), holding
        only each stream's last hash rather than the whole log: building and keeping
        an object per event was a fifth of verify's time (docs/adr/0025); backends
        that hand out their stored rows (`_stored_rows`) are checked from the rows,
        without an event object per row (docs/adr/0030). A stream
        that breaks any condition is read again on its own and gets the full analysis
        (`verify_stream_events`), which names what was edited, deleted, inserted or
        reordered; so does a stream appended to during the pass (its head moved), and
        the re-read then sees it whole."""
        checked = ChainPass()
        rows = self._stored_rows()
        if rows is None:
            checked.feed_events(self._iterate_all(0, None, None, None, None))
        else:
            try:
                checked.feed_rows(rows)
            finally:  # give a streaming read's connection back even if a row raised
                close = getattr(rows, "close", None)
                if close is not None:
                    close()
        chains, suspect = checked.chains, checked.suspect
        heads = self._stream_heads()
        names = set(chains)
        names.update(heads if heads is not None else self._stream_names())
        report = VerificationReport()
        total = len(names)
        for done, name in enumerate(sorted(names), start=1):
            head = heads.get(name) if heads is not None else self._stream_head(name)
            chain = chains.get(name)
            if (
                chain is not None
                and name not in suspect
                and (head is None or head.hash == chain[0])
            ):
                report.merge(VerificationReport(streams_checked=1, events_checked=chain[2]))
            else:
                events = sorted(  # as group_by_stream orders a stream
                    self._read_stream(name, None, False, None, None, None), key=_BY_VERSION
                )
                report.merge(verify_stream_events(name, events, head))
            if progress is not None:
                progress(done, total)
        return report

    def watch_appends(self) -> AppendWatch:
        """A new `AppendWatch` on this log; close it (or the store) when done."""
        return AppendWatch()

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Subclasses that hold resources override this."""

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ backend primitives

    @abc.abstractmethod
    def _append(
        self, stream: str, prepared: list[PreparedEvent], expected: ExpectedVersion
    ) -> AppendResult:
        """Atomically: resolve retries (`_resolve_retry`), check the expected version
        (`_check_expected`), seal the batch (`_seal`) onto the current head and store it."""

    def _append_many(self, batches: list[Batch]) -> list[AppendResult]:
        """Atomically, in one transaction: for each batch in order, what `_append` does
        (a batch that is an exact retry answers from what is stored); any error rolls
        every batch back. Only backends with `atomic_append_many` override it."""
        raise AtomicAppendUnsupportedError(f"{type(self).__name__} has no atomic append_many")

    @staticmethod
    def _resolve_retries(
        batches: Sequence[Batch],
        known: dict[int, AppendResult],
        existing: Callable[[Sequence[PreparedEvent]], Sequence[ExistingEvent]],
    ) -> bool:
        """After a unique-id violation in an `_append_many`: record in `known` every batch
        that is an exact retry (raising DuplicateEventIdError for a clash). False when no
        batch was newly recognised, i.e. the violation had another cause."""
        progressed = False
        for index, (stream, prepared, _expected) in enumerate(batches):
            if index in known:
                continue
            retry = EventStore._resolve_retry(stream, prepared, existing(prepared))
            if retry is not None:
                known[index] = retry
                progressed = True
        return progressed

    @abc.abstractmethod
    def _read_stream(
        self,
        stream: str,
        from_version: int | None,
        backwards: bool,
        limit: int | None,
        to_position: int | None,
        until: datetime | None,
    ) -> list[RecordedEvent]: ...

    @abc.abstractmethod
    def _read_all_batch(
        self,
        from_position: int,
        event_filter: EventFilter | None,
        to_position: int | None,
        until: datetime | None,
        limit: int,
    ) -> list[RecordedEvent]:
        """Exactly `limit` events with position >= from_position, in position order,
        unless fewer remain (a short batch ends `read_all`, so a backend that filters on
        the client must keep reading until it has `limit` matches or reaches the head).

        Must never return an event at position p while an event below p that will
        later become visible is still uncommitted: subscriptions depend on it."""

    def _stored_rows(self) -> Iterator[StoredRow] | None:
        """The whole log in commit order as its stored rows (`RecordedEvent.from_tuple`'s
        order), for `verify_all`, from position 0 up to at least the head as it stood
        when the first row was read (a stream appended to later has a moved head and is
        re-read); None when the backend does not hand out rows (then verify_all reads
        events). The caller closes the iterator if it stops early."""
        return None

    @abc.abstractmethod
    def _current_version(self, stream: str) -> int | None: ...

    @abc.abstractmethod
    def _head_position(self) -> int: ...

    def _position_at(self, instant: datetime) -> int:
        last = 0
        for event in self._iterate_all(0, None, None, instant, None):
            last = event.position
        return last

    @abc.abstractmethod
    def _wait_for_append(self, known_head: int, timeout: float) -> None:
        """Block until the head may have moved past `known_head`, or `timeout` seconds.
        Returning early is always allowed; it only costs a read."""

    def _stream_head(self, stream: str) -> StreamHead | None:
        """The backend's own record of a stream's end, if it keeps one apart from events."""
        return None

    def _stream_names(self) -> Sequence[str]:
        """Streams known to the backend's bookkeeping, so emptied streams are verified."""
        return ()

    def _stream_heads(self) -> Mapping[str, StreamHead] | None:
        """Every stream head in one read, for backends that can (verify_all would
        otherwise ask once per stream); None means "ask per stream"."""
        return None


class Subscription(Iterator[RecordedEvent]):
    """Catch-up, then live: yields every matching event once, in commit order.

    Iterate it in one thread; call `close()` from any thread to end the iteration.
    `position` is the last position delivered, which is what a consumer checkpoints.
    """

    def __init__(
        self,
        store: EventStore,
        from_position: int,
        event_filter: EventFilter | None,
        poll_interval: float,
    ) -> None:
        self._store = store
        self._next = from_position
        self._filter = event_filter
        self._poll = poll_interval
        self._buffer: deque[RecordedEvent] = deque()
        self._closed = threading.Event()
        self.position = from_position - 1

    def __iter__(self) -> Subscription:
        return self

    def __next__(self) -> RecordedEvent:
        event = self.next_event(timeout=None)
        if event is None:
            raise StopIteration
        return event

    def next_event(self, timeout: float | None) -> RecordedEvent | None:
        """The next event, or None if `timeout` seconds pass first or it was closed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._buffer:
            if self._closed.is_set():
                return None
            # Read the head first: every event at or below it is already visible (the
            # backends guarantee it), so an empty filtered read may skip up to it.
            head = self._store._head_position()
            batch = self._store._read_all_batch(self._next, self._filter, None, None, READ_BATCH)
            if batch:
                self._buffer.extend(batch)
                self._next = batch[-1].position + 1
                break
            self._next = max(self._next, head + 1)
            wait = self._poll
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                wait = min(wait, left)
            self._store._wait_for_append(head, wait)
        event = self._buffer.popleft()
        self.position = event.position
        return event

    def close(self) -> None:
        self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()
