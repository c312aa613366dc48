"""incidentctl's detection commands against a real AlertService server over a real log
(the AlertService test's own fixture: SQLite and PostgreSQL)."""

# ruff: noqa: F811 - tests request the imported `alert_api` fixture by name

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import Result

from apikit.auth import Role, issue_token
from detection_service.rule import parse_rules
from tests.integration.detection.test_grpc_alert_service import (  # noqa: F401
    RATIO_RULES,
    AlertApi,
    alert_api,
    open_log,
)
from tests.integration.incidentctl.conftest import invoke

AlertCli = Callable[..., Result]


@pytest.fixture
def acli(alert_api: AlertApi) -> AlertCli:
    def run(*args: str, who: str | None = "alice") -> Result:
        auth = ["--token", alert_api.tokens[who]] if who else []
        return invoke("--alert-server", f"127.0.0.1:{alert_api.server.port}", *auth, *args)

    return run


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def test_alert_send_list_show_acknowledge_and_resolve(acli: AlertCli, alert_api: AlertApi) -> None:
    key = ok(
        acli(
            "alert", "send", "checkout 5xx above 1%", "--severity", "critical",
            "-l", "service=checkout", "-l", "env=prod", "--annotation", "runbook=https://rb/1",
            "-q",
        )
    ).strip()  # fmt: skip
    assert len(key) == 32

    shown = json.loads(ok(acli("alert", "show", "--dedup-key", key, "--json")))
    assert (shown["status"], shown["severity"]) == ("firing", "critical")
    assert shown["labels"]["service"] == "checkout"
    assert shown["annotations"] == {"runbook": "https://rb/1"}
    panel = ok(acli("alert", "show", shown["alert_id"]))
    assert "checkout 5xx above 1%" in panel
    assert "paging" in panel

    again = ok(acli("alert", "send", "checkout 5xx", "-s", "critical", "--dedup-key", key))
    assert again.startswith(f"{key}: triggered, firing (no change: nothing recorded)")

    alert_api.clock.advance(60)
    acked = ok(acli("alert", "send", "--action", "acknowledge", "--dedup-key", key))
    assert acked.startswith(f"{key}: acknowledged, firing")
    listed = json.loads(ok(acli("alert", "list", "--status", "firing", "--json")))
    assert [(a["dedup_key"], a["acknowledged_by"]) for a in listed] == [(key, "alice")]

    resolved = json.loads(
        ok(acli("alert", "send", "--action", "resolve", "--dedup-key", key, "--json"))
    )
    assert "AlertResolved" in resolved["event_types"]
    assert resolved["alert"]["status"] == "resolved"
    table = ok(acli("alert", "list"))
    assert "resolved" in table
    assert key in table
    assert ok(acli("alert", "list", "--status", "firing", "--json")) == "[]\n"


def test_alert_send_retried_with_the_same_key_records_nothing_twice(
    acli: AlertCli, alert_api: AlertApi
) -> None:
    first = json.loads(
        ok(acli("alert", "send", "disk full", "-s", "warning", "--idempotency-key", "k", "--json"))
    )
    head = alert_api.head()
    retry = json.loads(
        ok(acli("alert", "send", "disk full", "-s", "warning", "--idempotency-key", "k", "--json"))
    )
    assert retry["dedup_key"] == first["dedup_key"]
    assert retry["event_types"] == []
    assert alert_api.head() == head


def test_alert_list_follows_pages_and_filters(acli: AlertCli, alert_api: AlertApi) -> None:
    for index in range(5):
        alert_api.clock.advance(60)
        ok(acli("alert", "send", f"alert {index}", "-s", "info", "--dedup-key", f"k{index}",
                "-l", f"shard={index % 2}"))  # fmt: skip
    paged = json.loads(ok(acli("alert", "list", "--json", "--page-size", "2")))
    assert [a["dedup_key"] for a in paged] == ["k4", "k3", "k2", "k1", "k0"]
    limited = json.loads(ok(acli("alert", "list", "--json", "--limit", "3", "--page-size", "2")))
    assert [a["dedup_key"] for a in limited] == ["k4", "k3", "k2"]
    shard = json.loads(ok(acli("alert", "list", "--json", "-l", "shard=1")))
    assert [a["dedup_key"] for a in shard] == ["k3", "k1"]
    assert ok(acli("alert", "list", "--severity", "critical")) == ""


