"""Event-log throughput: our backends against the raw driver and the `eventsourcing` library.

Three *subjects* do the same work on the same backend, each in its own database (SQLite)
or schema (PostgreSQL):

- ``ours``: Firewatch's `EventStore` (validation, ownership, hash chain, expected version);
- ``raw``: the plain driver (sqlite3 / psycopg) on a comparable table, no checks beyond the
  table's own UNIQUE (stream, version): the floor any event store on that driver pays;
- ``eventsourcing``: the peer library's `Application` with one `Aggregate` class, on its
  SQLite or PostgreSQL recorder.

Measurements (all reported as events per second, higher is better):

- ``single``: one new event per append, one transaction each, expected version exact,
  round-robin over `streams` streams (a service handling one command at a time);
- ``batch``: appends of `batch_size` events each, round-robin over 10 streams;
- ``rebuild``: read one `rebuild_events`-event stream in full and touch every event's data;
- ``read_all_bare`` / ``read_all_data``: read the whole log in commit order, without and
  with decoding each event's data (our `RecordedEvent` decodes JSON lazily, so the bare
  figure skips JSON work that the data figure pays).

The harness times each call with `time.perf_counter`, repeats it, and keeps every rate;
the report uses the best (highest) of the repeats.
"""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from eventlog import EventMetadata, EventStore, NewEvent, Ownership, StreamState, open_store

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
WRITER = "bench"
CATEGORY = "bench"
OWNERSHIP = Ownership({WRITER: {CATEGORY}})
BATCH_STREAMS = 10
SEED_CHUNK = 1000  # our port's MAX_BATCH_EVENTS

MEASUREMENTS: dict[str, str] = {
    "single": "single-event appends",
    "batch": "batched appends",
    "rebuild": "stream rebuild",
    "read_all_bare": "read_all, data not touched",
    "read_all_data": "read_all, .data decoded",
}
SUBJECTS = ("ours", "raw", "eventsourcing")
BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Config:
    single_appends: int
    streams: int
    batch_size: int
    batches: int
    rebuild_events: int
    repeats: int

    def label(self, measurement: str) -> str:
        base = MEASUREMENTS[measurement]
        if measurement == "single":
            return f"{base} ({self.single_appends:,} over {self.streams} streams)"
        if measurement == "batch":
            return f"{base} ({self.batches} x {self.batch_size} events)"
        if measurement == "rebuild":
            return f"{base} ({self.rebuild_events:,} events)"
        return base


FULL = Config(
    single_appends=5000, streams=100, batch_size=100, batches=100, rebuild_events=10_000, repeats=5
)
QUICK = Config(
    single_appends=200, streams=20, batch_size=100, batches=5, rebuild_events=1000, repeats=1
)


def payload(n: int) -> dict[str, Any]:
    """About 150 bytes of JSON, shaped like an incident note."""
    return {
        "n": n,
        "title": "Disk almost full on db-1",
        "severity": "sev2",
        "service": "checkout",
        "summary": "Free space dropped below 5% on /var/lib/postgresql",
    }


METADATA = EventMetadata(correlation_id="0b8e5c3e-bench", actor="bench")
METADATA_JSON = json.dumps({"actor": "bench", "correlation_id": "0b8e5c3e-bench"})


class SubjectUnavailableError(Exception):
    """A subject cannot run here; the message says why and lands in the report."""


# ---------------------------------------------------------------------------------- subjects


