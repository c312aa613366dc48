"""In a nameko-like (eventlet-patched) process the SQLite store keeps one connection per
OS thread, not one per greenthread, and concurrent greenthreads still append safely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eventlog import Ownership
from eventlog.sqlite import SQLiteEventStore

SCRIPT = Path(__file__).with_name("sqlite_green_connections.py")


def test_fifty_greenthreads_share_one_connection_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(SCRIPT), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    connections, head = (int(x) for x in result.stdout.split())
    assert connections == 1
    assert head == 250
    store = SQLiteEventStore(path, ownership=Ownership({}))
    assert store.verify_all().ok
