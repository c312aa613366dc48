"""The paging worker's Prometheus metrics: what it sent, what failed, who was missed.

Owns only the metric definitions, in the default registry, which the worker process
serves on FIREWATCH_METRICS_PORT (servicekit.metrics) next to the reliable consumer's
parked/retried/handled counters. Counted where the worker acts, never derived from
the log: the log is the record, these are for alerting.
"""

from __future__ import annotations

from prometheus_client import Counter

PAGES_SENT = Counter(
    "firewatch_pages_sent_total",
    "Page deliveries the channel accepted, by contact method kind.",
    ["kind"],
)
PAGES_FAILED = Counter(
    "firewatch_pages_failed_total",
    "Page deliveries the channel refused or that failed, by kind and whether the "
    "failure is permanent (the page fails over to the next method at once).",
    ["kind", "permanent"],
)
ESCALATIONS_EXHAUSTED = Counter(
    "firewatch_escalations_exhausted_total",
    "Escalations that reached nobody: every level was paged and no page was "
    "delivered (alert on this; the operators' fallback route is paged if configured).",
)