class Subject:
    """One implementation on one backend. Each method does the timed work and returns the
    number of events it wrote or read; untimed preparation lives in `prepare_*`."""

    name: str

    def seed(self, streams: int) -> None:
        """Create `streams` single-event streams and the batch streams (untimed)."""
        raise NotImplementedError

    def single(self, count: int, streams: int) -> int:
        raise NotImplementedError

    def batch(self, batches: int, size: int) -> int:
        raise NotImplementedError

    def prepare_rebuild(self, count: int) -> None:
        raise NotImplementedError

    def rebuild(self) -> int:
        raise NotImplementedError

    def read_all(self, *, touch_data: bool) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class OursSubject(Subject):
    name = "ours"

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.versions: dict[str, int] = {}
        self.counter = 0
        self.rebuild_stream = f"{CATEGORY}-rebuild"

    def _append(self, stream: str, events: list[NewEvent]) -> None:
        expected = self.versions.get(stream, StreamState.NO_STREAM)
        result = self.store.append(stream, events, expected)
        self.versions[stream] = result.current_version

    def _events(self, count: int) -> list[NewEvent]:
        start, self.counter = self.counter, self.counter + count
        return [
            NewEvent("IncidentNoted", payload(n), metadata=METADATA)
            for n in range(start, start + count)
        ]

    def seed(self, streams: int) -> None:
        for index in range(streams):
            self._append(f"{CATEGORY}-s{index}", self._events(1))
        for index in range(BATCH_STREAMS):
            self._append(f"{CATEGORY}-b{index}", self._events(1))

    def single(self, count: int, streams: int) -> int:
        append = self.store.append
        versions = self.versions
        names = [f"{CATEGORY}-s{index}" for index in range(streams)]
        base = self.counter
        for offset in range(count):
            stream = names[offset % streams]
            event = NewEvent("IncidentNoted", payload(base + offset), metadata=METADATA)
            versions[stream] = append(stream, [event], versions[stream]).current_version
        self.counter += count
        return count

    def batch(self, batches: int, size: int) -> int:
        for index in range(batches):
            self._append(f"{CATEGORY}-b{index % BATCH_STREAMS}", self._events(size))
        return batches * size

    def prepare_rebuild(self, count: int) -> None:
        for start in range(0, count, SEED_CHUNK):
            self._append(self.rebuild_stream, self._events(min(SEED_CHUNK, count - start)))

    def rebuild(self) -> int:
        events = self.store.read_stream(self.rebuild_stream)
        for recorded in events:
            recorded.data  # noqa: B018 - decoding is the work being measured
        return len(events)

    def read_all(self, *, touch_data: bool) -> int:
        count = 0
        if touch_data:
            for recorded in self.store.read_all():
                recorded.data  # noqa: B018
                count += 1
        else:
            for recorded in self.store.read_all():
                recorded.position  # noqa: B018
                count += 1
        return count

    def close(self) -> None:
        self.store.close()


