"""FAKE: not EventStoreDB; implements just enough of its gRPC protocol, using esdbclient's
own generated stubs in esdbclient.protos.Grpc, to test our adapter.

The real server cannot be installed on our machines (no package, no Docker), so the
EventStoreDB adapter (eventlog.esdb) is tested against this in-memory, protocol-level
stand-in. It is a real gRPC server (insecure, 127.0.0.1, a random port) that speaks the
wire protocol esdbclient 1.1 uses, with EventStoreDB's semantics as far as our adapter can
observe them:

- `Streams.Append` (client streaming) and `Streams.BatchAppend` (bidirectional): atomic
  per stream; expected revision / no stream / any / stream exists; an idempotent
  re-append of the same event ids returns the original result and writes nothing (a
  partial overlap is refused, as EventStoreDB refuses "corrupted idempotency"); an
  append of zero events only checks the expected revision; the maximum append size.
- `Streams.Read`: stream reads forwards/backwards from a revision with a count,
  "stream not found"; `$all` reads forwards/backwards from start, end or an existing
  commit position (any other position is refused, as EventStoreDB refuses to read from
  the middle of a log record), server-side regex/prefix filters on stream name or event
  type with the count applied after filtering; catch-up-then-live subscriptions to `$all`
  and to streams, with checkpoints for filtered subscriptions.
- `Gossip.Read`: a one-node cluster whose only member is the leader, for
  `esdb+discover://` URLs.

Commit positions increase with gaps, like the byte offsets EventStoreDB uses, and the
log starts with a few system events (`$`-prefixed types), as a fresh server's does.

What it does NOT do: TLS, authentication and ACLs, stream deletion and tombstones, stream
metadata (`$maxCount`, `$tb`, ...), projections, persistent subscriptions, link
resolution, clustering. Calls to unimplemented RPCs fail with UNIMPLEMENTED.

Like the real server, it keeps two structures: the transaction log (records in commit
order, which `$all` reads) and a per-stream index of each stream's last revision, which
expected-version checks use. Tests can reach around the protocol to tamper with stored
records (`edit_record`, `delete_record`, `swap_revisions`, `insert_record`), the way an
attacker with access to the database files would.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc
from esdbclient.protos.Grpc import (
    code_pb2,
    gossip_pb2,
    gossip_pb2_grpc,
    shared_pb2,
    status_pb2,
    streams_pb2,
    streams_pb2_grpc,
)
from google.protobuf import any_pb2, empty_pb2

DEFAULT_MAX_APPEND_SIZE = 1_048_576
"""EventStoreDB's default MaxAppendSize: data plus metadata of one append, in bytes."""

_LOG_START = 128
"""Commit position of the first record, after a (pretend) chunk header."""
_RECORD_OVERHEAD = 96
"""Bytes a log record costs beyond its payload, so positions have realistic gaps."""
_LIVE_WAKE_SECONDS = 0.5
"""How long a caught-up subscription sleeps before re-checking that its call is alive."""
STOP_JOIN_SECONDS = 5.0
"""How long `stop()` waits for handler threads to finish (a bound, not a pause)."""
_SYSTEM_SEED = (
    ("$epoch-information", "$epoch-information", b'{"epochNumber":0}'),
    ("$users", "$UserCreated", b'{"LoginName":"admin"}'),
    ("$user-admin", "$User", b'{"loginName":"admin","fullName":"Event Store Administrator"}'),
)

Expected = tuple[str, int | None]
"""("revision", n), ("no_stream", None), ("any", None) or ("stream_exists", None)."""


@dataclass
class FakeRecord:
    """One event as the fake stores it: what EventStoreDB keeps for a written event."""

    stream: str
    revision: int
    event_id: str
    type: str
    content_type: str
    data: bytes
    custom_metadata: bytes
    commit_position: int
    created_ticks: int
    """Server time of the write, in 100 ns ticks since the Unix epoch (like `created`)."""

    @property
    def prepare_position(self) -> int:
        return self.commit_position


@dataclass(frozen=True)
class _Proposed:
    event_id: str
    type: str
    content_type: str
    data: bytes
    custom_metadata: bytes


