"""The detection read model: every detection aggregate's current state, folded from
the log, with the indexes commands and timers need.

Owns: aggregate state + stream version per stream (the kit's `AggregateStates`; the
command runner decides against these and appends with the version, so a stale model
only costs a retry), the integration-key index, the open group per group key, alert →
group membership, and `due(at)`, the projection of timers that are due (auto-resolve,
flapping end, silence end, heartbeat deadline). It is a pure fold over recorded events:
dropping it and replaying the log rebuilds it exactly (`ProjectionRunner.rebuild`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from appkit import AggregateStates
from contracts.events import DomainEvent
from detection_service import alert, check, group, heartbeat, integration, rule, silence
from detection_service.aggregates import ALL
from detection_service.events import EVENTS


class DueKind(enum.StrEnum):
    ALERT = "alert"
    SILENCE = "silence"
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True, slots=True)
class DueItem:
    kind: DueKind
    key: str
    due_at: datetime


class DetectionReadModel(AggregateStates):
    # Every index `applied` changes is journaled, so a failed ingest unit is undone in
    # place instead of replaying the whole log under the writer's lock (ADR 0024).
    undoable_indexes = True

    def __init__(self) -> None:
        super().__init__("detection.read-model", EVENTS, ALL)
        self.integration_by_digest: dict[str, str] = self.journaled()
        self.open_group_by_key: dict[str, str] = self.journaled()
        self.group_of_alert: dict[str, str] = self.journaled()

    # ------------------------------------------------------------------ folding

    def applied(self, event: DomainEvent) -> None:
        match event:
            case integration.IntegrationCreated():
                self.integration_by_digest[event.key_sha256] = event.integration_id
            case group.AlertGroupOpened():
                self.open_group_by_key[event.group_key] = event.group_id
            case group.AlertGroupFiring():
                self.group_of_alert[event.alert_id or event.alert_key] = event.group_id
            case group.AlertGroupAlertAdded():
                self.group_of_alert[event.alert_id or event.alert_key] = event.group_id
            case group.AlertGroupAlertResolved():
                if self.group_of_alert.get(event.alert_id) == event.group_id:
                    del self.group_of_alert[event.alert_id]
            case group.AlertGroupResolved():
                state, _ = self.state(group.stream_for(event.group_id))
                if self.open_group_by_key.get(state.group_key) == event.group_id:
                    del self.open_group_by_key[state.group_key]

    # ------------------------------------------------------------------ reading

    def alerts(self) -> Iterator[alert.Alert]:
        return iter(self.states(alert.STREAM_CATEGORY))

    def groups(self) -> Iterator[group.AlertGroup]:
        return iter(self.states(group.STREAM_CATEGORY))

    def silences(self) -> Iterator[silence.Silence]:
        return iter(self.states(silence.STREAM_CATEGORY))

    def heartbeats(self) -> Iterator[heartbeat.HeartbeatMonitor]:
        return iter(self.states(heartbeat.STREAM_CATEGORY))

    def integrations(self) -> Iterator[integration.Integration]:
        return iter(self.states(integration.STREAM_CATEGORY))

    def rules(self) -> Iterator[rule.Rule]:
        return iter(self.states(rule.STREAM_CATEGORY))

    def checks(self) -> Iterator[check.Check]:
        return iter(self.states(check.STREAM_CATEGORY))

    def due(self, at: datetime) -> list[DueItem]:
        """Every timer due at `at`, earliest first."""
        items: list[DueItem] = []
        for a in self.alerts():
            due = a.auto_resolve_due
            if a.status is alert.AlertStatus.FIRING and due is not None and due <= at:
                items.append(DueItem(DueKind.ALERT, a.alert_id, due))
            if a.flapping and a.changes:
                # Flapping can only end once the oldest change leaves the window; the
                # decider checks the exact count, so an early look is harmless.
                items.append(DueItem(DueKind.ALERT, a.alert_id, a.changes[-1]))
        for s in self.silences():
            if s.expired_at is None and s.ends_at is not None and s.ends_at <= at:
                items.append(DueItem(DueKind.SILENCE, s.silence_id, s.ends_at))
        for h in self.heartbeats():
            if not h.missed and h.deadline is not None and h.deadline <= at:
                items.append(DueItem(DueKind.HEARTBEAT, h.name, h.deadline))
        return sorted(items, key=lambda item: item.due_at)
