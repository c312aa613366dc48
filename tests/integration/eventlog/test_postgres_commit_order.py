"""PostgreSQL: appends become visible in position order, so subscribers never skip.

Proves the design in docs/adr/0003 against the real server: many writers on their own
connections, a transaction held open between lock and commit, a control run showing
that without the shared commit lock PostgreSQL really does expose a later position
first, and LISTEN/NOTIFY wake-ups from another handle and another OS process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from eventlog import (
    EventFilter,
    NewEvent,
    Ownership,
    RecordedEvent,
    StreamState,
    Subscription,
    system_clock,
)
from eventlog.postgres import PostgresEventStore
from tests.contract.eventlog.harness_postgres import PostgresHarness

pytestmark = pytest.mark.postgres

OWNERS = Ownership({"writer": {"load", "other"}})


@pytest.fixture
def harness() -> Iterator[PostgresHarness]:
    instance = PostgresHarness()
    try:
        yield instance
    finally:
        instance.close()


def open_store(
    harness: PostgresHarness, writer: str | None = "writer", **options: Any
) -> PostgresEventStore:
    return harness.open(writer=writer, ownership=OWNERS, clock=system_clock, **options)


def drain(
    subscription: Subscription,
    count: int,
    timeout: float = 30,
    log: PostgresEventStore | None = None,
    start: int = 1,
) -> list[RecordedEvent]:
    """The next `count` events; on a stall, names the stored positions never delivered."""
    delivered: list[RecordedEvent] = []
    while len(delivered) < count:
        event = subscription.next_event(timeout=timeout)
        if event is None:
            skipped: list[int] = []
            if log is not None:
                seen = {e.position for e in delivered}
                skipped = [e.position for e in log.read_all(from_position=start)]
                skipped = [p for p in skipped if p not in seen and p <= subscription.position]
            pytest.fail(
                f"subscription stalled after {len(delivered)} of {count} events; stored "
                f"positions it went past without delivering: {skipped[:20] or 'none'}"
            )
        delivered.append(event)
    return delivered


class InFlight:
    """Holds one handle's next append open between its writes and its COMMIT."""

    def __init__(self, store: PostgresEventStore) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._store = store
        store._before_commit = self._pause

    def _pause(self) -> None:
        self._store._before_commit = None  # only the first append is held
        self.entered.set()
        assert self.release.wait(60), "the test never released the in-flight append"


