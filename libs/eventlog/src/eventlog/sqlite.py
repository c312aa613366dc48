"""SQLite backend: the embedded default, one file in WAL mode.

Owns the SQLite schema and the SQL that implements the port's primitives. Safe for
several threads and several processes on one machine: every append runs inside
`BEGIN IMMEDIATE`, which takes SQLite's single write lock, so positions are assigned and
committed in the same order and a reader can never see a later position before an
earlier one. It must never hold the write lock across anything but the append itself.

Durability: `synchronous=NORMAL` in WAL mode survives a crash of the process (the
platform's failure model) but may lose the last transactions on power loss; set
`durable=True` for `synchronous=FULL`.

Group commit: appends from threads of one process that arrive while a commit is in
flight queue up and are committed together by the next leader, in one transaction,
each call in its own savepoint, so each caller is told exactly its own result (its
positions, or its own ConcurrencyError) and one caller's conflict never fails another.
`append_many` is one such call: several streams, all or nothing (ADR 0024). A lone call
needs no savepoint (docs/adr/0032).

Remembered state (docs/adr/0032): the leader remembers stream heads and the log's last
recorded time from its own commits and trusts them only while `PRAGMA data_version`
says no other connection has committed since; otherwise it reads them again. The head
row is still written on every append, so a deleted last event is detected as before.

Positions (docs/adr/0033): `position` is the table's rowid (`INTEGER PRIMARY KEY`,
without AUTOINCREMENT, which would write `sqlite_sequence` in every commit), so the next
position is the largest stored one + 1. The log never deletes a row, so a position is
never reused; a log created with AUTOINCREMENT by an earlier version keeps it and works
the same.

Wake-ups: appends made in this process wake this process's subscribers directly; appends
made in other processes ring a Unix datagram doorbell (`eventlog.doorbell`) after their
commit. The doorbell is only a hint, so a waiting subscriber still reads the head every
`FALLBACK_POLL_SECONDS`: a lost datagram costs that delay, never an event. A reader
that asks before each request instead (`watch_appends`, a web page) drains a doorbell of
its own without blocking, and reads the log only when it rang or that long has passed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventlog.chain import StreamHead, format_us
from eventlog.clock import Clock, system_clock
from eventlog.doorbell import Doorbell, DoorbellWatch, Ringer, wake_directory
from eventlog.errors import BackendUnavailableError, ConcurrencyError, EventLogError
from eventlog.model import (
    GENESIS_HASH,
    AppendResult,
    EventFilter,
    ExpectedVersion,
    RecordedEvent,
)
from eventlog.ownership import Ownership
from eventlog.port import (
    READ_BATCH,
    AppendWatch,
    Batch,
    EventStore,
    ExistingEvent,
    PreparedEvent,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
POLL_SECONDS = 0.005
"""How often a waiting subscriber checks for appends made by other processes when it
could not bind a doorbell (it then relies on polling alone)."""
FALLBACK_POLL_SECONDS = 0.05
"""How often a subscriber with a doorbell reads the head anyway, in case a wake-up
datagram was lost."""
POOL_IDLE_MAX = 8
"""Idle connections kept per store; more are opened under load and closed after use."""
HEAD_CACHE_MAX = 10_000
"""Stream heads remembered between appends (the least recently written are dropped)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    -- The rowid, without AUTOINCREMENT: see the module docstring (docs/adr/0033).
    position        INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    stream          TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    data            TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    recorded_at_us  INTEGER NOT NULL,
    prev_hash       TEXT    NOT NULL,
    hash            TEXT    NOT NULL,
    UNIQUE (stream, version)
);
CREATE TABLE IF NOT EXISTS streams (
    stream     TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL,
    last_hash  TEXT    NOT NULL
) WITHOUT ROWID;
"""

_COLUMNS = (
    "position, event_id, stream, version, type, schema_version, data, metadata, "
    "recorded_at_us, prev_hash, hash"
)


def _to_us(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_row_to_event = RecordedEvent.from_tuple
_STORED_ROWS = f"SELECT {_COLUMNS} FROM events WHERE position >= ? ORDER BY position LIMIT ?"
# A stream's read leaves out the stream column: it is the one asked for.
_STREAM_COLUMNS = (
    "position, event_id, version, type, schema_version, data, metadata, "
    "recorded_at_us, prev_hash, hash"
)
_stream_row_to_event = RecordedEvent.from_stream_tuple

_INSERT = (
    "INSERT INTO events (event_id, stream, category, version, type, schema_version, "
    "data, metadata, recorded_at_us, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_UPSERT_HEAD = (
    "INSERT INTO streams (stream, version, last_hash) VALUES (?, ?, ?) "
    "ON CONFLICT (stream) DO UPDATE SET version = excluded.version, "
    "last_hash = excluded.last_hash"
)


_HEADS_PER_QUERY = 500
"""Stream heads read per query in a multi-stream append (well below SQLite's limit on
bound parameters)."""


class _Stamp:
    """A group's recorded time: as a datetime, as stored (microseconds since the epoch)
    and as the hash chain formats it."""

    __slots__ = ("at", "text", "us")

    def __init__(self, at: datetime, us: int, text: str) -> None:
        self.at = at
        self.us = us
        self.text = text


class _Pending:
    """One append call waiting in the group-commit queue, and what it will be told."""

    __slots__ = ("batches", "done", "error", "results")

    def __init__(self, batches: list[Batch]) -> None:
        self.batches = batches
        self.results: list[AppendResult] | None = None
        self.error: BaseException | None = None
        self.done = False


class SQLiteEventStore(EventStore):
    """The event log in one SQLite file. Open one instance per process and share it."""

    atomic_append_many = True

    def __init__(
        self,
        path: str | Path,
        *,
        writer: str | None = None,
        ownership: Ownership | None = None,
        clock: Clock = system_clock,
        durable: bool = False,
        busy_timeout: float = 30.0,
    ) -> None:
        super().__init__(writer=writer, ownership=ownership, clock=clock)
        self.path = Path(path)
        self._durable = durable
        self._busy_timeout = busy_timeout
        self._appended = threading.Condition()
        self._waiters = 0
        self._wakeups = 0
        """Bumped (under `_appended`) by local appends and by doorbell rings."""
        self._wake_directory = wake_directory(self.path)
        self._ringer = Ringer(self._wake_directory)
        self._doorbell: Doorbell | None = None
        self._doorbell_lock = threading.Lock()
        self._doorbell_failed = False
        self._watches: list[DoorbellWatch] = []
        self._deferring = threading.local()
        """Per thread: inside `wakeups_deferred`, and whether a commit rang nobody yet."""
        self._connections: list[sqlite3.Connection] = []
        """Every connection opened and not yet closed (idle or borrowed)."""
        self._idle: list[sqlite3.Connection] = []
        self._writer_idle: sqlite3.Connection | None = None
        """The commits' own connection between commits (see `_writer_connection`)."""
        self._connections_lock = threading.Lock()
        # Remembered between commits, used only by the group's leader (docs/adr/0032).
        self._writer_cursor: sqlite3.Cursor | None = None
        """The one cursor commits use on the writer's connection: a statement run
        through `Connection.execute` makes and drops a cursor each time (2-5 us per
        append over five statements; docs/adr/0032)."""
        self._cache_cursor: sqlite3.Cursor | None = None
        self._cache_version: int | None = None
        self._head_cache: dict[str, tuple[int, str]] = {}
        self._last_us: int | None = None
        # Group commit (ADR 0024): appends queue here while a commit is in flight.
        self._group_lock = threading.Lock()
        # Entered through its lock: Condition's own __enter__/__exit__ are Python-level
        # calls, two round trips per append.
        self._group = threading.Condition(self._group_lock)
        self._queue: list[_Pending] = []
        self._committing = False
        self.commit_groups = 0
        """Transactions committed by this handle (for tests and metrics)."""
        self.grouped_calls = 0
        """Append calls those transactions carried; / commit_groups = the mean group."""
        self._queued: Callable[[int], None] | None = None
        """Test-only hook: called, under the queue's lock, with the queue's length after
        each call joins it."""
        self._before_group: Callable[[int], None] | None = None
        """Test-only hook: called by a group's leader with its size before BEGIN, so a
        test can hold one commit in flight while others queue behind it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._borrowed() as connection:
            # IF NOT EXISTS makes this safe when several processes open the file at once.
            connection.executescript(SCHEMA)

    # ------------------------------------------------------------------ connections

    @contextlib.contextmanager
    def _borrowed(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation, from a small pool.

        A pool rather than one connection per thread: servers that start a thread per
        request (werkzeug, http.server) or a greenthread per message (nameko) would
        otherwise open a connection per request and never close it. sqlite3 never yields
        to an eventlet hub, so a borrowed connection is never used by two greenthreads."""
        with self._connections_lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._open()
        try:
            yield connection
        finally:
            self._give_back(connection)

    def _writer_connection(self) -> sqlite3.Connection:
        """The connection for a commit: the one the last commit used (its data_version
        vouches for the remembered heads), or a new one. Only the group's leader calls
        this, so it is never shared; readers never take it."""
        with self._connections_lock:
            connection, self._writer_idle = self._writer_idle, None
        if connection is None:
            connection = self._open()
            # A commit reads a head or two from the page cache and writes through the
            # WAL; a memory map only costs it an fstat() and remapping per transaction
            # (measured 1-3 us per append; docs/adr/0032). Readers keep theirs.
            connection.execute("PRAGMA mmap_size=0")
        return connection

    def _give_back(self, connection: sqlite3.Connection, *, writer: bool = False) -> None:
        with self._connections_lock:
            if connection not in self._connections:
                # close() ran while it was borrowed: close it now that nobody uses it.
                connection.close()
            elif connection.in_transaction:
                self._connections.remove(connection)
                connection.close()
            elif writer and self._writer_idle is None:
                self._writer_idle = connection
            elif len(self._idle) < POOL_IDLE_MAX:
                self._idle.append(connection)
            else:
                self._connections.remove(connection)
                connection.close()

    def _query(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        with self._borrowed() as connection:
            return connection.execute(sql, params).fetchall()

    def _open(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            # Small pages: an append touches four b-trees, and every touched page is
            # copied into the WAL at commit, so 1 KiB pages make commits ~40% cheaper.
            # Only takes effect when the file is created.
            connection.execute("PRAGMA page_size=1024")
            connection.execute("PRAGMA journal_mode=WAL")
            # Checkpoint every ~8 MiB of WAL rather than 1 MiB: the automatic
            # checkpoint runs inside some append's COMMIT, so rarer is cheaper.
            connection.execute("PRAGMA wal_autocheckpoint=8000")
            connection.execute(f"PRAGMA synchronous={'FULL' if self._durable else 'NORMAL'}")
            connection.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
            # Reads (docs/adr/0025): SQLite's default page cache is 2 MiB, less than a
            # 10,000-event stream in 1 KiB pages, so a rebuild re-read every page from
            # the OS; 8 MiB keeps long streams cached (grown only as pages are read).
            # Memory-mapping the file lets long scans (read_all, verify) read pages
            # without a read() copy each. Writes still go through write(), so
            # durability is unchanged. Measured: -10% to -13% per row read.
            connection.execute("PRAGMA cache_size=-8192")
            connection.execute("PRAGMA mmap_size=268435456")
        except sqlite3.Error as exc:
            raise BackendUnavailableError(f"cannot open SQLite log {self.path}: {exc}") from exc
        with self._connections_lock:
            self._connections.append(connection)
        return connection

    def close(self) -> None:
        """Close idle connections now and borrowed ones when they are returned: closing
        a connection another thread is using crashes the sqlite3 module."""
        with self._connections_lock:
            for connection in self._idle:
                connection.close()
            if self._writer_idle is not None:
                self._writer_idle.close()
                self._writer_idle = None
            self._connections.clear()
            self._idle.clear()
        with self._doorbell_lock:
            if self._doorbell is not None:
                self._doorbell.close()
                self._doorbell = None
            watches, self._watches = self._watches, []
        for watch in watches:
            watch.close()
        self._ringer.close()

    # ------------------------------------------------------------------ writing

    def _append(
        self, stream: str, prepared: list[PreparedEvent], expected: ExpectedVersion
    ) -> AppendResult:
        return self._submit([(stream, prepared, expected)])[0]

    def _append_many(self, batches: list[Batch]) -> list[AppendResult]:
        return self._submit(batches)

    def _submit(self, batches: list[Batch]) -> list[AppendResult]:
        """Group commit: queue the call; the first caller to find no commit in flight
        becomes the leader and commits everything queued by then in one transaction,
        on its own thread (no hand-off: a lone writer is its own leader), each call in
        its own savepoint, so each is told exactly its own outcome."""
        pending = _Pending(batches)
        group: list[_Pending] | None = None
        with self._group_lock:
            self._queue.append(pending)
            hook = self._queued
            if hook is not None:
                hook(len(self._queue))
            while self._committing and not pending.done:
                self._group.wait()
            if not pending.done:
                self._committing = True
                group, self._queue = self._queue, []
        if group is not None:
            try:
                self._commit_group(group)
            finally:
                with self._group_lock:
                    for member in group:
                        member.done = True
                    self._committing = False
                    # Everyone waiting is in `group` or queued behind it; a lone
                    # caller with nobody queued skips the notify.
                    if len(group) > 1 or self._queue:
                        self._group.notify_all()
        if pending.error is not None:
            raise pending.error
        assert pending.results is not None
        return pending.results

    def _commit_group(self, group: list[_Pending]) -> None:
        hook = self._before_group
        if hook is not None:
            hook(len(group))
        try:
            connection = self._writer_connection()
            try:
                cursor = self._writer_cursor
                if cursor is None or cursor.connection is not connection:
                    cursor = self._writer_cursor = connection.cursor()
                # A lone call needs no savepoint: its checks run before it writes, so a
                # refused call has written nothing, and the one failure that comes after
                # a write (a unique-id violation, a retry to resolve) is replayed in
                # savepoint mode. A group gives each call its own savepoint.
                if not self._commit(cursor, group, savepoints=len(group) > 1):
                    self._commit(cursor, group, savepoints=True)
            finally:
                self._give_back(connection, writer=True)
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the group
            # Nothing of the group was committed: every member that had succeeded so
            # far is told so (a member with its own error keeps it: it wrote nothing).
            self._forget_heads()
            for member in group:
                if member.error is None:
                    member.results = None
                    member.error = self._group_failure(exc, len(group))
            return
        self.commit_groups += 1
        self.grouped_calls += len(group)
        # Committed: tell other processes' subscribers (a hint; see module docstring),
        # now or, inside `wakeups_deferred`, when the block ends.
        deferring = self._deferring
        if getattr(deferring, "active", False):
            deferring.pending = True
        else:
            self._ring_others()
        # Most appends have nobody waiting here; skip the lock round trip then. A
        # waiter registers before it reads the head, so a zero here means it will see
        # this commit in that read.
        if self._waiters:
            self._wake()

    def _commit(self, cursor: sqlite3.Cursor, group: list[_Pending], *, savepoints: bool) -> bool:
        """One transaction for the group. False (after rolling back) when a call without
        a savepoint hit a unique-id violation: run the group again with savepoints."""
        cursor.execute("BEGIN IMMEDIATE")
        try:
            last_us = self._last_recorded_us(cursor)
            # recorded_at never goes backwards along the log (see port), and one group
            # shares it.
            now = self._recorded_at(None)
            recorded_us = _to_us(now)
            if last_us is not None and recorded_us < last_us:
                recorded_us = last_us
                now = _EPOCH + timedelta(microseconds=last_us)
            stamp = _Stamp(now, recorded_us, format_us(recorded_us))
            written: dict[str, tuple[int, str]] = {}
            """Heads written by this transaction's calls so far (uncommitted)."""
            for member in group:
                if savepoints:
                    try:
                        member.results = self._write_member(cursor, member.batches, stamp, written)
                    except (EventLogError, sqlite3.IntegrityError) as exc:
                        member.error = exc  # its own outcome; the others go on
                    continue
                try:
                    member.results = self._write_batches(cursor, member.batches, {}, stamp, written)
                except sqlite3.IntegrityError:
                    cursor.execute("ROLLBACK")
                    return False
                except EventLogError as exc:
                    member.error = exc  # refused before writing anything
            # Nothing written (refusals, exact retries): nothing to make durable.
            cursor.execute("COMMIT" if written else "ROLLBACK")
        except BaseException:
            if cursor.connection.in_transaction:
                cursor.execute("ROLLBACK")
            raise
        if written:
            self._remember_heads(written, recorded_us)
        return True

    # Stream heads and the log's last recorded time, remembered between transactions.
    # Both are only read while holding the write lock (inside BEGIN IMMEDIATE), and
    # they are trusted only while `PRAGMA data_version` on the same connection says no
    # other connection (another process, a tamperer, another handle) has committed since:
    # then the streams table and the log's tail are exactly as our last commit left
    # them. Anything else drops them and they are read again (docs/adr/0032).

    def _last_recorded_us(self, cursor: sqlite3.Cursor) -> int | None:
        [version] = cursor.execute("PRAGMA data_version").fetchone()
        if cursor is not self._cache_cursor or version != self._cache_version:
            self._head_cache.clear()
            self._last_us = None
            self._cache_cursor = cursor
            self._cache_version = version
        if self._last_us is None:
            last = cursor.execute(
                "SELECT recorded_at_us FROM events ORDER BY position DESC LIMIT 1"
            ).fetchone()
            self._last_us = None if last is None else int(last[0])
        return self._last_us

    def _remember_heads(self, written: dict[str, tuple[int, str]], recorded_us: int) -> None:
        """After COMMIT: what this transaction wrote is now the committed state."""
        self._last_us = recorded_us
        cache = self._head_cache
        for stream, head in written.items():
            cache.pop(stream, None)  # re-insert: the dict's order is least recently written
            cache[stream] = head
        while len(cache) > HEAD_CACHE_MAX:
            del cache[next(iter(cache))]

    def _forget_heads(self) -> None:
        self._cache_cursor = None
        self._cache_version = None
        self._head_cache.clear()
        self._last_us = None

    def _ring_others(self) -> None:
        bell = self._doorbell
        self._ringer.ring(skip=None if bell is None else bell.path)

    @contextlib.contextmanager
    def wakeups_deferred(self) -> Iterator[None]:
        """See `EventStore.wakeups_deferred`. A group committed by this thread rings at
        the block's end (the other callers in that group are told then too); a group
        led by another thread rings as usual. Nested blocks join the outer one."""
        deferring = self._deferring
        if getattr(deferring, "active", False):
            yield
            return
        deferring.active, deferring.pending = True, False
        try:
            yield
        finally:
            deferring.active = False
            if deferring.pending:
                deferring.pending = False
                self._ring_others()

    def _group_failure(self, exc: BaseException, size: int) -> BaseException:
        if isinstance(exc, sqlite3.Error):
            failure = BackendUnavailableError(f"SQLite log {self.path}: {exc}")
            failure.__cause__ = exc
            return failure
        if size == 1 or not isinstance(exc, Exception):
            return exc
        failure = BackendUnavailableError(
            f"SQLite log {self.path}: the group commit failed, nothing was appended: {exc!r}"
        )
        failure.__cause__ = exc
        return failure

    def _write_member(
        self,
        cursor: sqlite3.Cursor,
        batches: list[Batch],
        stamp: _Stamp,
        written: dict[str, tuple[int, str]],
    ) -> list[AppendResult]:
        """One call's batches inside the group's transaction, in a savepoint: all of them
        or none. A unique-id violation means an id is already stored: resolve the exact
        retries from what is stored and write the rest again."""
        known: dict[int, AppendResult] = {}
        while True:
            cursor.execute("SAVEPOINT fw_append")
            mine: dict[str, tuple[int, str]] = {}
            try:
                results = self._write_batches(cursor, batches, known, stamp, mine, written)
            except sqlite3.IntegrityError:
                cursor.execute("ROLLBACK TO fw_append")
                cursor.execute("RELEASE fw_append")
                if not self._resolve_retries(
                    batches, known, lambda prepared: self._existing(cursor, prepared)
                ):
                    raise
                continue
            except BaseException:
                cursor.execute("ROLLBACK TO fw_append")
                cursor.execute("RELEASE fw_append")
                raise
            cursor.execute("RELEASE fw_append")
            written.update(mine)
            return results

    def _write_batches(
        self,
        cursor: sqlite3.Cursor,
        batches: list[Batch],
        known: dict[int, AppendResult],
        stamp: _Stamp,
        heads_out: dict[str, tuple[int, str]],
        written: dict[str, tuple[int, str]] | None = None,
    ) -> list[AppendResult]:
        """Every batch not already `known`: heads read in one query (or remembered),
        rows inserted and heads upserted in one statement each, whatever the number of
        streams. The new heads go into `heads_out`; `written` holds heads that earlier
        calls of this transaction wrote (default: `heads_out` itself)."""
        if written is None:
            written = heads_out
        if len(batches) == 1 and not known:
            return [self._write_one(cursor, batches[0], stamp, heads_out, written)]
        heads = self._heads(
            cursor, [batches[i][0] for i in range(len(batches)) if i not in known], written
        )
        rows: list[tuple[object, ...]] = []
        new_heads: list[tuple[str, int, str]] = []
        planned: list[tuple[int, str, tuple[int, ...]]] = []
        recorded_us = stamp.us
        for index, (stream, prepared, expected) in enumerate(batches):
            if index in known:
                continue
            current, last_hash = heads.get(stream, (None, GENESIS_HASH))
            try:
                self._check_expected(stream, expected, current)
            except ConcurrencyError:
                retry = self._resolve_retry(stream, prepared, self._existing(cursor, prepared))
                if retry is None:
                    raise
                known[index] = retry
                continue
            sealed = self._seal(
                stream,
                prepared,
                next_version=0 if current is None else current + 1,
                prev_hash=last_hash,
                recorded_at=stamp.at,
                recorded_text=stamp.text,
            )
            category = stream.split("-", 1)[0]
            rows.extend(
                (
                    item.event.id,
                    stream,
                    category,
                    item.version,
                    item.event.type,
                    item.event.schema_version,
                    item.event.data_json,
                    item.event.metadata_json,
                    recorded_us,
                    item.prev_hash,
                    item.hash,
                )
                for item in sealed
            )
            new_heads.append((stream, sealed[-1].version, sealed[-1].hash))
            planned.append((index, stream, tuple(item.version for item in sealed)))
        if rows:
            if len(rows) == 1:
                last_position = cursor.execute(_INSERT, rows[0]).lastrowid or 0
            else:
                cursor.executemany(_INSERT, rows)
                # We hold the write lock, so the rows got consecutive rowids ending here.
                last_position = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
            if len(new_heads) == 1:
                cursor.execute(_UPSERT_HEAD, new_heads[0])
            else:
                cursor.executemany(_UPSERT_HEAD, new_heads)
            for stream, version, last_hash in new_heads:
                heads_out[stream] = (version, last_hash)
            position = last_position - len(rows) + 1
            for index, stream, versions in planned:
                known[index] = AppendResult(
                    stream, versions, tuple(range(position, position + len(versions)))
                )
                position += len(versions)
        return [known[index] for index in range(len(batches))]

    def _write_one(
        self,
        cursor: sqlite3.Cursor,
        batch: Batch,
        stamp: _Stamp,
        heads_out: dict[str, tuple[int, str]],
        written: dict[str, tuple[int, str]],
    ) -> AppendResult:
        """`_write_batches` for one stream, the common append, without its bookkeeping
        for many streams: the same checks, rows and head, in the same statements."""
        stream, prepared, expected = batch
        head = written.get(stream) or self._head_cache.get(stream)
        if head is None:
            head = self._heads(cursor, [stream], written).get(stream)
        current, last_hash = (None, GENESIS_HASH) if head is None else head
        try:
            self._check_expected(stream, expected, current)
        except ConcurrencyError:
            retry = self._resolve_retry(stream, prepared, self._existing(cursor, prepared))
            if retry is None:
                raise
            return retry
        sealed = self._seal(
            stream,
            prepared,
            next_version=0 if current is None else current + 1,
            prev_hash=last_hash,
            recorded_at=stamp.at,
            recorded_text=stamp.text,
        )
        category = stream.split("-", 1)[0]
        recorded_us = stamp.us
        rows = [
            (
                event.id,
                stream,
                category,
                version,
                event.type,
                event.schema_version,
                event.data_json,
                event.metadata_json,
                recorded_us,
                prev_hash,
                digest,
            )
            for event, version, _at, prev_hash, digest in sealed
        ]
        if len(rows) == 1:
            _event, version, _at, _prev, digest = sealed[0]
            position = cursor.execute(_INSERT, rows[0]).lastrowid or 0
            cursor.execute(_UPSERT_HEAD, (stream, version, digest))
            heads_out[stream] = (version, digest)
            return AppendResult(stream, (version,), (position,))
        cursor.executemany(_INSERT, rows)
        # We hold the write lock, so the rows got consecutive rowids ending here.
        last_position = cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
        last = sealed[-1]
        cursor.execute(_UPSERT_HEAD, (stream, last.version, last.hash))
        heads_out[stream] = (last.version, last.hash)
        first = last_position - len(rows) + 1
        return AppendResult(
            stream,
            tuple(item.version for item in sealed),
            tuple(range(first, last_position + 1)),
        )

    def _heads(
        self,
        cursor: sqlite3.Cursor,
        streams: list[str],
        written: dict[str, tuple[int, str]],
    ) -> dict[str, tuple[int, str]]:
        """(version, last hash) of each existing stream among `streams`: as this
        transaction wrote it, as remembered from our last commit, or read."""
        found: dict[str, tuple[int, str]] = {}
        missing: list[str] = []
        cache = self._head_cache
        for stream in streams:
            head = written.get(stream) or cache.get(stream)
            if head is None:
                missing.append(stream)
            else:
                found[stream] = head
        if not missing:
            return found
        # Not written by this transaction, so what we read is committed state, which
        # the cache may keep (valid while data_version stays put).
        if len(missing) == 1:
            row = cursor.execute(
                "SELECT version, last_hash FROM streams WHERE stream = ?", missing
            ).fetchone()
            if row is not None:
                found[missing[0]] = cache[missing[0]] = (row[0], row[1])
            return found
        for offset in range(0, len(missing), _HEADS_PER_QUERY):
            chunk = missing[offset : offset + _HEADS_PER_QUERY]
            for stream, version, last_hash in cursor.execute(
                "SELECT stream, version, last_hash FROM streams "
                f"WHERE stream IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                found[stream] = cache[stream] = (version, last_hash)
        return found

    def _wake(self) -> None:
        with self._appended:
            self._wakeups += 1
            self._appended.notify_all()

    @staticmethod
    def _existing(cursor: sqlite3.Cursor, prepared: Sequence[PreparedEvent]) -> list[ExistingEvent]:
        marks = ",".join("?" * len(prepared))
        rows = cursor.execute(
            f"SELECT event_id, stream, version, position FROM events WHERE event_id IN ({marks})",
            [event.id for event in prepared],
        ).fetchall()
        return [ExistingEvent(*row) for row in rows]

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
        clauses = ["stream = ?"]
        params: list[object] = [stream]
        if from_version is not None:
            clauses.append("version <= ?" if backwards else "version >= ?")
            params.append(from_version)
        self._add_cut(clauses, params, to_position, until)
        sql = (
            f"SELECT {_STREAM_COLUMNS} FROM events WHERE {' AND '.join(clauses)} "
            f"ORDER BY version {'DESC' if backwards else 'ASC'}"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._borrowed() as connection:
            # Each row becomes an event as it is stepped to, rather than a list of all
            # the rows first: the rows of a long stream no longer outlive collector
            # passes beside their events (docs/adr/0030).
            return [_stream_row_to_event(stream, row) for row in connection.execute(sql, params)]

    def _read_all_batch(
        self,
        from_position: int,
        event_filter: EventFilter | None,
        to_position: int | None,
        until: datetime | None,
        limit: int,
    ) -> list[RecordedEvent]:
        clauses = ["position >= ?"]
        params: list[object] = [from_position]
        if event_filter is not None:
            if event_filter.categories is not None:
                clauses.append(f"category IN ({','.join('?' * len(event_filter.categories))})")
                params.extend(sorted(event_filter.categories))
            if event_filter.event_types is not None:
                clauses.append(f"type IN ({','.join('?' * len(event_filter.event_types))})")
                params.extend(sorted(event_filter.event_types))
        self._add_cut(clauses, params, to_position, until)
        params.append(limit)
        rows = self._query(
            f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(clauses)} "
            "ORDER BY position LIMIT ?",
            params,
        )
        return [_row_to_event(row) for row in rows]

    def _stored_rows(self) -> Iterator[tuple[Any, ...]]:
        # verify_all checks the rows as they are (docs/adr/0030), a page at a time so
        # that no read transaction spans the whole pass, each row handed over as it is
        # stepped to rather than a page of rows kept alive (collector passes).
        position, count = 0, READ_BATCH
        while count == READ_BATCH:
            count = 0
            with self._borrowed() as connection:
                cursor = connection.execute(_STORED_ROWS, (position, READ_BATCH))
                try:
                    for row in cursor:
                        count += 1
                        position = row[0] + 1
                        yield row
                finally:
                    cursor.close()

    def _current_version(self, stream: str) -> int | None:
        [row] = self._query("SELECT MAX(version) FROM events WHERE stream = ?", (stream,))
        return None if row[0] is None else int(row[0])

    def _head_position(self) -> int:
        [row] = self._query("SELECT MAX(position) FROM events", ())
        return int(row[0]) if row[0] is not None else 0

    def _position_at(self, instant: datetime) -> int:
        # recorded_at never decreases along positions (see EventStore._recorded_at), so
        # a binary search over the primary key replaces an index on time that would
        # cost every append.
        target = _to_us(instant)
        low, high = 0, self._head_position()
        with self._borrowed() as connection:
            while low < high:
                middle = (low + high + 1) // 2
                row = connection.execute(
                    "SELECT position, recorded_at_us FROM events WHERE position >= ? "
                    "ORDER BY position LIMIT 1",
                    (middle,),
                ).fetchone()
                if row is not None and row[1] <= target:
                    low = int(row[0])
                else:
                    high = middle - 1
        return low

    @property
    def doorbell_rings(self) -> int:
        """Wake-up datagrams this handle's doorbell has received (for tests and metrics)."""
        bell = self._doorbell
        return 0 if bell is None else bell.received

    @property
    def doorbell_sent(self) -> int:
        """Wake-up datagrams this handle has sent after its commits."""
        return self._ringer.sent

    def watch_appends(self) -> AppendWatch:
        """A doorbell of the caller's own, drained without blocking (see
        `DoorbellWatch`): yes after an append committed by any process, and at least
        every `FALLBACK_POLL_SECONDS` in case a datagram was lost."""
        watch = DoorbellWatch(self._wake_directory, fallback_seconds=FALLBACK_POLL_SECONDS)
        with self._doorbell_lock:
            self._watches = [w for w in self._watches if not w.closed]
            self._watches.append(watch)
        return watch

    def _ensure_doorbell(self) -> Doorbell | None:
        bell = self._doorbell
        if bell is not None and bell.alive:
            return bell
        with self._doorbell_lock:
            if self._doorbell_failed:
                return None
            bell = self._doorbell
            if bell is not None and bell.alive:
                return bell
            if bell is not None:
                # Its file was removed or we were forked: nobody can ring it any more.
                bell.close()
            try:
                self._doorbell = Doorbell(self._wake_directory, self._wake)
            except OSError:
                # A read-only directory, say: fall back to polling alone.
                self._doorbell = None
                self._doorbell_failed = True
            return self._doorbell

    def _wait_for_append(self, known_head: int, timeout: float) -> None:
        # Appends from this process and rings from other processes (the relay follows
        # what services append) both bump `_wakeups`. Register as a waiter before
        # reading the head so that no append between the read and the wait is missed.
        if self._ensure_doorbell() is None:
            self._poll_for_append(known_head, timeout)
            return
        with self._appended:
            self._waiters += 1
            seen = self._wakeups
        try:
            if self._head_position() > known_head:
                return
            with self._appended:
                self._appended.wait_for(
                    lambda: self._wakeups != seen, timeout=min(timeout, FALLBACK_POLL_SECONDS)
                )
        finally:
            with self._appended:
                self._waiters -= 1

    def _poll_for_append(self, known_head: int, timeout: float) -> None:
        # Without a doorbell, appends from other processes are seen at the next poll. A
        # poll is one primary-key lookup, so polling every 5 ms costs little.
        deadline = time.monotonic() + timeout
        step = min(timeout, POLL_SECONDS)
        while True:
            if self._head_position() > known_head:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with self._appended:
                self._waiters += 1
                try:
                    self._appended.wait(min(step, left))
                finally:
                    self._waiters -= 1

    def _add_cut(
        self,
        clauses: list[str],
        params: list[object],
        to_position: int | None,
        until: datetime | None,
    ) -> None:
        if until is not None:
            at_time = self._position_at(until)
            to_position = at_time if to_position is None else min(to_position, at_time)
        if to_position is not None:
            clauses.append("position <= ?")
            params.append(to_position)

    def _stream_head(self, stream: str) -> StreamHead | None:
        rows = self._query("SELECT version, last_hash FROM streams WHERE stream = ?", (stream,))
        return StreamHead(int(rows[0][0]), str(rows[0][1])) if rows else None

    def _stream_names(self) -> Sequence[str]:
        return [str(row[0]) for row in self._query("SELECT stream FROM streams", ())]

    def _stream_heads(self) -> dict[str, StreamHead]:
        rows = self._query("SELECT stream, version, last_hash FROM streams", ())
        return {str(row[0]): StreamHead(int(row[1]), str(row[2])) for row in rows}
