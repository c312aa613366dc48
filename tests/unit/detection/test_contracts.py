"""Every published detection event still loads from its stored fixture, and the
incident-facing contract keeps its exact names and fields."""

from __future__ import annotations

from pathlib import Path

from contracts.fixtures import replay_fixtures
from detection_service.events import EVENTS
from detection_service.group import (
    AlertGroupAcknowledged,
    AlertGroupAlertAdded,
    AlertGroupFiring,
    AlertGroupResolved,
)

FIXTURES = Path(__file__).resolve().parents[3] / "services" / "detection" / "fixtures"


def test_every_fixture_replays() -> None:
    replayed = replay_fixtures(EVENTS, FIXTURES)
    assert {r.event_type for r in replayed} == set(EVENTS.types)
    EVENTS.check_complete()


def test_incident_facing_contract_fields() -> None:
    required = {
        AlertGroupFiring: {
            "group_id",
            "group_key",
            "title",
            "labels",
            "incident_severity",
            "services",
            "alert_key",
            "summary",
            "fired_at",
        },
        AlertGroupAlertAdded: {"group_id", "alert_key", "summary", "labels", "severity"},
        AlertGroupResolved: {"group_id", "resolved_at"},
        AlertGroupAcknowledged: {"group_id", "alert_key", "acknowledged_by", "acknowledged_at"},
    }
    for cls, fields in required.items():
        declared = {name for name, info in cls.model_fields.items() if info.is_required()}
        assert fields == declared, cls.__name__
    schema = AlertGroupFiring.model_json_schema()
    assert schema["properties"]["incident_severity"]["enum"] == ["P1", "P2", "P3", "P4"]
