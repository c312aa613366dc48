"""SQLite group commit (ADR 0024): appends that arrive while a commit is in flight are
committed together, and each caller is told exactly its own outcome.

Real threads on a real SQLite file. The first group's leader is held inside its commit by
the store's test hook until the others have queued behind it (the queue hook says when),
so the second group's membership is known without any sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from eventlog import AppendResult, ConcurrencyError, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteEventStore]:
    opened = SQLiteEventStore(
        tmp_path / "log.db", writer="writer", ownership=Ownership({"writer": {"acct"}})
    )
    yield opened
    opened.close()


def event(n: int) -> NewEvent:
    return NewEvent("Deposited", {"n": n})


class HeldGroup:
    """Holds the first group's leader before BEGIN until `queued` calls wait behind it."""

    def __init__(self, store: SQLiteEventStore, queued: int) -> None:
        self.leader_inside = threading.Event()
        self.release = threading.Event()
        self.all_queued = threading.Event()
        self.sizes: list[int] = []
        self._queued = queued
        store._before_group = self._before_group
        store._queued = self._on_queued

    def _before_group(self, size: int) -> None:
        self.sizes.append(size)
        if len(self.sizes) == 1:
            self.leader_inside.set()
            assert self.release.wait(timeout=30), "the test never released the first group"

    def _on_queued(self, length: int) -> None:
        if self.leader_inside.is_set() and length >= self._queued:
            self.all_queued.set()


def run(
    calls: dict[str, Callable[[], Any]], held: HeldGroup, leader: Callable[[], Any]
) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}

    def call(name: str, function: Callable[[], Any]) -> None:
        try:
            outcomes[name] = function()
        except Exception as exc:
            outcomes[name] = exc

    first = threading.Thread(target=call, args=("leader", leader))
    first.start()
    assert held.leader_inside.wait(timeout=30)
    threads = [threading.Thread(target=call, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    assert held.all_queued.wait(timeout=30), "the callers did not queue behind the commit"
    held.release.set()
    for thread in [first, *threads]:
        thread.join(timeout=30)
        assert not thread.is_alive()
    return outcomes


def test_appends_queued_behind_a_commit_share_one_transaction_and_one_conflict_fails_alone(
    store: SQLiteEventStore,
) -> None:
    store.append("acct-x", [event(0)], StreamState.NO_STREAM)
    groups_before, calls_before = store.commit_groups, store.grouped_calls
    held = HeldGroup(store, queued=3)

    outcomes = run(
        {
            "a": lambda: store.append("acct-a", [event(1)], StreamState.NO_STREAM),
            "stale": lambda: store.append("acct-x", [event(2)], 5),
            "c": lambda: store.append("acct-x", [event(3)], 0),
        },
        held,
        leader=lambda: store.append("acct-lead", [event(9)], StreamState.NO_STREAM),
    )

    assert held.sizes == [1, 3]
    assert (store.commit_groups - groups_before, store.grouped_calls - calls_before) == (2, 4)
    assert isinstance(outcomes["stale"], ConcurrencyError), outcomes["stale"]
    assert outcomes["stale"].stream == "acct-x"
    assert outcomes["stale"].actual in (0, 1)
    a, c = outcomes["a"], outcomes["c"]
    assert isinstance(a, AppendResult)
    assert isinstance(c, AppendResult)
    assert c.versions == (1,)
    # Both are in the second group, so nothing else sits between their positions.
    assert abs(a.last_position - c.last_position) == 1
    assert [e.data["n"] for e in store.read_stream("acct-x")] == [0, 3]
    assert store.read_stream("acct-a")[0].position == a.last_position
    for stream in ("acct-x", "acct-a", "acct-lead"):
        assert store.verify(stream).ok


def test_two_callers_sending_one_batch_in_one_group_both_get_its_positions(
    store: SQLiteEventStore,
) -> None:
    batch = [event(1), event(2)]
    held = HeldGroup(store, queued=3)

    outcomes = run(
        {
            "first": lambda: store.append("acct-y", batch, StreamState.NO_STREAM),
            "retry": lambda: store.append("acct-y", batch, StreamState.NO_STREAM),
            "many": lambda: store.append_many(
                [
                    ("acct-m", StreamState.NO_STREAM, [event(3)]),
                    ("acct-n", StreamState.ANY, [event(4)]),
                ]
            ),
        },
        held,
        leader=lambda: store.append("acct-lead", [event(0)], StreamState.NO_STREAM),
    )

    assert held.sizes == [1, 3]
    assert isinstance(outcomes["first"], AppendResult), outcomes["first"]
    assert outcomes["retry"] == outcomes["first"]
    assert [e.data["n"] for e in store.read_stream("acct-y")] == [1, 2]
    many = outcomes["many"]
    assert [r.stream for r in many] == ["acct-m", "acct-n"]
    assert store.verify("acct-y").ok
    assert store.verify("acct-m").ok


def test_a_failed_append_many_in_a_group_leaves_the_others_committed(
    store: SQLiteEventStore,
) -> None:
    store.append("acct-x", [event(0)], StreamState.NO_STREAM)
    held = HeldGroup(store, queued=2)

    outcomes = run(
        {
            "many": lambda: store.append_many(
                [("acct-p", StreamState.NO_STREAM, [event(1)]), ("acct-x", 7, [event(2)])]
            ),
            "single": lambda: store.append("acct-q", [event(3)], StreamState.NO_STREAM),
        },
        held,
        leader=lambda: store.append("acct-lead", [event(0)], StreamState.NO_STREAM),
    )

    assert held.sizes == [1, 2]
    assert isinstance(outcomes["many"], ConcurrencyError)
    assert store.read_stream("acct-p") == []  # its first stream was rolled back too
    assert isinstance(outcomes["single"], AppendResult)
    assert [e.data["n"] for e in store.read_stream("acct-q")] == [3]
