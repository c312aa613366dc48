"""The policies that span detection's aggregates: who is suppressed, and which alerts
belong to which group.

Owns:
- suppression: an alert is muted by an active silence or inhibited by a firing source
  alert (`suppression_for`), and firing alerts are re-checked when silences end or
  inhibitors change (`review_suppressions`);
- grouping: an alert that pages joins the open group of its key (or opens a new one,
  which becomes an incident); one that stops paging leaves it; an acknowledged member
  acknowledges its group.

Membership is re-derived from the alert's state, never from the events just appended,
so a crash between an alert's append and its group's is repaired by the next
notification or tick (ADR 0008). Callers hold the core's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from contracts.events import DomainEvent
from detection_service import alert, group
from detection_service.aggregates import ALERT, GROUP
from detection_service.alert import Alert, AlertStatus, Suppression
from detection_service.core import Core
from detection_service.labels import canonical
from detection_service.routing import FiringAlert, group_key, inhibitor, route


class Policies:
    def __init__(self, core: Core) -> None:
        self.core = core

    # ------------------------------------------------------------------ suppression

    def suppression_for(
        self, labels: Mapping[str, str], alert_id: str, at: datetime
    ) -> Suppression | None:
        model, config = self.core.model, self.core.config
        for s in model.silences():
            if s.mutes(labels, at):
                return Suppression(
                    reason=f"silence {s.silence_id} by {s.created_by}: {s.comment}",
                    suppressed_by=f"silence:{s.silence_id}",
                )
        if not config.inhibit_rules:
            return None
        firing = (
            FiringAlert(a.alert_id, a.alert_key, a.labels)
            for a in model.alerts()
            if a.status is AlertStatus.FIRING and not a.suppressed_by
        )
        source = inhibitor(config, labels, firing, target_id=alert_id)
        if source is None:
            return None
        return Suppression(
            reason=f"inhibited by {source.labels.get('alertname', source.alert_key)} "
            f"{canonical(source.labels)}",
            suppressed_by=f"alert:{source.alert_id}",
        )

    def review_suppressions(self, at: datetime) -> list[DomainEvent]:
        events: list[DomainEvent] = []
        for a in list(self.core.model.alerts()):
            if a.status is not AlertStatus.FIRING:
                continue
            still = self.suppression_for(a.labels, a.alert_id, at)
            if (still.suppressed_by if still else None) == a.suppressed_by:
                continue
            events += self.core.run(
                ALERT,
                alert.stream_for(a.alert_id),
                alert.ReviewSuppression(at, still),
                cause=f"review/{at.isoformat()}",
                actor="ticker",
            ).events
            events += self.sync_group(a.alert_id, at, "ticker")
        return events

    # ------------------------------------------------------------------ grouping

    def sync_group(self, alert_id: str, at: datetime, actor: str) -> list[DomainEvent]:
        """Make group membership agree with the alert: paging alerts are members."""
        state: Alert = self.core.model.state(alert.stream_for(alert_id))[0]
        current = self.core.model.group_of_alert.get(alert_id)
        command: group.GroupCommand
        if state.pages and current is None:
            current, command = self._join(alert_id, state, at)
            cause = f"add/{alert_id}/{state.occurrence}"
        elif not state.pages and current is not None:
            reason = (
                "resolved"
                if state.status is not AlertStatus.FIRING
                else "flapping"
                if state.flapping
                else f"suppressed: {state.suppression_reason}"
            )
            command = group.RemoveAlert(at, alert_id, reason)
            cause = f"remove/{alert_id}/{state.occurrence}"
        else:
            return []
        stream = group.stream_for(current)
        return list(self.core.run(GROUP, stream, command, cause=cause, actor=actor).events)

    def _join(self, alert_id: str, state: Alert, at: datetime) -> tuple[str, group.AddAlert]:
        """The group a newly paging alert joins: the open group of its key while alerts
        keep joining within the group window, else a new group (a new incident)."""
        model, config = self.core.model, self.core.config
        key, group_labels = group_key(config, state.labels)
        group_id = model.open_group_by_key.get(key)
        if group_id is not None:
            existing: group.AlertGroup = model.state(group.stream_for(group_id))[0]
            last = existing.last_joined_at or existing.opened_at
            if last is None or at - last > config.group_window:
                group_id = None
        if group_id is None:
            group_id = group.group_id_for(key, at)
        return group_id, group.AddAlert(
            at=at,
            group_id=group_id,
            group_key=key,
            group_labels=group_labels,
            routed=route(
                config,
                state.labels,
                state.severity,
                state.summary,
                source=state.source,
                annotations=state.annotations,
            ),
            alert_id=alert_id,
            alert_key=state.alert_key,
            summary=state.summary,
            labels=state.labels,
            severity=state.severity.value,
            fired_at=state.fired_at or at,
        )

    def acknowledge_group(
        self, alert_id: str, at: datetime, by: str, actor: str
    ) -> list[DomainEvent]:
        current = self.core.model.group_of_alert.get(alert_id)
        if current is None:
            return []
        acknowledge = group.AcknowledgeAlert(at, alert_id, by)
        stream = group.stream_for(current)
        return list(
            self.core.run(GROUP, stream, acknowledge, cause=f"ack/{alert_id}", actor=actor).events
        )
