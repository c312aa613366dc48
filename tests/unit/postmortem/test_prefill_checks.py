"""The postmortem's timeline shows when the synthetic check behind the incident first
failed and when it recovered, relative to detection (ADR 0026). Everything is real on
one SQLite log: detection's application probes (results handed in on a fake clock),
its rule fires through `for`, the incident service's alert reaction declares the
incident from the AlertGroupFiring, and the postmortem reads the check's events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from detection_service.app import DetectionApplication
from detection_service.check import Outcome
from detection_service.probes import ProbeResult, StepResult
from eventlog import Ownership
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain as inc
from incident_service.reactions import AlertReactions
from postmortem_service import prefill as pf
from tests.unit.postmortem.conftest import World

CHECKOUT = {
    "name": "checkout",
    "kind": "http",
    "interval": "10s",
    "for": "2m",
    "steps": [{"name": "pay", "url": "http://127.0.0.1:9/pay"}],
    "labels": {"service": "checkout"},
}


@dataclass
class Story:
    incident_id: uuid.UUID
    failed_at: datetime
    declared_at: datetime
    recovered_at: datetime


class Detection:
    def __init__(self, world: World) -> None:
        path = world.app.store.path  # type: ignore[attr-defined]
        self.world = world
        self.store = SQLiteEventStore(
            path, writer="detection", ownership=Ownership.platform(), clock=world.clock
        )
        self.app = DetectionApplication(self.store, world.clock)

    def probe(self, name: str, outcome: Outcome) -> list[str]:
        """One run of `name` now, then the ticker: the event types the tick appended."""
        self.world.clock.advance(timedelta(seconds=10))
        ok = outcome is Outcome.UP
        step = StepResult("pay", ok, 35.0, "" if ok else "status 503, expected 200", "", 503)
        self.app.record_check_result(ProbeResult(name, outcome, self.world.clock(), 35.0, (step,)))
        return list(self.app.tick().event_types)


def _incident_from_a_failing_check(world: World, detection: Detection) -> Story:
    detection.app.define_check(CHECKOUT, defined_by="alice")
    # An unrelated check fails during the incident: no alert of it is in the incident.
    detection.app.define_check({**CHECKOUT, "name": "search"}, defined_by="alice")
    for _ in range(3):
        detection.probe("checkout", Outcome.UP)
    fired: list[str] = []
    detection.probe("checkout", Outcome.DOWN)
    failed_at = world.clock()
    detection.probe("search", Outcome.DOWN)
    while "AlertGroupFiring" not in fired:
        fired = detection.probe("checkout", Outcome.DOWN)
    assert world.clock() - failed_at >= timedelta(minutes=2)  # `for` honoured
    firing = [e for e in detection.store.read_all() if e.type == "AlertGroupFiring"][-1]
    # The incident worker picks the firing up four minutes later (a slow broker).
    world.clock.advance(timedelta(minutes=4))
    declared = AlertReactions(world.incidents).handle(firing)
    assert declared is not None
    incident_id = declared.state.incident_id
    assert incident_id is not None
    declared_at = world.clock()
    world.clock.advance(timedelta(minutes=3))
    detection.probe("checkout", Outcome.UP)
    recovered_at = world.clock()
    world.clock.advance(timedelta(minutes=10))
    world.incidents.execute(
        incident_id, inc.Resolve, actor="alice", summary="ok", resolved_by="alice"
    )
    resolved = world.incidents.store.read_stream(inc.stream_for(incident_id))[-1]
    world.app.incident_resolved(incident_id, causation_id=str(resolved.id))
    # A later failure of the same check belongs to another story.
    world.clock.advance(timedelta(hours=2))
    detection.probe("checkout", Outcome.DOWN)
    return Story(incident_id, failed_at, declared_at, recovered_at)


def test_the_timeline_says_when_the_check_first_failed_and_recovered_relative_to_detection(
    world: World,
) -> None:
    detection = Detection(world)
    story = _incident_from_a_failing_check(world, detection)

    filled = world.app.prefill(story.incident_id)
    checks = [e for e in filled.entries if e.event_type == "CheckStatusChanged"]
    before = story.declared_at - story.failed_at
    assert before == timedelta(minutes=6)
    assert [(e.at, e.text) for e in checks] == [
        (
            story.failed_at,
            "Synthetic check checkout first failed at step pay (status 503, expected 200), "
            "6 min before detection",
        ),
        (story.recovered_at, "Synthetic check checkout recovered, 3 min after detection"),
    ]
    assert all(e.source == "check" for e in checks)
    # The entries sit in time order with the alert's: the failure comes first.
    assert filled.entries[0].event_type == "CheckStatusChanged"
    assert not any("search" in e.text for e in filled.entries)


def test_a_restarted_postmortem_service_rebuilds_the_same_timeline_from_the_log(
    world: World,
) -> None:
    detection = Detection(world)
    story = _incident_from_a_failing_check(world, detection)
    first = [(e.entry_id, e.text) for e in world.app.prefill(story.incident_id).entries]
    again = [(e.entry_id, e.text) for e in world.new_app().prefill(story.incident_id).entries]
    assert again == first
    assert any("first failed" in text for _, text in again)


def test_an_incident_declared_by_hand_shows_no_check() -> None:
    index = pf.TimelineIndex()
    assert pf.check_events(index, []) == []
