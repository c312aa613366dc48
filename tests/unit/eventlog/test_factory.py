"""open_store picks a backend from a URL and explains a bad one."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from eventlog import InvalidEventError, open_store
from eventlog.postgres import PostgresEventStore
from eventlog.sqlite import SQLiteEventStore
from tests.conftest import PG_URL


def test_a_sqlite_url_opens_the_file_it_names(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'log.db'}", writer="incident")
    assert isinstance(store, SQLiteEventStore)
    assert store.path == tmp_path / "log.db"


@pytest.mark.postgres
def test_a_postgresql_url_may_choose_a_schema() -> None:
    store = open_store(f"{PG_URL}?schema=t_factory_schema", writer="incident")
    try:
        assert isinstance(store, PostgresEventStore)
        assert store.head_position() == 0
    finally:
        store.close()
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute("DROP SCHEMA IF EXISTS t_factory_schema CASCADE")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("eventlog.db", "not a store URL"),
        ("mysql://localhost/x", "unknown store scheme 'mysql'"),
        ("sqlite://", "not a store URL"),
    ],
)
def test_a_bad_url_is_explained(url: str, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        open_store(url)
