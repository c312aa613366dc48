"""`incidentctl check` against a real AlertService server over a real log, probing a
real loopback HTTP server: define, list, run-once (each step with its timing),
results, remove, and a bad definition's one-line error."""

# ruff: noqa: F811 - tests request the imported fixtures by name

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.detection.test_grpc_alert_service import (  # noqa: F401
    AlertApi,
    alert_api,
    open_log,
)
from tests.integration.detection.test_synthetic_checks_grpc import health_url  # noqa: F401
from tests.integration.incidentctl.test_alert_commands import AlertCli, acli, ok  # noqa: F401


def test_check_define_run_once_results_and_remove(
    acli: AlertCli, alert_api: AlertApi, health_url: str, tmp_path: Path
) -> None:
    definition = tmp_path / "platform.yaml"
    definition.write_text(
        "name: platform\nkind: http\ninterval: 30s\nfor: 1m\nsteps:\n"
        f"  - name: login\n    url: {health_url}/healthz\n"
        "    extract: {state: {json: status}}\n"
        f"  - name: again\n    url: {health_url}/healthz?seen={{{{state}}}}\n"
        "    assertions: [{status: 200}]\n",
        encoding="utf-8",
    )
    defined = ok(acli("check", "define", str(definition)))
    assert defined.startswith("platform: defined (http, every 30s); alerts through rule")
    assert "nothing recorded" in ok(acli("check", "define", str(definition)))

    ran = acli("check", "run-once", "platform")
    assert ran.exit_code == 1  # the server answers the second step's URL with 404
    lines = ran.stdout.splitlines()
    assert any(line.startswith("login") and " ok " in line and " ms" in line for line in lines)
    assert any(line.startswith("again") and "FAILED" in line for line in lines)
    assert "platform: down in" in ran.stdout
    assert "(1 of 2 steps passed)" in ran.stdout

    listed = json.loads(ok(acli("check", "list", "--json", who="audrey")))
    assert [(c["name"], c["status"]) for c in listed] == [("platform", "CHECK_OUTCOME_DOWN")]
    results = ok(acli("check", "results", "platform", who="audrey"))
    assert "status 404, expected 200" in results
    assert "first failed at" in results

    ok(acli("check", "remove", "platform"))
    assert ok(acli("check", "list", "--json")) == "[]\n"


def test_a_bad_check_definition_is_a_one_line_error_naming_the_field(
    acli: AlertCli, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "kind": "tcp", "host": "db", "port": 0}))
    result = acli("check", "define", str(bad))
    assert result.exit_code == 1
    assert "needs `port`" in result.stderr
    assert result.stderr.count("\n") == 1
