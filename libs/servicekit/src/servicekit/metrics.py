"""Prometheus metrics of the relay and the reliable consumers, and serving every
process's default registry (apikit adds the gRPC servers' own).

Defined once here, in the default registry: prometheus_client refuses to register a
name twice, and `python -m servicekit.relay` would otherwise import the relay module a
second time (as __main__) and define them again.

Every long-running process serves them (issue 18): a nameko worker when its config has
METRICS_PORT or the environment FIREWATCH_METRICS_PORT, any other process
(`servicekit.process.start`) when FIREWATCH_METRICS_PORT is set. One port per process;
unset or 0: not served. Serving twice in one process is a no-op.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    start_http_server,
)
from prometheus_client.metrics_core import Metric

METRICS_PORT_CONFIG_KEY = "METRICS_PORT"
METRICS_PORT_ENV = "FIREWATCH_METRICS_PORT"
_serving: list[int] = []
_serving_lock = threading.Lock()


def serve_from_config(config: Mapping[str, Any]) -> int | None:
    """Start the process's metrics endpoint once, if configured; returns its port."""
    return serve(config.get(METRICS_PORT_CONFIG_KEY) or os.environ.get(METRICS_PORT_ENV))


def serve(raw: str | int | None) -> int | None:
    """Serve the default registry on port `raw` once per process (None/0: not at all)."""
    raw = raw or 0
    try:
        port = int(raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"{METRICS_PORT_CONFIG_KEY} / {METRICS_PORT_ENV} must be a port number, got {raw!r}"
        ) from None
    if port <= 0:
        return None
    with _serving_lock:
        if not _serving:
            start_http_server(port)
            _serving.append(port)
        return _serving[0]


class _Forwarded:
    """A private registry's metrics, collected through the default one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def describe(self) -> list[Metric]:
        return []  # collected fresh on every scrape; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def include(registry: CollectorRegistry) -> None:
    """Serve a private registry (an HTTP process's own /metrics) on the process's
    metrics port too, so one scrape target per process has everything it measures."""
    REGISTRY.register(_Forwarded(registry))


RELAY_PUBLISHED = Counter(
    "firewatch_relay_published_total",
    "Events the relay published (including republished ones).",
    ["relay"],
)
RELAY_CONFIRMS = Counter(
    "firewatch_relay_confirms_total",
    "Publisher confirms (acks) the relay received, one per message.",
    ["relay"],
)
RELAY_REPUBLISHED = Counter(
    "firewatch_relay_republished_total",
    "Events published again after a reconnect, nack or return (possible duplicates).",
    ["relay"],
)
RELAY_FAILURES = Counter(
    "firewatch_relay_failures_total",
    "Windows that did not confirm completely, by reason.",
    ["relay", "reason"],
)
RELAY_UNROUTED = Counter(
    "firewatch_relay_unrouted_total",
    "Events no queue takes (no consumer binds their type, or no service owns their "
    "category): not kept by the broker, only by the log (including republished ones).",
    ["relay", "event_type"],
)
RELAY_BROKER_BLOCKED = Gauge(
    "firewatch_relay_broker_blocked",
    "1 while RabbitMQ has blocked the relay's connection (a memory or disk alarm: it "
    "accepts no publishes), else 0. Alert on it; the log keeps every event meanwhile.",
    ["relay"],
)
RELAY_CHECKPOINT = Gauge(
    "firewatch_relay_checkpoint_position",
    "The last log position whose publish the broker confirmed.",
    ["relay"],
)

EVENTS_HANDLED = Counter(
    "firewatch_events_handled_total",
    "Events a reliable handler processed successfully.",
    ["queue"],
)
EVENTS_RETRIED = Counter(
    "firewatch_events_retried_total",
    "Failed handler attempts sent to a retry queue.",
    ["queue"],
)
EVENTS_PARKED = Counter(
    "firewatch_events_parked_total",
    "Messages a reliable handler moved to its parking queue: last attempt failed, "
    "undecodable, redelivered to the delivery limit, or refused (alert on this).",
    ["queue"],
)
EVENTS_REFUSED = Counter(
    "firewatch_events_refused_total",
    "Messages a reliable handler refused without handling, because they carry another "
    "platform's id (foreign_platform) or none (no_platform_id); each is also parked.",
    ["queue", "reason"],
)
RELAY_LAG = Gauge(
    "firewatch_relay_lag_positions",
    "How far the relay's checkpoint is behind the log's head, in log positions "
    "(grows while the broker is away; should return to 0).",
    ["relay"],
)
HANDLER_SECONDS = Histogram(
    "firewatch_handler_seconds",
    "How long a reliable handler took per delivery, successful or not.",
    ["queue"],
)
PROCESS = Info("firewatch_process", "Which Firewatch process this is.")
