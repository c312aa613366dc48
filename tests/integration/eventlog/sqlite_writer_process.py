"""A separate OS process that appends to a shared SQLite log (used by the tests)."""

from __future__ import annotations

import sys

from eventlog import NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore


def main(path: str, writer_index: int, count: int) -> None:
    store = SQLiteEventStore(path, writer="w", ownership=Ownership({"w": {"proc"}}))
    for n in range(count):
        # Half the appends race on one shared stream (optimistic retries), half go to
        # the process's own stream.
        if n % 2:
            store.append(
                f"proc-own{writer_index}",
                [NewEvent("Wrote", {"w": writer_index, "n": n})],
                StreamState.ANY,
            )
        else:
            store.append(
                "proc-shared", [NewEvent("Wrote", {"w": writer_index, "n": n})], StreamState.ANY
            )
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
