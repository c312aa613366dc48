"""A separate OS process that appends one event to a shared SQLite log and prints how
many wake-up datagrams it sent. With "silent" its datagrams are dropped, as a lost
datagram would be (used by the wake-up tests)."""

from __future__ import annotations

import sys

from eventlog import NewEvent, Ownership, StreamState
from eventlog.doorbell import Ringer
from eventlog.sqlite import SQLiteEventStore


def main(path: str, mode: str) -> None:
    if mode == "silent":
        Ringer.ring = lambda self, skip=None: None  # type: ignore[method-assign]
    store = SQLiteEventStore(path, writer="w", ownership=Ownership({"w": {"proc"}}))
    store.append("proc-one", [NewEvent("Wrote", {"mode": mode})], StreamState.ANY)
    print(store.doorbell_sent, flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
