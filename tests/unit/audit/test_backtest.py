"""The back-test simulation, pure: grouping, silences, inhibition, duration, schedules,
off-hours and the acknowledgement estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audit_service.backtest import RecordedAlert, parse_proposal, simulate
from contracts.domain import InvalidCommandError

MONDAY = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # 10:00 on a Monday

PROPOSAL = """
detection:
  group_by: [service]
  group_wait_minutes: 30
  min_duration_minutes: 2
  silences:
    - matchers: {service: search}
      start: 2026-01-05T00:00:00Z
      end: 2026-01-06T00:00:00Z
  inhibit:
    - source: {alertname: ClusterDown}
      target: {severity: critical}
      equal: [cluster]
paging:
  ack_after_minutes: 10
  ack_minutes: 15
  policies:
    "*":
      levels:
        - targets: [schedule:primary]
          delay_minutes: 5
        - targets: [user:lead]
          delay_minutes: 30
  schedules:
    primary:
      layers:
        - layer_id: day
          users: [alice, bob]
          turn_hours: 24
          start: 2026-01-05T00:00:00
"""


def alert(n: int, at: datetime, minutes: float | None = 10, **labels: str) -> RecordedAlert:
    return RecordedAlert(
        f"a{n}",
        {"service": "checkout", "cluster": "eu1", "severity": "critical", **labels},
        labels.get("severity", "critical"),
        at,
        at + timedelta(minutes=minutes) if minutes is not None else None,
    )


def test_one_burst_is_one_incident_paging_the_level_until_the_assumed_ack() -> None:
    outcome = simulate(
        [alert(1, MONDAY), alert(2, MONDAY + timedelta(minutes=20))], parse_proposal(PROPOSAL)
    )
    assert outcome.incidents == 1
    # Level 0 at +0 (alice on Monday), level 1 at +5 (before the 10-minute ack).
    assert dict(outcome.pages_per_person) == {"alice": 1, "lead": 1}
    assert outcome.off_hours_pages == 0


def test_silenced_inhibited_and_short_alerts_do_not_page() -> None:
    outcome = simulate(
        [
            alert(1, MONDAY, service="search"),
            alert(2, MONDAY, alertname="ClusterDown", severity="warning", minutes=None),
            alert(3, MONDAY + timedelta(minutes=1), service="cart"),
            alert(4, MONDAY + timedelta(hours=3), minutes=1, service="pay"),
        ],
        parse_proposal(PROPOSAL),
    )
    assert outcome.incidents == 0
    assert outcome.suppressed_alerts == 2


def test_a_night_page_on_tuesday_goes_to_bob_off_hours() -> None:
    night = datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
    outcome = simulate([alert(1, night)], parse_proposal(PROPOSAL))
    assert outcome.pages_per_person["bob"] == 1
    assert outcome.off_hours_pages == 2


def test_a_bad_proposal_names_the_field() -> None:
    with pytest.raises(InvalidCommandError) as caught:
        parse_proposal("paging: {policies: {'*': {levels: []}}}")
    assert caught.value.field == "proposal.paging.policies.*.levels"