@dataclass(frozen=True)
class _WriteOutcome:
    """A successful write (or idempotent no-op) or a wrong expected version."""

    ok: bool
    current: int | None
    """The stream's revision after the write (or, on failure, its actual revision)."""
    position: int | None = None
    """Commit position of the last event written (or matched); None when none."""


class _Filter:
    """A server-side `$all` filter: a regex or prefixes, on stream name or event type."""

    def __init__(self, options: streams_pb2.ReadReq.Options) -> None:
        self.active = options.WhichOneof("filter_option") == "filter"
        self.on_stream = False
        self.regex: re.Pattern[str] | None = None
        self.prefixes: tuple[str, ...] = ()
        self.checkpoint_every = 0
        if not self.active:
            return
        filter_options = options.filter
        which = filter_options.WhichOneof("filter")
        self.on_stream = which == "stream_identifier"
        expression = (
            filter_options.stream_identifier if self.on_stream else filter_options.event_type
        )
        if expression.regex:
            try:
                self.regex = re.compile(expression.regex)
            except re.error as exc:
                raise _RefusedError(
                    grpc.StatusCode.INVALID_ARGUMENT, f"bad filter regex: {exc}"
                ) from exc
        self.prefixes = tuple(expression.prefix)
        window = filter_options.max if filter_options.WhichOneof("window") == "max" else 32
        multiplier = filter_options.checkpointIntervalMultiplier or 1
        self.checkpoint_every = max(1, window) * max(1, multiplier)

    def matches(self, record: FakeRecord) -> bool:
        if not self.active:
            return True
        subject = record.stream if self.on_stream else record.type
        if self.regex is not None and not self.regex.search(subject):
            return False
        return not self.prefixes or subject.startswith(self.prefixes)


