"""Detection's renderers (appkit.rendering, entry point `firewatch.renderers`): its
streams as the AlertService answered for them at an instant.

Owns the mapping from detection's stream categories to its live API's messages, built
with `api_messages` (the builders the servicer uses):
- an alert as GetAlert's `Alert`, its `group_id` from the read model (`projections`)
  rebuilt as of the instant, as GetAlert reads it from the caught-up model;
- a silence as ListSilences' `Silence`, `active` judged at the instant;
- a rule as ListRules' `Rule` while it is defined (a removed rule is not listed, so it
  is not rendered);
- a heartbeat as ListHeartbeats' `Heartbeat`;
- a check as ListChecks' `Check` while it is defined, without `last_result` (runs
  live in the writer's memory, never in the log).
Alert groups and integrations have no API message and are not rendered here. Never
appends.
"""

from __future__ import annotations

from collections.abc import Sequence

from appkit.rendering import AsOfLog, Renderers
from detection_service import alert, check, heartbeat, rule, silence
from detection_service.api_messages import to_alert, to_check, to_heartbeat, to_rule, to_silence
from detection_service.events import EVENTS
from detection_service.projections import DetectionReadModel
from eventlog import RecordedEvent
from firewatch.alert.v1 import alert_pb2 as pb


def render_alert(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> pb.Alert | None:
    state = alert.fold(EVENTS.from_recorded(e) for e in events)
    if not state.alert_id:
        return None
    group_id = log.project(DetectionReadModel).group_of_alert.get(state.alert_id)
    return to_alert(state, group_id)


def render_silence(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> pb.Silence | None:
    state = silence.fold(EVENTS.from_recorded(e) for e in events)
    return to_silence(state, log.at) if state.exists else None


def render_rule(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> pb.Rule | None:
    state = rule.fold(EVENTS.from_recorded(e) for e in events)
    return to_rule(state.spec) if state.active and state.spec is not None else None


def render_heartbeat(
    stream: str, events: Sequence[RecordedEvent], log: AsOfLog
) -> pb.Heartbeat | None:
    state = heartbeat.fold(EVENTS.from_recorded(e) for e in events)
    return to_heartbeat(state) if state.exists else None


def render_check(stream: str, events: Sequence[RecordedEvent], log: AsOfLog) -> pb.Check | None:
    state = check.fold(EVENTS.from_recorded(e) for e in events)
    return to_check(state) if state.active else None


RENDERERS = Renderers(
    "detection",
    {
        alert.STREAM_CATEGORY: render_alert,
        silence.STREAM_CATEGORY: render_silence,
        rule.STREAM_CATEGORY: render_rule,
        heartbeat.STREAM_CATEGORY: render_heartbeat,
        check.STREAM_CATEGORY: render_check,
    },
)
