"""A check's durable time series (ADR 0026): status intervals and summaries folded from
its stream survive a restart of the writer, which loses only the per-probe ring; a
clean stop records the unfinished hour so its runs are not lost either."""

from __future__ import annotations

from datetime import timedelta

from detection_service.app import DetectionApplication
from detection_service.check import Outcome
from detection_service.probes import ProbeResult, StepResult
from detection_service.synthetics import CheckScheduler
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore

HOME = {
    "name": "home",
    "kind": "http",
    "interval": "10s",
    "steps": [{"url": "http://127.0.0.1:9/"}],
}


def _record(app: DetectionApplication, clock: FakeClock, outcome: Outcome) -> None:
    clock.advance(10)
    ok = outcome is Outcome.UP
    step = StepResult("step1", ok, 20.0, "" if ok else "connection refused")
    app.record_check_result(ProbeResult("home", outcome, clock(), 20.0, (step,)))


def test_the_time_series_survives_a_restart_and_a_clean_stop_keeps_the_hour_so_far(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    app = DetectionApplication(store, clock)
    app.define_check(HOME, defined_by="alice")
    outcomes = [Outcome.UP] * 3 + [Outcome.DOWN] * 4 + [Outcome.UP] * 2
    for outcome in outcomes:
        _record(app, clock, outcome)
    assert len(app.checks.results("home", limit=0)) == 9
    before = app.checks.history("home")
    assert [c.status for c in before.changes] == ["up", "down", "up"]
    assert list(before.summaries) == []  # the hour is not over yet

    CheckScheduler(app).stop()  # the writer shuts down cleanly
    (summary,) = app.checks.history("home").summaries
    assert (summary.runs, summary.up, summary.down) == (9, 5, 4)
    assert summary.period_end == clock()

    restarted = DetectionApplication(store, clock)
    assert restarted.checks.results("home", limit=0) == []  # per-probe detail is memory
    after = restarted.checks.history("home")
    assert after.changes == before.changes
    assert list(after.summaries) == [summary]
    down = after.changes[1]
    assert (down.at, down.detail) == (before.changes[1].at, "connection refused")
    # When did it first fail, and for how long: from the log alone.
    assert after.failure_at(clock()) == down
    known = after.segments(after.spans[0][0], clock())
    assert sum(((b - a) for a, b, s in known if s == "down"), timedelta()) == timedelta(seconds=40)
    # Nothing more happened, so a second clean stop records nothing.
    head = store.head_position()
    CheckScheduler(restarted).stop()
    assert store.head_position() == head