class _RefusedError(Exception):
    """Ends an RPC with a gRPC status (raised inside handlers, caught at their edge)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class FakeEventStoreDBServer:
    """An in-memory EventStoreDB stand-in serving gRPC on 127.0.0.1 (FAKE, see module doc).

    Use as a context manager or call `start()` / `stop()`. `url` is an esdb:// URL for
    esdbclient (and for eventlog.esdb.EventStoreDBEventStore). All state lives in memory
    and is guarded by one lock; tampering helpers take it too.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_append_size: int = DEFAULT_MAX_APPEND_SIZE,
        seed_system_events: bool = True,
        max_workers: int = 64,
    ) -> None:
        self.host = host
        self.max_append_size = max_append_size
        self._requested_port = port
        self._max_workers = max_workers
        self._changed = threading.Condition()
        self._log: list[FakeRecord] = []
        self._positions: list[int] = []
        self._streams: dict[str, list[FakeRecord]] = {}
        self._last_revision: dict[str, int] = {}
        self._next_position = _LOG_START
        self._stopping = False
        self._server: Any = None
        self._executor: futures.ThreadPoolExecutor | None = None
        self.port = 0
        self.calls: dict[str, int] = {}
        """How many times each RPC was called, e.g. calls["Streams.BatchAppend"]."""
        if seed_system_events:
            for stream, event_type, data in _SYSTEM_SEED:
                proposed = _Proposed(str(uuid.uuid4()), event_type, "application/json", data, b"")
                self._write(stream, ("any", None), [proposed])

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeEventStoreDBServer:
        if self._server is not None:
            return self
        self._executor = futures.ThreadPoolExecutor(
            max_workers=self._max_workers, thread_name_prefix="fakeesdb"
        )
        server = grpc.server(
            self._executor,
            options=[
                ("grpc.max_receive_message_length", 64 * 1024 * 1024),
                ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ],
        )
        streams_pb2_grpc.add_StreamsServicer_to_server(_StreamsServicer(self), server)  # type: ignore[no-untyped-call]
        gossip_pb2_grpc.add_GossipServicer_to_server(_GossipServicer(self), server)  # type: ignore[no-untyped-call]
        self.port = server.add_insecure_port(f"{self.host}:{self._requested_port}")
        if not self.port:
            raise OSError(f"fake EventStoreDB could not bind {self.host}:{self._requested_port}")
        server.start()
        self._server = server
        return self

    def stop(self, grace: float | None = None) -> None:
        """Stop serving; live subscriptions end. The stored records stay readable."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._server is not None:
            self._server.stop(grace).wait()
            self._server = None
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=False, cancel_futures=True)
            # Join the handler threads, with a bound: left running, they outlive the
            # test and compete for the GIL with every later test in the process (a
            # suite once slowed an unrelated eventlet test 30-fold that way). Handlers
            # leave their loops within _LIVE_WAKE_SECONDS once the server stopped.
            deadline = time.monotonic() + STOP_JOIN_SECONDS
            for thread in list(getattr(executor, "_threads", ())):
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FakeEventStoreDBServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """An esdbclient connection string for this server (no TLS)."""
        if not self.port:
            raise RuntimeError("the fake EventStoreDB server is not started")
        return f"esdb://{self.target}?Tls=false"

    # ------------------------------------------------------------------ inspection

    def records(self, stream: str | None = None) -> list[FakeRecord]:
        """Stored records: one stream's by revision, or the whole log in commit order.
        The objects are the stored ones; change them only through the tamper helpers."""
        with self._changed:
            if stream is None:
                return list(self._log)
            return sorted(self._streams.get(stream, []), key=lambda r: r.revision)

    def last_revision(self, stream: str) -> int | None:
        """What the server's index records as the stream's last revision."""
        with self._changed:
            return self._last_revision.get(stream)

    # ------------------------------------------------------------------ tampering

    def edit_record(
        self,
        stream: str,
        revision: int,
        *,
        data: bytes | None = None,
        custom_metadata: bytes | None = None,
        event_type: str | None = None,
    ) -> None:
        """Overwrite a stored event's content in place (bypassing every check)."""
        with self._changed:
            record = self._record(stream, revision)
            if data is not None:
                record.data = data
            if custom_metadata is not None:
                record.custom_metadata = custom_metadata
            if event_type is not None:
                record.type = event_type

    def delete_record(self, stream: str, revision: int) -> None:
        """Remove one record from the log. The index keeps the stream's last revision,
        as it would if someone cut the record out of a chunk file."""
        with self._changed:
            record = self._record(stream, revision)
            self._streams[stream].remove(record)
            index = bisect.bisect_left(self._positions, record.commit_position)
            del self._log[index]
            del self._positions[index]

    def swap_revisions(self, stream: str, first: int, second: int) -> None:
        """Exchange two records' stream revisions; their commit positions stay."""
        with self._changed:
            a, b = self._record(stream, first), self._record(stream, second)
            a.revision, b.revision = b.revision, a.revision

    def insert_record(
        self,
        stream: str,
        revision: int,
        *,
        event_id: str,
        event_type: str,
        data: bytes,
        custom_metadata: bytes,
        content_type: str = "application/json",
    ) -> FakeRecord:
        """Slip a record in at `revision`: every record from there on moves up one
        revision (and the index with them, or the stream's end would not be readable);
        the forged record is written at the end of the log."""
        with self._changed:
            for record in self._streams.get(stream, []):
                if record.revision >= revision:
                    record.revision += 1
            if stream in self._last_revision:
                self._last_revision[stream] += 1
            else:
                self._last_revision[stream] = revision
            proposed = _Proposed(event_id, event_type, content_type, data, custom_metadata)
            record = self._store(stream, revision, proposed)
            self._changed.notify_all()
            return record

    def _record(self, stream: str, revision: int) -> FakeRecord:
        for record in self._streams.get(stream, []):
            if record.revision == revision:
                return record
        raise KeyError(f"no stored record {stream}@{revision}")

    # ------------------------------------------------------------------ writing

    def _store(self, stream: str, revision: int, proposed: _Proposed) -> FakeRecord:
        record = FakeRecord(
            stream=stream,
            revision=revision,
            event_id=proposed.event_id,
            type=proposed.type,
            content_type=proposed.content_type,
            data=proposed.data,
            custom_metadata=proposed.custom_metadata,
            commit_position=self._next_position,
            created_ticks=time.time_ns() // 100,
        )
        size = len(stream) + len(proposed.type) + len(proposed.data)
        self._next_position += _RECORD_OVERHEAD + size + len(proposed.custom_metadata)
        self._log.append(record)
        self._positions.append(record.commit_position)
        self._streams.setdefault(stream, []).append(record)
        return record

    def _write(self, stream: str, expected: Expected, events: list[_Proposed]) -> _WriteOutcome:
        """EventStoreDB's commit check and write, atomically under the lock."""
        with self._changed:
            current = self._last_revision.get(stream)
            kind, revision = expected
            if kind == "stream_exists" and current is None:
                return _WriteOutcome(False, None)
            if kind in ("revision", "no_stream"):
                expected_revision = -1 if revision is None else revision
                actual = -1 if current is None else current
                if expected_revision > actual:
                    return _WriteOutcome(False, current)
                if expected_revision < actual:
                    # Idempotent only if exactly these events follow the expected revision.
                    matched = self._match_at(stream, expected_revision + 1, events)
                    if matched is None:
                        return _WriteOutcome(False, current)
                    return _WriteOutcome(True, current, matched)
            elif events:
                # any / stream_exists: a retry of events already in the stream is a no-op.
                first = self._find(stream, events[0].event_id)
                if first is not None:
                    matched = self._match_at(stream, first.revision, events)
                    if matched is None:
                        return _WriteOutcome(False, current)
                    return _WriteOutcome(True, current, matched)
            if not events:
                return _WriteOutcome(True, current)
            base = -1 if current is None else current
            record = None
            for offset, proposed in enumerate(events):
                record = self._store(stream, base + 1 + offset, proposed)
            self._last_revision[stream] = base + len(events)
            self._changed.notify_all()
            assert record is not None
            return _WriteOutcome(True, base + len(events), record.commit_position)

    def _find(self, stream: str, event_id: str) -> FakeRecord | None:
        for record in self._streams.get(stream, []):
            if record.event_id == event_id:
                return record
        return None

    def _match_at(self, stream: str, revision: int, events: list[_Proposed]) -> int | None:
        """The commit position of the last of `events` if they are stored, in order, from
        `revision` on; None if they are not (or only some are)."""
        by_revision = {r.revision: r for r in self._streams.get(stream, [])}
        position = None
        for offset, proposed in enumerate(events):
            record = by_revision.get(revision + offset)
            if record is None or record.event_id != proposed.event_id:
                return None
            position = record.commit_position
        return position

    def _check_size(self, events: list[_Proposed]) -> None:
        size = sum(len(e.data) + len(e.custom_metadata) for e in events)
        if size > self.max_append_size:
            raise _AppendTooLargeError(self.max_append_size)

    # ------------------------------------------------------------------ reading

    def _stream_slice(
        self, stream: str, start: int | None, backwards: bool, count: int
    ) -> list[FakeRecord] | None:
        with self._changed:
            if stream not in self._last_revision:
                return None
            records = sorted(self._streams.get(stream, []), key=lambda r: r.revision)
        if backwards:
            chosen = [r for r in reversed(records) if start is None or r.revision <= start]
        else:
            chosen = [r for r in records if start is None or r.revision >= start]
        return chosen[:count]

    def _all_index(self, option: str, position: int) -> int:
        """Index into the log where an `$all` read starts (forwards: inclusive;
        backwards: exclusive). Position 0 is the start, the next write position the end;
        any other position must be an event's, or the read is refused."""
        with self._changed:
            if option == "start" or (option == "position" and position == 0):
                return 0
            if option == "end" or position == self._next_position:
                return len(self._log)
            index = bisect.bisect_left(self._positions, position)
            if index < len(self._positions) and self._positions[index] == position:
                return index
        raise _RefusedError(
            grpc.StatusCode.OUT_OF_RANGE,
            f"Invalid position: there is no event at commit position {position}",
        )

    def _subscription_start(self, option: str, position: int) -> int | None:
        """The position after which an `$all` subscription delivers (None: everything)."""
        index = self._all_index(option, position)
        with self._changed:
            if option == "position" and position != 0 and index < len(self._log):
                return position  # an event's position: deliver what follows it
            return self._positions[index - 1] if index else None

    def _all_slice(
        self, start: int, backwards: bool, count: int, event_filter: _Filter
    ) -> list[FakeRecord]:
        with self._changed:
            if backwards:
                candidates: Iterable[FakeRecord] = reversed(self._log[:start])
            else:
                candidates = self._log[start:]
            out: list[FakeRecord] = []
            for record in candidates:
                if len(out) >= count:
                    break
                if event_filter.matches(record):
                    out.append(record)
            return out

    def _records_after(self, position: int | None, limit: int) -> tuple[list[FakeRecord], bool]:
        """Up to `limit` records after `position` (None: from the start), and whether
        the log was exhausted."""
        with self._changed:
            start = 0 if position is None else bisect.bisect_right(self._positions, position)
            batch = self._log[start : start + limit]
            return batch, start + limit >= len(self._log)

    def _wait_for_change(self, is_active: Callable[[], bool], seen: int) -> None:
        with self._changed:
            while not self._stopping and is_active():
                if self._next_position != seen:
                    return
                self._changed.wait(_LIVE_WAKE_SECONDS)

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _count_call(self, name: str) -> None:
        with self._changed:
            self.calls[name] = self.calls.get(name, 0) + 1


