"""The worker's declaration handler (`Automator.handle`), in-process on green threads:
the automatic call goes first and the runbook attachment is appended after it, so the
attachment's fold and commit never hold the interpreter while the call is being sent;
a target that does not answer holds the attachment back only for
`ATTACH_WAITS_FOR_CALLS_SECONDS`, and the attachment is still in the log before the
handler returns (i.e. before the event would be acked)."""

from __future__ import annotations

import eventlet
import eventlet.event
import pytest

from eventlog import EventFilter, Ownership, RecordedEvent
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from runbooks_service import worker
from runbooks_service.app import Job, Result
from runbooks_service.worker import Automator
from tests.unit.runbooks.conftest import World, rollback_runbook


def _declared(world: World) -> RecordedEvent:
    world.app.publish(rollback_runbook(), by="alice")
    declared = world.incidents.declare(
        title="Checkout 5xx", severity="P1", services=["checkout"], declared_by="bob"
    )
    return world.incidents.store.read_stream(inc.stream_for(declared.incident_id))[0]


def _types(world: World) -> list[str]:
    return [e.type for e in world.app.store.read_all() if e.type.startswith(("Action", "Runbook"))]


def test_the_attachment_is_appended_after_the_call_is_done(world: World) -> None:
    def execute(job: Job) -> Result:
        # sleep-ok: a cooperative yield, as a network wait is; the old handler appended
        # the attachment right here, while the call was still in flight.
        eventlet.sleep(0)
        assert "RunbooksAttached" not in _types(world), "attached before the call"
        return Result(True, 200, 1)

    automator = Automator(world.app, execute=execute, run_blocking=lambda f, *a: f(*a))
    event = _declared(world)
    automator.handle(event)
    types = _types(world)
    assert types.index("ActionResultRecorded") < types.index("RunbooksAttached")
    # Its own appends are already in the model: the next declaration reads none of them.
    assert world.app.model.position == world.app.store.head_position()
    assert [r.runbook_id for r in world.app.view("INC-1").record.runbooks] == ["checkout-5xx"]


def test_a_target_that_hangs_delays_the_attachment_only_by_the_bound(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "ATTACH_WAITS_FOR_CALLS_SECONDS", 0.05)
    release = eventlet.event.Event()

    def execute(job: Job) -> Result:
        release.wait()  # a target that does not answer until the test says so
        return Result(True, 200, 1)

    automator = Automator(world.app, execute=execute, run_blocking=lambda f, *a: f(*a))
    event = _declared(world)
    automator.handle(event)  # returns while the call is still in flight
    types = _types(world)
    assert "RunbooksAttached" in types
    assert "ActionResultRecorded" not in types
    release.send(None)
    automator.drain()
    assert "ActionResultRecorded" in _types(world)


def test_an_http_call_runs_on_the_handlers_greenthreads_and_other_kinds_in_a_thread(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0029: HTTP (a cooperative kind) is called directly on a greenthread, no
    tpool hand-off; a kind that is not known to be cooperative still leaves the hub."""
    handed_off: list[str] = []

    def run_blocking(function: object, job: Job) -> Result:
        handed_off.append(job.kind)
        return Result(True, 200, 1)

    automator = Automator(
        world.app, execute=lambda job: Result(True, 200, 1), run_blocking=run_blocking
    )
    automator.handle(_declared(world))
    automator.drain()
    assert handed_off == []
    assert "ActionResultRecorded" in _types(world)

    monkeypatch.setattr(worker.executors, "COOPERATIVE", frozenset())
    second = world.incidents.declare(
        title="Checkout 5xx again", severity="P1", services=["checkout"], declared_by="bob"
    )
    automator.handle(world.incidents.store.read_stream(inc.stream_for(second.incident_id))[0])
    automator.drain()
    assert handed_off == ["http"]


def test_the_relay_is_woken_for_the_attempt_only_once_the_call_is_done(world: World) -> None:
    """ADR 0029: the attempt is committed before the call (the call reads it back
    here), but other processes' subscribers, i.e. the relay, are rung only after it,
    so they do not take the CPU the request needs to leave."""
    store = world.app.store
    assert isinstance(store, SQLiteEventStore)
    listener = SQLiteEventStore(store.path, ownership=Ownership({}))
    subscription = listener.subscribe(from_position=1, filter=EventFilter.of(categories=["x"]))
    seen: list[tuple[int, list[str]]] = []

    def execute(job: Job) -> Result:
        seen.append((store.doorbell_sent, [e.type for e in listener.read_stream(job.stream)]))
        return Result(True, 200, 1)

    try:
        assert subscription.next_event(timeout=0.01) is None  # binds a doorbell to ring
        event = _declared(world)
        before = store.doorbell_sent
        Automator(world.app, execute=execute).handle(event)
        [(rung_before_the_call, committed)] = seen
        assert rung_before_the_call == before
        assert committed == ["ActionRunRequested", "ActionAttempted"]
        assert store.doorbell_sent > before
    finally:
        subscription.close()
        listener.close()
