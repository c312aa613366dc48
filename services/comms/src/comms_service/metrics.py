"""Prometheus metrics of communications, computed from the read model at scrape time.

The report's per-severity figures (promises kept, missed and open per severity) plus
delivery counts per purpose and status, so a dashboard and the report can never
disagree: both are folds over the log. Per-incident figures stay in the report only: a
label per incident would add series without bound (ADR 0015). Served by the
status-page process at /metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from comms_service import dispatch as dsp
from comms_service.app import CommsApplication


class CommsCollector(Collector):
    def __init__(self, app: CommsApplication) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        model = self.app.model
        promises = GaugeMetricFamily(
            "firewatch_comms_promises",
            "Stakeholder-update promises by the severity they were made under and outcome.",
            labels=["severity", "outcome"],
        )
        counts: Counter[tuple[str, str]] = Counter(
            (r.severity, r.outcome) for r in model.ix.promises.values()
        )
        for severity in ("P1", "P2", "P3", "P4"):
            for outcome in ("kept", "missed", "open"):
                promises.add_metric([severity, outcome], counts.get((severity, outcome), 0))
        yield promises
        deliveries = GaugeMetricFamily(
            "firewatch_comms_deliveries",
            "Deliveries (one per message and destination) by purpose and status.",
            labels=["purpose", "status"],
        )
        by: Counter[tuple[str, str]] = Counter()
        for _, state in model.streams(dsp.STREAM_CATEGORY):
            if state.queued is None:
                continue
            for target in state.targets.values():
                by[(state.queued.purpose, target.status.value)] += 1
        for (purpose, status), value in sorted(by.items()):
            deliveries.add_metric([purpose, status], value)
        yield deliveries


def registry_for(app: CommsApplication) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CommsCollector(app))
    return registry