class _AppendTooLargeError(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Maximum Append Size of {limit} Exceeded.")
        self.limit = limit


# ---------------------------------------------------------------------- protocol mapping


def _uuid_of(message: shared_pb2.UUID) -> str:
    if message.WhichOneof("value") == "structured":
        most = message.structured.most_significant_bits & (2**64 - 1)
        least = message.structured.least_significant_bits & (2**64 - 1)
        return str(uuid.UUID(int=(most << 64) | least))
    return str(uuid.UUID(message.string))


def _uuid_message(value: str, structured: bool) -> shared_pb2.UUID:
    if not structured:
        return shared_pb2.UUID(string=value)
    number = uuid.UUID(value).int
    most, least = number >> 64, number & (2**64 - 1)
    return shared_pb2.UUID(
        structured=shared_pb2.UUID.Structured(
            most_significant_bits=most - 2**64 if most >= 2**63 else most,
            least_significant_bits=least - 2**64 if least >= 2**63 else least,
        )
    )


def _proposed(message: Any) -> _Proposed:
    """A ProposedMessage of Append or BatchAppend."""
    try:
        event_id = _uuid_of(message.id)
    except ValueError as exc:
        raise _RefusedError(grpc.StatusCode.INVALID_ARGUMENT, f"invalid event id: {exc}") from exc
    event_type = message.metadata.get("type", "")
    if not event_type:
        raise _RefusedError(grpc.StatusCode.INVALID_ARGUMENT, "an event needs a 'type'")
    return _Proposed(
        event_id=event_id,
        type=event_type,
        content_type=message.metadata.get("content-type", "application/octet-stream"),
        data=bytes(message.data),
        custom_metadata=bytes(message.custom_metadata),
    )


def _read_event(record: FakeRecord, structured: bool) -> streams_pb2.ReadResp:
    event = streams_pb2.ReadResp.ReadEvent.RecordedEvent(
        id=_uuid_message(record.event_id, structured),
        stream_identifier=shared_pb2.StreamIdentifier(stream_name=record.stream.encode()),
        stream_revision=record.revision,
        prepare_position=record.prepare_position,
        commit_position=record.commit_position,
        metadata={
            "type": record.type,
            "content-type": record.content_type,
            "created": str(record.created_ticks),
        },
        custom_metadata=record.custom_metadata,
        data=record.data,
    )
    return streams_pb2.ReadResp(
        event=streams_pb2.ReadResp.ReadEvent(event=event, commit_position=record.commit_position)
    )


def _checkpoint(position: int) -> streams_pb2.ReadResp:
    return streams_pb2.ReadResp(
        checkpoint=streams_pb2.ReadResp.Checkpoint(
            commit_position=position, prepare_position=position
        )
    )


def _refuse(code: grpc.StatusCode, details: str) -> NoReturn:
    raise _RefusedError(code, details)


def _abort(context: grpc.ServicerContext, refused: _RefusedError) -> None:
    context.abort(refused.code, refused.details)


class _StreamsServicer(streams_pb2_grpc.StreamsServicer):
    def __init__(self, fake: FakeEventStoreDBServer) -> None:
        self._fake = fake

    # ------------------------------------------------------------------ Read

    def Read(  # noqa: N802 - gRPC method name
        self, request: streams_pb2.ReadReq, context: grpc.ServicerContext
    ) -> Iterator[streams_pb2.ReadResp]:
        self._fake._count_call("Streams.Read")
        options = request.options
        structured = options.uuid_option.WhichOneof("content") == "structured"
        backwards = options.read_direction == streams_pb2.ReadReq.Options.Backwards
        subscribe = options.WhichOneof("count_option") == "subscription"
        try:
            event_filter = _Filter(options)
            if options.WhichOneof("stream_option") == "stream":
                if subscribe:
                    yield from self._subscribe_stream(options, structured, context)
                else:
                    yield from self._read_stream(options, backwards, structured)
            elif subscribe:
                yield from self._subscribe_all(options, event_filter, structured, context)
            else:
                yield from self._read_all(options, backwards, event_filter, structured)
        except _RefusedError as refused:
            _abort(context, refused)

    def _read_stream(
        self, options: streams_pb2.ReadReq.Options, backwards: bool, structured: bool
    ) -> Iterator[streams_pb2.ReadResp]:
        stream_options = options.stream
        stream = stream_options.stream_identifier.stream_name.decode()
        which = stream_options.WhichOneof("revision_option")
        start = stream_options.revision if which == "revision" else None
        records = self._fake._stream_slice(stream, start, backwards, options.count)
        if records is None:
            yield streams_pb2.ReadResp(
                stream_not_found=streams_pb2.ReadResp.StreamNotFound(
                    stream_identifier=stream_options.stream_identifier
                )
            )
            return
        for record in records:
            yield _read_event(record, structured)

    def _read_all(
        self,
        options: streams_pb2.ReadReq.Options,
        backwards: bool,
        event_filter: _Filter,
        structured: bool,
    ) -> Iterator[streams_pb2.ReadResp]:
        which = options.all.WhichOneof("all_option") or "start"
        position = options.all.position.commit_position
        start = self._fake._all_index(which, position)
        for record in self._fake._all_slice(start, backwards, options.count, event_filter):
            yield _read_event(record, structured)

    def _subscribe_all(
        self,
        options: streams_pb2.ReadReq.Options,
        event_filter: _Filter,
        structured: bool,
        context: grpc.ServicerContext,
    ) -> Iterator[streams_pb2.ReadResp]:
        fake = self._fake
        which = options.all.WhichOneof("all_option") or "start"
        position = options.all.position.commit_position
        # A subscription delivers the events *after* its starting position.
        after = fake._subscription_start(which, position)
        context.add_callback(fake._wake)
        yield streams_pb2.ReadResp(
            confirmation=streams_pb2.ReadResp.SubscriptionConfirmation(
                subscription_id=str(uuid.uuid4())
            )
        )
        caught_up = False
        scanned = 0
        while context.is_active() and not fake._stopping:
            seen = fake._next_position
            batch, exhausted = fake._records_after(after, 256)
            for record in batch:
                after = record.commit_position
                if event_filter.matches(record):
                    scanned = 0
                    yield _read_event(record, structured)
                elif event_filter.active:
                    scanned += 1
                    if scanned >= event_filter.checkpoint_every:
                        scanned = 0
                        yield _checkpoint(record.commit_position)
            if not exhausted:
                continue
            if not caught_up:
                caught_up = True
                yield streams_pb2.ReadResp(caught_up=streams_pb2.ReadResp.CaughtUp())
            if not batch:
                fake._wait_for_change(context.is_active, seen)

    def _subscribe_stream(
        self,
        options: streams_pb2.ReadReq.Options,
        structured: bool,
        context: grpc.ServicerContext,
    ) -> Iterator[streams_pb2.ReadResp]:
        fake = self._fake
        stream_options = options.stream
        stream = stream_options.stream_identifier.stream_name.decode()
        which = stream_options.WhichOneof("revision_option")
        next_revision = 0
        if which == "revision":
            next_revision = stream_options.revision + 1
        elif which == "end":
            current = fake.last_revision(stream)
            next_revision = 0 if current is None else current + 1
        context.add_callback(fake._wake)
        yield streams_pb2.ReadResp(
            confirmation=streams_pb2.ReadResp.SubscriptionConfirmation(
                subscription_id=str(uuid.uuid4())
            )
        )
        caught_up = False
        while context.is_active() and not fake._stopping:
            seen = fake._next_position
            records = fake._stream_slice(stream, next_revision, False, 2**31) or []
            for record in records:
                next_revision = record.revision + 1
                yield _read_event(record, structured)
            if not caught_up:
                caught_up = True
                yield streams_pb2.ReadResp(caught_up=streams_pb2.ReadResp.CaughtUp())
            if not records:
                fake._wait_for_change(context.is_active, seen)

    # ------------------------------------------------------------------ Append

    def Append(  # noqa: N802 - gRPC method name
        self, request_iterator: Iterator[streams_pb2.AppendReq], context: grpc.ServicerContext
    ) -> streams_pb2.AppendResp:
        self._fake._count_call("Streams.Append")
        try:
            first = next(request_iterator, None)
            if first is None or first.WhichOneof("content") != "options":
                _refuse(grpc.StatusCode.INVALID_ARGUMENT, "the first message must be options")
            options = first.options
            stream = options.stream_identifier.stream_name.decode()
            which = options.WhichOneof("expected_stream_revision") or "any"
            expected: Expected = (which, options.revision if which == "revision" else None)
            events = [
                _proposed(message.proposed_message)
                for message in request_iterator
                if message.WhichOneof("content") == "proposed_message"
            ]
            try:
                self._fake._check_size(events)
            except _AppendTooLargeError as exc:
                raise _RefusedError(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from exc
            outcome = self._fake._write(stream, expected, events)
        except _RefusedError as refused:
            _abort(context, refused)
            raise AssertionError("unreachable") from None
        if outcome.ok:
            success = streams_pb2.AppendResp.Success()
            if outcome.current is None:
                success.no_stream.CopyFrom(shared_pb2.Empty())
            else:
                success.current_revision = outcome.current
            if outcome.position is None:
                success.no_position.CopyFrom(shared_pb2.Empty())
            else:
                success.position.commit_position = outcome.position
                success.position.prepare_position = outcome.position
            return streams_pb2.AppendResp(success=success)
        wrong = streams_pb2.AppendResp.WrongExpectedVersion()
        if outcome.current is None:
            wrong.current_no_stream.CopyFrom(shared_pb2.Empty())
        else:
            wrong.current_revision = outcome.current
        kind, revision = expected
        if kind == "revision":
            wrong.expected_revision = revision or 0
        elif kind == "no_stream":
            wrong.expected_no_stream.CopyFrom(shared_pb2.Empty())
        elif kind == "stream_exists":
            wrong.expected_stream_exists.CopyFrom(shared_pb2.Empty())
        else:
            wrong.expected_any.CopyFrom(shared_pb2.Empty())
        return streams_pb2.AppendResp(wrong_expected_version=wrong)

    def BatchAppend(  # noqa: N802 - gRPC method name
        self,
        request_iterator: Iterator[streams_pb2.BatchAppendReq],
        context: grpc.ServicerContext,
    ) -> Iterator[streams_pb2.BatchAppendResp]:
        self._fake._count_call("Streams.BatchAppend")
        pending: dict[str, tuple[streams_pb2.BatchAppendReq.Options, list[_Proposed]]] = {}
        try:
            for request in request_iterator:
                correlation = _uuid_of(request.correlation_id)
                if request.HasField("options"):
                    pending[correlation] = (request.options, [])
                if correlation not in pending:
                    _refuse(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"batch {correlation}: the first request must carry options",
                    )
                pending[correlation][1].extend(_proposed(m) for m in request.proposed_messages)
                if request.is_final:
                    options, events = pending.pop(correlation)
                    yield self._batch_result(request.correlation_id, options, events)
        except _RefusedError as refused:
            _abort(context, refused)

    def _batch_result(
        self,
        correlation_id: shared_pb2.UUID,
        options: streams_pb2.BatchAppendReq.Options,
        events: list[_Proposed],
    ) -> streams_pb2.BatchAppendResp:
        stream = options.stream_identifier.stream_name.decode()
        which = options.WhichOneof("expected_stream_position") or "any"
        if which == "stream_position":
            expected: Expected = ("revision", options.stream_position)
        else:
            expected = (which, None)
        response = streams_pb2.BatchAppendResp(
            correlation_id=correlation_id, stream_identifier=options.stream_identifier
        )
        if which == "stream_position":
            response.stream_position = options.stream_position
        elif which == "no_stream":
            response.no_stream.CopyFrom(empty_pb2.Empty())
        elif which == "stream_exists":
            response.stream_exists.CopyFrom(empty_pb2.Empty())
        else:
            response.any.CopyFrom(empty_pb2.Empty())
        try:
            self._fake._check_size(events)
        except _AppendTooLargeError as exc:
            detail = shared_pb2.MaximumAppendSizeExceeded(maxAppendSize=exc.limit)
            response.error.CopyFrom(_status(code_pb2.INVALID_ARGUMENT, str(exc), detail))
            return response
        outcome = self._fake._write(stream, expected, events)
        if outcome.ok:
            success = streams_pb2.BatchAppendResp.Success()
            if outcome.current is None:
                success.no_stream.CopyFrom(empty_pb2.Empty())
            else:
                success.current_revision = outcome.current
            if outcome.position is None:
                success.no_position.CopyFrom(empty_pb2.Empty())
            else:
                success.position.commit_position = outcome.position
                success.position.prepare_position = outcome.position
            response.success.CopyFrom(success)
            return response
        wrong = shared_pb2.WrongExpectedVersion()
        if outcome.current is None:
            wrong.current_no_stream.CopyFrom(empty_pb2.Empty())
        else:
            wrong.current_stream_revision = outcome.current
        if which == "stream_position":
            wrong.expected_stream_position = options.stream_position
        elif which == "no_stream":
            wrong.expected_no_stream.CopyFrom(empty_pb2.Empty())
        elif which == "stream_exists":
            wrong.expected_stream_exists.CopyFrom(empty_pb2.Empty())
        else:
            wrong.expected_any.CopyFrom(empty_pb2.Empty())
        response.error.CopyFrom(
            _status(code_pb2.FAILED_PRECONDITION, "WrongExpectedVersion", wrong)
        )
        return response


def _status(code: int, message: str, detail: Any) -> status_pb2.Status:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return status_pb2.Status(code=code, message=message, details=packed)  # type: ignore[arg-type]


class _GossipServicer(gossip_pb2_grpc.GossipServicer):
    def __init__(self, fake: FakeEventStoreDBServer) -> None:
        self._fake = fake

    def Read(  # noqa: N802 - gRPC method name
        self, request: shared_pb2.Empty, context: grpc.ServicerContext
    ) -> gossip_pb2.ClusterInfo:
        self._fake._count_call("Gossip.Read")
        member = gossip_pb2.MemberInfo(
            instance_id=shared_pb2.UUID(string=str(uuid.uuid5(uuid.NAMESPACE_URL, "fake-esdb"))),
            time_stamp=time.time_ns() // 100,
            state=gossip_pb2.MemberInfo.VNodeState.Leader,
            is_alive=True,
            http_end_point=gossip_pb2.EndPoint(address=self._fake.host, port=self._fake.port),
        )
        return gossip_pb2.ClusterInfo(members=[member])
