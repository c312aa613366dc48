"""Run in a subprocess: eventlet-patched, 50 greenthreads append through one store."""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import sys  # noqa: E402

from eventlog import NewEvent, Ownership, StreamState  # noqa: E402
from eventlog.sqlite import SQLiteEventStore  # noqa: E402


def main(path: str) -> None:
    store = SQLiteEventStore(path, writer="w", ownership=Ownership({"w": {"green"}}))
    pool = eventlet.GreenPool(50)
    for index in range(50):
        pool.spawn(
            lambda i: [
                store.append(f"green-{i}", [NewEvent("Happened", {"n": n})], StreamState.ANY)
                for n in range(5)
            ],
            index,
        )
    pool.waitall()
    print(len(store._connections), store.head_position())


if __name__ == "__main__":
    main(sys.argv[1])
