"""Every long-running process of `make run` serves Prometheus metrics on its own port,
and they are the metrics its kind of process owes (issue 18): curl, as an operator
would, against the targets `make run` writes for Prometheus. The counters count: a page
shows in the paging worker's firewatch_pages_sent_total."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.localplatform import LocalPlatform

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

WORKERS = ("incident-worker", "paging-worker", "postmortem-worker", "comms-worker")
WORKERS += ("runbooks-worker",)
APIS = ("incident-api", "paging-api", "postmortem-api", "comms-api", "audit-api")
APIS += ("runbooks-api", "detection-http")
HTTP = ("paging-http", "postmortem-http", "statuspage")
WORKER_METRICS = (
    "firewatch_events_handled_total",
    "firewatch_events_retried_total",
    "firewatch_events_parked_total",
    "firewatch_handler_seconds",
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    with LocalPlatform(Path(tmp_path_factory.mktemp("metrics"))) as running:
        yield running


def curl(address: str) -> str:
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--max-time",
            "10",
            f"http://{address}/metrics",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, f"curl {address}: {result.stderr}"
    return result.stdout


def test_every_process_of_make_run_has_a_metrics_target(platform: LocalPlatform) -> None:
    started = set(re.findall(r"^\s*([\w-]+) \| ", platform.text(), re.M))
    targets = platform.metrics_targets()
    assert set(WORKERS + APIS + HTTP + ("relay",)) == set(targets)
    # Every process that printed a line is either a target or one of the two stand-ins.
    assert started - set(targets) <= {"mailbox", "demo-automation"}, started


@pytest.mark.parametrize("process", [*WORKERS, *APIS, *HTTP, "relay"])
def test_curl_on_a_process_metrics_port_shows_its_metrics(
    platform: LocalPlatform, process: str
) -> None:
    text = curl(platform.metrics_targets()[process])
    assert re.search(r'^firewatch_process_info\{process="[\w-]+"\} 1\.0$', text, re.M), text
    assert "process_cpu_seconds_total" in text
    if process in WORKERS:
        for name in WORKER_METRICS:
            assert f"# TYPE {name.removesuffix('_total')}" in text, (process, name)
    if process == "paging-worker":
        for name in ("pages_sent", "pages_failed", "escalations_exhausted"):
            assert f"# TYPE firewatch_{name}_total counter" in text, name
    if process in APIS:
        # make run asked each API's health check before saying ready: counted.
        answered = [
            line
            for line in text.splitlines()
            if line.startswith("firewatch_grpc_requests_total{")
            and 'method="/grpc.health.v1.Health/Check"' in line
            and 'code="OK"' in line
        ]
        assert answered, text
    if process == "detection-http":
        # Its own registry (also on its HTTP /metrics) is on the metrics port too.
        assert "# TYPE firewatch_detection_http_requests_total counter" in text
    if process == "statuspage":
        assert "firewatch_comms_promises" in text
    if process == "relay":
        assert re.search(r'^firewatch_relay_lag_positions\{relay="local-relay"\} \d', text, re.M)


def total(text: str, name: str) -> float:
    """The sum of a metric's samples over its labels (0 when it has none yet)."""
    pattern = rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$"
    return sum(float(value) for value in re.findall(pattern, text, re.M))


def test_a_page_counts_in_the_paging_workers_pages_sent(platform: LocalPlatform) -> None:
    # Runs last: the platform is shared, and the tests above expect it untouched.
    paging = platform.metrics_targets()["paging-worker"]
    before = total(curl(paging), "firewatch_pages_sent_total")
    platform.send_alert("Checkout returns 5xx")
    # The worker counts a delivery before it records PageDelivered: once that is in the
    # log, the counter has moved.
    platform.wait_for("PageDelivered")
    assert total(curl(paging), "firewatch_pages_sent_total") > before
