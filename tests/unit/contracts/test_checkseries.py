"""contracts.checkseries reads detection's check events as a time series (ADR 0026):
intervals from status changes, no data outside the check's life and during checker
errors, "first failed" across a checker error, bounded retention, days cut at midnight.
The events are detection's own, recorded by its application on a real SQLite log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contracts import checkseries
from detection_service.app import DetectionApplication
from detection_service.check import Outcome
from detection_service.probes import ProbeResult
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore

T0 = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
HOME = {"name": "home", "kind": "tcp", "host": "127.0.0.1", "port": 9, "interval": "10s"}


class Log:
    def __init__(self, path: Path) -> None:
        self.clock = FakeClock(T0)
        self.store = SQLiteEventStore(
            path, writer="detection", ownership=Ownership.platform(), clock=self.clock
        )
        self.app = DetectionApplication(self.store, self.clock)
        self.app.define_check(HOME, defined_by="t")

    def at(self, minutes: float, outcome: Outcome) -> datetime:
        when = T0 + timedelta(minutes=minutes)
        self.clock.set(when)
        self.app.record_check_result(ProbeResult("home", outcome, when, 1.0))
        return when

    def series(self, retention: timedelta | None = None) -> checkseries.CheckSeries:
        return checkseries.fold(self.store.read_all(), retention).series["home"]


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path / "log.db")


def test_first_failure_spans_a_checker_error_and_is_kept_after_recovery(log: Log) -> None:
    log.at(0, Outcome.UP)
    failed = log.at(10, Outcome.DOWN)
    log.at(12, Outcome.CHECKER_ERROR)
    log.at(14, Outcome.DOWN)
    log.at(20, Outcome.UP)
    series = log.series()
    first = series.failure_at(T0 + timedelta(minutes=15))
    assert first is not None
    assert first.at == failed
    after = series.failure_at(T0 + timedelta(hours=1))
    assert after is not None
    assert after.at == failed  # the last failure before, once it is over
    assert series.failure_at(T0 + timedelta(minutes=5)) is None
    # The checker error is no data, not up, not down.
    assert series.status_at(T0 + timedelta(minutes=13)) == "checker_error"


def test_a_day_is_cut_at_midnight_and_no_data_is_not_uptime(log: Log) -> None:
    log.at(0, Outcome.UP)  # 22:00
    log.at(90, Outcome.DOWN)  # 23:30
    log.at(150, Outcome.UP)  # 00:30 the next day
    log.app.remove_check("home", removed_by="t")
    now = T0 + timedelta(days=1)
    bars = {b.day.isoformat(): b for b in checkseries.daily_uptime([log.series()], now, days=3)}
    first, second = bars["2026-11-27"], bars["2026-11-28"]
    assert (first.up_seconds, first.down_seconds) == (5400, 1800)
    assert second.down_seconds == 1800
    assert first.first_failed_at == T0 + timedelta(minutes=90)
    # Removed at 00:30: nothing is known after it, so the second day measured only its
    # 30 minutes down; a day before the check existed has no fraction at all.
    assert second.up_seconds == 0
    assert second.uptime == 0.0
    assert bars["2026-11-26"].uptime is None


def test_retention_keeps_the_change_in_force_at_its_edge(log: Log) -> None:
    log.at(0, Outcome.UP)
    log.at(10, Outcome.DOWN)
    log.at(20, Outcome.UP)
    log.at(24 * 60, Outcome.DOWN)
    series = log.series(retention=timedelta(hours=2))
    assert [c.status for c in series.changes] == ["up", "down"]
    # The dropped changes are older than the window; the one in force is still known.
    assert series.status_at(T0 + timedelta(hours=23)) == "up"
