"""In a nameko-like (eventlet-patched) process the SQLite store keeps one connection per
OS thread (plus the commits' own), not one per greenthread, and concurrent greenthreads
still append safely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eventlog import Ownership
from eventlog.sqlite import SQLiteEventStore

SCRIPT = Path(__file__).with_name("sqlite_green_connections.py")


def test_fifty_greenthreads_share_a_reader_and_the_writer_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(SCRIPT), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    connections, head = (int(x) for x in result.stdout.split())
    # One connection for reads and the commits' own (docs/adr/0032), not one per
    # greenthread.
    assert connections == 2
    assert head == 250
    store = SQLiteEventStore(path, ownership=Ownership({}))
    assert store.verify_all().ok
