"""The incident worker: a nameko service exposing internal RPC to other services.

Thin: each entrypoint translates arguments and delegates to IncidentApplication. It
appends to the incident's own streams only; it never dispatches events itself — the
relay publishes what the log holds, so a crash between append and publish loses
nothing. Its reliable handlers turn detection's alert-group events into incidents
(see reactions.py), a published postmortem into the closing of the incident's
root-cause follow-up (followups.py) and a runbook step's mitigation into a
MitigationApplied (runbook_steps.py); failures retry with backoff and end in a parking
queue.
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider

from eventlog import RecordedEvent, open_store
from eventlog.clock import system_clock
from incident_service import domain_commands, followups, reactions, runbook_steps
from incident_service.app import CommandResult, IncidentApplication
from servicekit.consumer import reliable_handler
from servicekit.rpc import rpc
from servicekit.topology import QueueBinding

SERVICE_NAME = "incident"

DETECTION_QUEUE = "incident.detection"
POSTMORTEM_QUEUE = "incident.postmortem"
RUNBOOKS_QUEUE = "incident.runbooks"

QUEUE_BINDINGS: list[QueueBinding] = [
    QueueBinding(DETECTION_QUEUE, reactions.SOURCE_SERVICE, reactions.EVENT_TYPES),
    QueueBinding(POSTMORTEM_QUEUE, followups.SOURCE_SERVICE, followups.EVENT_TYPES),
    QueueBinding(RUNBOOKS_QUEUE, runbook_steps.SOURCE_SERVICE, runbook_steps.EVENT_TYPES),
]
"""The queues this worker consumes, declared at deploy time (deploy/local/run.py) as
well as at startup, so events published before the worker starts wait for it."""


class IncidentApp(DependencyProvider):  # type: ignore[misc]
    """Opens the log once per worker process and hands each worker the application."""

    def setup(self) -> None:
        url = self.container.config.get("STORE_URL", "sqlite:///var/firewatch/eventlog.db")
        self.store = open_store(url, writer=SERVICE_NAME)
        self.app = IncidentApplication(self.store, system_clock)

    def stop(self) -> None:
        self.store.close()

    def get_dependency(self, worker_ctx: Any) -> IncidentApplication:
        return self.app


def _result(result: CommandResult) -> dict[str, Any]:
    return {
        "incident_id": str(result.incident_id),
        "reference": result.reference,
        "version": result.version,
        "position": result.position,
        "event_types": list(result.event_types),
        "replayed": result.replayed,
    }


class IncidentWorker:
    name = SERVICE_NAME

    app: IncidentApplication = IncidentApp()

    @reliable_handler(
        source_service=reactions.SOURCE_SERVICE,
        event_types=reactions.EVENT_TYPES,
        queue=DETECTION_QUEUE,
    )
    def on_alert_group_event(self, event: RecordedEvent) -> None:
        """An alert group fired, grew, resolved or was acknowledged at its source."""
        reactions.AlertReactions(self.app).handle(event)

    @reliable_handler(
        source_service=followups.SOURCE_SERVICE,
        event_types=followups.EVENT_TYPES,
        queue=POSTMORTEM_QUEUE,
    )
    def on_postmortem_event(self, event: RecordedEvent) -> None:
        """A postmortem was published: its root cause closes the incident's follow-up."""
        followups.FollowUpReactions(self.app).handle(event)

    @reliable_handler(
        source_service=runbook_steps.SOURCE_SERVICE,
        event_types=runbook_steps.EVENT_TYPES,
        queue=RUNBOOKS_QUEUE,
    )
    def on_runbook_event(self, event: RecordedEvent) -> None:
        """A runbook step was marked done with a mitigation: record it on the incident."""
        runbook_steps.RunbookStepReactions(self.app).handle(event)

    @rpc  # type: ignore[untyped-decorator]
    def declare_incident(
        self,
        title: str,
        severity: str,
        services: list[str],
        declared_by: str,
        source_alerts: list[str] | None = None,
        idempotency_key: str | None = None,
        causation_id: str | None = None,
    ) -> dict[str, Any]:
        return _result(
            self.app.declare(
                title=title,
                severity=severity,
                services=services,
                declared_by=declared_by,
                source_alerts=source_alerts or [],
                idempotency_key=idempotency_key,
                causation_id=causation_id,
            )
        )

    @rpc  # type: ignore[untyped-decorator]
    def add_note(
        self, incident: str, text: str, author: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return _result(
            self.app.execute(
                incident,
                domain_commands.AddNote,
                actor=author,
                idempotency_key=idempotency_key,
                text=text,
                author=author,
            )
        )

    @rpc  # type: ignore[untyped-decorator]
    def get_incident(self, incident: str, as_of_position: int | None = None) -> dict[str, Any]:
        view = self.app.get(incident, as_of_position=as_of_position)
        state = view.state
        return {
            "incident_id": str(state.incident_id),
            "reference": state.reference,
            "title": state.title,
            "severity": state.severity.value,
            "status": state.status.value,
            "services": list(state.services),
            "commander": state.commander,
            "root_cause_pending": state.root_cause_pending,
            "version": view.version,
            "position": view.position,
        }
