"""Several OS processes share one SQLite log file safely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from eventlog import EventFilter, Ownership
from eventlog.sqlite import SQLiteEventStore

WRITER = Path(__file__).with_name("sqlite_writer_process.py")


def test_four_processes_appending_to_one_file_lose_nothing_and_keep_the_chain(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    reader = SQLiteEventStore(path, ownership=Ownership({}))
    subscription = reader.subscribe(from_position=1, filter=EventFilter.of(categories=["proc"]))
    processes, each = 4, 150
    children = [
        subprocess.Popen([sys.executable, str(WRITER), str(path), str(i), str(each)])
        for i in range(processes)
    ]
    delivered = []
    try:
        while len(delivered) < processes * each:
            event = subscription.next_event(timeout=60)
            assert event is not None, f"live subscriber stalled after {len(delivered)} events"
            delivered.append(event)
    finally:
        subscription.close()
        codes = [child.wait(timeout=120) for child in children]
    assert codes == [0] * processes

    written = {(e.data["w"], e.data["n"]) for e in delivered}
    assert written == {(w, n) for w in range(processes) for n in range(each)}
    assert [e.position for e in delivered] == sorted(e.position for e in delivered)
    shared = reader.read_stream("proc-shared")
    assert [e.version for e in shared] == list(range(processes * each // 2))
    report = reader.verify_all()
    assert report.ok, report.findings
    assert report.streams_checked == processes + 1


def test_a_thread_per_request_server_does_not_leak_connections(tmp_path: Path) -> None:
    import threading

    from eventlog import NewEvent, StreamState
    from eventlog.sqlite import POOL_IDLE_MAX

    store = SQLiteEventStore(tmp_path / "log.db", writer="w", ownership=Ownership({"w": {"req"}}))

    def handle(index: int) -> None:
        store.append(f"req-{index}", [NewEvent("Handled", {"n": index})], StreamState.NO_STREAM)
        store.read_stream(f"req-{index}")

    for batch in range(10):
        threads = [threading.Thread(target=handle, args=(batch * 20 + i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert store.head_position() == 200
    # The idle pool's readers plus the commits' own connection (docs/adr/0032).
    assert len(store._connections) <= POOL_IDLE_MAX + 1
