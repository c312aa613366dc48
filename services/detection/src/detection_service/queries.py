"""Detection's reads: alerts, groups, silences, rules, heartbeats and integrations as
the caught-up read model has them.

Owns only answering: each query catches the model up first (callers read their own
writes) and never appends.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.domain import NotFoundError
from detection_service import alert, group, heartbeat, integration, rule, silence
from detection_service.alert import Alert
from detection_service.core import Core, checked_id

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Queries:
    def __init__(self, core: Core) -> None:
        self.core = core

    def list_alerts(self, *, status: str | None = None) -> list[Alert]:
        with self.core.lock:
            alerts = self.core.caught_up().alerts()
            found = [a for a in alerts if status is None or a.status.value == status]
        return sorted(found, key=lambda a: (a.fired_at or a.pending_at or _EPOCH, a.alert_id))

    def get_alert(self, alert_id: str) -> Alert:
        stream = alert.stream_for(checked_id(alert_id, "alert_id"))
        with self.core.lock:
            state, version = self.core.caught_up().state(stream)
        if version is None:
            raise NotFoundError(f"alert {alert_id} does not exist")
        return state  # type: ignore[no-any-return]

    def find_alert(self, integration_id: str, dedup_key: str) -> Alert:
        return self.get_alert(alert.alert_id_for(integration_id, dedup_key))

    def list_groups(self, *, open_only: bool = False) -> list[group.AlertGroup]:
        with self.core.lock:
            found = [g for g in self.core.caught_up().groups() if g.is_open or not open_only]
        return sorted(found, key=lambda g: (g.opened_at or _EPOCH, g.group_id))

    def get_group(self, group_id: str) -> group.AlertGroup:
        stream = group.stream_for(checked_id(group_id, "group_id"))
        with self.core.lock:
            state, version = self.core.caught_up().state(stream)
        if version is None:
            raise NotFoundError(f"alert group {group_id} does not exist")
        return state  # type: ignore[no-any-return]

    def group_of(self, alert_id: str) -> str | None:
        with self.core.lock:
            return self.core.caught_up().group_of_alert.get(alert_id)

    def list_silences(self, *, active_only: bool = False) -> list[silence.Silence]:
        with self.core.lock:
            silences = self.core.caught_up().silences()
            at = self.core.clock()
            found = [s for s in silences if s.active_at(at) or not active_only]
        return sorted(found, key=lambda s: (s.created_at or _EPOCH, s.silence_id))

    def list_rules(self) -> list[rule.RuleSpec]:
        with self.core.lock:
            rules = self.core.caught_up().rules()
            specs = [r.spec for r in rules if r.active and r.spec is not None]
        return sorted(specs, key=lambda spec: spec.name)

    def list_heartbeats(self) -> list[heartbeat.HeartbeatMonitor]:
        with self.core.lock:
            return sorted(self.core.caught_up().heartbeats(), key=lambda h: h.name)

    def list_integrations(self) -> list[integration.Integration]:
        with self.core.lock:
            return sorted(self.core.caught_up().integrations(), key=lambda i: i.name)
