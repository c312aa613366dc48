"""The Prometheus alerting rules shipped for Firewatch's own health
(deploy/prometheus/firewatch-alerts.yml): Prometheus's own checker loads them, they pass
their promtool unit tests (each alert fires on its failure, waits out its `for`, stays
quiet when healthy), every alert has such a test, and they name only metrics the
platform exports (a renamed metric would silently never fire)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.deploy.catalogue import ROOT

RULES_DIR = ROOT / "deploy" / "prometheus"
RULES = RULES_DIR / "firewatch-alerts.yml"
RULE_TESTS = RULES_DIR / "firewatch-alerts.test.yml"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: `make observability` installs Debian's prometheus"
    return subprocess.run(
        [promtool, *args], check=False, cwd=RULES_DIR, capture_output=True, text=True, timeout=120
    )


def _alerts() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def test_prometheus_loads_the_rules() -> None:
    result = _promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_pass_their_unit_tests() -> None:
    result = _promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_in_some_unit_test() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert set(_alerts()) - fired == set(), "alerts without a firing test case"


def test_the_rules_name_only_metrics_the_platform_exports() -> None:
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for pattern in ("libs/*/src/**/*.py", "services/*/src/**/*.py")
        for path in Path(ROOT).glob(pattern)
    )
    named = {name for expr in _alerts().values() for name in re.findall(r"firewatch_\w+", expr)}
    assert named, "no Firewatch metric named in the rules"
    missing = sorted(name for name in named if f'"{name}"' not in sources)
    assert not missing, f"the rules name metrics no process exports: {missing}"