class RawSubject(Subject):
    """Shared logic for the driver baselines; subclasses supply the SQL plumbing."""

    name = "raw"
    insert_sql: str
    select_stream_sql: str
    select_all_sql: str

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.counter = 0
        self.rebuild_stream = f"{CATEGORY}-rebuild"

    def _row(self, stream: str, version: int, n: int) -> tuple[Any, ...]:
        raise NotImplementedError

    def _insert_one(self, row: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def _insert_many(self, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _rows(self, stream: str, count: int) -> list[tuple[Any, ...]]:
        first = self.versions.get(stream, -1) + 1
        start, self.counter = self.counter, self.counter + count
        self.versions[stream] = first + count - 1
        return [self._row(stream, first + i, start + i) for i in range(count)]

    def seed(self, streams: int) -> None:
        for index in range(streams):
            self._insert_many(self._rows(f"{CATEGORY}-s{index}", 1))
        for index in range(BATCH_STREAMS):
            self._insert_many(self._rows(f"{CATEGORY}-b{index}", 1))

    def single(self, count: int, streams: int) -> int:
        names = [f"{CATEGORY}-s{index}" for index in range(streams)]
        versions = self.versions
        base = self.counter
        for offset in range(count):
            stream = names[offset % streams]
            version = versions[stream] + 1
            self._insert_one(self._row(stream, version, base + offset))
            versions[stream] = version
        self.counter += count
        return count

    def batch(self, batches: int, size: int) -> int:
        for index in range(batches):
            self._insert_many(self._rows(f"{CATEGORY}-b{index % BATCH_STREAMS}", size))
        return batches * size

    def prepare_rebuild(self, count: int) -> None:
        for start in range(0, count, SEED_CHUNK):
            self._insert_many(self._rows(self.rebuild_stream, min(SEED_CHUNK, count - start)))


class RawSQLite(RawSubject):
    """sqlite3 in WAL mode with synchronous=NORMAL, as our backend configures it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.connection = sqlite3.connect(path, isolation_level=None, cached_statements=256)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute(
            "CREATE TABLE raw_events ("
            " position INTEGER PRIMARY KEY, event_id TEXT NOT NULL, stream TEXT NOT NULL,"
            " version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL,"
            " metadata TEXT NOT NULL, recorded_at_us INTEGER NOT NULL,"
            " UNIQUE (stream, version))"
        )
        self.insert_sql = (
            "INSERT INTO raw_events (event_id, stream, version, type, data, metadata,"
            " recorded_at_us) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        columns = "position, event_id, stream, version, type, data, metadata, recorded_at_us"
        self.select_stream_sql = (
            f"SELECT {columns} FROM raw_events WHERE stream = ? ORDER BY version"
        )
        self.select_all_sql = f"SELECT {columns} FROM raw_events ORDER BY position"

    def _row(self, stream: str, version: int, n: int) -> tuple[Any, ...]:
        return (
            str(uuid.uuid4()),
            stream,
            version,
            "IncidentNoted",
            json.dumps(payload(n)),
            METADATA_JSON,
            time.time_ns() // 1000,
        )

    def _insert_one(self, row: tuple[Any, ...]) -> None:
        execute = self.connection.execute
        execute("BEGIN")
        execute(self.insert_sql, row)
        execute("COMMIT")

    def _insert_many(self, rows: list[tuple[Any, ...]]) -> None:
        self.connection.execute("BEGIN")
        self.connection.executemany(self.insert_sql, rows)
        self.connection.execute("COMMIT")

    def rebuild(self) -> int:
        rows = self.connection.execute(self.select_stream_sql, (self.rebuild_stream,)).fetchall()
        loads = json.loads
        for row in rows:
            loads(row[5])
        return len(rows)

    def read_all(self, *, touch_data: bool) -> int:
        count = 0
        cursor = self.connection.execute(self.select_all_sql)
        if touch_data:
            loads = json.loads
            for row in cursor:
                loads(row[5])
                count += 1
        else:
            for row in cursor:
                row[0]
                count += 1
        return count

    def close(self) -> None:
        self.connection.close()


class RawPostgres(RawSubject):
    """psycopg 3; single inserts in autocommit (one statement is one transaction, one
    round trip), batches as one transaction with executemany (pipelined). Column types
    follow our backend (uuid id read back as text, bigint microsecond timestamps), so that
    neither side pays for type conversions the other skips."""

    def __init__(self, url: str, schema: str) -> None:
        import psycopg
        from psycopg import sql

        super().__init__()
        self.connection = psycopg.connect(url, autocommit=True)
        table = sql.Identifier(schema, "raw_events")
        self.connection.execute(
            sql.SQL(
                "CREATE TABLE {} ("
                " position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " event_id UUID NOT NULL, stream TEXT NOT NULL, version INTEGER NOT NULL,"
                " type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,"
                " recorded_at_us BIGINT NOT NULL, UNIQUE (stream, version))"
            ).format(table)
        )
        self.insert_sql = sql.SQL(
            "INSERT INTO {} (event_id, stream, version, type, data, metadata, recorded_at_us)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        ).format(table)
        columns = sql.SQL(
            "position, event_id::text, stream, version, type, data, metadata, recorded_at_us"
        )
        self.select_stream_sql = sql.SQL(
            "SELECT {} FROM {} WHERE stream = %s ORDER BY version"
        ).format(columns, table)
        self.select_all_sql = sql.SQL("SELECT {} FROM {} ORDER BY position").format(columns, table)

    def _row(self, stream: str, version: int, n: int) -> tuple[Any, ...]:
        return (
            uuid.uuid4(),
            stream,
            version,
            "IncidentNoted",
            json.dumps(payload(n)),
            METADATA_JSON,
            time.time_ns() // 1000,
        )

    def _insert_one(self, row: tuple[Any, ...]) -> None:
        self.connection.execute(self.insert_sql, row)

    def _insert_many(self, rows: list[tuple[Any, ...]]) -> None:
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.executemany(self.insert_sql, rows)

    def rebuild(self) -> int:
        with self.connection.cursor() as cursor:
            rows = cursor.execute(self.select_stream_sql, (self.rebuild_stream,)).fetchall()
        loads = json.loads
        for row in rows:
            loads(row[5])
        return len(rows)

    def read_all(self, *, touch_data: bool) -> int:
        count = 0
        with self.connection.cursor() as cursor:
            cursor.execute(self.select_all_sql)
            if touch_data:
                loads = json.loads
                for row in cursor:
                    loads(row[5])
                    count += 1
            else:
                for row in cursor:
                    row[0]
                    count += 1
        return count

    def close(self) -> None:
        self.connection.close()


class BenchIncident(Aggregate):
    """The eventsourcing side's aggregate: one event type carrying the same payload."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.notes = 0

    @event("IncidentNoted")
    def note(self, n: int, title: str, severity: str, service: str, summary: str) -> None:
        self.notes += 1


class BenchApp(Application[Any]):
    """A bare Application: no snapshots, no aggregate cache (the library's defaults)."""


class EventsourcingSubject(Subject):
    """eventsourcing 9.5 through its public Application API.

    single/batch: `aggregate.note(...)` then `app.save(aggregate)` (one insert_events call,
    one transaction; the recorder's PRIMARY KEY (originator_id, originator_version) is its
    optimistic concurrency check). rebuild: `app.repository.get(id)`, which reads the
    stored events, decodes each into a domain event object and applies it to the
    aggregate. read_all: `app.recorder.select_notifications` in pages of 1,000, like its
    notification log; the data variant decodes each notification's state with the
    application's transcoder.
    """

    name = "eventsourcing"

    def __init__(self, env: dict[str, str], sqlite_synchronous: str | None = None) -> None:
        if sqlite_synchronous is not None:
            # Tables are created after the pool learns the pragma, so every connection
            # the recorder ever opens has it.
            env = {**env, "CREATE_TABLE": "n"}
        self.app = BenchApp(env=env)
        if sqlite_synchronous is not None:
            pool = self.app.recorder.datastore.pool  # type: ignore[attr-defined]
            create = pool._create_connection

            def create_with_pragma() -> Any:
                connection = create()
                connection._sqlite_conn.execute(f"PRAGMA synchronous={sqlite_synchronous}")
                return connection

            pool._create_connection = create_with_pragma
            self.app.recorder.create_table()  # type: ignore[attr-defined]
        self.single_aggregates: list[BenchIncident] = []
        self.batch_aggregates: list[BenchIncident] = []
        self.rebuild_id: Any = None
        self.rebuild_count = 0
        self.counter = 0

    def seed(self, streams: int) -> None:
        self.single_aggregates = [BenchIncident(title=f"s{index}") for index in range(streams)]
        self.batch_aggregates = [BenchIncident(title=f"b{index}") for index in range(BATCH_STREAMS)]
        for aggregate in [*self.single_aggregates, *self.batch_aggregates]:
            self.app.save(aggregate)

    def single(self, count: int, streams: int) -> int:
        save = self.app.save
        aggregates = self.single_aggregates
        base = self.counter
        for offset in range(count):
            aggregate = aggregates[offset % streams]
            aggregate.note(**payload(base + offset))
            save(aggregate)
        self.counter += count
        return count

    def batch(self, batches: int, size: int) -> int:
        for index in range(batches):
            aggregate = self.batch_aggregates[index % BATCH_STREAMS]
            for n in range(self.counter, self.counter + size):
                aggregate.note(**payload(n))
            self.counter += size
            self.app.save(aggregate)
        return batches * size

    def prepare_rebuild(self, count: int) -> None:
        aggregate = BenchIncident(title="rebuild")  # the Opened event is the first of count
        pending = 1
        for n in range(count - 1):
            aggregate.note(**payload(n))
            pending += 1
            if pending == SEED_CHUNK:
                self.app.save(aggregate)
                pending = 0
        if pending:
            self.app.save(aggregate)
        self.rebuild_id = aggregate.id
        self.rebuild_count = count

    def rebuild(self) -> int:
        aggregate = self.app.repository.get(self.rebuild_id)
        assert aggregate.notes == self.rebuild_count - 1
        return self.rebuild_count

    def rebuild_records_only(self) -> int:
        """Supplementary: the recorder's stored events with their state decoded, without
        domain event objects or the aggregate: the same work as our `rebuild`."""
        decode = self.app.mapper.transcoder.decode
        stored = self.app.recorder.select_events(self.rebuild_id)
        for record in stored:
            decode(record.state)
        return len(stored)

    def read_all(self, *, touch_data: bool) -> int:
        recorder = self.app.recorder
        decode = self.app.mapper.transcoder.decode
        count = 0
        start = 1
        while True:
            page = recorder.select_notifications(start, 1000)
            if not page:
                return count
            if touch_data:
                for notification in page:
                    decode(notification.state)
            count += len(page)
            start = page[-1].id + 1

    def close(self) -> None:
        self.app.close()


# ---------------------------------------------------------------------------------- backends


@dataclass
class Environment:
    """Subjects for one backend, plus whatever must be cleaned up afterwards."""

    backend: str
    subjects: dict[str, Subject | SubjectUnavailableError]
    extras: dict[str, Subject | SubjectUnavailableError] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for subject in [*self.subjects.values(), *self.extras.values()]:
            if isinstance(subject, Subject):
                with suppress(Exception):
                    subject.close()
        for step in self.cleanup:
            step()


def _attempt(factory: Callable[[], Subject]) -> Subject | SubjectUnavailableError:
    try:
        return factory()
    except SubjectUnavailableError as exc:
        return exc
    except Exception as exc:  # a subject that cannot start is reported, not fatal
        return SubjectUnavailableError(f"{type(exc).__name__}: {exc}")


@contextmanager
def sqlite_environment(directory: Path) -> Iterator[Environment]:
    def es_env(name: str) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / name),
        }

    env = Environment(
        "sqlite",
        {
            "ours": _attempt(
                lambda: OursSubject(
                    open_store(
                        f"sqlite:///{directory / 'ours.db'}", writer=WRITER, ownership=OWNERSHIP
                    )
                )
            ),
            "raw": _attempt(lambda: RawSQLite(directory / "raw.db")),
            "eventsourcing": _attempt(lambda: EventsourcingSubject(es_env("es.db"))),
        },
        extras={
            "eventsourcing_normal": _attempt(
                lambda: EventsourcingSubject(es_env("es_normal.db"), sqlite_synchronous="NORMAL")
            )
        },
        info={"sqlite": sqlite3.sqlite_version, "file": "temporary directory, WAL"},
    )
    try:
        yield env
    finally:
        env.close()


