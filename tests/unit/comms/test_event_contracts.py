"""Every communications event version ever published still loads (services/comms/fixtures)."""

from __future__ import annotations

from pathlib import Path

from comms_service.registry import EVENTS
from contracts.fixtures import replay_fixtures

FIXTURES = Path(__file__).resolve().parents[3] / "services" / "comms" / "fixtures"


def test_every_published_communications_event_version_replays() -> None:
    EVENTS.check_complete()
    replayed = replay_fixtures(EVENTS, FIXTURES)
    assert {r.event_type for r in replayed} == set(EVENTS.types)
