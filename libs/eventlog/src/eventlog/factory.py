"""Opens a backend from a URL, so that every process is configured the same way.

    sqlite:///var/firewatch/log.db     (relative path)   sqlite:////abs/path/log.db
    postgresql://user@host:5432/db     (psycopg 3 conninfo URL; ?schema=name picks a schema)
    esdb://host:2113?Tls=false         (also esdb+discover://, kurrentdb://)

Backends other than SQLite are imported only when asked for, so a service that uses
SQLite does not need psycopg or grpcio installed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from eventlog.clock import Clock, system_clock
from eventlog.errors import InvalidEventError
from eventlog.ownership import Ownership
from eventlog.port import EventStore

DEFAULT_URL = "sqlite:///var/firewatch/eventlog.db"


def open_store(
    url: str,
    *,
    writer: str | None = None,
    ownership: Ownership | None = None,
    clock: Clock = system_clock,
) -> EventStore:
    """Open the log at `url` for `writer` (None opens a read-only handle)."""
    scheme, _, rest = url.partition("://")
    if not rest:
        raise InvalidEventError("url", f"{url!r} is not a store URL (expected scheme://...)")
    if scheme == "sqlite":
        from eventlog.sqlite import SQLiteEventStore

        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise InvalidEventError("url", "sqlite URL needs a file path: sqlite:///path/log.db")
        return SQLiteEventStore(path, writer=writer, ownership=ownership, clock=clock)
    if scheme in ("postgresql", "postgres"):
        from eventlog.postgres import PostgresEventStore

        # `schema` is ours, not libpq's: take it out before psycopg sees the URL.
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((value for key, value in query if key == "schema"), "public")
        rest_query = urlencode([(key, value) for key, value in query if key != "schema"])
        conninfo = urlunsplit(parts._replace(query=rest_query))
        return PostgresEventStore(
            conninfo, writer=writer, ownership=ownership, clock=clock, schema=schema
        )
    if scheme in ("esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover"):
        from eventlog.esdb import EventStoreDBEventStore

        return EventStoreDBEventStore(url, writer=writer, ownership=ownership, clock=clock)
    raise InvalidEventError(
        "url", f"unknown store scheme {scheme!r}; use sqlite, postgresql or esdb"
    )
