"""`incidentctl audit backtest` over a real log holding detection's recorded alerts and
paging's real pages: the proposal is simulated in memory and the log is not touched."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from detection_service import alert as al
from detection_service.registry import EVENTS as DETECTION_EVENTS
from eventlog import StreamState
from incidentctl.main import app
from paging_service import page as pg
from paging_service.common import EVENTS as PAGING_EVENTS
from tests.integration.audit.conftest import AuditApi, declare_incident
from tests.integration.incidentctl.conftest import CLEAN_ENV

PROPOSAL = """
detection: {group_by: [service], group_wait_minutes: 60}
paging:
  ack_after_minutes: 0
  policies: {"*": {levels: [{targets: [user:dana]}]}}
"""


def record_history(api: AuditApi) -> None:
    """Three checkout alerts within an hour (really: three incidents, two pages to
    alice at night) and nothing else."""
    detection = api.log.open("detection")
    paging = api.log.open("paging")
    for n in range(3):
        api.log.clock.advance(timedelta(minutes=15))
        now = api.log.clock()
        fired = al.AlertTriggered(
            alert_id=f"a{n}",
            alert_key=f"k{n}",
            integration="prometheus",
            source=al.SourceKind.ALERTMANAGER,
            labels={"service": "checkout", "severity": "critical"},
            annotations={},
            summary="checkout 5xx",
            severity=al.SourceSeverity.CRITICAL,
            occurrence=1,
            started_at=now,
            fired_at=now,
        )
        resolved = al.AlertResolved(
            reason=al.ResolveReason.SOURCE, resolved_at=now + timedelta(minutes=5)
        )
        detection.append(
            al.stream_for(f"a{n}"),
            [DETECTION_EVENTS.to_new_event(fired), DETECTION_EVENTS.to_new_event(resolved)],
            StreamState.NO_STREAM,
        )
        declare_incident(api.log)
    for _ in range(2):
        page_id = uuid.uuid4()
        paging.append(
            pg.stream_for(page_id),
            [
                PAGING_EVENTS.to_new_event(
                    pg.ResponderPaged(
                        page_id=page_id,
                        incident_id=uuid.uuid4(),
                        step=0,
                        user_id="alice",
                        title="checkout 5xx",
                        plan=(),
                        paged_at=api.log.clock(),
                    )
                )
            ],
            StreamState.NO_STREAM,
        )


def test_backtest_compares_a_proposal_with_what_happened_without_touching_the_log(
    audit_api: AuditApi, tmp_path: Path
) -> None:
    audit_api.log.clock.advance(timedelta(hours=1))  # FakeClock starts at midnight, 2026-01-01
    record_history(audit_api)
    config = tmp_path / "proposal.yaml"
    config.write_text(PROPOSAL)
    head = audit_api.app.store.head_position()

    result = CliRunner().invoke(
        app,
        [
            "--token",
            audit_api.tokens["audrey"],
            "audit",
            "backtest",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-01-02T00:00:00Z",
            "--config",
            str(config),
            "--json",
            "--audit-server",
            f"127.0.0.1:{audit_api.server.port}",
        ],
        env=CLEAN_ENV,
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["proposed"]["incidents"] == 1
    assert report["proposed"]["pages_per_person"] == {"dana": 1}
    assert report["actual"]["incidents"] == 3
    assert report["actual"]["pages_per_person"] == {"alice": 2}
    assert report["actual"]["off_hours_pages"] == 2
    appended = list(audit_api.app.store.read_all(from_position=head + 1))
    assert [e.category for e in appended] == ["auditaccess"]


def test_a_bad_proposal_is_refused_naming_the_field(audit_api: AuditApi, tmp_path: Path) -> None:
    config = tmp_path / "proposal.yaml"
    config.write_text("detection: {group_wait_minutes: -1}")
    result = CliRunner().invoke(
        app,
        [
            "--token",
            audit_api.tokens["audrey"],
            "audit",
            "backtest",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-01-02T00:00:00Z",
            "--config",
            str(config),
            "--audit-server",
            f"127.0.0.1:{audit_api.server.port}",
        ],
        env=CLEAN_ENV,
    )
    assert result.exit_code == 1
    assert "proposal.detection.group_wait_minutes" in result.output
