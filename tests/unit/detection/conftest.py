"""Shared fixtures: the detection application over a real SQLite log on a FakeClock."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detection_service.app import DetectionApplication
from detection_service.events import EVENTS
from detection_service.integration import Integration
from detection_service.routing import DetectionConfig, parse_config
from eventlog import FakeClock, Ownership, RecordedEvent
from eventlog.sqlite import SQLiteEventStore

T0 = datetime(2026, 11, 27, 2, 1, tzinfo=UTC)
FORMATS = Path(__file__).resolve().parents[3] / "services" / "detection" / "fixtures" / "formats"

CONFIG_YAML = """
group_by: [service, env]
group_window: 1h
auto_resolve_after: 4h
flapping: {changes: 4, window: 10m}
routes:
  - matchers: ['service="checkout"', 'severity="critical"']
    incident_severity: P1
    services: [checkout, payments]
inhibit_rules:
  - source_matchers: ['alertname="ClusterDown"']
    target_matchers: ['alertname!="ClusterDown"']
    equal: [cluster]
rate_limit: {events_per_second: 1, burst: 3}
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def config() -> DetectionConfig:
    return parse_config(CONFIG_YAML)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SQLiteEventStore]:
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="detection", ownership=Ownership.platform(), clock=clock
    )
    yield store
    store.close()


@pytest.fixture
def app(store: SQLiteEventStore, clock: FakeClock, config: DetectionConfig) -> DetectionApplication:
    return DetectionApplication(store, clock, config)


@pytest.fixture
def am_integration(app: DetectionApplication) -> Integration:
    return app.create_integration("prometheus", "alertmanager", created_by="admin").integration


@pytest.fixture
def pd_integration(app: DetectionApplication) -> tuple[Integration, str]:
    created = app.create_integration("pd-tool", "pagerduty", created_by="admin")
    return created.integration, created.key


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FORMATS / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def types_since(store: SQLiteEventStore) -> Callable[[int], list[str]]:
    def since(position: int) -> list[str]:
        return [e.type for e in store.read_all(from_position=position + 1)]

    return since


def events_of(store: SQLiteEventStore, event_type: str) -> list[RecordedEvent]:
    return [e for e in store.read_all() if e.type == event_type]


def loaded(recorded: RecordedEvent) -> Any:
    return EVENTS.from_recorded(recorded)
