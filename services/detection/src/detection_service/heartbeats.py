"""Heartbeat monitors (dead-man's switches): a job pings within its interval, or an
alert fires for it.

Owns creating monitors, recording pings (a ping after a miss resolves the alert) and
turning a missed deadline into a firing alert. The ticker (`timers.py`) decides when a
deadline is due; this module decides what a miss means.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from contracts.domain import InvalidCommandError, NotFoundError
from contracts.events import DomainEvent
from detection_service import alert, heartbeat
from detection_service.aggregates import ALERT, HEARTBEAT
from detection_service.alert import AlertDetails, SourceKind
from detection_service.core import Core, checked_id
from detection_service.formats import alertmanager
from detection_service.policies import Policies

HEARTBEAT_INTEGRATION = "heartbeat"


class Heartbeats:
    def __init__(self, core: Core, policies: Policies) -> None:
        self.core = core
        self.policies = policies

    def create_heartbeat(
        self,
        name: str,
        *,
        interval: timedelta,
        grace: timedelta = timedelta(0),
        labels: Mapping[str, str] | None = None,
        created_by: str,
    ) -> heartbeat.HeartbeatMonitor:
        command = heartbeat.CreateMonitor(
            at=self.core.clock(),
            name=name,
            interval=interval,
            grace=grace,
            labels=dict(labels or {}),
            created_by=created_by,
        )
        if not heartbeat.NAME.match(name):
            raise InvalidCommandError(
                "name", "must be 1-63 of a-z, 0-9, '.', '_', '-', starting alphanumeric"
            )
        stream = heartbeat.stream_for(name)
        with self.core.lock:
            self.core.run(HEARTBEAT, stream, command, cause="create", actor=created_by)
            state, _ = self.core.model.state(stream)
        return state  # type: ignore[no-any-return]

    def ping_heartbeat(self, name: str) -> list[str]:
        """A check-in; if the monitor was missed, its alert resolves."""
        with self.core.lock:
            stream = heartbeat.stream_for(checked_id(name, "name"))
            state, version = self.core.caught_up().state(stream)
            if version is None:
                raise NotFoundError(f"no heartbeat monitor named {name!r}")
            at = self.core.clock()
            actor = f"heartbeat:{name}"
            ping = heartbeat.Ping(at)
            events = list(
                self.core.run(
                    HEARTBEAT, stream, ping, cause=f"ping/{at.isoformat()}", actor=actor
                ).events
            )
            if state.missed:
                alert_id = alert.alert_id_for(HEARTBEAT_INTEGRATION, name)
                resolve = alert.Resolve(
                    at, alert.ResolveReason.HEARTBEAT_RETURNED, self.core.config.flap_policy
                )
                events += self.core.run(
                    ALERT,
                    alert.stream_for(alert_id),
                    resolve,
                    cause="heartbeat-returned",
                    actor=actor,
                ).events
                events += self.policies.sync_group(alert_id, at, actor)
            return [e.event_type() for e in events]

    def heartbeat_missed(self, name: str, at: datetime) -> list[DomainEvent]:
        """The ticker found the deadline due: record the miss and fire its alert."""
        stream = heartbeat.stream_for(name)
        missed = self.core.run(
            HEARTBEAT, stream, heartbeat.CheckDeadline(at), cause="deadline", actor="ticker"
        )
        if not missed.events:
            return []
        events = list(missed.events)
        state: heartbeat.HeartbeatMonitor = self.core.model.state(stream)[0]
        alert_id = alert.alert_id_for(HEARTBEAT_INTEGRATION, name)
        labels = {"alertname": "HeartbeatMissed", "heartbeat": name, **state.labels}
        details = AlertDetails(
            alert_id=alert_id,
            alert_key=name,
            integration=HEARTBEAT_INTEGRATION,
            source=SourceKind.HEARTBEAT,
            labels=labels,
            annotations={"interval_seconds": f"{state.interval.total_seconds():g}"},
            summary=f"heartbeat {name} missed: no ping since "
            + (state.last_ping_at.isoformat() if state.last_ping_at else "it was created"),
            severity=alertmanager.SEVERITY_LABEL_VALUES.get(
                labels.get("severity", "").lower(), alert.SourceSeverity.ERROR
            ),
        )
        assert state.deadline is not None
        fire = alert.Fire(
            at=at,
            details=details,
            started_at=state.deadline,
            suppression=self.policies.suppression_for(labels, alert_id, at),
            flapping=self.core.config.flap_policy,
        )
        stream = alert.stream_for(alert_id)
        events += self.core.run(
            ALERT, stream, fire, cause="heartbeat-missed", actor="ticker"
        ).events
        return events + self.policies.sync_group(alert_id, at, "ticker")
