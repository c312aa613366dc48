"""Profile the paging worker's application work per page in one process (issue 14).

    PYTHONPATH=. .venv/bin/python -m tests.benchmarks.paging_profile \
        [pages] [open] [--profile]

One page as the worker makes it, without the broker: `start_escalation_and_fire`,
`tick()`, `incident_context` and `record_delivery_outcome` on a fresh SQLite log in a temporary
directory, configured as the alert-to-page bench configures it (one user with an email
method on the `default` policy). `open` incidents are first declared and paged and
left open (neither acknowledged nor resolved), so the numbers show whether a page
costs more when many incidents are open. Per page it reports the CPU time of this
thread (`time.thread_time`, median of blocks of 50 pages), and the store calls and
SQL statements counted around the same loop; `--profile` adds a CPU-time cProfile of
the measured pages. A tool, not a benchmark: nothing is asserted, and a loaded
machine moves the absolute numbers (compare commits in one sitting).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventlog import EventStore, Ownership
from eventlog.clock import system_clock
from eventlog.sqlite import SQLiteEventStore
from incident_service.app import IncidentApplication
from paging_service.app import PagingApplication
from paging_service.delivery import incident_context
from tests.benchmarks.paging_path_bench import ACK_SECRET, _configure

BLOCK = 50


@contextmanager
def counted(store: EventStore, counts: Counter[str]) -> Iterator[None]:
    """Count the store's public calls and every SQL statement its connections run."""
    originals: dict[str, Callable[..., Any]] = {}
    for name in ("append", "append_many", "read_stream", "read_all"):
        original = getattr(store, name)
        originals[name] = original

        def wrapper(*args: Any, _name: str = name, _f: Any = original, **kw: Any) -> Any:
            counts[_name] += 1
            return _f(*args, **kw)

        setattr(store, name, wrapper)
    connections: list[sqlite3.Connection] = list(getattr(store, "_connections", []))

    def statement(sql: str) -> None:
        counts["sql"] += 1

    for connection in connections:
        connection.set_trace_callback(statement)
    try:
        yield
    finally:
        for connection in connections:
            connection.set_trace_callback(None)
        for name in originals:
            delattr(store, name)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    pages = int(args[0]) if args else 400
    open_before = int(args[1]) if len(args) > 1 else 100
    with tempfile.TemporaryDirectory(prefix="firewatch-paging-profile-") as name:
        log = Path(name) / "log.db"
        _configure(log)

        def store(writer: str) -> SQLiteEventStore:
            return SQLiteEventStore(
                log, writer=writer, ownership=Ownership.platform(), clock=system_clock
            )

        incidents = IncidentApplication(store("incident"), system_clock)
        paging_store = store("paging")
        app = PagingApplication(paging_store, system_clock, ack_secret=ACK_SECRET.encode())
        app.start_sender()
        ids = [
            incidents.declare(
                title=f"profile {i}", severity="P1", services=["x"], declared_by="profile"
            ).incident_id
            for i in range(open_before + pages)
        ]

        def one(incident_id: uuid.UUID) -> int:
            # As the worker's handler does: the start with its first step, then a tick.
            deliveries = app.start_escalation_and_fire(
                incident_id, "P1", "default", service="x", title="profile", causation_id=None
            )
            deliveries += app.tick()
            for d in deliveries:
                incident_context(app, d.incident_id)
                app.record_delivery_outcome(
                    d.page_id, d.method_id, d.attempt, delivered=True, reason="", permanent=False
                )
            return len(deliveries)

        for incident_id in ids[:open_before]:
            one(incident_id)
        profiler = cProfile.Profile(time.thread_time) if "--profile" in argv else None
        counts: Counter[str] = Counter()
        blocks: list[float] = []
        sent = 0
        with counted(paging_store, counts):
            if profiler is not None:
                profiler.enable()
            for start in range(open_before, open_before + pages, BLOCK):
                block = ids[start : start + BLOCK]
                began = time.thread_time()
                for incident_id in block:
                    sent += one(incident_id)
                blocks.append((time.thread_time() - began) * 1000 / len(block))
            if profiler is not None:
                profiler.disable()
        print(f"pages: {pages} after {open_before} open incidents, deliveries: {sent}")
        print(
            f"CPU ms per page (median of {len(blocks)} blocks of {BLOCK}): "
            f"{statistics.median(blocks):.2f}; first block {blocks[0]:.2f}, "
            f"last {blocks[-1]:.2f}"
        )
        print("per page:", ", ".join(f"{k} {v / pages:.1f}" for k, v in sorted(counts.items())))
        if profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(25)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
