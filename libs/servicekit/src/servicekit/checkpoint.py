"""Durable checkpoints: the last log position a named reader has fully handed on.

The relay stores here the last position whose publish the broker confirmed; on restart
it resumes from checkpoint + 1. A checkpoint is one row per name, written atomically in
its own transaction and durably (SQLite `synchronous=FULL`; PostgreSQL commits are
durable by default), because a checkpoint that survives a crash while the messages it
covers do not would be a gap.

Writes are monotonic: `save` never moves a checkpoint backwards, so a stale writer (a
second relay started by mistake with the same name) cannot make the first one skip or
replay. An operator who wants a replay uses `reset`.

    sqlite:///relative/path.db   sqlite:////abs/path.db   or a plain file path
    postgresql://user@host/db    (table firewatch_checkpoints; needs psycopg)
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    name        TEXT    PRIMARY KEY,
    position    INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;
"""

_PG_TABLE = "firewatch_checkpoints"


@runtime_checkable
class CheckpointStore(Protocol):
    """Durable positions keyed by name. 0 means "nothing handed on yet"."""

    def load(self, name: str) -> int: ...

    def save(self, name: str, position: int) -> None:
        """Atomically and durably set the checkpoint, unless it is already further."""

    def reset(self, name: str, position: int) -> None:
        """Set the checkpoint to exactly `position`, even backwards (operator replay)."""

    def close(self) -> None: ...


def _check(name: str, position: int) -> None:
    if not name:
        raise ValueError("checkpoint name must be non-empty")
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise ValueError(f"checkpoint position must be an int >= 0, got {position!r}")


class SQLiteCheckpointStore:
    """Checkpoints in a small SQLite file of their own (never inside the event log, so
    that the relay needs only read access to the log)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        # FULL: the checkpoint must be on disk before the relay moves on; it is one
        # small write per confirmed window, so the fsync is cheap.
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.executescript(_SQLITE_SCHEMA)

    def load(self, name: str) -> int:
        _check(name, 0)
        with self._lock:
            row = self._connection.execute(
                "SELECT position FROM checkpoints WHERE name = ?", (name,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def save(self, name: str, position: int) -> None:
        _check(name, position)
        with self._lock:
            self._connection.execute(
                "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
                "updated_at = excluded.updated_at "
                "WHERE excluded.position > checkpoints.position",
                (name, position),
            )

    def reset(self, name: str, position: int) -> None:
        _check(name, position)
        with self._lock:
            self._connection.execute(
                "INSERT INTO checkpoints (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
                "updated_at = excluded.updated_at",
                (name, position),
            )

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class PostgresCheckpointStore:
    """Checkpoints in a PostgreSQL table, for deployments whose log is PostgreSQL."""

    def __init__(self, url: str, table: str = _PG_TABLE) -> None:
        import psycopg

        if not table.isidentifier():
            raise ValueError(f"table name {table!r} is not a plain identifier")
        self._table = table
        self._lock = threading.Lock()
        self._connection: Any = psycopg.connect(url, autocommit=True)
        self._connection.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "name text PRIMARY KEY, position bigint NOT NULL, "
            "updated_at timestamptz NOT NULL DEFAULT now())"
        )

    def load(self, name: str) -> int:
        _check(name, 0)
        with self._lock:
            row = self._connection.execute(
                f"SELECT position FROM {self._table} WHERE name = %s", (name,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def save(self, name: str, position: int) -> None:
        _check(name, position)
        with self._lock:
            self._connection.execute(
                f"INSERT INTO {self._table} AS c (name, position) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
                "updated_at = now() WHERE excluded.position > c.position",
                (name, position),
            )

    def reset(self, name: str, position: int) -> None:
        _check(name, position)
        with self._lock:
            self._connection.execute(
                f"INSERT INTO {self._table} (name, position) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
                "updated_at = now()",
                (name, position),
            )

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def open_checkpoint_store(url: str) -> CheckpointStore:
    """A checkpoint store from a URL (see the module docstring) or a plain file path."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return SQLiteCheckpointStore(url)
    if scheme == "sqlite":
        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise ValueError("sqlite checkpoint URL needs a path: sqlite:///path/checkpoints.db")
        return SQLiteCheckpointStore(path)
    if scheme in ("postgresql", "postgres"):
        return PostgresCheckpointStore(url)
    raise ValueError(f"unknown checkpoint store scheme {scheme!r}; use sqlite or postgresql")
