"""Synthetic check definitions and their bounded record, without a network: bad
definitions are refused naming the field with nothing appended, the same definition is
a no-op, outcomes append only on change, and summaries once per period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts.domain import InvalidCommandError
from detection_service import checks as checks_module
from detection_service.app import DetectionApplication
from detection_service.check import Outcome
from detection_service.checks import Checks
from detection_service.probes import ProbeResult, StepResult
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore

GOOD: dict[str, Any] = {
    "name": "home",
    "kind": "http",
    "interval": "10s",
    "steps": [{"url": "http://127.0.0.1:9/"}],
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("definition", "field", "words"),
    [
        (_with(name="Bad Name"), "name", "should match pattern"),
        (_with(kind="smtp"), "kind", "'http', 'tcp' or 'dns'"),
        (_with(interval="0.5s"), "interval", "at least 1s"),
        (_with(interval="soon"), "interval", "not a duration"),
        (_with(steps=[{"url": "ftp://x"}]), "steps.0.url", "http:// or https://"),
        (_with(steps=[{"url": "http://x", "timeout": "2h"}]), "steps.0.timeout", "less than"),
        (
            _with(
                steps=[{"url": "http://x", "assertions": [{"status": 200, "body_contains": "a"}]}]
            ),
            "steps.0.assertions.0",
            "exactly one",
        ),
        (
            _with(steps=[{"url": "http://x", "assertions": [{"body_matches": "("}]}]),
            "steps.0.assertions.0.body_matches",
            "regular expression",
        ),
        (
            _with(steps=[{"url": "http://x", "headers": {"Authorization": "Bearer {{token}}"}}]),
            "check",
            "steps[0] uses {{token}}, which no earlier step extracts",
        ),
        (_with(steps=[]), "check", "needs `steps`"),
        ({"name": "db", "kind": "tcp", "host": "db"}, "check", "needs `port`"),
        (_with(labels={"bad-name": "x"}), "labels", "label"),
        (_with(surprise=1), "surprise", "Extra inputs"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_field_and_appends_nothing(
    app: DetectionApplication,
    store: SQLiteEventStore,
    definition: dict[str, Any],
    field: str,
    words: str,
) -> None:
    before = store.head_position()
    with pytest.raises(InvalidCommandError) as refused:
        app.define_check(definition, defined_by="alice")
    assert refused.value.field == field
    assert words in str(refused.value)
    assert store.head_position() == before


def test_defining_the_same_check_twice_records_it_once(
    app: DetectionApplication, store: SQLiteEventStore
) -> None:
    assert app.define_check(GOOD, defined_by="alice")[1] is True
    assert app.define_check(GOOD, defined_by="alice")[1] is False
    assert app.define_check(_with(interval="20s"), defined_by="alice")[1] is True
    types = [e.type for e in store.read_all()]
    assert types.count("CheckDefined") == 2
    assert [r.name for r in app.list_rules()] == ["synthetic:home"]


def _result(at: Any, outcome: Outcome, ms: float = 5.0) -> ProbeResult:
    step = StepResult("home", outcome is Outcome.UP, ms, "" if outcome is Outcome.UP else "boom")
    return ProbeResult("home", outcome, at, ms, (step,))


def test_outcomes_append_only_on_change_and_summaries_once_per_period(
    store: SQLiteEventStore, clock: FakeClock
) -> None:
    app = DetectionApplication(store, clock)
    checks = Checks(app.core, app.checks.rules, summary_period=timedelta(minutes=1))
    checks.define_check(GOOD, defined_by="alice")
    types: list[str] = []
    for index in range(12):  # two minutes at 10 s: up, up, down x4, up ...
        clock.advance(10)
        outcome = Outcome.DOWN if 2 <= index < 6 else Outcome.UP
        types += [e.event_type() for e in checks.record(_result(clock(), outcome, 10.0 + index))]
    assert types == [
        "CheckStatusChanged",  # first result: up
        "CheckStatusChanged",  # down
        "CheckSummaryRecorded",  # 60 s after definition
        "CheckStatusChanged",  # up again
        "CheckSummaryRecorded",
    ]
    summaries = [e for e in store.read_all() if e.type == "CheckSummaryRecorded"]
    assert summaries[0].data["runs"] == 6
    assert summaries[0].data["down"] == 4
    assert len(checks.results("home", limit=0)) == 12
    assert len(checks.results("home", limit=3)) == 3


def test_a_check_owns_a_last_value_rule_over_its_up_samples() -> None:
    spec = checks_module.check.parse_spec({**GOOD, "for": "2m", "labels": {"team": "shop"}})
    owned = checks_module.rule_for(spec)
    assert owned.name == "synthetic:home"
    assert owned.for_ == timedelta(minutes=2)
    assert owned.series is not None
    assert owned.series.labels == {"check": "home"}
    assert (owned.aggregation, owned.comparison, owned.threshold) == ("last", "<", 1)
    assert owned.window == timedelta(seconds=30)
    assert owned.labels == {"team": "shop", "check": "home", "source": "synthetic"}


def test_a_summary_counts_every_run_of_its_period_even_beyond_the_ring(
    store: SQLiteEventStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks_module, "RING_SIZE", 3)
    app = DetectionApplication(store, clock)
    checks = Checks(app.core, app.checks.rules, summary_period=timedelta(minutes=1))
    checks.define_check(GOOD, defined_by="alice")
    for _ in range(6):
        clock.advance(10)
        checks.record(_result(clock(), Outcome.UP, 12.0))
    (summary,) = [e for e in store.read_all() if e.type == "CheckSummaryRecorded"]
    assert (summary.data["runs"], summary.data["up"]) == (6, 6)
    assert summary.data["latency_p50_ms"] == 12.0
    assert len(checks.results("home", limit=0)) == 3
