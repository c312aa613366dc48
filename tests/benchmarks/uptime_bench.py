"""Uptime bars measured by synthetic checks (ADR 0026): what drawing them costs the
status page, against the same-run floor of the same page whose bars come from
component statuses.

Owns one measurement: the public page `/` rendered by the real WSGI application
(`comms_service.web.StatusPage`, cache bypassed: a new log position re-renders it) for
10 components, (a) each measured by one check with 90 days of history (a status change
every `change_every` hours and an hourly summary: the worst honest case is a flapping
check) and (b) the floor, 10 components with the same number of status changes set on
the page. Also the replay: how long a fresh comms process takes to fold those events.
Events are appended in batches straight to a SQLite log in the shape detection records
them. Nothing asserts a time: results are markdown.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from werkzeug.test import Client

from comms_service.app import CommsApplication
from comms_service.web import StatusPage
from eventlog import FakeClock, NewEvent, Ownership, StreamState
from eventlog.sqlite import SQLiteEventStore

COMPONENTS = 10
NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def _progress(message: str) -> None:
    print(f"[bench] uptime: {message}", file=sys.stderr, flush=True)


def _seed_checks(path: Path, clock: FakeClock, change_every: int) -> int:
    store = SQLiteEventStore(path, writer="detection", ownership=Ownership.platform(), clock=clock)
    start = NOW - timedelta(days=90)
    count = 0
    for c in range(COMPONENTS):
        spec = {"labels": {"statuspage_component": f"c{c}"}}
        events = [
            NewEvent(
                "CheckDefined",
                {"name": f"k{c}", "kind": "http", "spec": spec, "defined_by": "bench",
                 "defined_at": start.isoformat()},
            )
        ]  # fmt: skip
        status = "up"
        for hour in range(90 * 24):
            at = start + timedelta(hours=hour)
            if hour % change_every == 0:
                events.append(
                    NewEvent("CheckStatusChanged", {"status": status, "at": at.isoformat()})
                )
                status = "down" if status == "up" else "up"
            events.append(
                NewEvent(
                    "CheckSummaryRecorded",
                    {"period_start": at.isoformat(),
                     "period_end": (at + timedelta(hours=1)).isoformat(), "runs": 360,
                     "up": 350, "down": 10, "checker_errors": 0, "latency_p50_ms": 40.0,
                     "latency_max_ms": 90.0},
                )
            )  # fmt: skip
        for offset in range(0, len(events), 500):
            store.append(
                f"check-k{c}",
                events[offset : offset + 500],
                StreamState.NO_STREAM if offset == 0 else StreamState.ANY,
            )
        count += len(events)
    store.close()
    return count


def _render(app: CommsApplication, repeats: int) -> float:
    """Median seconds per uncached render of `/`."""
    times = []
    for _ in range(repeats):
        page = StatusPage(app)  # a fresh page: no cached body
        started = time.perf_counter()
        response = Client(page).get("/")
        times.append(time.perf_counter() - started)
        page.close()
        assert response.status_code == 200
    times.sort()
    return times[len(times) // 2]


def run(*, quick: bool) -> str:
    change_every = 24 if quick else 2
    repeats = 5 if quick else 20
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(NOW - timedelta(days=91))
        measured = CommsApplication(
            SQLiteEventStore(
                Path(tmp) / "m.db", writer="communications", ownership=Ownership.platform(),
                clock=clock,
            ),
            clock,
        )  # fmt: skip
        floor = CommsApplication(
            SQLiteEventStore(
                Path(tmp) / "f.db", writer="communications", ownership=Ownership.platform(),
                clock=clock,
            ),
            clock,
        )  # fmt: skip
        for c in range(COMPONENTS):
            measured.add_component(f"c{c}", f"Component {c}", by="bench")
            floor.add_component(f"c{c}", f"Component {c}", by="bench")
        events = _seed_checks(Path(tmp) / "m.db", clock, change_every)
        statuses = ("major_outage", "operational")
        changes = 0
        for hour in range(0, 90 * 24, change_every):
            clock.set(NOW - timedelta(days=90) + timedelta(hours=hour))
            for c in range(COMPONENTS):
                floor.set_component_status(f"c{c}", statuses[changes % 2], by="bench")
            changes += 1
        clock.set(NOW)
        _progress(f"{events} check events, {changes * COMPONENTS} status changes")
        started = time.perf_counter()
        fresh = CommsApplication(measured.store, clock)
        fresh.model  # noqa: B018 - the replay is what is measured
        replay = time.perf_counter() - started
        measured_s = _render(fresh, repeats)
        floor_s = _render(floor, repeats)
    ratio = measured_s / floor_s if floor_s else float("nan")
    return "\n".join(
        [
            "## Status page: uptime bars measured by synthetic checks (ADR 0026)",
            "",
            f"{COMPONENTS} components, 90 days; measured: one check each with a status change "
            f"every {change_every} h and an hourly summary ({events} check events); floor: the "
            "same components with the same number of statuses set on the page. Uncached "
            f"render of `/` through the WSGI app, median of {repeats}.",
            "",
            "| measurement | value |",
            "|---|---|",
            f"| render, measured bars | {measured_s * 1000:.1f} ms |",
            f"| floor: render, status bars | {floor_s * 1000:.1f} ms |",
            f"| measured / floor | {ratio:.2f}x |",
            f"| replay of the log into a fresh comms model | {replay * 1000:.0f} ms |",
            "",
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
