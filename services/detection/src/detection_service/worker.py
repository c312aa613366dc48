"""The detection worker: a nameko service exposing read-only internal RPC.

Thin and deliberately small. Timers do NOT fire here: the HTTP ingestion process's
ticker is the one place `tick()` runs, so each timer has a single owner (ADR 0008).
The worker never appends and never dispatches: the relay publishes what the log holds.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from detection_service.app import DetectionApplication
from eventlog import open_store
from eventlog.clock import system_clock
from servicekit.rpc import rpc

SERVICE_NAME = "detection"


class DetectionApp(DependencyProvider):  # type: ignore[misc]
    def setup(self) -> None:
        url = self.container.config.get("STORE_URL", "sqlite:///var/firewatch/eventlog.db")
        self.store = open_store(url, writer=None)
        self.app = DetectionApplication(self.store, system_clock)

    def stop(self) -> None:
        self.store.close()

    def get_dependency(self, worker_ctx: Any) -> DetectionApplication:
        return self.app


class DetectionWorker:
    name = SERVICE_NAME

    app: DetectionApplication = DetectionApp()

    @rpc  # type: ignore[untyped-decorator]
    def list_alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        return [
            {
                "alert_id": a.alert_id,
                "alert_key": a.alert_key,
                "status": a.status.value,
                "summary": a.summary,
                "labels": a.labels,
                "suppressed_by": a.suppressed_by,
                "flapping": a.flapping,
                "group_id": self.app.group_of(a.alert_id),
            }
            for a in self.app.list_alerts(status=status)
        ]

    @rpc  # type: ignore[untyped-decorator]
    def get_group(self, group_id: str) -> dict[str, Any]:
        g = self.app.get_group(group_id)
        return {
            "group_id": g.group_id,
            "group_key": g.group_key,
            "title": g.title,
            "incident_severity": g.incident_severity.value if g.incident_severity else None,
            "services": list(g.services),
            "members": dict(g.members),
            "open": g.is_open,
        }
