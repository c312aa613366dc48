"""A SQLite subscriber in one process is woken by appends committed in another (the
doorbell), a lost wake-up still delivers the event through the fallback poll, and a
writer can defer its rings to the end of a block (ADR 0029)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from eventlog import EventFilter, NewEvent, Ownership, StreamState
from eventlog import sqlite as sqlite_backend
from eventlog.doorbell import DoorbellWatch, wake_directory
from eventlog.sqlite import SQLiteEventStore

WRITER = Path(__file__).with_name("sqlite_one_append_process.py")


def _append_in_another_process(path: Path, mode: str) -> int:
    done = subprocess.run(
        [sys.executable, str(WRITER), str(path), mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return int(done.stdout.strip())


def test_an_append_in_another_process_rings_the_subscribers_doorbell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the fallback poll pushed past the test's timeout, only the doorbell can
    # deliver the event in time.
    monkeypatch.setattr(sqlite_backend, "FALLBACK_POLL_SECONDS", 600.0)
    path = tmp_path / "shared.db"
    reader = SQLiteEventStore(path, ownership=Ownership({}))
    subscription = reader.subscribe(
        from_position=1, filter=EventFilter.of(categories=["proc"]), poll_interval=600.0
    )
    try:
        # The first wait binds the doorbell, so the writer finds it.
        assert subscription.next_event(timeout=0.01) is None
        sent = _append_in_another_process(path, "ring")
        event = subscription.next_event(timeout=30)
        assert event is not None, "the doorbell did not wake the subscriber"
        assert event.data == {"mode": "ring"}
        assert sent == 1
        assert reader.doorbell_rings >= 1
    finally:
        subscription.close()
        reader.close()


def test_a_lost_wake_up_still_delivers_through_the_fallback_poll(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    reader = SQLiteEventStore(path, ownership=Ownership({}))
    subscription = reader.subscribe(from_position=1, filter=EventFilter.of(categories=["proc"]))
    try:
        assert subscription.next_event(timeout=0.01) is None
        sent = _append_in_another_process(path, "silent")
        event = subscription.next_event(timeout=30)
        assert event is not None, "the fallback poll did not deliver the event"
        assert event.data == {"mode": "silent"}
        assert sent == 0
        assert reader.doorbell_rings == 0
    finally:
        subscription.close()
        reader.close()


def test_a_doorbell_whose_file_was_removed_is_bound_again(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    reader = SQLiteEventStore(path, ownership=Ownership({}))
    subscription = reader.subscribe(from_position=1, filter=EventFilter.of(categories=["proc"]))
    try:
        assert subscription.next_event(timeout=0.01) is None
        first = reader._doorbell
        assert first is not None
        os.unlink(first.path)
        # The next wait notices and binds a fresh one, which the writer then rings.
        assert subscription.next_event(timeout=0.01) is None
        assert reader._doorbell is not None
        assert reader._doorbell is not first
        assert _append_in_another_process(path, "ring") == 1
        assert subscription.next_event(timeout=30) is not None
    finally:
        subscription.close()
        reader.close()


def test_a_doorbell_left_by_a_killed_process_is_removed_by_the_next_append(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    writer = SQLiteEventStore(path, writer="w", ownership=Ownership({"w": {"proc"}}))
    directory = wake_directory(path)
    directory.mkdir(parents=True, exist_ok=True)
    stale = directory / "999999-dead.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(stale))
    dead.close()  # bound then closed: what a killed process leaves behind
    try:
        writer.append("proc-one", [NewEvent("Wrote", {})], StreamState.ANY)
        assert not stale.exists()
        assert writer.doorbell_sent == 0
    finally:
        writer.close()


def test_a_database_with_a_long_path_gets_a_short_wake_directory(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 90) / "events.db"
    directory = wake_directory(deep)
    assert len(os.fsencode(directory)) < 60
    assert directory == wake_directory(deep)
    short = Path("/tmp/events.db")
    assert wake_directory(short) == Path("/tmp/events.db.wake").resolve()


def test_the_last_doorbell_closed_removes_the_wake_directory(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    wake = wake_directory(path)
    readers = [SQLiteEventStore(path, ownership=Ownership({})) for _ in range(2)]
    subscriptions = [r.subscribe(from_position=1) for r in readers]
    for subscription in subscriptions:
        assert subscription.next_event(timeout=0.01) is None  # binds its doorbell
    assert len(list(wake.iterdir())) == 2
    subscriptions[0].close()
    readers[0].close()
    assert wake.is_dir()  # the other listener is still in it
    subscriptions[1].close()
    readers[1].close()
    assert not wake.exists()


class _Ticks:
    """A monotonic clock the test moves by hand (the watch's fallback interval)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_watch_says_yes_once_after_an_append_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    reader = SQLiteEventStore(path, ownership=Ownership({}))
    ticks = _Ticks()
    watch = DoorbellWatch(wake_directory(path), fallback_seconds=60.0, clock=ticks)
    try:
        assert watch.appended()  # the first answer is always yes: nothing read yet
        assert not watch.appended()
        # The append's call has returned, so its ring is already queued: the very next
        # question is answered yes (read-your-writes), without the fallback's help.
        assert _append_in_another_process(path, "ring") == 1
        assert watch.appended()
        assert watch.received == 1
        assert not watch.appended()  # one ring, one yes
        assert reader.head_position() >= 1
    finally:
        watch.close()
        reader.close()


def test_a_watch_whose_ring_was_lost_says_yes_after_the_fallback_interval(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.db"
    ticks = _Ticks()
    watch = DoorbellWatch(wake_directory(path), fallback_seconds=0.05, clock=ticks)
    try:
        assert watch.appended()
        assert _append_in_another_process(path, "silent") == 0
        assert not watch.appended()  # nothing rang: the loss is not seen yet ...
        ticks.now += 0.05
        assert watch.appended()  # ... but the fallback bounds it
        assert not watch.appended()
        assert watch.received == 0
    finally:
        watch.close()


def test_a_watch_whose_file_was_removed_binds_again_at_the_fallback(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    ticks = _Ticks()
    watch = DoorbellWatch(wake_directory(path), fallback_seconds=1.0, clock=ticks)
    try:
        assert watch.appended()
        first = watch.path
        os.unlink(first)  # nobody can ring it now
        ticks.now += 1.0
        assert watch.appended()
        assert watch.path != first
        assert Path(watch.path).exists()
        assert _append_in_another_process(path, "ring") == 1
        assert watch.appended()
    finally:
        watch.close()


def test_the_stores_watches_close_with_it_and_leave_no_wake_directory(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    store = SQLiteEventStore(path, ownership=Ownership({}))
    watch = store.watch_appends()
    assert isinstance(watch, DoorbellWatch)
    assert Path(watch.path).exists()
    store.close()
    assert not wake_directory(path).exists()
    assert watch.appended()  # closed: it can only say "read the log"


def test_wake_ups_deferred_ring_once_when_the_block_ends(tmp_path: Path) -> None:
    """Inside `wakeups_deferred` a commit rings no doorbell (the append is committed and
    readable all the same); the block's end rings once for all of them; another
    thread's commits meanwhile ring as usual."""
    path = tmp_path / "shared.db"
    reader = SQLiteEventStore(path, ownership=Ownership({}))
    subscription = reader.subscribe(from_position=1, filter=EventFilter.of(categories=["proc"]))
    writer = SQLiteEventStore(path, writer="w", ownership=Ownership({"w": {"proc"}}))
    try:
        assert subscription.next_event(timeout=0.01) is None  # binds the reader's doorbell
        with writer.wakeups_deferred():
            for n in range(2):
                writer.append("proc-1", [NewEvent("Made", {"n": n})], StreamState.ANY)
            assert writer.doorbell_sent == 0, "rang inside the block"
            assert len(reader.read_stream("proc-1")) == 2  # committed all the same
            with writer.wakeups_deferred():  # nested: joins the outer block
                writer.append("proc-1", [NewEvent("Made", {"n": 2})], StreamState.ANY)
            assert writer.doorbell_sent == 0
            elsewhere = threading.Thread(
                target=writer.append, args=("proc-2", [NewEvent("Made", {})], StreamState.ANY)
            )
            elsewhere.start()
            elsewhere.join()
            assert writer.doorbell_sent == 1, "another thread's commit must ring as usual"
        assert writer.doorbell_sent == 2  # the block's one ring
        with writer.wakeups_deferred():
            pass
        assert writer.doorbell_sent == 2  # nothing committed: nothing to ring
    finally:
        subscription.close()
        writer.close()
        reader.close()