def test_silence_add_list_expire(acli: AlertCli, alert_api: AlertApi) -> None:
    added = json.loads(
        ok(
            acli(
                "silence", "add", 'service="checkout"', "env=~prod|staging",
                "--duration", "2h", "--comment", "CHG-42", "--idempotency-key", "s1", "--json",
            )
        )
    )  # fmt: skip
    silence_id = added["silence"]["silence_id"]
    assert added["silence"]["matchers"] == ['service="checkout"', 'env=~"prod|staging"']
    assert added["silence"]["active"]
    head = alert_api.head()
    retried = ok(
        acli("silence", "add", 'service="checkout"', "--duration", "2h", "--comment", "CHG-42",
             "--idempotency-key", "s1")
    )  # fmt: skip
    assert "already created with idempotency key s1" in retried
    assert alert_api.head() == head

    muted = ok(acli("alert", "send", "checkout down", "-s", "critical", "-l", "service=checkout",
                    "-l", "env=prod"))  # fmt: skip
    assert "suppressed (silence" in muted
    assert silence_id in ok(acli("silence", "list"))

    expired = ok(acli("silence", "expire", silence_id))
    assert expired.startswith(f"{silence_id}: expired; 1 muted alert(s) now page")
    assert "already expired" in ok(acli("silence", "expire", silence_id))
    nothing = acli("silence", "list")
    assert nothing.exit_code == 0
    assert "no active silences" in nothing.stderr
    every = json.loads(ok(acli("silence", "list", "--all", "--json")))
    assert [(s["silence_id"], s["expired_by"]) for s in every] == [(silence_id, "alice")]


def test_rule_validate_and_list(acli: AlertCli, alert_api: AlertApi, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(RATIO_RULES, encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(RATIO_RULES.replace("threshold: 0.01", "threshold: lots"), encoding="utf-8")
    head = alert_api.head()

    valid = ok(acli("rule", "validate", str(good), who="audrey"))
    assert valid.startswith(f"{good}: 1 rule(s) valid: CheckoutErrors")
    refused = acli("rule", "validate", str(bad))
    assert refused.exit_code == 1
    assert f"{bad}: rules[0] (CheckoutErrors).threshold:" in refused.stderr
    assert refused.stderr.strip().endswith(f"error: {bad}: 1 problem(s)")
    as_json = acli("rule", "validate", str(bad), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["problems"][0]["field"] == "threshold"
    missing = acli("rule", "validate", str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2
    assert alert_api.head() == head  # validating defines nothing

    assert "no rules defined" in acli("rule", "list").stderr
    alert_api.app.load_rules(parse_rules(RATIO_RULES), defined_by="file:rules.yaml")
    rules = json.loads(ok(acli("rule", "list", "--json")))
    assert [(r["name"], r["for"], r["severity"]) for r in rules] == [
        ("CheckoutErrors", "2m", "critical")
    ]
    assert "ratio(" in ok(acli("rule", "list"))


def test_heartbeat_add_list_ping(acli: AlertCli, alert_api: AlertApi) -> None:
    created = ok(acli("heartbeat", "add", "nightly-backup", "--interval", "1m", "--grace", "30s"))
    assert created.startswith("nightly-backup: created; first ping due by")
    assert "already exists" in ok(
        acli("heartbeat", "add", "nightly-backup", "--interval", "1m", "--grace", "30s")
    )
    alert_api.clock.advance(timedelta(seconds=91))
    alert_api.app.tick()
    listed = json.loads(ok(acli("heartbeat", "list", "--json", who="audrey")))
    assert [(h["name"], h["missed"], h["interval"]) for h in listed] == [
        ("nightly-backup", True, "1m")
    ]
    assert "MISSED" in ok(acli("heartbeat", "list"))
    pinged = ok(acli("heartbeat", "ping", "nightly-backup", who="prom"))
    assert "its missed-heartbeat alert resolved" in pinged


def test_failures_are_one_line_errors_with_the_documented_exit_codes(
    acli: AlertCli, alert_api: AlertApi
) -> None:
    bad_label = acli("alert", "send", "x", "-s", "info", "-l", "bad-name=1")
    assert bad_label.exit_code == 1
    assert bad_label.stderr.startswith("error: labels.bad-name: ")

    usage = acli("alert", "send", "no severity")
    assert usage.exit_code == 2
    assert "--severity" in usage.stderr
    assert acli("silence", "add", "service", "--duration", "1h", "--comment", "c").exit_code == 2
    assert acli("heartbeat", "add", "hb", "--interval", "soon").exit_code == 2

    denied = acli("silence", "list", who="prom")
    assert denied.exit_code == 1
    assert "needs one of" in denied.stderr
    missing = acli("alert", "show", "0" * 32)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: alert ")

    unreachable = invoke("--alert-server", "127.0.0.1:1", "--token", "t", "--retries", "1",
                         "alert", "list")  # fmt: skip
    assert unreachable.exit_code == 3
    assert "cannot reach the alert API at 127.0.0.1:1" in unreachable.stderr


def test_a_person_acknowledges_the_page_not_the_source_alert(
    acli: AlertCli, alert_api: AlertApi
) -> None:
    alert_api.tokens["bob-phone"] = issue_token(
        alert_api.tokens_file, "bob-phone", Role.RESPONDER, user="bob"
    )
    key = ok(acli("alert", "send", "disk full", "-s", "critical", "-q")).strip()
    head = alert_api.head()
    refused = acli("alert", "send", "--action", "acknowledge", "--dedup-key", key, who="bob-phone")
    assert refused.exit_code == 1
    assert "action: token 'bob-phone' acts as bob" in refused.stderr
    assert "incidentctl page ack" in refused.stderr
    assert alert_api.head() == head