def in_thread(target: Any) -> tuple[threading.Thread, list[Any]]:
    """Run `target` in a thread; the list receives its result or exception."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_sixteen_writers_on_their_own_connections_and_live_subscribers_lose_and_repeat_nothing(
    harness: PostgresHarness,
) -> None:
    writers, appends_each, streams_each = 16, 60, 5
    reader = open_store(harness, writer=None)
    start = reader.head_position() + 1
    everything = reader.subscribe(from_position=start, poll_interval=0.5)
    only_load = reader.subscribe(
        from_position=start, filter=EventFilter.of(categories=["load"]), poll_interval=0.5
    )
    handles = [open_store(harness, pool_size=1) for _ in range(writers)]
    barrier = threading.Barrier(writers)
    written: list[int] = [0] * writers

    def write(index: int) -> None:
        store = handles[index]
        category = "load" if index % 2 == 0 else "other"
        barrier.wait(timeout=30)
        for n in range(appends_each):
            # Batches of 1-3 events over several streams per writer, plus a hot stream
            # every writer races on, so transactions differ in length and contend.
            size = 1 + (index + n) % 3
            stream = f"{category}-hot" if n % 4 == 0 else f"{category}-w{index}s{n % streams_each}"
            events = [NewEvent("Wrote", {"w": index, "n": n, "k": k}) for k in range(size)]
            store.append(stream, events, StreamState.ANY)
            written[index] += size

    threads = [in_thread(lambda i=i: write(i)) for i in range(writers)]
    total = sum(
        1 + (i + n) % 3 for i in range(writers) for n in range(appends_each)
    )  # what the writers will append
    load_total = sum(1 + (i + n) % 3 for i in range(0, writers, 2) for n in range(appends_each))
    filtered_thread, filtered = in_thread(lambda: drain(only_load, load_total))
    try:
        delivered = drain(everything, total, log=reader, start=start)
        assert everything.next_event(timeout=0.2) is None, "delivered more than was written"
        filtered_thread.join(timeout=60)
    finally:
        everything.close()
        only_load.close()
        for thread, _ in threads:
            thread.join(timeout=60)

    failures = [outcome[0] for _, outcome in threads if outcome and outcome[0] is not None]
    assert not failures, failures
    assert sum(written) == total
    positions = [e.position for e in delivered]
    assert positions == sorted(set(positions)), "delivered out of order or twice"
    assert len({e.id for e in delivered}) == total, "an event was delivered twice"
    stored = list(reader.read_all(from_position=start))
    assert [e.id for e in stored] == [e.id for e in delivered], "an event was skipped"
    [load_delivered] = filtered
    assert [e.id for e in load_delivered] == [e.id for e in stored if e.category == "load"]
    assert {(e.data["w"], e.data["n"], e.data["k"]) for e in delivered} == {
        (i, n, k)
        for i in range(writers)
        for n in range(appends_each)
        for k in range(1 + (i + n) % 3)
    }
    report = reader.verify_all()
    assert report.ok, report.findings


def test_a_subscriber_waits_behind_an_append_still_in_flight_then_delivers_it_first(
    harness: PostgresHarness,
) -> None:
    reader = open_store(harness, writer=None)
    slow, fast = open_store(harness), open_store(harness)
    subscription = reader.subscribe(from_position=reader.head_position() + 1)
    held = InFlight(slow)
    slow_thread, slow_result = in_thread(
        lambda: slow.append("load-slow", [NewEvent("Slow", {})], StreamState.ANY)
    )
    try:
        assert held.entered.wait(30), "the slow append never reached its commit"
        fast_thread, fast_result = in_thread(
            lambda: fast.append("other-fast", [NewEvent("Fast", {})], StreamState.ANY)
        )
        # Until the fast append is seen queued on the commit lock, keep asserting that
        # nothing is delivered; each wait gives it every chance to overtake.
        for _ in range(100):
            assert subscription.next_event(timeout=0.1) is None, "read past an in-flight append"
            if waiting_on_commit_lock(harness, slow) >= 1:
                break
        else:
            pytest.fail("the second append never queued behind the in-flight one")
        assert subscription.next_event(timeout=0.3) is None
        assert not fast_result, "an append committed while an earlier one was in flight"
        assert reader.head_position() == subscription.position

        held.release.set()
        first, second = drain(subscription, 2)
        slow_thread.join(timeout=30)
        fast_thread.join(timeout=30)
    finally:
        held.release.set()
        subscription.close()

    assert (first.type, second.type) == ("Slow", "Fast")
    assert slow_result[0].positions == (first.position,)
    assert fast_result[0].positions == (second.position,)
    assert first.position < second.position


def test_without_the_shared_commit_lock_postgres_would_let_a_subscriber_skip_an_event(
    harness: PostgresHarness,
) -> None:
    """Control: the hazard is real. A handle whose commit lock differs (as with a
    per-stream lock) commits a later position while an earlier one is in flight."""
    reader = open_store(harness, writer=None)
    slow, unserialised = open_store(harness), open_store(harness)
    unserialised._commit_lock = slow._commit_lock ^ 1
    subscription = reader.subscribe(from_position=reader.head_position() + 1)
    held = InFlight(slow)
    slow_thread, slow_result = in_thread(
        lambda: slow.append("load-slow", [NewEvent("Slow", {})], StreamState.ANY)
    )
    try:
        assert held.entered.wait(30)
        overtaking = unserialised.append("other-fast", [NewEvent("Fast", {})], StreamState.ANY)
        [seen] = drain(subscription, 1)
        held.release.set()
        slow_thread.join(timeout=30)
        assert subscription.next_event(timeout=0.5) is None
    finally:
        held.release.set()
        subscription.close()

    [slow_position] = slow_result[0].positions
    assert seen.position == overtaking.last_position
    assert slow_position < seen.position, "the in-flight append took the lower position"
    assert [e.type for e in reader.read_all(from_position=slow_position)] == ["Slow", "Fast"]
    # ...and the subscriber, already past it, never delivers the Slow event.


def waiting_on_commit_lock(harness: PostgresHarness, store: PostgresEventStore) -> int:
    """How many sessions wait for `store`'s commit lock (a bigint advisory lock shows in
    pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid = 1)."""
    key = store._commit_lock & 0xFFFF_FFFF_FFFF_FFFF
    row = harness._admin.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1",
        (key >> 32, key & 0xFFFF_FFFF),
    ).fetchone()
    assert row is not None
    return int(row[0])


def spy_on_waits(store: PostgresEventStore) -> tuple[threading.Event, list[int]]:
    """Signal when the store's subscribers start waiting, and count their reads."""
    waiting = threading.Event()
    reads: list[int] = []
    wait, read = store._wait_for_append, store._read_all_batch

    def spied_wait(known_head: int, timeout: float) -> None:
        waiting.set()
        wait(known_head, timeout)

    def spied_read(*args: Any) -> list[RecordedEvent]:
        reads.append(1)
        return read(*args)

    store._wait_for_append = spied_wait  # type: ignore[method-assign]
    store._read_all_batch = spied_read  # type: ignore[method-assign,assignment]
    return waiting, reads


