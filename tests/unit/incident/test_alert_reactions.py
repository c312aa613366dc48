"""Detection's alert-group events become one incident per group, idempotently."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import InvalidCommandError, NotFoundError
from eventlog import FakeClock, NewEvent, Ownership, RecordedEvent, StreamState
from eventlog.sqlite import SQLiteEventStore
from incident_service import domain
from incident_service.app import IncidentApplication
from incident_service.reactions import AlertReactions, group_key

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class Log:
    def __init__(self, path: Path) -> None:
        self.clock = FakeClock(T0)
        self.detection = SQLiteEventStore(
            path, writer="detection", ownership=Ownership.platform(), clock=self.clock
        )
        self.incident = SQLiteEventStore(
            path, writer="incident", ownership=Ownership.platform(), clock=self.clock
        )
        self.app = IncidentApplication(self.incident, self.clock)
        self.reactions = AlertReactions(self.app)

    def detected(self, event_type: str, group: str, **data: Any) -> RecordedEvent:
        stream = f"alertgroup-{group}"
        self.detection.append(
            stream, [NewEvent(event_type, {"group_id": group, **data})], StreamState.ANY
        )
        return self.detection.read_stream(stream, backwards=True, limit=1)[0]


@pytest.fixture
def log(tmp_path: Path) -> Log:
    return Log(tmp_path / "log.db")


def firing(log: Log, group: str = "g1", **overrides: Any) -> RecordedEvent:
    data: dict[str, Any] = {
        "group_key": '{}:{alertname="HighErrorRate"}',
        "title": "checkout 5xx above 1%",
        "labels": {"alertname": "HighErrorRate", "service": "checkout"},
        "incident_severity": "P1",
        "services": ["Checkout"],
        "alert_key": "alert-abc",
        "summary": "5xx ratio is 3.2%",
        "fired_at": T0.isoformat(),
        "unknown_future_field": "ignored by a tolerant reader",
        **overrides,
    }
    return log.detected("AlertGroupFiring", group, **data)


def test_a_firing_alert_group_declares_one_incident_with_the_mapped_severity(log: Log) -> None:
    result = log.reactions.handle(firing(log))
    assert result is not None
    state = log.app.get(result.incident_id).state
    assert (state.severity, state.services, state.source_alerts) == (
        domain.Severity.P1,
        ("checkout",),
        ("alert-abc",),
    )
    assert state.declared_by == "detection"
    assert result.incident_id == IncidentApplication.incident_id_for_key(group_key("g1"))


def test_a_redelivered_firing_event_declares_nothing_new(log: Log) -> None:
    event = firing(log)
    first = log.reactions.handle(event)
    head = log.incident.head_position()
    again = log.reactions.handle(event)
    assert again is not None
    assert first is not None
    assert (again.replayed, again.incident_id) == (True, first.incident_id)
    assert log.incident.head_position() == head


def test_later_alerts_join_the_timeline_and_the_group_resolution_is_recorded(log: Log) -> None:
    incident_id = log.reactions.handle(firing(log)).incident_id  # type: ignore[union-attr]
    added = log.detected(
        "AlertGroupAlertAdded",
        "g1",
        alert_key="alert-def",
        summary="p99 latency high",
        labels={"service": "checkout"},
        severity="warning",
    )
    log.reactions.handle(added)
    log.reactions.handle(added)  # redelivered: nothing new
    log.reactions.handle(
        log.detected(
            "AlertGroupAcknowledged",
            "g1",
            alert_key="alert-abc",
            acknowledged_by="pagerduty:bob",
            acknowledged_at=T0.isoformat(),
        )
    )
    log.reactions.handle(log.detected("AlertGroupResolved", "g1", resolved_at=T0.isoformat()))

    view = log.app.get(incident_id)
    assert [e.type for e in view.events] == [
        "IncidentDeclared",
        "AlertAttached",
        "SourceAlertAcknowledged",
        "SourceAlertsResolved",
    ]
    assert view.state.source_alerts == ("alert-abc", "alert-def")
    assert view.state.source_resolved is True
    assert {e.metadata.causation_id for e in view.events[1:]} <= {
        str(e.id) for e in log.detection.read_all()
    }


def test_an_event_about_a_group_whose_incident_is_not_declared_yet_is_retried_later(
    log: Log,
) -> None:
    early = log.detected("AlertGroupAlertAdded", "g2", alert_key="a", summary="s")
    with pytest.raises(NotFoundError):
        log.reactions.handle(early)
    log.reactions.handle(firing(log, group="g2"))
    assert log.reactions.handle(early) is not None


def test_a_malformed_contract_event_is_refused_naming_the_field(log: Log) -> None:
    with pytest.raises(InvalidCommandError, match="incident_severity"):
        log.reactions.handle(firing(log, incident_severity="SEV1"))
    assert [e.category for e in log.incident.read_all()] == ["alertgroup"]


def test_event_types_it_does_not_know_are_ignored(log: Log) -> None:
    assert log.reactions.handle(log.detected("AlertGroupOpened", "g3")) is None
    assert uuid.UUID(int=0) != IncidentApplication.incident_id_for_key("x")
