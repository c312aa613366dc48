"""Alertmanager's own ingest rate, and the alert stream the platform is measured with.

The detection benchmark compares the platform's ingest (webhook v4 and /v2/enqueue) with a
real Alertmanager 0.25's ``POST /api/v2/alerts`` on this machine, in the same run and with
the same alerts. This module owns:

- ``alert_stream``: a deterministic stream of distinct alerts (labels alertname, service,
  instance, severity; startsAt/endsAt), grouped in runs that share alertname and service;
- three encodings of that one stream: Alertmanager API v2 postable alerts, Alertmanager
  webhook v4 payloads (one per group, as Alertmanager would send them, fingerprints
  included) and PagerDuty Events v2 trigger events (one per alert);
- ``alertmanager_ingest_rate``: starts a real Alertmanager (tests/e2e/observability.py)
  and measures sustained accepted alerts/s.

A library: nothing here runs on import, asserts a time or has a CLI. Progress goes to
stderr.
"""

from __future__ import annotations

import http.client
import json
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.observability import (
    Alertmanager,
    HarnessError,
    find_binaries,
    fingerprint,
    group_key,
)

ALERT_NAMES = ("HighErrorRatio", "HighLatency", "DiskFilling", "InstanceDown")
SEVERITIES = ("critical", "error", "warning", "info")  # all valid PagerDuty severities
ZERO_TIME = "0001-01-01T00:00:00Z"
RECEIVER = "firewatch-bench"


def _progress(message: str) -> None:
    print(f"[bench] alertmanager: {message}", file=sys.stderr, flush=True)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StreamAlert:
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.labels)


def alert_stream(
    count: int,
    *,
    group_size: int = 10,
    run_id: str | None = None,
    start: datetime | None = None,
    active_for: timedelta = timedelta(hours=1),
) -> list[StreamAlert]:
    """``count`` distinct firing alerts, ``group_size`` consecutive ones per group.

    A group shares alertname, service and severity (what a route's group_by would join);
    instance makes each alert distinct. ``run_id`` goes into every instance so that two
    runs against one long-lived receiver never dedup into each other. endsAt is in the
    future so every alert stays active (Alertmanager would treat a past endsAt as resolved).
    """
    if count < 0 or group_size < 1:
        raise ValueError("count must be >= 0 and group_size >= 1")
    run = run_id or uuid.uuid4().hex[:8]
    base = start or datetime.now(UTC)
    alerts = []
    for index in range(count):
        group = index // group_size
        starts_at = base + timedelta(milliseconds=index)
        labels = {
            "alertname": ALERT_NAMES[group % len(ALERT_NAMES)],
            "service": f"svc-{group:05d}",
            "instance": f"host-{index:07d}.{run}:9100",
            "severity": SEVERITIES[group % len(SEVERITIES)],
        }
        annotations = {"summary": f"{labels['alertname']} on {labels['instance']}"}
        alerts.append(StreamAlert(labels, annotations, starts_at, starts_at + active_for))
    return alerts


def chunks(items: Sequence[StreamAlert], size: int) -> Iterator[Sequence[StreamAlert]]:
    if size < 1:
        raise ValueError("size must be >= 1")
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def groups(alerts: Sequence[StreamAlert]) -> Iterator[list[StreamAlert]]:
    """Consecutive runs of alerts that share alertname and service."""
    current: list[StreamAlert] = []
    for alert in alerts:
        if current and _group_labels(current[0]) != _group_labels(alert):
            yield current
            current = []
        current.append(alert)
    if current:
        yield current


def _group_labels(alert: StreamAlert) -> dict[str, str]:
    return {"alertname": alert.labels["alertname"], "service": alert.labels["service"]}


# --------------------------------------------------------------------------- encodings


def to_alertmanager_api(alerts: Sequence[StreamAlert]) -> list[dict[str, Any]]:
    """The body of ``POST /api/v2/alerts`` (Alertmanager's postableAlerts)."""
    return [
        {
            "labels": alert.labels,
            "annotations": alert.annotations,
            "startsAt": _rfc3339(alert.starts_at),
            "endsAt": _rfc3339(alert.ends_at),
            "generatorURL": "http://bench.invalid/graph",
        }
        for alert in alerts
    ]


def to_webhook_v4(
    alerts: Sequence[StreamAlert], *, external_url: str = "http://alertmanager.invalid"
) -> list[dict[str, Any]]:
    """One webhook v4 payload per group, shaped exactly like Alertmanager 0.25's (firing,
    endsAt zero time while firing, label fingerprints, groupKey of a group_by
    [alertname, service] route). See tests/e2e/test_observability_harness.py for a real one.
    """
    payloads = []
    for group in groups(alerts):
        group_labels = _group_labels(group[0])
        common_labels = _common([alert.labels for alert in group])
        common_annotations = _common([alert.annotations for alert in group])
        payloads.append(
            {
                "receiver": RECEIVER,
                "status": "firing",
                "alerts": [
                    {
                        "status": "firing",
                        "labels": alert.labels,
                        "annotations": alert.annotations,
                        "startsAt": _rfc3339(alert.starts_at),
                        "endsAt": ZERO_TIME,
                        "generatorURL": "http://bench.invalid/graph",
                        "fingerprint": alert.fingerprint,
                    }
                    for alert in group
                ],
                "groupLabels": group_labels,
                "commonLabels": common_labels,
                "commonAnnotations": common_annotations,
                "externalURL": external_url,
                "version": "4",
                "groupKey": group_key(group_labels),
                "truncatedAlerts": 0,
            }
        )
    return payloads


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    first, *rest = maps
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in rest)}