def test_a_waiting_subscriber_is_woken_by_another_handles_append_not_by_polling(
    harness: PostgresHarness,
) -> None:
    reader, writer = open_store(harness, writer=None), open_store(harness)
    # A poll interval longer than the whole wait: only a notification can deliver.
    subscription = reader.subscribe(from_position=reader.head_position() + 1, poll_interval=600)
    waiting, reads = spy_on_waits(reader)
    waiter, outcome = in_thread(lambda: subscription.next_event(timeout=30))
    try:
        assert waiting.wait(30)
        reads_before = len(reads)
        appended_at = time.monotonic()
        result = writer.append("load-1", [NewEvent("Woke", {})], StreamState.NO_STREAM)
        waiter.join(timeout=30)
        latency = time.monotonic() - appended_at
    finally:
        subscription.close()
    [event] = outcome
    assert event is not None, "the subscriber was not woken by the append"
    assert event.position == result.last_position
    assert latency < 5, f"woken only after {latency:.2f} s"
    assert len(reads) - reads_before <= 3, "the subscriber polled instead of waiting"


def test_a_waiting_subscriber_is_woken_by_an_append_from_another_process(
    harness: PostgresHarness,
) -> None:
    reader = open_store(harness, writer=None)
    subscription = reader.subscribe(from_position=reader.head_position() + 1, poll_interval=600)
    waiting, reads = spy_on_waits(reader)
    waiter, outcome = in_thread(lambda: subscription.next_event(timeout=60))
    child_code = (
        "import sys\n"
        "from eventlog import NewEvent, Ownership, StreamState\n"
        "from eventlog.postgres import PostgresEventStore\n"
        "store = PostgresEventStore(sys.argv[1], writer='w', "
        "ownership=Ownership({'w': {'load'}}), schema=sys.argv[2], pool_size=1)\n"
        "store.append('load-child', [NewEvent('FromChild', {})], StreamState.ANY)\n"
        "store.close()\n"
    )
    try:
        assert waiting.wait(30)
        reads_before = len(reads)
        child = subprocess.run(
            [sys.executable, "-c", child_code, harness.url, harness.schema],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert child.returncode == 0, child.stderr
        waiter.join(timeout=60)
    finally:
        subscription.close()
    [event] = outcome
    assert event is not None, "the subscriber was not woken by the other process"
    assert event.type == "FromChild"
    assert len(reads) - reads_before <= 3, "the subscriber polled instead of waiting"


def test_closing_a_store_stops_its_listener_promptly(harness: PostgresHarness) -> None:
    reader = open_store(harness, writer=None)
    assert reader.subscribe(from_position=reader.head_position() + 1).next_event(0.05) is None
    listener = reader._listener
    assert listener is not None
    assert listener.is_alive()
    began = time.monotonic()
    reader.close()
    assert not listener.is_alive()
    assert time.monotonic() - began < 2.5, "close() waited for the listener's poll timeout"
