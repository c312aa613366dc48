"""The channels file: destinations, per-service overrides, severity thresholds, cadence."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from comms_service.app import CommsApplication
from comms_service.common import Severity
from comms_service.settings import CommsSettings
from eventlog import FakeClock
from eventlog.sqlite import SQLiteEventStore
from tests.unit.comms.conftest import T0

CHANNELS = """
min_severity: P2
war_room:    [{channel_id: war, kind: slack, address: "https://chat.example.com/war"}]
stakeholder: [{channel_id: execs, kind: email, address: execs@example.com}]
services:
  payments:
    min_severity: P4
    stakeholder: [{channel_id: pay, kind: email, address: payments-leads@example.com}]
cadence:
  P1: 15
  services: {payments: {P2: 20}}
"""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CommsSettings:
    path = tmp_path / "channels.yaml"
    path.write_text(CHANNELS, encoding="utf-8")
    monkeypatch.setenv("FIREWATCH_COMMS_CHANNELS_FILE", str(path))
    monkeypatch.setenv(
        "FIREWATCH_COMMS_CONTACTS", "alice=alice@example.com, carol=carol@example.com"
    )
    return CommsSettings()


def test_the_channels_file_configures_destinations_thresholds_and_cadence(
    settings: CommsSettings,
) -> None:
    routing = settings.routing()
    war, stake, service = routing.for_service(["payments"])
    assert service == "payments"
    assert [d.address for d in war] == ["https://chat.example.com/war"]  # the default war room
    assert [d.address for d in stake] == ["payments-leads@example.com"]
    assert routing.opens(Severity.P4, "payments")
    assert not routing.opens(Severity.P3, "search")
    assert routing.opens(Severity.P2, "search")
    cadence = settings.cadence()
    assert cadence.next_due(Severity.P1, T0) == T0 + timedelta(minutes=15)
    assert cadence.next_due(Severity.P2, T0, "payments") == T0 + timedelta(minutes=20)
    assert cadence.next_due(Severity.P2, T0, "search") == T0 + timedelta(minutes=60)
    assert settings.contacts() == {"alice": "alice@example.com", "carol": "carol@example.com"}


def test_incidents_below_the_threshold_open_no_channels(
    settings: CommsSettings, store: SQLiteEventStore, clock: FakeClock
) -> None:
    app = CommsApplication(store, clock, routing=settings.routing(), cadence=settings.cadence())
    assert (
        app.track_incident(uuid.uuid4(), number=1, title="t", severity="P3", services=["search"])
        is None
    )
    opened = app.track_incident(
        uuid.uuid4(), number=2, title="t", severity="P3", services=["payments"]
    )
    assert opened is not None
    assert opened.state.reference == "INC-2"


def test_the_retry_horizon_and_backoff_cap_are_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default = CommsSettings().retry()
    assert (default.give_up_after, default.cap) == (timedelta(hours=6), timedelta(minutes=10))
    monkeypatch.setenv("FIREWATCH_COMMS_RETRY_HOURS", "24")
    monkeypatch.setenv("FIREWATCH_COMMS_RETRY_CAP_SECONDS", "300")
    configured = CommsSettings().retry()
    assert (configured.give_up_after, configured.cap) == (timedelta(hours=24), timedelta(minutes=5))


def test_the_templates_file_adds_and_replaces_update_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: SQLiteEventStore, clock: FakeClock
) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text(
        'board: "{{ title }} is {{ status }}. {{ message }}"\npublic: "Status: {{ message }}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("FIREWATCH_COMMS_TEMPLATES_FILE", str(path))
    templates = CommsSettings().templates()
    assert set(templates) == {"board", "public"}
    app = CommsApplication(store, clock, templates=templates)
    assert set(app.templates) == {"internal", "executive", "public", "board"}
    assert app.templates["public"] == "Status: {{ message }}"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('board: "{{ title "\n', "template 'board'"),
        ('board: "{{ titel }}"\n', "template 'board'"),
        ('board: "{{ ().__class__ }}"\n', "template 'board'"),
        ('"Bad Name": "x"\n', "template name 'Bad Name'"),
        ("- not a mapping\n", "must map template names"),
    ],
)
def test_a_bad_templates_file_stops_the_process_naming_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, named: str
) -> None:
    from comms_service.settings import SettingsError

    path = tmp_path / "templates.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FIREWATCH_COMMS_TEMPLATES_FILE", str(path))
    with pytest.raises(SettingsError) as error:
        CommsSettings().templates()
    assert str(path) in str(error.value)
    assert named in str(error.value)


def test_a_missing_templates_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from comms_service.settings import SettingsError

    monkeypatch.setenv("FIREWATCH_COMMS_TEMPLATES_FILE", str(tmp_path / "nope.yaml"))
    with pytest.raises(SettingsError, match=r"FIREWATCH_COMMS_TEMPLATES_FILE .*nope\.yaml"):
        CommsSettings().templates()
