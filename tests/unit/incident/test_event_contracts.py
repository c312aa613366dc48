"""Every incident event version ever published still loads (services/incident/fixtures)."""

from __future__ import annotations

from pathlib import Path

from contracts.fixtures import replay_fixtures
from incident_service.domain import EVENTS

FIXTURES = Path(__file__).resolve().parents[3] / "services" / "incident" / "fixtures"


def test_every_published_incident_event_version_replays() -> None:
    EVENTS.check_complete()
    replayed = replay_fixtures(EVENTS, FIXTURES)
    assert {r.event_type for r in replayed} == set(EVENTS.types)