def pg_url() -> str:
    return os.environ.get("FIREWATCH_TEST_PG_URL", DEFAULT_PG_URL)


def _open_ours_postgres(url: str, schema: str) -> Subject:
    import inspect

    try:
        from eventlog.postgres import PostgresEventStore
    except ImportError as exc:
        reason = f"the PostgreSQL backend is not importable yet ({exc})"
        raise SubjectUnavailableError(reason) from None
    if "schema" in inspect.signature(PostgresEventStore).parameters:
        store: EventStore = PostgresEventStore(
            url, writer=WRITER, ownership=OWNERSHIP, schema=schema
        )
    else:  # fall back to the factory, isolating the run through search_path
        separator = "&" if "?" in url else "?"
        store = open_store(
            f"{url}{separator}options=-csearch_path%3D{schema}", writer=WRITER, ownership=OWNERSHIP
        )
    return OursSubject(store)


@contextmanager
def postgres_environment(url: str | None = None) -> Iterator[Environment]:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    url = url or pg_url()
    run_id = uuid.uuid4().hex[:8]
    schemas = {subject: f"fw_bench_{run_id}_{subject[:2]}" for subject in SUBJECTS}
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        reason = SubjectUnavailableError(f"cannot connect to {url}: {exc}".strip())
        yield Environment("postgres", dict.fromkeys(SUBJECTS, reason))
        return
    version = admin.execute("SHOW server_version").fetchone()
    for schema in schemas.values():
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))

    def drop() -> None:
        for schema in schemas.values():
            admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
        admin.close()

    params = conninfo_to_dict(url)
    es_env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_SCHEMA": schemas["eventsourcing"],
    }
    env = Environment(
        "postgres",
        {
            "ours": _attempt(lambda: _open_ours_postgres(url, schemas["ours"])),
            "raw": _attempt(lambda: RawPostgres(url, schemas["raw"])),
            "eventsourcing": _attempt(lambda: EventsourcingSubject(es_env)),
        },
        info={"postgresql": version[0] if version else "?", "schemas": ", ".join(schemas.values())},
        cleanup=[drop],
    )
    try:
        yield env
    finally:
        env.close()


