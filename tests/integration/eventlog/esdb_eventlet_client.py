"""Child process for test_esdb_under_eventlet.py: a nameko-like, eventlet-patched process
that uses the EventStoreDB adapter against the server at argv[1] while another
greenthread keeps ticking. Prints one JSON line with what it saw.

With argv[2] == "late" it imports the adapter BEFORE patching (the mistake that makes
grpc hang) and reports the error the adapter raises instead."""

import sys

if sys.argv[2:] == ["late"]:
    import eventlog.esdb  # noqa: F401 - deliberately before monkey_patch

import eventlet

eventlet.monkey_patch()  # first, exactly like `nameko run`

import json  # noqa: E402 - everything else is imported into the patched process
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from eventlog import EventFilter, NewEvent, StreamState  # noqa: E402
from eventlog.esdb import EventStoreDBEventStore  # noqa: E402

EVENTS = 200


def main(url: str) -> dict[str, Any]:
    ticks = 0
    running = True

    def ticker() -> None:
        nonlocal ticks
        while running:
            ticks += 1
            eventlet.sleep(0)

    ticking = eventlet.spawn(ticker)
    calls = 0
    calls_that_saw_ticks = 0

    def timed(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one adapter call that talks to the server, and note whether the ticker
        ran while it was in flight."""
        nonlocal calls, calls_that_saw_ticks
        before = ticks
        result = function(*args, **kwargs)
        calls += 1
        calls_that_saw_ticks += ticks > before
        return result

    store = timed(EventStoreDBEventStore, url, writer="incident")
    stream = f"incident-{uuid.uuid4().hex[:12]}"
    start = timed(store.head_position)
    for n in range(EVENTS):
        expected = StreamState.NO_STREAM if n == 0 else n - 1
        timed(store.append, stream, [NewEvent("TimelineNoteAdded", {"n": n})], expected)
    read = timed(store.read_stream, stream)

    subscription = store.subscribe(
        from_position=start + 1, filter=EventFilter.of(categories=["incident"]), poll_interval=0.2
    )
    # The first call reads the whole backlog; the rest come from its buffer.
    caught_up = [timed(subscription.next_event, 10)]
    caught_up += [subscription.next_event(10) for _ in range(EVENTS - 1)]

    # Nothing new arrives: the wait is a blocked gRPC call, and the hub must keep running.
    before_idle = ticks
    idle = timed(subscription.next_event, 0.5)
    idle_ticks = ticks - before_idle

    # A live event, appended by another greenthread while this one waits for it.
    def late_append() -> None:
        eventlet.sleep(0.05)  # sleep-ok: lets the reader block first, so the event is live
        store.append(stream, [NewEvent("TimelineNoteAdded", {"n": EVENTS})], EVENTS - 1)

    appender = eventlet.spawn(late_append)
    live = timed(subscription.next_event, 10)
    appender.wait()
    subscription.close()
    verified = timed(store.verify, stream).ok
    store.close()
    running = False
    ticking.wait()
    return {
        "read": [e.data["n"] for e in read],
        "subscribed": [e.data["n"] for e in caught_up if e is not None],
        "idle_was_none": idle is None,
        "idle_ticks": idle_ticks,
        "live": None if live is None else live.data["n"],
        "verified": verified,
        "calls": calls,
        "calls_that_saw_ticks": calls_that_saw_ticks,
        "ticks": ticks,
    }


def late(url: str) -> dict[str, Any]:
    from eventlog.greengrpc import GreenGrpcError

    try:
        EventStoreDBEventStore(url, writer="incident")
    except GreenGrpcError as exc:
        return {"error": str(exc)}
    return {"error": None}


if __name__ == "__main__":
    run = late if sys.argv[2:] == ["late"] else main
    print(json.dumps(run(sys.argv[1])), flush=True)
