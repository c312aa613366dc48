"""Checkpoints are durable, per name, monotonic, and resettable only on purpose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from servicekit.checkpoint import (
    CheckpointStore,
    SQLiteCheckpointStore,
    open_checkpoint_store,
)
from tests.conftest import PG_URL


def _exercise(store: CheckpointStore, name: str) -> None:
    assert store.load(name) == 0
    store.save(name, 10)
    store.save(name, 7)  # a stale writer cannot move it backwards
    assert store.load(name) == 10
    store.save(name, 11)
    assert store.load(name) == 11
    assert store.load(name + "-other") == 0
    store.reset(name, 3)
    assert store.load(name) == 3
    with pytest.raises(ValueError, match=">= 0"):
        store.save(name, -1)


def test_sqlite_checkpoints_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "cp" / "checkpoints.db"
    store = open_checkpoint_store(f"sqlite:///{path}")
    assert isinstance(store, SQLiteCheckpointStore)
    _exercise(store, "relay")
    store.save("relay", 99)
    store.close()
    reopened = open_checkpoint_store(str(path))
    assert reopened.load("relay") == 99
    reopened.close()


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown checkpoint store scheme"):
        open_checkpoint_store("redis://x")


@pytest.mark.postgres
def test_postgres_checkpoints() -> None:
    psycopg = pytest.importorskip("psycopg")
    try:
        store = open_checkpoint_store(PG_URL)
    except psycopg.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(f"PostgreSQL not reachable (run `make services`): {exc}")
    name = f"servicekit-test-{os.getpid()}"
    try:
        _exercise(store, name)
    finally:
        store.reset(name, 0)
        store.close()
