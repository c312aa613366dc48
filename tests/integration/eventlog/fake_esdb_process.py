"""The fake EventStoreDB server in a process of its own, for test_esdb_under_eventlet.py.

Prints the server's URL on the first line, serves until stdin closes, then prints the
per-RPC call counts as one JSON line. Why a process: run inside the pytest process, the
server's handler threads compete for the GIL with whatever threads earlier tests left
running there; with four busy threads, the eventlet child's 200 appends took 135 s
instead of 4 (measured), which looked like a hang. A real EventStoreDB is its own process
too.
"""

import json
import sys

from eventlog.testing.fake_esdb import FakeEventStoreDBServer


def main() -> None:
    with FakeEventStoreDBServer() as server:
        print(server.url, flush=True)
        sys.stdin.read()  # until the test closes our stdin
        calls = dict(server.calls)
    print(json.dumps(calls), flush=True)


if __name__ == "__main__":
    main()
