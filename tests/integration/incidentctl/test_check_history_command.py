"""`incidentctl check results` prints the recorded outcomes from the log (ADR 0026)
beside the in-memory ring, against a real AlertService over a real log."""

# ruff: noqa: F811 - tests request the imported fixtures by name

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.integration.detection.test_grpc_alert_service import (  # noqa: F401
    AlertApi,
    alert_api,
)
from tests.integration.detection.test_synthetic_checks_grpc import health_url  # noqa: F401
from tests.integration.incident.conftest import open_log  # noqa: F401
from tests.integration.incidentctl.test_alert_commands import AlertCli, acli, ok  # noqa: F401


def test_check_results_shows_the_recorded_outcomes_and_their_window(
    acli: AlertCli, alert_api: AlertApi, health_url: str, tmp_path: Path
) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    for path, target in ((good, "/healthz"), (bad, "/missing")):
        path.write_text(
            f"name: platform\nkind: http\ninterval: 30s\nsteps:\n  - url: {health_url}{target}\n",
            encoding="utf-8",
        )
    ok(acli("check", "define", str(good)))
    acli("check", "run-once", "platform")
    alert_api.clock.advance(timedelta(hours=30))
    ok(acli("check", "define", str(bad)))
    acli("check", "run-once", "platform")
    alert_api.clock.advance(timedelta(hours=2))

    table = ok(acli("check", "results", "platform", "--history", "48", who="audrey"))
    assert "recorded outcomes, last 48 h" in table
    assert "status 404, expected 200" in table
    answer = json.loads(ok(acli("check", "results", "platform", "--json", who="audrey")))
    # The default window (24 h) shows the up interval too: it lasted until the failure.
    assert [i["outcome"] for i in answer["intervals"]] == [
        "CHECK_OUTCOME_UP",
        "CHECK_OUTCOME_DOWN",
    ]
    assert "end" not in answer["intervals"][1]
    # An hour back, only the failure (two hours old, still going) overlaps.
    short = json.loads(
        ok(acli("check", "results", "platform", "--history", "1", "--json", who="audrey"))
    )
    assert [i["outcome"] for i in short["intervals"]] == ["CHECK_OUTCOME_DOWN"]