def to_pagerduty_triggers(alerts: Sequence[StreamAlert], routing_key: str) -> list[dict[str, Any]]:
    """One PagerDuty Events v2 trigger per alert, as a per-alert PagerDuty client sends.

    dedup_key is the alert's fingerprint, so a repeat of the same alert dedups. (Alertmanager
    itself sends one event per *group*, keyed by sha256 of the groupKey: see
    ``tests.e2e.observability.pagerduty_dedup_key``.)
    """
    return [
        {
            "routing_key": routing_key,
            "event_action": "trigger",
            "dedup_key": alert.fingerprint,
            "payload": {
                "summary": alert.annotations["summary"],
                "source": alert.labels["instance"],
                "severity": alert.labels["severity"],
                "timestamp": _rfc3339(alert.starts_at),
                "component": alert.labels["service"],
                "class": alert.labels["alertname"],
                "custom_details": dict(alert.labels),
            },
            "client": "firewatch-bench",
        }
        for alert in alerts
    ]


# --------------------------------------------------------------------------- measurement


@dataclass(frozen=True)
class IngestResult:
    alerts: int
    batch: int
    concurrency: int
    accepted: int
    seconds: float
    stored: int

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds > 0 else 0.0


def _post_all(port: int, bodies: list[bytes], counts: list[int], concurrency: int) -> int:
    """POST every body over keep-alive connections; returns the number of alerts accepted."""
    accepted = 0
    next_index = 0
    lock = threading.Lock()
    errors: list[str] = []
    step = max(1, len(bodies) // 10)

    def worker() -> None:
        nonlocal accepted, next_index
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while True:
                with lock:
                    index = next_index
                    next_index += 1
                if index >= len(bodies) or errors:
                    return
                connection.request(
                    "POST",
                    "/api/v2/alerts",
                    bodies[index],
                    {"Content-Type": "application/json"},
                )
                response = connection.getresponse()
                reply = response.read()
                with lock:
                    if 200 <= response.status < 300:
                        accepted += counts[index]
                    else:
                        errors.append(f"HTTP {response.status}: {reply[:300]!r}")
                if index % step == 0:
                    _progress(f"posted batch {index + 1}/{len(bodies)}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, name=f"am-ingest-{n}") for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise HarnessError(f"Alertmanager refused a batch: {errors[0]}")
    return accepted


def measure_alertmanager_ingest(
    alerts: int, batch: int, *, concurrency: int = 1, warmup: int = 200
) -> IngestResult:
    """Start a real Alertmanager and time POST /api/v2/alerts of ``alerts`` distinct alerts.

    Bodies are serialized before the clock starts, so the time is Alertmanager's plus
    loopback HTTP. Alertmanager routes to a receiver with no integrations: it validates,
    stores and groups every alert but sends nothing, so no notifier competes for the CPU.
    A warm-up of distinct alerts goes first (not timed); afterwards the stored alert count
    is checked so that "accepted" means stored, not just answered.
    """
    if alerts < 1 or batch < 1 or concurrency < 1:
        raise ValueError("alerts, batch and concurrency must be >= 1")
    binaries = find_binaries()
    stream = alert_stream(alerts, group_size=batch, run_id="measured")
    bodies = [json.dumps(to_alertmanager_api(chunk)).encode() for chunk in chunks(stream, batch)]
    counts = [len(chunk) for chunk in chunks(stream, batch)]
    warm = [
        json.dumps(to_alertmanager_api(chunk)).encode()
        for chunk in chunks(alert_stream(warmup, group_size=batch, run_id="warmup"), batch)
    ]
    workdir = Path(tempfile.mkdtemp(prefix="firewatch-am-bench-"))
    server = Alertmanager(binaries.alertmanager, workdir / "alertmanager")
    try:
        server.start()
        _progress(f"started {server.url} (pid {server.proc.pid if server.proc else '?'})")
        _post_all(server.port, warm, [0] * len(warm), 1)
        _progress(f"posting {alerts} alerts in batches of {batch} over {concurrency} connection(s)")
        started = time.perf_counter()
        accepted = _post_all(server.port, bodies, counts, concurrency)
        seconds = time.perf_counter() - started
        stored = len(server.alerts()) - warmup
        if stored < accepted:
            raise HarnessError(f"Alertmanager accepted {accepted} alerts but stores {stored}")
    except HarnessError as error:
        raise HarnessError(f"{error}\n{server.describe()}") from None
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result = IngestResult(alerts, batch, concurrency, accepted, seconds, stored)
    _progress(f"{accepted} alerts accepted in {seconds:.2f} s: {result.rate:,.0f} alerts/s")
    return result


def alertmanager_ingest_rate(alerts: int, batch: int) -> float:
    """Sustained alerts/s that a real Alertmanager accepts via POST /api/v2/alerts."""
    return measure_alertmanager_ingest(alerts, batch).rate