# ---------------------------------------------------------------------------------- harness


@dataclass
class Cell:
    """Every repeat's rate for one (backend, measurement, subject), or why there is none."""

    rates: list[float] = field(default_factory=list)
    events: int = 0
    unavailable: str | None = None
    error: str | None = None

    @property
    def best(self) -> float | None:
        return max(self.rates) if self.rates else None


Results = dict[tuple[str, str, str], Cell]
Progress = Callable[[str], None]


def _timed(work: Callable[[], int]) -> tuple[int, float]:
    gc.collect()
    started = time.perf_counter()
    count = work()
    return count, time.perf_counter() - started


def run_backend(env: Environment, config: Config, results: Results, progress: Progress) -> None:
    """Run every measurement for one backend; repeats are interleaved across subjects so
    that a noisy moment on the machine does not fall on one subject only."""
    backend = env.backend
    live: dict[str, Subject] = {}
    for name, subject in [*env.subjects.items(), *env.extras.items()]:
        if isinstance(subject, SubjectUnavailableError):
            progress(f"[{backend}] {name}: not available: {subject}")
            for measurement in MEASUREMENTS:
                results[(backend, measurement, name)] = Cell(unavailable=str(subject))
            continue
        try:
            subject.seed(config.streams)
            live[name] = subject
        except Exception as exc:
            progress(f"[{backend}] {name}: seeding failed: {exc!r}")
            for measurement in MEASUREMENTS:
                results[(backend, measurement, name)] = Cell(error=repr(exc))

    def measure(measurement: str, names: list[str], work: Callable[[Subject], int]) -> None:
        for name in names:
            results.setdefault((backend, measurement, name), Cell())
        for repeat in range(1, config.repeats + 1):
            for name in names:
                cell = results[(backend, measurement, name)]
                if name not in live or cell.error is not None:
                    continue
                try:
                    count, seconds = _timed(lambda subject=live[name]: work(subject))
                except Exception as exc:  # keep going: the report says what failed
                    cell.error = repr(exc)
                    progress(f"[{backend}] {measurement:14s} {name:20s} FAILED: {exc!r}")
                    continue
                cell.events = count
                cell.rates.append(count / seconds)
                progress(
                    f"[{backend}] {measurement:14s} {name:20s} run {repeat}/{config.repeats}: "
                    f"{count / seconds:>12,.0f} events/s ({count:,} in {seconds:.3f} s)"
                )

    writers = [*SUBJECTS, *(name for name in env.extras if name in live)]
    measure("single", writers, lambda s: s.single(config.single_appends, config.streams))
    measure("batch", writers, lambda s: s.batch(config.batches, config.batch_size))
    for name in SUBJECTS:
        if name in live:
            progress(f"[{backend}] {name}: writing the {config.rebuild_events:,}-event stream")
            live[name].prepare_rebuild(config.rebuild_events)
    measure("rebuild", list(SUBJECTS), lambda s: s.rebuild())
    es = live.get("eventsourcing")
    if isinstance(es, EventsourcingSubject):
        live["eventsourcing_records"] = es
        measure("rebuild", ["eventsourcing_records"], lambda s: s.rebuild_records_only())  # type: ignore[attr-defined]
    measure("read_all_bare", list(SUBJECTS), lambda s: s.read_all(touch_data=False))
    measure("read_all_data", list(SUBJECTS), lambda s: s.read_all(touch_data=True))


def run(
    config: Config,
    backends: tuple[str, ...],
    progress: Progress,
    workdir: Path,
) -> tuple[Results, dict[str, dict[str, str]]]:
    results: Results = {}
    info: dict[str, dict[str, str]] = {}
    for backend in backends:
        progress(f"[{backend}] starting")
        started = time.perf_counter()
        if backend == "sqlite":
            directory = workdir / "sqlite"
            directory.mkdir(parents=True, exist_ok=True)
            context = sqlite_environment(directory)
        else:
            context = postgres_environment()
        with context as env:
            info[backend] = env.info
            run_backend(env, config, results, progress)
        progress(f"[{backend}] done in {time.perf_counter() - started:.1f} s")
    return results, info
