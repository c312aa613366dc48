"""Detection's aggregates as the kit runs them: each domain module's initial state,
`decide` and `evolve`, with its stream category (appkit, ADR 0013).

Owns nothing but that wiring: the rules stay in the pure domain modules, and every
detection event is correlated with the id in its stream's name (the alert, group,
silence, heartbeat, rule, integration or check it is about).
"""

from __future__ import annotations

from appkit import Aggregate
from detection_service import alert, check, group, heartbeat, integration, rule, silence

ALERT = Aggregate(alert.STREAM_CATEGORY, alert.INITIAL, alert.decide, alert.evolve)
GROUP = Aggregate(group.STREAM_CATEGORY, group.INITIAL, group.decide, group.evolve)
SILENCE = Aggregate(silence.STREAM_CATEGORY, silence.INITIAL, silence.decide, silence.evolve)
HEARTBEAT = Aggregate(
    heartbeat.STREAM_CATEGORY, heartbeat.INITIAL, heartbeat.decide, heartbeat.evolve
)
INTEGRATION = Aggregate(
    integration.STREAM_CATEGORY, integration.INITIAL, integration.decide, integration.evolve
)
RULE = Aggregate(rule.STREAM_CATEGORY, rule.INITIAL, rule.decide, rule.evolve)

CHECK = Aggregate(check.STREAM_CATEGORY, check.INITIAL, check.decide, check.evolve)

ALL = (ALERT, GROUP, SILENCE, HEARTBEAT, INTEGRATION, RULE, CHECK)
