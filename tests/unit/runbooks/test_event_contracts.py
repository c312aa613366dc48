"""Every runbooks event version ever published still loads (services/runbooks/fixtures)."""

from __future__ import annotations

from pathlib import Path

from contracts.fixtures import replay_fixtures
from runbooks_service.registry import EVENTS

FIXTURES = Path(__file__).resolve().parents[3] / "services" / "runbooks" / "fixtures"


def test_every_published_runbooks_event_version_replays() -> None:
    EVENTS.check_complete()
    replayed = replay_fixtures(EVENTS, FIXTURES)
    assert {r.event_type for r in replayed} == set(EVENTS.types)
